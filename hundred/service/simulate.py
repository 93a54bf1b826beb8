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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hundred.deals.model import Deal
from hundred.journeys.model import Journey
from hundred.planning import engine
from hundred.planning.identity import TouchKey
from hundred.planning.notes import short_day
from hundred.planning.planner import local_instant
from hundred.rendering.content import LetterContent, Rendered
from hundred.service.ports import DeliveryLog, DeliveryResult, Ledger, QueuedLetter
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
    """The scheduler protocol over a heap: runs happen when the virtual clock reaches them."""

    def __init__(self) -> None:
        self._seq = itertools.count()
        self.heap: list[tuple[datetime, int, str, tuple[str, str]]] = []
        self.runs: dict[str, str] = {}  # run id → state
        self._by_key: dict[str, str] = {}
        self._deal_of: dict[str, str] = {}
        self._what: dict[str, tuple[str, str]] = {}  # run id → (deal, touch)

    def schedule(self, key: TouchKey, due: datetime, phase: str, channel: str) -> str:
        if key.idempotency_key in self._by_key:
            return self._by_key[key.idempotency_key]
        run_id = f"sim-{next(self._seq)}"
        self._by_key[key.idempotency_key] = run_id
        self.runs[run_id], self._deal_of[run_id], self._what[run_id] = "SCHEDULED", key.deal, (key.deal, key.touch)
        self.push(due, "run", (key.deal, key.touch), run_id)
        return run_id

    def push(self, at: datetime, kind: str, what: tuple[str, str], run_id: str = "") -> None:
        heapq.heappush(self.heap, (at, next(self._seq), kind, (*what, run_id)))  # type: ignore[arg-type]

    def cancel_deal(self, deal_id: str, reason: str) -> int:
        ids = [r for r, s in self.runs.items() if s == "SCHEDULED" and self._deal_of[r] == deal_id]
        for run_id in ids:
            self.runs[run_id] = "CANCELLED"
        return len(ids)

    def run_state(self, run_id: str) -> str | None:
        return self.runs.get(run_id)

    def run_states(self, run_ids: list[str]) -> dict[str, str | None]:
        return {run_id: self.runs.get(run_id) for run_id in run_ids}

    def retry(self, run_id: str, at: datetime) -> None:
        self.runs[run_id] = "SCHEDULED"
        self.push(at, "run", self._what[run_id], run_id)

    def delete(self, run_id: str) -> None:
        """Remove a run as Prefect's delete does: its key is free again."""
        self.runs.pop(run_id, None)
        self._by_key = {k: r for k, r in self._by_key.items() if r != run_id}


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
    # No schedule horizon: nothing here rolls it forward (reconcile does that on Prefect), and it
    # changes only when a run is created, never when its touch runs.
    settings = Settings(day_seconds=None, templates_dir=templates_dir, schedule_horizon_days=None)
    runtime = Runtime(ledger, scheduler, settings, clock=lambda: now[0], deliver=_record_only)
    runtime.deal_closed(deal, received_at=deal.closed_at, journey=(journey, templates_dir))
    channel_of = {t.id: t.channel for _, t in journey.touches()}
    while scheduler.heap:
        at, _, kind, (deal_id, touch_id, run_id) = heapq.heappop(scheduler.heap)
        now[0] = max(now[0], at)
        if kind == "run":
            if scheduler.runs.get(run_id) != "SCHEDULED":
                continue
            scheduler.runs[run_id] = "COMPLETED"
            if touch_id in hold and channel_of[touch_id] in ("email", "webhook"):
                continue  # held: it never goes out, so it never completes
            outcome = runtime.run_touch(deal_id, touch_id, flow_run_id=run_id)
            if outcome.state != "running" or touch_id in hold:
                continue
            if channel_of[touch_id] == "letter":
                day = now[0].astimezone(zone).date()
                scheduler.push(max(local_instant(day, POSTED_AT, zone), now[0]), "post", (deal_id, touch_id))
            else:
                scheduler.push(now[0] + TASK_TAKES, "done", (deal_id, touch_id))
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
    for t in touches:
        if t.touch_id in hold:
            out.append(SimEvent(end, t.touch_id, t.phase, "waiting", "held: never completes", "held: never completes"))
        elif t.state == "waiting":
            out.append(
                SimEvent(
                    end,
                    t.touch_id,
                    t.phase,
                    "waiting",
                    f"waits for the affirm phase: {blockers}",
                    "waits for the affirm phase: {blockers}",
                    {"blockers": list(holding)},
                )
            )
        elif t.state not in engine.FINAL:
            out.append(
                SimEvent(
                    end,
                    t.touch_id,
                    t.phase,
                    "waiting",
                    f"still {t.state} when the journey ends",
                    "still {state} when the journey ends",
                    {"state": t.state},
                )
            )
    return out
