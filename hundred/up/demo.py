"""The demo's live view: one deal's journey as it happens, and the people who act in it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape

from hundred import bootstrap


class DemoView:
    """The demo journey as it happens: the ledger's events for one deal, printed as they arrive.

    The demo also plays the people: print staff post each queued letter (after it has sat in the
    print room for a while) and the account manager finishes each task half a journey day after
    it reaches them, so the affirm phase completes and the referral follows, as in an office."""

    def __init__(self, deal_id: str, received: datetime, day_seconds: float | None, api_url: str = ""):
        self.deal_id, self.received, self.day_seconds, self.api_url = deal_id, received, day_seconds, api_url
        self.people: dict[str, float] = {}  # touch → when the person acts (monotonic)
        self.runtime: Any = None
        self.console = Console(highlight=False)
        self.after_id, self.phases, self.ledger, self.next_poll = 0, {}, None, 0.0
        self.channels: dict[str, str] = {}
        self.console.print(f"[bold]{'time':<9} {'day':>5}  {'touch':<26} {'phase':<11} event[/bold]")

    def poll(self) -> None:
        if time.monotonic() < self.next_poll:
            return
        self.next_poll = time.monotonic() + 1.0
        try:
            if self.ledger is None:
                self.ledger = bootstrap.ledger(bootstrap.settings())
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
            if event.event == "running" and event.touch_id and self.channels.get(event.touch_id) in ("letter", "task"):
                self.people.setdefault(event.touch_id, time.monotonic() + self._takes(self.channels[event.touch_id]))
            self.after_id = max(self.after_id, event.id)
            if event.event in ("planned", "gate.released") or event.event.startswith("delivery."):
                continue  # bookkeeping: the touch's own next event says what happened
            at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
            day = ""
            if self.day_seconds:
                day = f"{(at - self.received).total_seconds() / self.day_seconds:5.1f}"
            style = {
                "delivered": "green",
                "done": "green",
                "posted": "green",
                "failed": "red",
                "cancelled": "yellow",
                "skipped": "dim",
                "expired": "dim",
            }.get(event.event, "")
            text = escape(event.event) + (f" [dim]{escape(event.detail)}[/dim]" if event.detail else "")
            line = (
                f"{at.astimezone():%H:%M:%S} {day:>5}  {event.touch_id or '-':<26} "
                f"{self.phases.get(event.touch_id or '', ''):<11} "
            )
            self.console.print(
                line + (f"[{style}]{text}[/{style}]" if style else text), no_wrap=True, overflow="ellipsis"
            )

    def _takes(self, channel: str) -> float:
        """How long the demo's people take: an account manager half a journey day; print staff
        two journey days and at least a minute, so the letter can be seen in the print room."""
        day = self.day_seconds or 86400.0
        return max(60.0, 2 * day) if channel == "letter" else max(2.0, day / 2)

    def act(self) -> None:
        """Post the letters and finish the tasks whose moment has come (see the class docstring)."""
        due = [touch for touch, at in self.people.items() if at <= time.monotonic()]
        if not due:
            return
        if self.runtime is None:
            self.runtime = bootstrap.runtime(bootstrap.settings(), ledger_=self.ledger)
        for touch in due:
            del self.people[touch]
            if self.channels.get(touch) == "letter":
                queued = [l for l in self.ledger.letters(deal_id=self.deal_id) if l.touch_id == touch]
                if not queued:  # claimed, not yet in the print queue: look again in a moment
                    self.people[touch] = time.monotonic() + 1.0
                for letter in queued:
                    if letter.state in ("queued", "batched", "printed"):
                        self.runtime.letter_posted(letter.letter_id)
                        self.console.print(f"[dim]demo: print staff posted {letter.letter_id}[/dim]")
            else:
                self.runtime.task_done(self.deal_id, touch)
                self.console.print(f"[dim]demo: the account manager did {touch}[/dim]")
