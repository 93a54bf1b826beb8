"""`race()`: processes started together against one database, as concurrent batch runs or flow runs
would be (spawned, so each has its own engine and connections, and nothing is shared by fork)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any


def race(target: Callable[..., None], args: tuple[Any, ...], racers: int, timeout: float) -> list[dict[str, Any]]:
    """`racers` processes running `target(*args, barrier, results)`, each putting one dict on
    `results` (with "error" when it failed); the dicts, after asserting none has an error."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(racers), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, results)) for _ in range(racers)]
    for proc in procs:
        proc.start()
    outs = [results.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert not [o["error"] for o in outs if "error" in o]
    return outs
