"""`hundred simulate`: the whole journey in virtual time, in one process, in well under a second.

The same `Runtime` the Prefect flows drive, with a virtual clock, an in-memory scheduler and a
throwaway in-memory ledger; nothing is sent (deliveries are recorded, templates are still
rendered, so a broken one shows up here). The people in the story act on cue: print staff post
each letter on its print-by day, owners finish tasks on their due day, unless `--hold` keeps a
touch from ever completing, so a marketer sees what waits on it.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hundred.deals.model import Deal
from hundred.journeys.model import Journey
from hundred.planning import engine
from hundred.planning.notes import short_day
from hundred.planning.planner import local_instant
from hundred.planning.states import FINAL
from hundred.rendering.content import LetterContent, Rendered
from hundred.service.ports import DeliveryLog, DeliveryResult, Ledger, QueuedLetter, Schedules, StaleRun
from hundred.service.runtime import Runtime
from hundred.service.settings import Settings

# What a marketer reads: the ledger's events, named for the story (a letter's delivery is its posting).
_SHOWN = {
    "scheduled": "scheduled",
    "waiting": "waiting",
    "delivered": "delivered",
    "done": "done",
    "skipped": "skipped",
    "expired": "expired",
    "failed": "failed",
}
POSTED_AT = time(16, 0)  # print staff post the day's letters in the afternoon
TASK_TAKES = timedelta(hours=1)


@dataclass(frozen=True)
class SimEvent:
    """One line of the story. `detail` is English and part of `--json`; `note` and `values` say
    the same for people (the `simulate` catalog's message id and its raw values), so the text
    output can be in the journey's language while the JSON stays a fixed contract."""

    at: datetime
    touch: str
    phase: str
    event: str
    detail: str = ""
    note: str = ""
    values: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "touch": self.touch,
            "phase": self.phase,
            "event": self.event,
            "detail": self.detail,
        }


class VirtualScheduler:
    """The `Scheduler` port over a heap: a moment's run happens when the virtual clock reaches it.

    Like Prefect it keeps one run per moment (asking again returns the same run), and a run that
    has already happened is followed by a fresh one for what it missed. `deleted` moments behave
    as runs someone removed in Prefect (reconcile makes them again)."""

    def __init__(self) -> None:
        self._seq = itertools.count()
        self.heap: list[tuple[datetime, int, str, tuple[str, str, str]]] = []
        self.runs: dict[str, str] = {}  # run id → "SCHEDULED" | "COMPLETED" | "DELETED"
        self.moments: dict[datetime, str] = {}  # moment → its latest run
        self.taken_over: list[str] = []
        self.stale: list[StaleRun] = []  # runs a dead process held (tests put them here)

    def ensure_moment(self, moment: datetime, *, touches: int, shards: int = 1) -> list[str]:
        run_id = self.moments.get(moment)
        if run_id is None or self.runs.get(run_id) != "SCHEDULED":
            run_id = f"sim-{next(self._seq)}"
            self.moments[moment] = run_id
            self.runs[run_id] = "SCHEDULED"
            self.push(moment, "moment", ("", ""), run_id)
        return [run_id]

    def ensure_deal_closed(self, moment: datetime) -> str:
        return "sim-deal-closed"

    def stale_runs(self, since_before: datetime) -> list[StaleRun]:
        return [run for run in self.stale if run.since < since_before]

    def take_over(self, run: StaleRun, reason: str) -> None:
        """Run it again: at once (the heap's next thing)."""
        self.stale = [r for r in self.stale if r.run_id != run.run_id]
        self.taken_over.append(run.run_id)
        self.runs[run.run_id] = "SCHEDULED"
        self.push(run.since, "moment", ("", ""), run.run_id)

    def retire_touch_runs(self) -> int:
        return 0

    def forget(self) -> None:
        pass  # it remembers nothing it could not read again

    def ended(self, run_ids: Collection[str]) -> set[str]:
        return {r for r in run_ids if self.runs.get(r) != "SCHEDULED"}

    def keep_schedules(self, schedules: Schedules) -> list[str]:
        return []

    def push(self, at: datetime, kind: str, what: tuple[str, str], run_id: str = "") -> None:
        heapq.heappush(self.heap, (at, next(self._seq), kind, (*what, run_id)))

    def delete(self, run_id: str) -> None:
        """Remove a run as Prefect's delete does: it will not happen."""
        self.runs[run_id] = "DELETED"

    def due(self) -> tuple[datetime, str, tuple[str, str, str]] | None:
        """The next thing to happen, or None."""
        if not self.heap:
            return None
        at, _, kind, what = heapq.heappop(self.heap)
        return at, kind, what


@dataclass
class Simulation:
    journey: Journey
    deal: Deal
    events: list[SimEvent]
    held: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"events": [e.to_json() for e in self.events]}


def _record_only(content: Rendered, log: DeliveryLog) -> DeliveryResult:
    """Nothing leaves a simulation; a letter gets its queue entry without a PDF."""
    if isinstance(content, LetterContent):
        letter = content.letter
        queued = QueuedLetter(
            letter_id=letter.letter_id,
            text=letter.body,
            seed=letter.seed or letter.letter_id,
            hand=content.style.hand,
            layout={},
            address={},
            signer=letter.signer,
            signer_title=letter.signer_title,
            print_by=content.print_by,
            pdf_path=Path(""),
        )
        return DeliveryResult("sent", "queued for printing", letter.letter_id, letter=queued)
    return DeliveryResult("sent", "simulated")


def simulate(
    journey: Journey,
    deal: Deal,
    templates_dir: Path,
    new_ledger: Callable[[Callable[[], datetime]], Ledger],
    hold: set[str] | None = None,
) -> Simulation:
    """Play the journey; `new_ledger(clock)` makes the throwaway ledger (bootstrap.memory_ledger)."""
    hold = set(hold or ())
    zone = ZoneInfo(journey.timezone)
    now = [deal.closed_at]
    ledger = new_ledger(lambda: now[0])
    scheduler = VirtualScheduler()
    # moments to the second: the story tells each touch at its own time, as the plan has it
    settings = Settings(day_seconds=None, templates_dir=templates_dir, moment_seconds=1)
    runtime = Runtime(ledger, scheduler, settings, clock=lambda: now[0], deliver=_record_only)
    runtime.deal_closed(deal, received_at=deal.closed_at, journey=(journey, templates_dir))
    channel_of = {t.id: t.channel for _, t in journey.touches()}
    while (next_up := scheduler.due()) is not None:
        at, kind, (deal_id, touch_id, run_id) = next_up
        now[0] = max(now[0], at)
        if kind == "moment":
            if scheduler.runs.get(run_id) != "SCHEDULED":
                continue
            scheduler.runs[run_id] = "COMPLETED"
            for claimed in runtime.claim_due(run_id, limit=10_000):
                if claimed.touch_id in hold and channel_of[claimed.touch_id] in ("email", "webhook"):
                    continue  # held: it never goes out, so it never completes
                outcome = runtime.run_touch(claimed.deal_id, claimed.touch_id, holder=run_id)
                if outcome.state != "running" or claimed.touch_id in hold:
                    continue
                if channel_of[claimed.touch_id] == "letter":
                    day = now[0].astimezone(zone).date()
                    when = max(local_instant(day, POSTED_AT, zone), now[0])
                    scheduler.push(when, "post", (claimed.deal_id, claimed.touch_id))
                else:
                    scheduler.push(now[0] + TASK_TAKES, "done", (claimed.deal_id, claimed.touch_id))
        elif kind == "post":
            runtime.letter_posted(next(l.letter_id for l in ledger.letters(deal_id=deal_id) if l.touch_id == touch_id))
        else:
            runtime.task_done(deal_id, touch_id)
    return Simulation(journey, deal, _events(ledger, deal.id, journey, zone, hold), sorted(hold))


def _events(ledger: Ledger, deal_id: str, journey: Journey, zone: ZoneInfo, hold: set[str]) -> list[SimEvent]:
    phase_of = {t.id: b.phase for b, t in journey.touches()}
    channel_of = {t.id: t.channel for _, t in journey.touches()}

    touches = ledger.touches(deal_id)
    due = {t.touch_id: t.due.astimezone(zone) for t in touches if t.due}
    out = []
    values: dict[str, Any]
    for e in ledger.events(deal_id=deal_id, limit=100_000):
        if e.touch_id is None or e.event not in _SHOWN:
            continue
        name = "posted" if e.event == "delivered" and channel_of[e.touch_id] == "letter" else _SHOWN[e.event]
        detail, note, values = e.detail or "", "", {}
        if name == "waiting":
            detail = note = "waits for the affirm phase"
        elif name == "scheduled" and e.touch_id in due:
            when = due[e.touch_id]
            to_print = channel_of[e.touch_id] == "letter"
            detail = f"runs {short_day(when.date())} {when:%H:%M}" + (", to print" if to_print else "")
            note, values = ("runs {when}, to print" if to_print else "runs {when}"), {"when": when}
        out.append(SimEvent(e.at.astimezone(zone), e.touch_id, phase_of[e.touch_id], name, detail, note, values))
    holding = engine.gate_blockers(journey, {t.touch_id: t.state for t in touches})
    blockers = ", ".join(f"{tid} ({state})" for tid, state in holding)
    end = out[-1].at if out else ledger.clock()
    for t in touches:  # how each unfinished touch ends the story: a catalog note and its values
        if t.touch_id in hold:
            note, values = "held: never completes", {}
        elif t.state == "waiting":
            note, values = "waits for the affirm phase: {blockers}", {"blockers": list(holding)}
        elif t.state not in FINAL:
            note, values = "still {state} when the journey ends", {"state": t.state}
        else:
            continue
        detail = note.format(blockers=blockers, state=t.state)
        out.append(SimEvent(end, t.touch_id, t.phase, "waiting", detail, note, values))
    return out
