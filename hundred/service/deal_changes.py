"""A deal's later news in the intake: deal-updated replaces the stored deal, deal-cancelled stops its
journey, or is held until its deal-closed has started one (a cancel may overtake its close).

Mixed into `hundred.service.intake.Intake`, like the CRMs' webhooks (crm_intake.py): both take
the same dead-letter and replay paths, which Intake provides with the ledger, settings and clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hundred.deals.model import Deal, DealProblem, parse_deal
from hundred.service.answers import Answer, Headers
from hundred.service.intake_keys import loose_id
from hundred.service.ports import Ledger, Scheduler
from hundred.service.records import IntakeRow
from hundred.service.runtime import Runtime
from hundred.service.settings import Settings

log = logging.getLogger("hundred.service.intake")
HELD_REASON = "cancelled before the deal closed"


class DealChanges:
    """The deal-updated and deal-cancelled part of `Intake`; the attributes and methods below are Intake's."""

    ledger: Ledger
    settings: Settings
    scheduler: Scheduler
    now: Callable[[], datetime]
    _parse: Callable[..., tuple[Deal | None, list[DealProblem]]]
    _journey_name: Callable[[Deal], str]
    _dead: Callable[..., Answer]
    _done: Callable[..., IntakeRow]

    def updated(
        self,
        raw: bytes | str | None,
        *,
        source: str = "hook",
        headers: Headers | None = None,
        data: dict[str, Any] | None = None,
        replaying: IntakeRow | None = None,
    ) -> Answer:
        deal, problems = self._parse(raw, data, self.now())
        kind = "deal-updated"
        if problems or deal is None:
            return self._dead(
                kind, source, raw, headers, problems, 422, deal.id if deal else loose_id(data, raw), replaying
            )
        journey = self.ledger.journey(deal.id)
        if journey is None:
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
                "journey": journey.journey_id,
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
        self,
        raw: bytes | str | None,
        *,
        source: str = "hook",
        headers: Headers | None = None,
        replaying: IntakeRow | None = None,
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

    def apply_held(self, deal_id: str) -> list[IntakeRow]:
        """Apply the deal's held cancels once its journey exists (the deal-closed flow calls this
        right after starting the journey: a cancel that raced its deal-closed still stops it)."""
        done: list[IntakeRow] = []
        if self.ledger.journey(deal_id) is None:
            return done
        for row in self.ledger.intakes(states=["held"], deal_id=deal_id, kinds=["deal-cancelled"]):
            self._apply_cancel(row, (row.payload or {}).get("reason") or HELD_REASON)
            done.append(self.ledger.intake(row.intake_id) or row)
        return done
