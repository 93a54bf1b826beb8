"""A runtime on a ledger whose clock the test moves, and the print room on the same ledger: the
letters are made the way production makes them (`Runtime.run_touch` renders and queues them)."""

from __future__ import annotations

from pathlib import Path

from moments import ClockWorld

from hundred import bootstrap
from hundred.adapters.ledger import Ledger


class World(ClockWorld):
    """A runtime on a ledger whose clock the test moves, and the print room on the same ledger."""

    def __init__(self, root: Path, ledger_url: str | None = None):
        """An in-memory ledger, or the one at `ledger_url` (for the command line to read)."""
        super().__init__(root, Ledger.open(ledger_url) if ledger_url else None)
        self.room = bootstrap.print_room(self.settings, ledger_=self.ledger, on_posted=self.runtime.letter_posted)


__all__ = ["World"]
