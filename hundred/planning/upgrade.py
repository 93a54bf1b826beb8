"""Moving one customer's journey in flight to another version of its journey, decided once.

`hundred journeys upgrade` (hundred/service/upgrade.py) asks this, per deal, what the upgrade
changes in the ledger: its dry run says the answer, a real run hands it to the ledger, which applies
all of it or nothing. The rules:

- a touch already delivered (done, skipped, expired, cancelled) stays as it is, and so does one
  handed over (a letter in the print room, a task with its owner): nothing is resent or unsent;
- a touch the new version removes is cancelled when it has not started (or failed);
- a touch the new version adds is planned from the journey's start by the planner; one an earlier
  upgrade removed comes back;
- a touch whose moment moves (its day, time or phase, or a journey-wide setting) is re-timed: the
  old and the new version are planned for the same deal and the same facts, so a touch the engine
  had put at "at once" stays as it is when its plan did not change;
- a new moment already past runs at once, unless the engine's expiry rule (`expires_after`, or the
  backfill grace counted from the upgrade) says it is too late: then it expires, never sent late;
- the affirm gate is judged again on the new version: a touch that now waits for it is held (unless
  the gate is open), one that no longer waits is released; a gate that had opened closes again when
  the new version adds an affirm touch that has not happened (what was sent stays sent);
- a reworded touch needs nothing: its words are read from the journey's version when it runs.

A run that holds one of the deal's touches (claimed, or delivering) makes the deal busy: the upgrade
waits for it. Pure: the rows are read by the caller; every state change is a move of the table in
planning/states.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from hundred.deals.model import Deal
from hundred.journeys.diff import WORDING
from hundred.journeys.model import Journey
from hundred.planning import engine
from hundred.planning.engine import Clock
from hundred.planning.planner import Facts, PlannedTouch, plan
from hundred.planning.states import COMPLETE, DUE, NOT_STARTED, Move, Moves, TouchState

T = TouchState
WRITES = ("added", "restored", "cancelled", "retimed", "held", "released", "expired", "updated")
NOTES = ("reworded", "kept")  # said in the dry run, nothing written
FOLLOWS = NOT_STARTED | {T.FAILED}  # what has not gone out: it follows the new version


class TouchRowLike(Protocol):
    """What the ledger knows of a touch (hundred.service.records.TouchRow)."""

    @property
    def touch_id(self) -> str: ...
    @property
    def phase(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def gated(self) -> bool: ...
    @property
    def state(self) -> str: ...
    @property
    def due(self) -> datetime | None: ...
    @property
    def planned_due(self) -> datetime: ...
    @property
    def completed_at(self) -> datetime | None: ...
    @property
    def lease_until(self) -> datetime | None: ...


@dataclass(frozen=True)
class TouchEdit:
    """One touch's change. `kind` is one of WRITES (the ledger changes) or NOTES (said only);
    `before` the state the ledger has now (None: no row yet), `after` the one it ends in; `fields`
    the touch's columns to set; `detail` why, in English (the event log, `--json`)."""

    touch: str
    kind: str
    before: str | None
    after: str
    detail: str = ""
    was_due: datetime | None = None
    due: datetime | None = None
    planned: datetime | None = None  # its moment on the new version (`due` is later when that has passed)
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        return self.kind in WRITES

    def to_json(self) -> dict[str, Any]:
        return {
            "touch": self.touch,
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
            "was_due": self.was_due.isoformat() if self.was_due else None,
            "due": self.due.isoformat() if self.due else None,
            "planned": self.planned.isoformat() if self.planned else None,
            "detail": self.detail,
        }


@dataclass
class DealUpgrade:
    """What moving one deal's journey to the new version changes. `expect` is every touch's state
    the decision was made from (the ledger applies it only if they are still so); `gate` is None,
    "closes" (the gate that had opened closes again) or "opens" (the runtime opens it afterwards)."""

    deal: str
    before: str
    after: str
    gate_was_open: bool
    expect: dict[str, str]
    edits: list[TouchEdit] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    gate: str | None = None

    @property
    def writes(self) -> list[TouchEdit]:
        return [e for e in self.edits if e.writes]

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for e in self.writes:
            counted[e.kind] = counted.get(e.kind, 0) + 1
        return counted

    def summary(self) -> str:
        """`first-100-days@a → b: 1 added, 2 retimed` for the journey's event."""
        counted = ", ".join(f"{n} {kind}" for kind, n in self.counts().items()) or "no touch changes"
        gate = {"closes": "; the affirm gate closes again", "opens": "; the affirm gate opens"}.get(self.gate or "", "")
        return f"{self.before} → {self.after}: {counted}{gate}"


def held_by_a_run(row: TouchRowLike, now: datetime) -> bool:
    """A run holds the touch: claimed with a live lease, or being delivered (running with a lease,
    even one run out: the run that takes it over decides what may still leave)."""
    if row.lease_until is None:
        return False
    return row.state == T.RUNNING or (row.state in DUE and row.lease_until > now)


def chain(before: str, *moves: Move) -> str:
    """The state `before` ends in after `moves`, each allowed by the table (planning/states.py)."""
    state = before
    for move in moves:
        if state not in move.sources:
            raise ValueError(f"the move '{move}' is not allowed from {state}")
        state = move.target.value
    return state


class _Upgrade:
    """One deal's decision, made in three passes: the touches the gate does not hold, the gate,
    then the touches it holds."""

    def __init__(
        self,
        old: Journey,
        new: Journey,
        deal: Deal,
        rows: Sequence[TouchRowLike],
        gate_opened_at: datetime | None,
        clock: Clock,
        now: datetime,
        grace: timedelta,
        moment: Callable[[datetime], datetime],
    ):
        self.old, self.new, self.deal, self.clock, self.now = old, new, deal, clock, now
        self.grace, self.moment = grace, moment
        self.rows = {r.touch_id: r for r in rows}
        self.touches = {t.id: (b, t) for b, t in new.touches()}
        self.old_ids = {t.id for _, t in old.touches()}
        done = {r.touch_id: clock.to_journey(r.completed_at) for r in rows if r.completed_at and r.state in COMPLETE}
        opened = clock.to_journey(gate_opened_at) if gate_opened_at else None
        self.done, self.opened = done, opened
        self.old_plan = {i.touch: i for i in plan(old, deal, Facts(done, opened), titles=False).touches}
        self.result = DealUpgrade(
            deal.id, old.version(), new.version(), gate_opened_at is not None, {r.touch_id: r.state for r in rows}
        )
        self.result.busy = [r.touch_id for r in rows if held_by_a_run(r, now)]

    # -- timing ------------------------------------------------------------------------------------

    def _wall(self, item: PlannedTouch, journey: Journey) -> datetime:
        return self.clock.to_wall(engine.run_at(item, journey))

    def _timed(self, tid: str, item: PlannedTouch) -> tuple[str, datetime | None, str]:
        """(planned or expired, due, why): when the touch runs on the new version from now."""
        wall = self._wall(item, self.new)
        if wall >= self.now:
            return T.PLANNED, wall, f"due {wall.isoformat()}"
        touch = self.touches[tid][1]
        why = engine.too_late(
            due=wall,
            now=self.now,
            expires_after=touch.expires_after_delta,
            clock=self.clock,
            planned=wall,
            received_at=self.now,
            backfill_grace=self.grace,
            arrival="the upgrade",
        )
        if why:
            return T.EXPIRED, wall, why
        return T.PLANNED, self.now, f"due {wall.isoformat()}, already past: at once"

    def _columns(self, tid: str, state: str, due: datetime | None, planned: datetime) -> dict[str, Any]:
        """The touch's columns on the new version, in `state`, due at `due`."""
        block, touch = self.touches[tid]
        values: dict[str, Any] = {
            "phase": block.phase,
            "channel": touch.channel,
            "gated": self.new.is_gated(block, touch),
            "planned_due": planned,
            "due": due if state in (T.PLANNED, T.EXPIRED) else None,
            "moment": self.moment(due) if state == T.PLANNED and due is not None else None,
            "flow_run_id": None,
            "claimed_by": None,
            "lease_until": None,
        }
        if state == T.EXPIRED:
            values["completed_at"] = self.now
        return values

    def _edit(
        self, tid: str, kind: str, row: TouchRowLike | None, moves: tuple[Move, ...], after: str = "", **kw: Any
    ) -> None:
        before = row.state if row is not None else None
        if moves:  # every change of state is a move of the table, from the state the ledger has
            after = chain(before or T.PLANNED, *moves)
        assert after, (tid, kind)
        was = (row.due or row.planned_due) if row is not None and before in NOT_STARTED else None
        self.result.edits.append(TouchEdit(tid, kind, before, str(after), was_due=was, **kw))

    # -- pass 1 and 3: one touch -----------------------------------------------------------------

    def touch(self, tid: str, item: PlannedTouch, waits: bool) -> None:
        """Decide for a touch of the new version; `waits`: the gate holds it."""
        row = self.rows.get(tid)
        back = row is not None and row.state == T.CANCELLED and tid not in self.old_ids  # an upgrade removed it
        if row is not None and not back and row.state not in FOLLOWS:
            return  # delivered, done, handed over ...: stays as it is
        estimate = self._wall(item, self.new)
        if waits:
            self._wait(tid, row, back, estimate)
            return
        if row is not None and row.state == T.FAILED:
            self._follow(tid, row)  # an operator runs it again; then it follows the new version
            return
        if row is not None and not back and row.state != T.WAITING:
            old = self.old_plan.get(tid)
            if old is not None and self._wall(old, self.old) == estimate:
                self._follow(tid, row)  # its moment did not move
                return
        state, due, why = self._timed(tid, item)
        fields = self._columns(tid, state, due, due or estimate)
        expired = state == T.EXPIRED
        if expired:
            fields["outcome"] = why
        moves: tuple[Move, ...]
        if row is None:
            kind, moves, why = ("expired" if expired else "added"), (), why
        elif back:
            kind, moves = ("expired" if expired else "restored"), (Moves.RESTORE,)
        elif row.state == T.WAITING:
            kind, moves, why = "released", (Moves.RELEASE,), f"no longer waits for the affirm phase; {why}"
        else:
            kind, moves, why = "retimed", ((Moves.RETIME,) if row.state == T.SCHEDULED else ()), f"moved; {why}"
        if expired:
            kind, moves = "expired", moves + (Moves.EXPIRE,)
        self._edit(tid, kind, row, moves, after=state, detail=why, due=due, planned=estimate, fields=fields)

    def _wait(self, tid: str, row: TouchRowLike | None, back: bool, estimate: datetime) -> None:
        fields = self._columns(tid, T.WAITING, None, estimate)
        why = "waits for the affirm phase"
        kw: dict[str, Any] = {"planned": estimate, "fields": fields}
        if row is None:
            self._edit(tid, "added", None, (), after=T.WAITING, detail=why, **kw)
        elif back:
            self._edit(tid, "restored", row, (Moves.RESTORE, Moves.HOLD), detail=why, **kw)
        elif row.state == T.WAITING:
            self._follow(tid, row)
        else:
            self._edit(tid, "held", row, (Moves.HOLD,), detail=f"now {why}", **kw)

    def _follow(self, tid: str, row: TouchRowLike) -> None:
        """Its state and moment stay; its record follows the new version (phase, channel, gate)."""
        block, touch = self.touches[tid]
        columns = {"phase": block.phase, "channel": touch.channel, "gated": self.new.is_gated(block, touch)}
        if any(getattr(row, k) != v for k, v in columns.items()):
            self._edit(tid, "updated", row, (), after=row.state, detail=_said(columns, row), fields=columns)

    def _reworded(self) -> None:
        """A touch still to go out whose words changed: nothing to write, it renders them when it runs."""
        old = {t.id: t for _, t in self.old.touches()}
        after = {tid: r.state for tid, r in self.rows.items()} | {e.touch: e.after for e in self.result.edits}
        for tid, (_, touch) in self.touches.items():
            was = old.get(tid)
            if was is None or after.get(tid) not in FOLLOWS:
                continue
            if any(getattr(was, k, None) != getattr(touch, k, None) for k in WORDING):
                row = self.rows.get(tid)
                self._edit(tid, "reworded", row, (), after=after[tid], detail="goes out with the new words")

    # -- pass 2: the gate --------------------------------------------------------------------------

    def decide(self) -> DealUpgrade:
        result = self.result
        for tid, row in self.rows.items():  # removed by the new version
            if tid in self.touches or tid not in self.old_ids:
                continue
            if row.state in FOLLOWS:
                self._edit(tid, "cancelled", row, (Moves.CANCEL,), detail="removed in the new version")
            elif row.state != T.CANCELLED:
                self._edit(
                    tid, "kept", row, (), after=row.state, detail=f"removed in the new version; stays {row.state}"
                )
        gated = set(engine.gated_touches(self.new))
        facts = Facts(self.done, self.opened)
        new_plan = {i.touch: i for i in plan(self.new, self.deal, facts, titles=False).touches}
        for tid in self.touches:
            if tid not in gated:
                self.touch(tid, new_plan[tid], waits=False)
        states = {tid: r.state for tid, r in self.rows.items()}
        states.update({e.touch: e.after for e in result.edits})
        opens = engine.gate_is_open(self.new, states)
        if result.gate_was_open and not opens and gated:
            result.gate = "closes"
            new_plan = {i.touch: i for i in plan(self.new, self.deal, Facts(self.done, None), titles=False).touches}
        elif not result.gate_was_open and opens and not engine.gate_is_open(self.old, result.expect):
            result.gate = "opens"  # because of the new version (else it was only still to be noticed)
        for tid in self.touches:
            if tid in gated:
                self.touch(tid, new_plan[tid], waits=not (result.gate_was_open and opens))
        self._reworded()
        result.edits.sort(key=lambda e: (e.due or e.was_due or self.now, e.touch))
        return result


def _said(columns: Mapping[str, Any], row: TouchRowLike) -> str:
    return "; ".join(f"{k} {getattr(row, k)} → {v}" for k, v in columns.items() if getattr(row, k) != v)


def plan_upgrade(
    old: Journey,
    new: Journey,
    deal: Deal,
    rows: Sequence[TouchRowLike],
    *,
    gate_opened_at: datetime | None,
    clock: Clock,
    now: datetime,
    grace: timedelta,
    moment: Callable[[datetime], datetime],
) -> DealUpgrade:
    """What moving `deal`'s journey from `old` to `new` changes, touch by touch (see the module's
    docstring); `rows` are its touches in the ledger, `moment` gives a due time's deliver run."""
    upgrade = _Upgrade(old, new, deal, rows, gate_opened_at, clock, now, grace, moment)
    if upgrade.result.busy:
        return upgrade.result
    return upgrade.decide()


__all__ = ["TouchEdit", "DealUpgrade", "plan_upgrade", "held_by_a_run", "chain", "WRITES", "NOTES"]
