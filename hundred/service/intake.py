"""Intake: a deal from the CRM is stored in the ledger before it is answered, then submitted.

Every route in (the signed webhooks, the HubSpot and Pipedrive adapters, `hundred import`,
`hundred intake replay`) ends here, so they share one path:

- deal-closed: validated (the deal model, and its journey must exist) → an `intake` row with the
  deal-closed run's idempotency key (unique: the same delivery twice or at once is one row) in
  state `pending` → a `deal-closed` run on Prefect with that key → `submitted` with the run id.
  When Prefect does not answer the row stays `pending` (the answer is still 202: it is stored) and
  `retry_pending` (`hundred intake retry`, and every later intake call) submits it.
- deal-cancelled before its deal-closed: kept as `held`; when the deal-closed comes, its journey is
  recorded and exited at once (every touch cancelled; no run is created, nothing is sent).
- deal-updated: replaces the stored deal (`Ledger.update_deal`), so `when:` conditions and
  templates see the new data from then on; an unknown deal is refused (404) and kept.
- anything refused (422/404) is a dead letter: its body (bounded), the headers that matter, when
  and why; the same body refused again (a CSV imported twice) is that dead letter, not a second
  one. `replay` sends it through the same path again after a fix.

Imports no adapter: the `scheduler` is the Prefect scheduler that `hundred.bootstrap` builds (or any
object with its `create_run` and the `Scheduler` port's methods).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hundred.deals.crm import map_payload
from hundred.deals.model import Deal, DealError, DealProblem, parse_deal, parse_deal_json
from hundred.journeys.catalog import JourneyNotFound, find_journey
from hundred.service import deployments
from hundred.service.deal_run import deal_closed_key, deal_closed_run
from hundred.service.ports import Ledger
from hundred.service.records import IntakeRow
from hundred.service.runtime import IntakeError, Runtime
from hundred.service.settings import Settings

log = logging.getLogger("hundred.service.intake")
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "user-agent",
    "idempotency-key",
    "x-request-id",
    "x-hubspot-request-timestamp",
    "x-forwarded-for",
)
HELD_REASON = "cancelled before the deal closed"


@dataclass
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def kept_headers(headers: Any) -> dict[str, str]:
    return {k: str(headers[k])[:300] for k in KEPT_HEADERS if headers is not None and k in headers}


class _NoRuns:
    """A scheduler that creates nothing: a journey cancelled before it closed starts exited."""

    class Stop(Exception):
        pass

    def schedule(self, *args: Any) -> str:
        raise self.Stop()

    def cancel_deal(self, *args: Any) -> int:
        return 0

    def run_state(self, run_id: str) -> None:
        return None

    def run_states(self, run_ids: list[str]) -> dict[str, None]:
        return dict.fromkeys(run_ids)

    def retry(self, *args: Any) -> None:
        raise self.Stop()


class NoPrefect:
    """No Prefect API known: every deal is stored pending until there is one (`hundred intake retry`)."""

    api_url = ""

    def create_run(self, *args: Any, **kwargs: Any) -> str:
        raise ConnectionError("no Prefect API (start hundred with `hundred up`, or set PREFECT_API_URL)")

    def cancel_deal(self, deal_id: str, reason: str) -> int:
        raise ConnectionError("no Prefect API")

    def run_state(self, run_id: str) -> None:
        return None

    def run_states(self, run_ids: list[str]) -> dict[str, None]:
        return dict.fromkeys(run_ids)

    def retry(self, *args: Any) -> None:
        raise ConnectionError("no Prefect API")


class Intake:
    def __init__(
        self,
        ledger: Ledger,
        settings: Settings,
        scheduler: Any,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.ledger, self.settings, self.scheduler, self.now = ledger, settings, scheduler, clock

    # -- deal-closed ---------------------------------------------------------------------------

    def closed(
        self,
        raw: bytes | str | None,
        *,
        source: str = "hook",
        headers: Any = None,
        data: dict[str, Any] | None = None,
        kind: str = "deal-closed",
        replaying: IntakeRow | None = None,
        dry_run: bool = False,
        retry_others: bool = True,
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
                deal.id if deal else _loose_id(data, raw),
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
        if row.state == "pending":
            row = self._start(row)
        body = {
            "deal": deal.id,
            "journey": self._journey_name(deal),
            "intake": row.intake_id,
            "run": row.run_id,
            "state": row.state,
        }
        if not created:
            body["duplicate"] = True
        if retry_others and row.state == "submitted":  # Prefect answers: submit what it missed before
            self._quietly_retry_pending(except_id=row.intake_id)
        return Answer(202, body)

    def crm(self, vendor: str, raw: bytes, *, headers: Any = None) -> Answer:
        """A HubSpot or Pipedrive webhook: a won deal (by the CRM mapping) goes in as a deal-closed;
        anything else is answered 200 and ignored; a payload the mapping cannot read is a dead letter."""
        data, problem = map_payload(vendor, raw, self.settings)
        if problem:
            return self._dead(vendor, vendor, raw, headers, [DealProblem("", problem)], 422, None, None)
        if data is None:
            return Answer(200, {"ignored": f"not a won deal (see the '{vendor}.won' rule of the CRM mapping)"})
        return self.closed(raw, source=vendor, headers=headers, data=data, kind=vendor)

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

    def _start(self, row: IntakeRow) -> IntakeRow:
        """Submit a pending deal-closed (or start it exited when its cancel came first)."""
        assert row.payload is not None and row.deal_id is not None
        held = self.ledger.intakes(states=["held"], deal_id=row.deal_id, kinds=["deal-cancelled"])
        if held:
            reason = (held[0].payload or {}).get("reason") or HELD_REASON
            try:
                Runtime(self.ledger, _NoRuns(), self.settings).deal_closed(row.payload, received_at=row.received_at)
            except _NoRuns.Stop:
                pass
            except IntakeError as exc:
                self.ledger.set_intake(row.intake_id, "dead", from_states=["pending"], reason=str(exc))
                return self.ledger.intake(row.intake_id) or row
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
                from_states=["pending"],
                reason=f"cancelled before it closed ({held[0].intake_id}): started exited, nothing sent",
            )
            return self.ledger.intake(row.intake_id) or row
        run = deal_closed_run(row.payload, row.received_at)
        try:
            run_id = self.scheduler.create_run(
                deployments.DEAL_CLOSED,
                run.parameters,
                idempotency_key=run.idempotency_key,
                name=run.name,
                tags=run.tags,
            )
        except Exception as exc:  # Prefect down or refusing: stored, submitted later
            log.warning("intake %s stored, not yet submitted: %s", row.intake_id, exc)
            self.ledger.set_intake(
                row.intake_id,
                from_states=["pending"],
                count_attempt=True,
                reason=f"stored; not yet submitted to Prefect: {type(exc).__name__}: {str(exc)[:300]}",
            )
        else:
            submitted = self.ledger.update_intake(
                row.intake_id, "submitted", from_states=["pending"], run_id=run_id, reason=None, count_attempt=True
            )
            if submitted is not None:
                return submitted
        return self.ledger.intake(row.intake_id) or row

    # -- deal-updated and deal-cancelled --------------------------------------------------------

    def updated(
        self,
        raw: bytes | str | None,
        *,
        source: str = "hook",
        headers: Any = None,
        data: dict[str, Any] | None = None,
        replaying: IntakeRow | None = None,
    ) -> Answer:
        deal, problems = self._parse(raw, data, self.now())
        kind = "deal-updated"
        if problems or deal is None:
            return self._dead(
                kind, source, raw, headers, problems, 422, deal.id if deal else _loose_id(data, raw), replaying
            )
        if self.ledger.journey(deal.id) is None:
            return self._dead(
                kind,
                source,
                raw,
                headers,
                [
                    DealProblem(
                        "id",
                        f"no journey for deal {deal.id} (yet): send deal-closed first; this update is kept and "
                        "`hundred intake replay` applies it once the journey has started",
                    )
                ],
                404,
                deal.id,
                replaying,
            )
        fixed = self._fixed_fields(deal)
        if fixed:
            return self._dead(kind, source, raw, headers, fixed, 422, deal.id, replaying)
        self.ledger.update_deal(deal.id, deal)
        self.ledger.record_event(deal.id, "deal.updated", detail=f"from {source}")
        row = self._done(kind, source, raw, headers, deal.id, "applied", "the stored deal was replaced", replaying)
        return Answer(
            202,
            {
                "deal": deal.id,
                "journey": self.ledger.journey(deal.id).journey_id,  # type: ignore[union-attr]
                "intake": row.intake_id,
                "state": "applied",
            },
        )

    def _fixed_fields(self, deal: Deal) -> list[DealProblem]:
        """closed_at and journey are fixed once the journey has started (its plan hangs on them)."""
        row = self.ledger.journey(deal.id)
        stored = self.ledger.deal_payload(deal.id)
        if row is None or stored is None:
            return []
        before = parse_deal(stored, now=row.received_at)
        problems = []
        if deal.closed_at != before.closed_at:
            problems.append(
                DealProblem(
                    "closed_at", f"cannot change once the journey has started (it is {before.closed_at.isoformat()})"
                )
            )
        if self._journey_name(deal) != row.journey_id:
            problems.append(
                DealProblem("journey", f"cannot change once the journey has started (it is {row.journey_id})")
            )
        return problems

    def cancelled(
        self, raw: bytes | str | None, *, source: str = "hook", headers: Any = None, replaying: IntakeRow | None = None
    ) -> Answer:
        """Body: {"id": "<deal id>", "reason": "..."} (reason optional)."""
        kind = "deal-cancelled"
        try:
            body = json.loads(raw or b"")
        except ValueError as exc:
            return self._dead(
                kind, source, raw, headers, [DealProblem("", f"is not JSON: {exc}")], 422, None, replaying
            )
        deal_id = str(body.get("id") or "").strip() if isinstance(body, dict) else ""
        reason = body.get("reason") if isinstance(body, dict) else None
        if not deal_id or len(deal_id) > 200 or (reason is not None and not isinstance(reason, str)):
            field_name = "reason" if deal_id and len(deal_id) <= 200 else "id"
            return self._dead(
                kind,
                source,
                raw,
                headers,
                [DealProblem(field_name, "is missing" if field_name == "id" and not deal_id else "is not valid")],
                422,
                None,
                replaying,
            )
        reason = (reason or "cancelled in the CRM")[:500]
        row = self._done(
            kind,
            source,
            raw,
            headers,
            deal_id,
            "held",
            "waiting for its deal-closed",
            replaying,
            payload={"id": deal_id, "reason": reason},
        )
        journey = self.ledger.journey(deal_id)
        if journey is not None:
            self._apply_cancel(row, reason)
        row = self.ledger.intake(row.intake_id) or row
        return Answer(
            202,
            {
                "deal": deal_id,
                "journey": journey.journey_id if journey else None,
                "intake": row.intake_id,
                "state": row.state,
            },
        )

    def _apply_cancel(self, row: IntakeRow, reason: str) -> None:
        if not self.ledger.set_intake(row.intake_id, "applied", from_states=["held"], reason="journey cancelled"):
            return
        try:
            Runtime(self.ledger, self.scheduler, self.settings).cancel(row.deal_id or "", reason)
        except Exception as exc:  # the journey is exited in the ledger first; its runs find it exited
            log.warning("cancel %s: the journey is exited; cancelling its runs failed: %s", row.deal_id, exc)
            self.ledger.set_intake(row.intake_id, reason=f"journey exited; its runs were not cancelled: {exc}"[:500])

    # -- dead letters, replay, retry -------------------------------------------------------------

    def replay(self, intake_id: str) -> Answer:
        row = self.ledger.intake(intake_id)
        if row is None:
            raise LookupError(f"no intake {intake_id}")
        if row.state == "pending" and row.kind in ("deal-closed", "hubspot", "pipedrive"):
            started = self._start(row)
            return Answer(
                202, {"deal": row.deal_id, "intake": row.intake_id, "run": started.run_id, "state": started.state}
            )
        if row.state != "dead":
            raise ValueError(f"intake {intake_id} is {row.state}; only a dead letter (or a pending one) is replayed")
        if row.kind == "deal-updated":
            return self.updated(row.raw, source=row.source, headers=row.headers, replaying=row)
        if row.kind == "deal-cancelled":
            return self.cancelled(row.raw, source=row.source, headers=row.headers, replaying=row)
        if row.kind in ("hubspot", "pipedrive"):
            data, problem = map_payload(row.kind, row.raw or "", self.settings)
            if problem:
                return self._dead(
                    row.kind, row.source, row.raw, row.headers, [DealProblem("", problem)], 422, row.deal_id, row
                )
            return self.closed(row.raw, source=row.source, headers=row.headers, data=data, kind=row.kind, replaying=row)
        return self.closed(row.raw, source=row.source, headers=row.headers, replaying=row)

    def retry_pending(self) -> list[IntakeRow]:
        """Submit what Prefect missed, and apply held cancels whose journey has started since."""
        done = []
        for row in self.ledger.intakes(states=["pending"]):
            if row.key:
                done.append(self._start(row))
        for deal_id in {row.deal_id for row in self.ledger.intakes(states=["held"]) if row.deal_id}:
            done += self.apply_held(deal_id)
        return done

    def rerun_failed(self) -> list[IntakeRow]:
        """Run again the deal-closed runs that ended Failed or Crashed before they started their
        journey (e.g. the ledger was unreachable through all their retries): stored and answered
        202, such a deal would otherwise never start. The reconcile flow calls this."""
        done = []
        for row in self.ledger.unstarted_intakes():
            state = self.scheduler.run_state(row.run_id or "")
            if state in ("FAILED", "CRASHED"):
                self.scheduler.retry(row.run_id, self.now())
                self.ledger.set_intake(
                    row.intake_id,
                    count_attempt=True,
                    reason=f"its deal-closed run ended {state.lower()} before the journey started; run again",
                )
                done.append(self.ledger.intake(row.intake_id) or row)
        return done

    def apply_held(self, deal_id: str) -> list[IntakeRow]:
        """Apply the deal's held cancels once its journey exists (the deal-closed flow calls this
        right after starting the journey: a cancel that raced its deal-closed still stops it)."""
        done = []
        if self.ledger.journey(deal_id) is None:
            return done
        for row in self.ledger.intakes(states=["held"], deal_id=deal_id, kinds=["deal-cancelled"]):
            self._apply_cancel(row, (row.payload or {}).get("reason") or HELD_REASON)
            done.append(self.ledger.intake(row.intake_id) or row)
        return done

    def _quietly_retry_pending(self, except_id: str) -> None:
        if not any(r.intake_id != except_id for r in self.ledger.intakes(states=["pending"], limit=2)):
            return
        try:
            self.retry_pending()
        except Exception as exc:  # never fails the delivery being answered
            log.warning("retrying pending intake: %s", exc)

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
        headers: Any,
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
        headers: Any,
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


def dead_letter_key(kind: str, raw: Any) -> str:
    """One dead letter per identical refused body of a kind: its key is the body's digest."""
    body = raw if isinstance(raw, bytes) else str(raw if raw is not None else "").encode()
    return f"dead:{kind}:{hashlib.sha256(body).hexdigest()}"


def _loose_id(data: dict[str, Any] | None, raw: Any) -> str | None:
    """The deal id of a payload that did not validate, when one can be seen (for listing)."""
    try:
        obj = data if data is not None else json.loads(raw or b"")
        value = obj.get("id") if isinstance(obj, dict) else None
        return str(value)[:200] if isinstance(value, (str, int)) and str(value).strip() else None
    except ValueError:
        return None
