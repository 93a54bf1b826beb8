"""Intake: a deal from the CRM is stored in the ledger before it is answered, then started.

Every route in (the signed webhooks, the HubSpot and Pipedrive webhooks, `hundred import`,
`hundred deal-closed`, `hundred intake replay`, the demo) ends here, so they share one path and
one clock (the journey's clock starts when the deal is received):

- deal-closed: validated (the deal model, and its journey must exist) → an `intake` row, `pending`,
  keyed by the deal and its payload (unique: the same delivery twice or at once is one row), in
  one ledger write → the answer (202: it is stored). The scheduler makes sure a `deal-closed` run
  exists for this moment; that run claims the stored deals and starts each journey (`start`), and
  the row becomes `started`. When Prefect does not answer the row simply waits, stored: the next
  deal's run, `hundred intake retry` or reconcile starts it.
- deal-cancelled before its deal-closed: kept as `held`; when the deal-closed is started, its
  journey is recorded and exited at once (every touch cancelled, nothing sent).
- deal-updated: replaces the stored deal (`Ledger.update_deal`), so `when:` conditions and
  templates see the new data from then on; an unknown deal is refused (404) and kept. Both
  (`hundred.service.deal_changes`) are mixed into `Intake`, as the CRMs' webhooks are.
- a Pipedrive or HubSpot webhook (`hundred.service.crm_intake`): each deal it says became won is
  stored as the CRM sent it (kind `pipedrive`/`hubspot`, `pending`, no payload yet; keyed by the
  CRM's ids: a repeat or a concurrent delivery is the same row), answered 202 without calling the
  CRM. The deal-closed work fetches the rest from the CRM's API (`Intake.enrich`: the row gets its
  deal as payload, or becomes a dead letter saying which call failed, or waits for the CRM) and
  starts it like any stored deal.
- anything refused (422/404) is a dead letter: its body (bounded), the headers that matter, when
  and why; the same body refused again (a CSV imported twice) is that dead letter, not a second
  one. `replay` sends it through the same path again after a fix (an enrichment dead letter is
  fetched from the CRM again).

Imports no adapter: the `scheduler` is the Prefect scheduler that `hundred.bootstrap` builds (or
any object with the `Scheduler` port's `ensure_deal_closed`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hundred.deals.model import Deal, DealError, DealProblem, parse_deal, parse_deal_json
from hundred.journeys.catalog import JourneyNotFound, find_journey
from hundred.planning.engine import Clock, moment_of
from hundred.service.answers import Answer, Headers, kept_headers
from hundred.service.crm_intake import CrmIntake
from hundred.service.deal_changes import HELD_REASON, DealChanges
from hundred.service.enrichment import VENDORS, CrmApi
from hundred.service.intake_keys import dead_letter_key, deal_closed_key, loose_id
from hundred.service.no_prefect import NoRuns
from hundred.service.ports import Ledger, Scheduler
from hundred.service.records import IntakeRow
from hundred.service.runtime import IntakeError, Runtime
from hundred.service.settings import Settings

log = logging.getLogger("hundred.service.intake")
DEAL_KINDS = ("deal-closed", "hubspot", "pipedrive")  # what a deal-closed run starts
CRM_RETRY = timedelta(minutes=1)  # a CRM API that did not answer is asked again after this
DEAL_CLOSED_SECONDS = 5.0  # a journey starts within seconds of its deal, however coarse the moments
DEAL_CLOSED_LEAD = timedelta(seconds=2)  # beyond SURE_AHEAD (1 s) in adapters/prefect/known_runs.py


class Intake(CrmIntake, DealChanges):
    def __init__(
        self,
        ledger: Ledger,
        settings: Settings,
        scheduler: Scheduler,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        crm: Callable[[str], CrmApi] | None = None,
    ):
        self.ledger, self.settings, self.scheduler, self.now = ledger, settings, scheduler, clock
        self.crm = crm

    # -- deal-closed ---------------------------------------------------------------------------

    def closed(
        self,
        raw: bytes | str | None,
        *,
        source: str = "hook",
        headers: Headers | None = None,
        data: dict[str, Any] | None = None,
        kind: str = "deal-closed",
        replaying: IntakeRow | None = None,
        dry_run: bool = False,
    ) -> Answer:
        """`raw` is the JSON body (or `data` the already-mapped deal, from an adapter or import)."""
        received = self.now()
        deal, problems = self._parse(raw, data, received)
        if deal is not None and not problems:
            problems = self._journey_problems(deal)
        if problems:
            return self._dead(
                kind,
                source,
                raw if raw is not None else json.dumps(data, default=str),
                headers,
                problems,
                422,
                deal.id if deal else loose_id(data, raw),
                replaying,
                dry_run,
            )
        assert deal is not None
        if dry_run:
            return Answer(202, {"deal": deal.id, "journey": self._journey_name(deal), "intake": None, "run": None})
        payload = deal.model_dump(mode="json")
        key = deal_closed_key(payload)
        if replaying is not None:
            row, created = self._reuse(replaying, key, payload, deal.id), True
        else:
            row, created = self.ledger.add_intake(
                kind=kind,
                source=source,
                state="pending",
                deal_id=deal.id,
                key=key,
                payload=payload,
                raw=raw,
                headers=kept_headers(headers),
                received_at=received,
            )
        run_id = self.ensure_run() if row.state == "pending" else None
        body: dict[str, Any] = {  # the answer's JSON
            "deal": deal.id,
            "journey": self._journey_name(deal),
            "intake": row.intake_id,
            "run": run_id,
            "state": row.state,
        }
        if not created:
            body["duplicate"] = True
        return Answer(202, body)

    def moment(self) -> datetime:
        """The moment of the deal-closed run that starts a deal stored now: deals stored within a
        few seconds share one run (at most five seconds, shorter with compressed days). It is at
        least `DEAL_CLOSED_LEAD` ahead, so the scheduler may answer from what it already asked
        Prefect (a run that far ahead cannot have started) and a burst of webhooks costs one call
        to Prefect per moment, not one each."""
        now = self.now()
        seconds = self.settings.moment_seconds or Clock(now, now, self.settings.day_seconds).moment_seconds()
        return moment_of(now + DEAL_CLOSED_LEAD, min(DEAL_CLOSED_SECONDS, seconds))

    def ensure_run(self) -> str | None:
        """A deal-closed run for this moment (one per moment, whatever the number of deals); None
        when Prefect does not answer: the deal stays stored and waits for the next run."""
        try:
            return self.scheduler.ensure_deal_closed(self.moment()) or None
        except Exception as exc:  # Prefect down or refusing: stored, started later
            log.warning("deal stored; no deal-closed run yet: %s", exc)
            return None

    def _reuse(self, row: IntakeRow, key: str, payload: dict[str, Any], deal_id: str) -> IntakeRow:
        """A replayed dead letter becomes the pending intake (or points at the one already stored)."""
        existing = self.ledger.intake_by_key(key)
        if existing is not None and existing.intake_id != row.intake_id:
            self.ledger.set_intake(row.intake_id, "applied", reason=f"replayed: the same deal as {existing.intake_id}")
            return existing
        self.ledger.set_intake(
            row.intake_id, "pending", payload=payload, deal_id=deal_id, key=key, reason=None, count_attempt=True
        )
        got = self.ledger.intake(row.intake_id)
        assert got is not None
        return got

    def start(self, row: IntakeRow, runtime: Runtime) -> IntakeRow:
        """Start a stored deal's journey (the deal-closed run calls this for each deal it claimed):
        `started`; or exited at once when its cancel came first; or `dead` when hundred refuses it
        (the reason says why). Safe to repeat: the ledger starts one journey per deal.

        A won deal a CRM's webhook named is fetched from the CRM's API first; while that API does
        not answer, the deal stays stored and a later run tries again (after a short lease)."""
        if row.kind in VENDORS and row.payload is None:
            row = self.enrich(row)
            if row.state == "pending" and row.payload is None:  # waiting for the CRM: try again soon
                self.ledger.set_intake(row.intake_id, lease_until=self.now() + CRM_RETRY)
                return row
            if row.state == "pending":
                row = self._check_enriched(row)
            if row.state != "pending":  # a dead letter: its reason names the call that failed
                return row
        assert row.payload is not None and row.deal_id is not None
        held = self.ledger.intakes(states=["held"], deal_id=row.deal_id, kinds=["deal-cancelled"])
        try:
            if held:
                Runtime(self.ledger, NoRuns(), self.settings).deal_closed(row.payload, received_at=row.received_at)
            else:
                runtime.deal_closed(row.payload, received_at=row.received_at)
        except IntakeError as exc:
            self.ledger.set_intake(
                row.intake_id, "dead", from_states=["pending", "submitted"], reason=str(exc)[:2000], count_attempt=True
            )
            return self.ledger.intake(row.intake_id) or row
        if held:
            reason = (held[0].payload or {}).get("reason") or HELD_REASON
            self.ledger.exit_journey(row.deal_id, f"{reason} (intake {held[0].intake_id})")
            for h in held:
                self.ledger.set_intake(
                    h.intake_id,
                    "applied",
                    from_states=["held"],
                    reason=f"applied when {row.intake_id} came: the journey started exited",
                )
            self.ledger.set_intake(
                row.intake_id,
                "applied",
                from_states=["pending", "submitted"],
                reason=f"cancelled before it closed ({held[0].intake_id}): started exited, nothing sent",
            )
        else:
            self.ledger.set_intake(
                row.intake_id, "started", from_states=["pending", "submitted"], reason=None, count_attempt=True
            )
            self.apply_held(row.deal_id)  # a cancel that came while this journey was starting
        return self.ledger.intake(row.intake_id) or row

    # -- dead letters, replay, retry -------------------------------------------------------------

    def replay(self, intake_id: str) -> Answer:
        row = self.ledger.intake(intake_id)
        if row is None:
            raise LookupError(f"no intake {intake_id}")
        if row.kind in VENDORS and (row.state == "dead" or (row.state == "pending" and row.payload is None)):
            return self._replay_vendor(row)
        if row.state in ("pending", "submitted") and row.kind in DEAL_KINDS:
            return Answer(
                202, {"deal": row.deal_id, "intake": row.intake_id, "run": self.ensure_run(), "state": row.state}
            )
        if row.state != "dead":
            raise ValueError(f"intake {intake_id} is {row.state}; only a dead letter (or a pending one) is replayed")
        if row.kind == "deal-updated":
            return self.updated(row.raw, source=row.source, headers=row.headers, replaying=row)
        if row.kind == "deal-cancelled":
            return self.cancelled(row.raw, source=row.source, headers=row.headers, replaying=row)
        return self.closed(row.raw, source=row.source, headers=row.headers, replaying=row)

    def retry_pending(self) -> list[IntakeRow]:
        """The stored deals that have not started, for a deal-closed run to take; a won deal a CRM
        named and that waits for the CRM's API is fetched now, so the operator sees at once whether
        the API answers (`hundred intake retry`). Held cancels whose journey has started since are
        applied."""
        done = []
        for row in self.ledger.intakes(states=["pending", "submitted"], kinds=DEAL_KINDS):
            if row.kind in VENDORS and row.payload is None and self.crm is not None:
                row = self.enrich(row)
                if row.payload is not None and row.state == "pending":
                    row = self._check_enriched(row)
            done.append(row)
        for deal_id in {row.deal_id for row in self.ledger.intakes(states=["held"]) if row.deal_id}:
            done += self.apply_held(deal_id)
        return done

    # -- helpers ---------------------------------------------------------------------------------

    def _parse(
        self, raw: bytes | str | None, data: dict[str, Any] | None, now: datetime
    ) -> tuple[Deal | None, list[DealProblem]]:
        try:
            return (parse_deal(data, now=now) if data is not None else parse_deal_json(raw or b"", now=now)), []
        except DealError as exc:
            return None, list(exc.problems)

    def _journey_name(self, deal: Deal) -> str:
        return deal.journey or self.settings.default_journey

    def _journey_problems(self, deal: Deal) -> list[DealProblem]:
        try:
            find_journey(self._journey_name(deal), self.settings.journeys_dir)
        except JourneyNotFound as exc:
            return [DealProblem("journey", str(exc))]
        return []

    def _done(
        self,
        kind: str,
        source: str,
        raw: Any,
        headers: Headers | None,
        deal_id: str,
        state: str,
        reason: str,
        replaying: IntakeRow | None,
        payload: dict[str, Any] | None = None,
    ) -> IntakeRow:
        if replaying is not None:
            self.ledger.set_intake(
                replaying.intake_id, state, reason=reason, deal_id=deal_id, payload=payload, count_attempt=True
            )
            return self.ledger.intake(replaying.intake_id) or replaying
        row, _ = self.ledger.add_intake(
            kind=kind,
            source=source,
            state=state,
            deal_id=deal_id,
            raw=raw,
            reason=reason,
            headers=kept_headers(headers),
            payload=payload,
        )
        return row

    def _dead(
        self,
        kind: str,
        source: str,
        raw: Any,
        headers: Headers | None,
        problems: list[DealProblem],
        status: int,
        deal_id: str | None,
        replaying: IntakeRow | None,
        dry_run: bool = False,
    ) -> Answer:
        errors = [{"field": p.path, "message": p.message} for p in problems]
        reason = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)[:2000]
        if dry_run:
            return Answer(status, {"errors": errors, "intake": None})
        created = True
        if replaying is not None:
            self.ledger.set_intake(replaying.intake_id, "dead", reason=reason, count_attempt=True)
            row = self.ledger.intake(replaying.intake_id) or replaying
        else:  # the same refused body again (a CSV imported twice) is the dead letter already kept
            row, created = self.ledger.add_intake(
                kind=kind,
                source=source,
                state="dead",
                deal_id=deal_id,
                key=dead_letter_key(kind, raw),
                raw=raw,
                headers=kept_headers(headers),
                reason=reason,
            )
        return Answer(status, {"errors": errors, "intake": row.intake_id} | ({} if created else {"duplicate": True}))
