"""How the flows reach hundred: a runtime built by `hundred.bootstrap`, called off the event loop.

hundred's runtime is imported when a flow runs, not when `flows.journey` is imported, so
registering or serving the deployments needs only Prefect.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from hundred.service.runtime import Runtime

T = TypeVar("T")


_runtimes: list[Runtime] = []
_lock = threading.Lock()


def runtime() -> Runtime:
    """This process's runtime (a flow run is a process of its own): its ledger, Prefect as
    scheduler, the settings; built once and shared by the run's tasks."""
    from hundred import bootstrap  # lazy: serving the deployments needs only Prefect

    with _lock:
        if not _runtimes:
            _runtimes.append(bootstrap.runtime())
        return _runtimes[0]


async def with_runtime(call: Callable[[Runtime], T]) -> T:
    """`call(runtime())` in a worker thread, so the (sync) runtime never blocks the flow's loop.

    The flows are async on purpose: Prefect's sync flow engine joins its heartbeat thread on exit,
    which costs up to a second per run; the async engine does not wait for it.
    """

    def run() -> T:
        return call(runtime())

    return await asyncio.to_thread(run)


class JsonShaped(Protocol):
    """What the runtime hands back: an outcome or report that says itself as JSON."""

    def to_json(self) -> dict[str, Any]: ...


def as_json(result: JsonShaped) -> dict[str, Any]:
    """A runtime result as the flow's return value (JSON, shown in the Prefect UI)."""
    return result.to_json()
