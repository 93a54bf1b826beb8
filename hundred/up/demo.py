"""The demo's live view: one deal's journey as it happens, and the people who act in it.

What the demo does for you (the README says the same):

- it prints the deal's events as they happen: time, journey day (by the journey's own clock, day 0
  when the deal was received, the first line), touch, phase, event; long details (a path) are
  printed whole, never cut;
- its print staff handle the demo deal's letters, and only through a batch of their own: a while
  after a letter reaches the print queue they make a batch of just that letter, then mark that
  batch printed, then posted (which delivers the touch and may open the affirm gate). A letter
  you batched, printed or posted yourself, or a batch you touched, is left to you: they never act
  on anything they did not make;
- its account manager does each task of the deal half a journey day after it reaches them,
  unless you did it first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape

from hundred import bootstrap
from hundred.adapters.ledger import Ledger as SqlLedger
from hundred.service.printroom.service import PrintRoom
from hundred.service.runtime import Runtime

STYLES = {
    "delivered": "green",
    "done": "green",
    "posted": "green",
    "failed": "red",
    "cancelled": "yellow",
    "skipped": "dim",
    "expired": "dim",
}


@dataclass
class Chore:
    """Something a demo person does at `at` (monotonic): `step` of a letter's round, or a task."""

    touch: str
    at: float
    step: str = "batch"  # letter: batch → printed → posted; a task: "task"
    batch: str | None = None


class DemoView:
    """The demo journey as it happens (see the module docstring): the ledger's events for one deal,
    printed as they arrive, and the print staff and account manager who act in it."""

    def __init__(self, deal_id: str, received: datetime, day_seconds: float | None, api_url: str = ""):
        self.deal_id, self.received, self.day_seconds, self.api_url = deal_id, received, day_seconds, api_url
        self.chores: dict[str, Chore] = {}
        self.runtime: Runtime | None = None
        self.room: PrintRoom | None = None
        self.console = Console(highlight=False, soft_wrap=True)
        self.after_id, self.next_poll = 0, 0.0
        self.ledger: SqlLedger | None = None
        self.phases: dict[str, str] = {}
        self.channels: dict[str, str] = {}
        self.clock_known = False
        self.console.print(f"[bold]{'time':<9} {'day':>5}  {'touch':<26} {'phase':<11} event[/bold]")
        self._line(received, "-", "", f"deal {escape(deal_id)} closed and received: day 0 of its journey")

    # -- the journey's days --------------------------------------------------------------------

    def day(self, at: datetime) -> float:
        """The journey day of a moment by the journey's own clock: days since its deal was received
        (with --day-seconds N a day lasts N seconds); never below 0."""
        seconds = (at - self.received).total_seconds()
        return max(seconds / (self.day_seconds or 86400.0), 0.0)

    def _learn_clock(self) -> None:
        """Once the journey is in the ledger, its own start and day length are the clock."""
        if self.clock_known or self.ledger is None:
            return
        row = self.ledger.journey(self.deal_id)
        if row is not None:
            received = row.received_at if row.received_at.tzinfo else row.received_at.replace(tzinfo=UTC)
            self.received, self.day_seconds, self.clock_known = received, row.day_seconds, True

    def _line(self, at: datetime, touch: str, phase: str, text: str, style: str = "") -> None:
        line = f"{at.astimezone():%H:%M:%S} {self.day(at):5.1f}  {escape(touch):<26} {escape(phase):<11} "
        self.console.print(line + (f"[{style}]{text}[/{style}]" if style else text))

    def say(self, text: str) -> None:
        self.console.print(f"[dim]demo: {escape(text)}[/dim]")

    # -- polling -------------------------------------------------------------------------------

    def poll(self) -> None:
        if time.monotonic() < self.next_poll:
            return
        self.next_poll = time.monotonic() + 1.0
        try:
            if self.ledger is None:
                self.ledger = bootstrap.ledger(bootstrap.settings())
            self._learn_clock()
            events = self.ledger.events(after_id=self.after_id, deal_id=self.deal_id)
            if any(e.touch_id and e.touch_id not in self.phases for e in events):
                touches = self.ledger.touches(self.deal_id)
                self.phases = {t.touch_id: t.phase for t in touches}
                self.channels = {t.touch_id: t.channel for t in touches}
            self.act()
        except Exception as exc:  # the ledger may not exist until deal-closed has run
            events, self.ledger = [], None
            self.next_poll = time.monotonic() + 3.0
            if "no such table" not in str(exc):
                self.console.print(f"[dim]ledger not readable yet: {type(exc).__name__}[/dim]")
        for event in events:
            channel = self.channels.get(event.touch_id or "")
            if event.event == "running" and event.touch_id and channel in ("letter", "task"):
                first = Chore(
                    event.touch_id, time.monotonic() + self._takes(channel), "batch" if channel == "letter" else "task"
                )
                self.chores.setdefault(event.touch_id, first)
            self.after_id = max(self.after_id, event.id)
            if event.event in ("planned", "gate.released") or event.event.startswith("delivery."):
                continue  # bookkeeping: the touch's own next event says what happened
            at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
            text = escape(event.event) + (f" [dim]{escape(event.detail)}[/dim]" if event.detail else "")
            self._line(
                at, event.touch_id or "-", self.phases.get(event.touch_id or "", ""), text, STYLES.get(event.event, "")
            )

    def _takes(self, channel: str) -> float:
        """How long the demo's people take: an account manager half a journey day; print staff
        two journey days and at least a minute before they batch a letter, so it can be seen in
        the print room (and batched by you first, if you like)."""
        day = self.day_seconds or 86400.0
        return max(60.0, 2 * day) if channel == "letter" else max(2.0, day / 2)

    def _step(self) -> float:
        """Between the print staff's steps (batch → printed → posted): half a journey day, at least 20 s."""
        return max(20.0, (self.day_seconds or 86400.0) / 2)

    # -- the people ----------------------------------------------------------------------------

    def act(self) -> None:
        """Do the chores whose moment has come (see the module docstring)."""
        due = [chore for chore in self.chores.values() if chore.at <= time.monotonic()]
        if not due:
            return
        ledger = self.ledger
        if ledger is None:  # poll opens the ledger before anyone acts
            return
        if self.runtime is None or self.room is None:
            self.runtime = bootstrap.runtime(bootstrap.settings(), ledger_=ledger)
            self.room = bootstrap.print_room(bootstrap.settings(), ledger_=ledger, on_posted=self.runtime.letter_posted)
        runtime, room = self.runtime, self.room
        for chore in due:
            del self.chores[chore.touch]
            if chore.step == "task":
                self._do_task(chore.touch, ledger, runtime)
            else:
                self._print_round(chore, ledger, room)

    def _do_task(self, touch: str, ledger: SqlLedger, runtime: Runtime) -> None:
        row = ledger.touch(self.deal_id, touch)
        if row is None or row.state != "running":
            self.say(f"the account manager leaves {touch} alone (it is {row.state if row else 'gone'})")
            return
        runtime.task_done(self.deal_id, touch)
        self.say(f"the account manager did {touch}")

    def _print_round(self, chore: Chore, ledger: SqlLedger, room: PrintRoom) -> None:
        """One step of the print staff's round for one letter, on their own batch only."""
        letter_id = f"{self.deal_id}/{chore.touch}"
        letter = ledger.letter(letter_id)
        if chore.step == "batch":
            if letter is None:  # claimed, not yet in the print queue: look again in a moment
                self.chores[chore.touch] = Chore(chore.touch, time.monotonic() + 1.0)
                return
            if letter.state != "queued":
                self.say(f"print staff leave {letter_id} to you (it is {letter.state})")
                return
            made = room.make_batch(only=[letter_id], until=letter.print_by)
            if not made.batch_id:
                self.say(f"print staff leave {letter_id} to you (someone batched it a moment ago)")
                return
            self.say(f"print staff made batch {made.batch_id} of {letter_id}")
            self.chores[chore.touch] = Chore(chore.touch, time.monotonic() + self._step(), "printed", made.batch_id)
            return
        batch_id = chore.batch
        batch = room.batch(batch_id) if batch_id else None
        states = ledger.batch_letter_states(batch_id) if batch_id and batch else {}
        expected = "batched" if chore.step == "printed" else "printed"
        if (
            batch_id is None
            or batch is None
            or batch.posted_at is not None
            or (chore.step == "printed") != (batch.printed_at is None)
            or states != {expected: 1}
        ):
            self.say(f"print staff leave batch {chore.batch} to you (you handled it)")
            return
        if chore.step == "printed":
            room.mark_printed(batch_id)
            self.say(f"print staff printed batch {chore.batch}")
            self.chores[chore.touch] = Chore(chore.touch, time.monotonic() + self._step(), "posted", chore.batch)
        else:
            room.mark_posted(batch_id=batch_id)
            self.say(f"print staff posted batch {chore.batch}")
