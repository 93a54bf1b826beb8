"""A runtime on a ledger whose clock the test moves, and the print room on the same ledger: the
letters are made the way production makes them (`Runtime.run_touch` renders and queues them)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from moments import run_until

from hundred import bootstrap
from hundred.adapters.ledger import Ledger
from hundred.service.settings import Settings
from hundred.service.simulate import VirtualScheduler


class World:
    """A runtime on a ledger whose clock the test moves, and the print room on the same ledger."""

    def __init__(self, root: Path, ledger_url: str | None = None):
        """An in-memory ledger, or the one at `ledger_url` (for the command line to read)."""
        self.now = datetime(2026, 11, 20, 13, 3, tzinfo=UTC)
        clock = lambda: self.now  # noqa: E731
        self.ledger = Ledger.open(ledger_url, clock=clock) if ledger_url else Ledger.memory(clock=clock)
        self.scheduler = VirtualScheduler()
        self.settings = Settings(
            home=root / "home",
            letters_dir=root / "letters",
            journeys_dir=root / "journeys",
            templates_dir=root / "templates",
            day_seconds=None,
        )
        self.runtime = bootstrap.runtime(
            self.settings, ledger_=self.ledger, scheduler_=self.scheduler, clock=lambda: self.now
        )
        self.room = bootstrap.print_room(self.settings, ledger_=self.ledger, on_posted=self.runtime.letter_posted)

    def run_until(self, until: datetime) -> None:
        run_until(self, until)

    def state(self, touch: str, deal: str = "D-1") -> str:
        return self.ledger.touch(deal, touch).state


__all__ = ["World"]
