"""A journey in flight moved to a new version (`hundred journeys upgrade`): all of it or nothing.

The decision is made outside (hundred/planning/upgrade.py) from rows read earlier; here it is applied
in one transaction only if nothing moved since:

    UPDATE journeys SET version=:new, snapshot=… WHERE deal_id=:d AND version=:old AND state='active'
        AND gate_opened_at IS [NOT] NULL                    -- two upgrades at once: one wins
    SELECT touch_id, state, lease_until FROM touches WHERE deal_id=:d FOR UPDATE
        -- every touch still in the state decided from, and none held by a run
    UPDATE touches SET state=:after, … WHERE deal_id=:d AND touch_id=:t AND state=:before
        AND (lease_until IS NULL OR lease_until < :now)  -- each edit a compare-and-set

On PostgreSQL `FOR UPDATE` makes a deliver run's claim (which skips locked rows) wait its turn; on
SQLite the write transaction serialises the two. Any difference rolls everything back and the
caller decides again from fresh rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hundred.adapters.ledger.models import JourneyRecord, TouchRecord
from hundred.journeys.model import Journey
from hundred.planning.identity import shard_key
from hundred.planning.upgrade import DealUpgrade, held_by_a_run
from hundred.service.records import TouchRow, _from_record

UPGRADE_FIELDS = frozenset(
    {
        "phase",
        "channel",
        "gated",
        "planned_due",
        "due",
        "moment",
        "flow_run_id",
        "claimed_by",
        "lease_until",
        "completed_at",
        "outcome",
    }
)


class _Moved(Exception):
    """Something changed since the decision was made: roll back, decide again."""


class Upgrades:
    """Mixed into `Ledger` (which provides the sessions, the clock, `_journey_cas` and `_event`)."""

    clock: Callable[[], datetime]
    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _journey_cas: Callable[..., bool]
    _event: Callable[..., None]

    def upgrade_journey(self, upgrade: DealUpgrade, journey: Journey, templates_dir: str, now: datetime) -> bool:
        """Move the deal's journey from `upgrade.before` to `journey` (whose version is
        `upgrade.after`) with every edit of `upgrade`, in one transaction; False (nothing written)
        when the journey is not on that version any more, not active, its gate or any touch moved
        since the decision, or a run holds one of its touches."""
        if journey.version() != upgrade.after:
            raise ValueError(f"the upgrade is to version {upgrade.after}, the journey given is {journey.version()}")
        for edit in upgrade.writes:
            unknown = set(edit.fields) - UPGRADE_FIELDS
            if unknown:
                raise TypeError(f"not a touch field: {', '.join(sorted(unknown))}")
        try:
            with self._write() as session:
                self._apply(session, upgrade, journey, templates_dir, now)
        except (_Moved, IntegrityError):  # IntegrityError: a touch added meanwhile by another writer
            return False
        return True

    def _apply(
        self, session: Session, upgrade: DealUpgrade, journey: Journey, templates_dir: str, now: datetime
    ) -> None:
        deal_id = upgrade.deal
        opened = JourneyRecord.gate_opened_at
        values: dict[str, Any] = {
            "version": upgrade.after,
            "snapshot": journey.model_dump(mode="json"),
            "templates_dir": templates_dir,
        }
        if upgrade.gate == "closes":
            values["gate_opened_at"] = None
        where = [
            JourneyRecord.version == upgrade.before,
            JourneyRecord.state == "active",
            opened.is_not(None) if upgrade.gate_was_open else opened.is_(None),
        ]
        if not self._journey_cas(session, deal_id, where, **values):
            raise _Moved
        rows = [
            _from_record(TouchRow, r)
            for r in session.scalars(select(TouchRecord).where(TouchRecord.deal_id == deal_id).with_for_update())
        ]
        if {r.touch_id: r.state for r in rows} != upgrade.expect or any(held_by_a_run(r, now) for r in rows):
            raise _Moved
        free = or_(TouchRecord.lease_until.is_(None), TouchRecord.lease_until < now)
        stamp = self.clock()
        for edit in upgrade.writes:
            if edit.before is None:
                session.add(
                    TouchRecord(
                        deal_id=deal_id,
                        touch_id=edit.touch,
                        shard_key=shard_key(deal_id),
                        state=edit.after,
                        attempts=0,
                        updated_at=stamp,
                        **dict(edit.fields),
                    )
                )
            else:
                changed = cast(
                    CursorResult[Any],
                    session.execute(
                        update(TouchRecord)
                        .where(
                            TouchRecord.deal_id == deal_id,
                            TouchRecord.touch_id == edit.touch,
                            TouchRecord.state == edit.before,
                            free,
                        )
                        .values(state=edit.after, updated_at=stamp, **dict(edit.fields))
                        .execution_options(synchronize_session=False)
                    ),
                ).rowcount
                if changed != 1:
                    raise _Moved
            self._event(session, deal_id, f"upgrade.{edit.kind}", edit.touch, f"{_versions(upgrade)}: {edit.detail}")
        session.flush()
        self._event(session, deal_id, "journey.upgraded", detail=f"{journey.journey}@{upgrade.summary()}")


def _versions(upgrade: DealUpgrade) -> str:
    return f"version {upgrade.before} → {upgrade.after}"


__all__ = ["Upgrades"]
