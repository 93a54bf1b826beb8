"""Running a runtime's moments by hand, as the `deliver` flow does, with time in the test's hands.

A test world has `.now` (its clock), `.scheduler` (the simulator's VirtualScheduler) and `.runtime`.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any


def run_until(world: Any, until: datetime, skip: tuple[str, ...] = ()) -> list[str]:
    """Start every moment's run due by `until`, in order: each claims the touches due and delivers
    them; `skip` are touches whose run dies after claiming them. Returns the touches that ran."""
    ran = []
    scheduler = world.scheduler
    while scheduler.heap and scheduler.heap[0][0] <= until:
        at, _, kind, (_, _, run_id) = heapq.heappop(scheduler.heap)
        if kind != "moment" or scheduler.runs.get(run_id) != "SCHEDULED":
            continue
        world.now = max(world.now, at)
        scheduler.runs[run_id] = "COMPLETED"
        for claimed in world.runtime.claim_due(run_id, limit=1000):
            if claimed.touch_id in skip:
                continue
            world.runtime.run_touch(claimed.deal_id, claimed.touch_id, holder=run_id)
            ran.append(claimed.touch_id)
    world.now = max(world.now, until)
    return ran
