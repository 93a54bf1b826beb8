"""What this process knows of the runs it asked Prefect for, and how long it may trust it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

SURE_AHEAD = 1.0  # seconds: a run this far ahead of its moment has surely not started
KNOWN_SECONDS = 60.0  # how long this process trusts what Prefect said of a moment's run


class Known(NamedTuple):
    run: str
    name: str
    touches: int  # the count its name says (deliver runs; 0 for the others)
    learned: float  # when Prefect said so (time.monotonic)


class KnownRuns:
    """The runs this process asked Prefect for, by key, trusted while they cannot have started.

    Many deals share a moment, and each would ask Prefect the same idempotent question. A run is
    started only when due, so while its moment is more than `SURE_AHEAD` away it has not started
    and will see what was just stored; the answer is also dropped after `KNOWN_SECONDS`, so a run
    someone deleted in the UI is not trusted for long. One rule for the deliver and deal-closed
    runs; `forget` (reconcile) drops everything.

    Threads that ask the same question at once (a CRM posting a burst of webhooks, the tasks of
    a deal-closed run) take turns (`asking`): the first asks Prefect, the others find its answer.
    Concurrent creations of one idempotency key gain nothing, and a Prefect server on SQLite
    answers all but one of them 503 "database is locked" and can then stall its other callers."""

    def __init__(self) -> None:
        self._runs: dict[tuple[Any, ...], Known] = {}
        self._asking: dict[tuple[Any, ...], threading.Lock] = {}
        self._guard = threading.Lock()

    def asking(self, key: tuple[Any, ...]) -> threading.Lock:
        """Hold it while asking Prefect about `key`, then `get` again inside: one thread asks at a
        time per key; other keys are not held up."""
        with self._guard:
            return self._asking.setdefault(key, threading.Lock())

    def get(self, key: tuple[Any, ...], moment: datetime) -> Known | None:
        """The run as known, while it is still to be trusted; None when Prefect must be asked."""
        known = self._runs.get(key)
        if known is None or known.learned < time.monotonic() - KNOWN_SECONDS:
            return None
        if (moment - datetime.now(UTC)).total_seconds() <= SURE_AHEAD:
            return None
        return known

    def put(self, key: tuple[Any, ...], run: str, name: str, *, touches: int = 0, learned: bool = True) -> None:
        """Remember `run` (`learned`: Prefect just said so; else only its name changed)."""
        before = None if learned else self._runs.get(key)
        self._runs[key] = Known(run, name, touches, before.learned if before else time.monotonic())

    def prune(self) -> None:
        """Drop what is due or too old (key[0] is the moment): the dict stays small."""
        now, fresh = datetime.now(UTC), time.monotonic() - KNOWN_SECONDS
        for key, known in list(self._runs.items()):  # a copy: a deal-closed run's threads share this
            if key[0] <= now or known.learned < fresh:
                self._runs.pop(key, None)
        with self._guard:
            for key, lock in list(self._asking.items()):
                if key[0] <= now and not lock.locked():
                    del self._asking[key]

    def forget(self) -> None:
        self._runs.clear()
