"""The one place the flows build hundred's runtime: the ledger, Prefect as scheduler, settings.

hundred's runtime is imported when a flow runs, not when `flows.journey` is imported, so
registering or serving the deployments needs only Prefect.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Callable, TypeVar

if TYPE_CHECKING:
    from hundred.runtime import Runtime

T = TypeVar("T")


def runtime() -> "Runtime":
    """A runtime for one flow run: `Runtime(Ledger.open(), PrefectScheduler(), Settings())`."""
    from hundred.ledger import Ledger
    from hundred.runtime import Runtime
    from hundred.settings import Settings

    from flows.scheduling import PrefectScheduler

    return Runtime(Ledger.open(), PrefectScheduler(), Settings())


async def with_runtime(call: Callable[["Runtime"], T]) -> T:
    """`call(runtime())` in a worker thread, so the (sync) runtime never blocks the flow's loop.

    The flows are async on purpose: Prefect's sync flow engine joins its heartbeat thread on exit,
    which costs up to a second per run; the async engine does not wait for it.
    """
    def run() -> T:
        return call(runtime())

    return await asyncio.to_thread(run)


def as_json(result: Any) -> Any:
    """A runtime result as the flow's return value (JSON, shown in the Prefect UI)."""
    return result.to_json() if hasattr(result, "to_json") else result
