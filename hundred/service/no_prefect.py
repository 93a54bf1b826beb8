"""Schedulers that make no Prefect runs.

`NoPrefect` is what every entry point gets when no Prefect API is known (nothing running, no
PREFECT_API_URL): deals are still stored in the ledger and wait, and the caller is told why.
`NoRuns` is for work that must not schedule at all (a dry run, a journey cancelled before it
closed, which starts exited).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from hundred.service.ports import Schedules, StaleRun


class NoRuns:
    """A scheduler that makes no runs: a journey cancelled before it closed starts exited."""

    def ensure_moment(self, moment: datetime, *, touches: int, shards: int = 1) -> list[str]:
        return []

    def ensure_deal_closed(self, moment: datetime) -> str:
        return ""

    def stale_runs(self, since_before: datetime) -> list[StaleRun]:
        return []

    def take_over(self, run: StaleRun, reason: str) -> None:
        pass

    def retire_touch_runs(self) -> int:
        return 0

    def forget(self) -> None:
        pass

    def ended(self, run_ids: Collection[str]) -> set[str]:
        return set()

    def keep_schedules(self, schedules: Schedules) -> list[str]:
        return []


class NoPrefect(NoRuns):
    """No Prefect API known: deals are stored and wait until there is one (reconcile, or
    `hundred intake retry` once hundred is up)."""

    api_url = ""

    def ensure_moment(self, moment: datetime, *, touches: int, shards: int = 1) -> list[str]:
        raise ConnectionError("no Prefect API (start hundred with `hundred up`, or set PREFECT_API_URL)")

    def ensure_deal_closed(self, moment: datetime) -> str:
        raise ConnectionError("no Prefect API (start hundred with `hundred up`, or set PREFECT_API_URL)")
