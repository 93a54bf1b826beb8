"""The engine's decisions, written once: what to schedule, whether a touch may run now, what
completes the affirm phase, and how journey time maps onto the wall clock.

Pure: no Prefect, no database. `runtime.Runtime` asks these questions with facts from the ledger
and acts on the answers; `hundred simulate` drives the same Runtime with a virtual clock and an
in-memory scheduler, and the Prefect flows with the real clock and Prefect. A rule changed here
changes for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from hundred.journeys.model import GATE_PHASE, Journey
from hundred.planning.planner import PlannedTouch, local_instant
from hundred.planning.states import COMPLETE, FINAL, TouchState

# The states and what completes the gate are defined once, in planning/states.py.
STATES: tuple[str, ...] = tuple(s.value for s in TouchState)


@dataclass(frozen=True)
class Clock:
    """Journey time ↔ wall time. Normally the same; with `--day-seconds N` a journey's clock starts
    when its deal was received and every planned offset from the close (computed with the real
    calendar, so weekends and holidays still shape the journey) is scaled by N/86400."""

    closed_at: datetime
    received_at: datetime
    day_seconds: float | None = None

    @property
    def factor(self) -> float:
        return self.day_seconds / 86400 if self.day_seconds else 1.0

    def to_wall(self, moment: datetime) -> datetime:
        if not self.day_seconds:
            return moment
        return self.received_at + max(moment - self.closed_at, timedelta(0)) * self.factor

    def to_journey(self, wall: datetime) -> datetime:
        if not self.day_seconds:
            return wall
        return self.closed_at + max(wall - self.received_at, timedelta(0)) / self.factor

    def scale(self, span: timedelta) -> timedelta:
        return span * self.factor

    def moment_seconds(self, real_time: float = 60.0) -> float:
        """How finely due times are grouped into moments, each delivered by one flow run: a minute
        in real time; with compressed days a tenth of a journey day of wall time (at least a
        second), so a journey keeps its shape while a burst still shares one run."""
        if not self.day_seconds:
            return real_time
        return min(real_time, max(1.0, self.day_seconds / 10))


def moment_of(due: datetime, seconds: float) -> datetime:
    """The moment a touch due at `due` is delivered in: `due` rounded up to a multiple of
    `seconds` since the epoch (a touch is never delivered before its time)."""
    step = max(1, round(seconds))
    stamp = due.timestamp()
    whole = int(stamp // step) * step
    return datetime.fromtimestamp(whole if whole >= stamp else whole + step, tz=UTC)


QUEUE_BEFORE_BATCH = timedelta(hours=1)


def queue_time(journey: Journey) -> time:
    """When a letter's run starts on its print-by day (journey zone): the start of the working day
    (the send window), and at least an hour before the morning batch (`letters.batch_at`)."""
    cutoff = datetime.combine(date.min, journey.letters.batch_time) - QUEUE_BEFORE_BATCH
    return min(journey.window[0], cutoff.time())


def run_at(item: PlannedTouch, journey: Journey) -> datetime:
    """When a touch's run starts, in journey time. A letter runs on its print-by day at
    `queue_time`, so it is in the queue before that morning's batch (a deal that closed after
    the cut-off has a print-by day after it: see planner.first_batch); any other touch runs at
    its due moment."""
    if item.print_by is not None:
        return local_instant(item.print_by, queue_time(journey), ZoneInfo(journey.timezone))
    return item.due


def affirm_touches(journey: Journey) -> list[str]:
    return [t.id for block, t in journey.touches() if block.phase == GATE_PHASE]


def gated_touches(journey: Journey) -> list[str]:
    return [t.id for block, t in journey.touches() if journey.is_gated(block, t)]


def gate_blockers(journey: Journey, states: Mapping[str, str]) -> list[tuple[str, str]]:
    """The affirm touches that still hold the gate, with their state (a failed one is the reason
    the referral waits, shown to the operator)."""
    return [(tid, states.get(tid, "planned")) for tid in affirm_touches(journey) if states.get(tid) not in COMPLETE]


def gate_is_open(journey: Journey, states: Mapping[str, str]) -> bool:
    """The affirm phase is complete when every affirm touch is delivered, done, posted, skipped
    or expired. A journey without gated touches has nothing to open."""
    return bool(gated_touches(journey)) and not gate_blockers(journey, states)


def journey_finished(states: Mapping[str, str]) -> bool:
    return all(state in FINAL for state in states.values())


def state_after_handover(channel: str, confirm: bool = True) -> str:
    """What a touch is once its channel has it: an email or webhook is delivered; a letter runs
    until print staff mark it posted; a task until its owner marks it done (at once with
    `confirm: false`)."""
    if channel == "letter":
        return "running"
    if channel == "task":
        return "running" if confirm else "done"
    return "delivered"


Action = Literal["deliver", "noop", "cancel", "skip", "expire"]


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


def decide(
    *, journey_state: str, touch_state: str, condition: bool | None, condition_note: str, late: str | None
) -> Decision:
    """Whether a touch whose run has started may act now. Checked at run time, not at scheduling
    time: the journey may have exited, the deal changed or the run come late since. `late` is
    `too_late`'s answer for the touch now (why it expires, or None); it counts only after the
    touch's and the journey's states and its condition."""
    if touch_state in FINAL:
        return Decision("noop", f"already {touch_state}")
    if touch_state == TouchState.WAITING:  # a run started by hand, or left over: the gate decides, not the run
        return Decision("noop", "waits for the affirm phase")
    if journey_state != "active":
        return Decision("cancel", f"the journey has {journey_state}")
    if condition is False:
        return Decision("skip", condition_note or "its condition is false for this deal")
    return Decision("expire", late) if late else Decision("deliver", "due")


def too_late(
    *,
    due: datetime,
    now: datetime,
    expires_after: timedelta | None,
    clock: Clock,
    planned: datetime | None = None,
    received_at: datetime | None = None,
    backfill_grace: timedelta | None = None,
    arrival: str = "the deal was received",
) -> str | None:
    """Why a touch due at `due` must not run at `now` any more (it expires), or None.

    With `expires_after`: when it is later than that after `due`. Without: when its `planned`
    moment was already more than `backfill_grace` past when the work arrived (`received_at`: the
    deal's receipt for a backfill; the upgrade's moment for a touch an upgrade adds or moves into
    the past, named by `arrival`), so a backfilled deal (`hundred import`, or a CRM that sends a
    deal long after it closed) is never sent weeks late."""
    if expires_after is not None and now > due + clock.scale(expires_after):
        late = now - due
        return f"{_span(late / clock.factor)} late, expires after {_span(expires_after)}"
    if expires_after is None and received_at is not None and planned is not None and backfill_grace is not None:
        # judged in journey time: a compressed journey starts when its deal is received, so it
        # plays out from its start; in real time the receipt is simply when the deal came in
        late = clock.to_journey(received_at) - clock.to_journey(planned)
        if late > backfill_grace:
            return (
                f"backfill: due {late.days} days before {arrival} "
                f"(more than HUNDRED_BACKFILL_GRACE_DAYS={backfill_grace.days:g}); not sent late"
            )
    return None


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes >= 2 * 24 * 60:
        return f"{minutes // (24 * 60)} days"
    if minutes >= 120:
        return f"{minutes // 60} hours"
    return f"{minutes} minutes"
