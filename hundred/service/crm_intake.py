"""The CRMs' own webhooks in the intake: Pipedrive's and HubSpot's won deals, stored as sent.

Mixed into `hundred.service.intake.Intake` (which provides the ledger, settings, clock, the CRM
APIs, and its dead-letter and start paths):

- `crm_webhook`: each deal a webhook says became won (`hundred.deals.crm_events`) is one intake
  row (kind `pipedrive`/`hubspot`, `pending`, no payload yet), keyed by the CRM's ids, so a
  repeat, a concurrent delivery or the other webhook version is the same row; answered 202
  without a call to the CRM. A dead one delivered again is tried again.
- `enrich`: the deal fetched from the CRM's API (`hundred.service.enrichment.enrich_stored`), by
  the deal-closed run that starts it (`Intake.start`): the row gets its deal as payload, waits for
  the CRM, or becomes a dead letter naming the call.
- `_replay_vendor`: `hundred intake replay` of such a row fetches it again, then starts it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hundred.deals.crm_events import CrmEventError, WonDeal, hubspot_items, pipedrive_won
from hundred.deals.model import DealError, DealProblem, parse_deal
from hundred.service.answers import Answer, Headers, kept_headers
from hundred.service.enrichment import CrmApi, enrich_stored
from hundred.service.ports import Ledger
from hundred.service.records import IntakeRow
from hundred.service.settings import Settings


class CrmIntake:
    """The CRM webhook part of `Intake`; the attributes and methods below are Intake's."""

    ledger: Ledger
    settings: Settings
    now: Callable[[], datetime]
    crm: Callable[[str], CrmApi] | None
    _dead: Callable[..., Answer]
    ensure_run: Callable[[], str | None]
    _journey_problems: Callable[..., list[DealProblem]]

    def crm_webhook(self, vendor: str, raw: bytes, *, headers: Headers | None = None) -> Answer:
        """A Pipedrive or HubSpot webhook: each deal it says became won is stored as sent, 202;
        nothing else is stored (200, ignored). No CRM API call: the deal-closed work enriches it.

        Pipedrive sends one event: one that cannot be read is a dead letter (422). HubSpot sends a
        batch of up to 100: each event on its own (a bad one is a dead letter, the others stored),
        answered 202 when the batch could be read, so HubSpot does not send it all again."""
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            return self._dead(vendor, vendor, raw, headers, [DealProblem("", f"is not JSON: {exc}")], 422, None, None)
        try:
            if vendor == "pipedrive":
                won, why = pipedrive_won(payload)
                if won is None:
                    return Answer(200, {"ignored": why})
                return Answer(202, {**self._store_won(won, headers), "run": self.ensure_run()})
            items = hubspot_items(payload, self.settings.won_stage_ids)
        except CrmEventError as exc:
            return self._dead(vendor, vendor, raw, headers, [DealProblem("", str(exc))], 422, None, None)
        stored, refused, ignored = [], [], []
        for item in items:
            if item.won is not None:
                stored.append(self._store_won(item.won, headers))
            elif item.problem is not None:
                answer = self._dead(
                    vendor,
                    vendor,
                    json.dumps(item.event, ensure_ascii=False, default=str),
                    headers,
                    [DealProblem(f"[{item.index}]", item.problem)],
                    422,
                    None,
                    None,
                )
                refused.append({"event": item.index, "error": item.problem, "intake": answer.body["intake"]})
            else:
                ignored.append(item.why)
        body: dict[str, Any] = {"stored": stored, "ignored": len(ignored), "refused": refused}
        if stored:
            body["run"] = self.ensure_run()  # the deal-closed run that fetches and starts them
        if not stored and not refused:
            return Answer(200, {**body, "ignored": len(ignored), "why": sorted(set(w for w in ignored if w))[:5]})
        return Answer(202, body)

    def _store_won(self, won: WonDeal, headers: Headers | None) -> dict[str, Any]:
        """One intake row per won deal (by the CRM's ids); a dead one delivered again is tried again."""
        row, created = self.ledger.add_intake(
            kind=won.vendor,
            source=won.vendor,
            state="pending",
            deal_id=won.deal_id,
            key=won.key,
            raw=won.raw,
            headers=kept_headers(headers),
            received_at=self.now(),
        )
        if not created and row.state == "dead":
            row = (
                self.ledger.update_intake(
                    row.intake_id,
                    "pending",
                    from_states=["dead"],
                    raw=won.raw,
                    payload=None,
                    reason=f"delivered again by {won.vendor}: to be fetched again",
                )
                or row
            )
        body: dict[str, Any] = {"crm": won.vendor, "deal": won.deal_id, "intake": row.intake_id, "state": row.state}
        if not created:
            body["duplicate"] = True
        return body

    def enrich(self, row: IntakeRow) -> IntakeRow:
        """A stored won-deal event fetched from its CRM (`enrichment.enrich_stored`): the row comes
        back pending with its deal, pending and waiting for the CRM, or dead saying why."""
        if self.crm is None:
            raise RuntimeError("this intake has no CRM APIs (hundred.bootstrap.intake builds them)")
        return enrich_stored(self.ledger, row, self.crm, self.settings)

    def _check_enriched(self, row: IntakeRow) -> IntakeRow:
        """An enriched vendor deal, checked as every deal-closed is (its journey must exist): the
        row unchanged, or dead saying why."""
        assert row.payload is not None
        try:
            deal = parse_deal(row.payload, now=row.received_at)
        except DealError as exc:
            problems = list(exc.problems)
        else:
            problems = self._journey_problems(deal)
        if problems:
            reason = "; ".join(f"{p.path or 'body'}: {p.message}" for p in problems)[:2000]
            self.ledger.set_intake(row.intake_id, "dead", from_states=["pending"], reason=reason)
            return self.ledger.intake(row.intake_id) or row
        return row

    def _replay_vendor(self, row: IntakeRow) -> Answer:
        """A stored won-deal event again: fetched from the CRM anew, then started."""
        if row.state == "dead":
            self.ledger.set_intake(row.intake_id, "pending", from_states=["dead"], payload=None, reason="replayed")
            row = self.ledger.intake(row.intake_id) or row
        row = self.enrich(row)
        if row.state == "pending" and row.payload is not None:
            row = self._check_enriched(row)
        run = self.ensure_run() if row.state == "pending" and row.payload is not None else None
        body = {"deal": row.deal_id, "intake": row.intake_id, "run": run, "state": row.state}
        if row.state == "dead":
            return Answer(422, {"errors": [{"field": "", "message": row.reason or "refused"}], "intake": row.intake_id})
        if row.state == "pending" and row.reason:
            body["reason"] = row.reason  # waiting for the CRM, or stored until Prefect answers
        return Answer(202, body)
