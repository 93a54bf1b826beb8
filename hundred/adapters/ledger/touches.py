"""A journey's touches in the ledger: read in plan order, and changed only by compare-and-set.

`move` makes a named move of planning/states.py only when the touch is in one of its source states,
so of two workers, a retried task and reconcile, exactly one changes the row (and logs the event);
`_touch_cas` is that one UPDATE, which `Ledger.exit_journey` also uses to cancel a journey's touches.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hundred.adapters.ledger.db import changed_rows, one_row
from hundred.adapters.ledger.models import TouchRecord
from hundred.planning.states import COMPLETE, Move, TouchState
from hundred.service.records import TouchRow, _from_record

TOUCH_FIELDS = frozenset(
    {"due", "flow_run_id", "error", "outcome", "completed_at", "attempts", "moment", "claimed_by", "lease_until"}
)


class Touches:
    """Mixed into `Ledger` (which provides the sessions, the clock and `_event`)."""

    clock: Callable[[], datetime]
    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _read: Callable[[], contextlib.AbstractContextManager[Session]]
    _event: Callable[..., None]

    def touch_counts(self) -> dict[str, dict[str, int]]:
        stmt = select(TouchRecord.deal_id, TouchRecord.state, func.count()).group_by(
            TouchRecord.deal_id, TouchRecord.state
        )
        counts: dict[str, dict[str, int]] = {}
        with self._read() as session:
            for deal_id, state, n in session.execute(stmt):
                counts.setdefault(deal_id, {})[state] = n
        return counts

    def touches(
        self,
        deal_id: str | None = None,
        *,
        states: Collection[str] | None = None,
        due_before: datetime | None = None,
        moment: datetime | None = None,
    ) -> list[TouchRow]:
        """One deal's touches in plan order, or (deal_id None) every deal's, filtered by state, due
        time and moment: `touches(states=["scheduled"], moment=m)` is what one moment's run holds."""
        stmt = select(TouchRecord).order_by(TouchRecord.deal_id, TouchRecord.planned_due, TouchRecord.id)
        if deal_id is not None:
            stmt = stmt.where(TouchRecord.deal_id == deal_id)
        if moment is not None:
            stmt = stmt.where(TouchRecord.moment == moment)
        if states is not None:
            stmt = stmt.where(TouchRecord.state.in_(list(states)))
        if due_before is not None:
            stmt = stmt.where(TouchRecord.due < due_before)
        with self._read() as session:
            return [_from_record(TouchRow, r) for r in session.scalars(stmt)]

    def touch(self, deal_id: str, touch_id: str) -> TouchRow | None:
        return one_row(
            self._read,
            TouchRow,
            select(TouchRecord).where(TouchRecord.deal_id == deal_id, TouchRecord.touch_id == touch_id),
        )

    def _touch_values(self, fields: dict[str, Any]) -> dict[str, Any]:
        unknown = set(fields) - TOUCH_FIELDS
        if unknown:
            raise TypeError(
                f"not a touch field: {', '.join(sorted(unknown))} (one of {', '.join(sorted(TOUCH_FIELDS))})"
            )
        return {**fields, "updated_at": self.clock()}

    def _touch_cas(
        self,
        session: Session,
        deal_id: str,
        touch_id: str,
        to_state: str | None,
        from_states: Collection[str] | None,
        values: dict[str, Any],
    ) -> bool:
        stmt = update(TouchRecord).where(TouchRecord.deal_id == deal_id, TouchRecord.touch_id == touch_id)
        if to_state is not None:
            stmt = stmt.where(TouchRecord.state != to_state)
            values = {**values, "state": to_state}
        if from_states is not None:
            stmt = stmt.where(TouchRecord.state.in_(list(from_states)))
        values.setdefault("updated_at", self.clock())
        stmt = stmt.values(**values).execution_options(synchronize_session=False)
        return changed_rows(session, stmt) == 1

    def move(
        self,
        deal_id: str,
        touch_id: str,
        move: Move,
        *,
        count_attempt: bool = False,
        event: str | None = None,
        detail: str | None = None,
        **fields: Any,
    ) -> bool:
        """Make the named move (planning/states.py: from which states, to which one) if the touch
        is in one of its source states; set `fields` (due, moment, flow_run_id, error, outcome,
        completed_at, attempts, claimed_by, lease_until) in the same UPDATE. True only for the
        caller whose UPDATE changed the row; that caller's change is logged as `event` (default:
        the new state) with `detail` (default: the error or outcome). `count_attempt` adds one to
        attempts; entering a complete state stamps completed_at unless given, and ends any claim
        (a lease only means something while the touch is being delivered)."""
        values = self._touch_values(fields)
        if count_attempt:
            values["attempts"] = TouchRecord.attempts + 1
        if move.target in COMPLETE or move.target in (TouchState.CANCELLED, TouchState.FAILED):
            values.setdefault("lease_until", None)
        if move.target in COMPLETE:
            values.setdefault("completed_at", self.clock())
        with self._write() as session:
            if not self._touch_cas(session, deal_id, touch_id, move.target, move.sources, values):
                return False
            self._event(
                session,
                deal_id,
                event or move.target.value,
                touch_id,
                detail if detail is not None else fields.get("error") or fields.get("outcome"),
            )
            return True

    def update_touch(
        self,
        deal_id: str,
        touch_id: str,
        *,
        in_states: Collection[str] | None = None,
        count_attempt: bool = False,
        **fields: Any,
    ) -> bool:
        """Set fields without a state change (e.g. the flow run id once Prefect has created the
        run), optionally only while the touch is in `in_states`. No event is written."""
        values = self._touch_values(fields)
        if count_attempt:
            values["attempts"] = TouchRecord.attempts + 1
        with self._write() as session:
            return self._touch_cas(session, deal_id, touch_id, None, in_states, values)
