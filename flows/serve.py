"""`python -m flows.serve`: serve hundred's deployments from this process (the embedded shape).

Each flow run executes in its own subprocess. `hundred up` runs this under a supervisor that
restarts it when it exits. Prefect's runner stops polling for good after three failed polls in a
row and would live on idle, so a watchdog exits when no poll has succeeded for
HUNDRED_SERVE_STALE_SECONDS (default 120 s, or twelve poll intervals if longer).

- `pause_on_shutdown=False`: serve would otherwise pause its deployments' schedules when it
  stops, and reconcile's interval would stay paused after a restart.
- The schedules (reconcile's interval, the print batch's cron) come from hundred/service/schedules.py,
  the same values the pool shape's reconcile keeps in Prefect.
- Never run this and `prefect deploy` of the same names against one server (see prefect.yaml).
- HUNDRED_SERVE_LIMIT caps concurrent flow runs (default 8: each run is a ~85 MB subprocess).
- SIGTERM and Ctrl-C stop the runner with its own `astop` (Prefect's handler called the sync
  `stop` from inside the event loop: "coroutine 'Runner.astop' was never awaited").
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect.deployments.runner import RunnerDeployment
from prefect.runner import Runner
from prefect.schedules import Cron, Interval
from prefect.types.entrypoint import EntrypointType

from flows.figures import journey_figures
from flows.journey import cancel_journey, deal_closed, deliver, reconcile
from flows.print_batch import print_batch


def _built(deployment: RunnerDeployment | Coroutine[Any, Any, RunnerDeployment]) -> RunnerDeployment:
    """`to_deployment` hands back a coroutine when called inside an event loop; `deployments` runs
    off the loop (as a script would), so what it gets is the deployment itself."""
    if not isinstance(deployment, RunnerDeployment):
        raise TypeError("deployments() must run off the event loop (asyncio.to_thread)")
    return deployment


def deployments() -> list[RunnerDeployment]:
    """hundred's deployments; flow runs import `flows.journey` by module path, from any directory."""
    from hundred import bootstrap  # lazy: keep `import flows.serve` light
    from hundred.service.schedules import schedules  # lazy: as above

    when = schedules(bootstrap.settings())
    module = EntrypointType.MODULE_PATH
    built = [
        deal_closed.to_deployment(
            name="deal-closed", description="Start the journeys of the deals stored.", entrypoint_type=module
        ),
        deliver.to_deployment(
            name="deliver", description="Deliver the touches due at one moment.", entrypoint_type=module
        ),
        cancel_journey.to_deployment(
            name="cancel-journey", description="Stop a deal's journey.", entrypoint_type=module
        ),
        reconcile.to_deployment(
            name="reconcile",
            schedule=Interval(timedelta(seconds=when.reconcile_seconds)),
            description="Repair what the ledger expects and Prefect lacks.",
            entrypoint_type=module,
        ),
        print_batch.to_deployment(
            name="print-batch",
            schedule=Cron(when.print_batch_cron, timezone=when.print_batch_timezone),
            description="Workday mornings: the day's print batch of letters.",
            entrypoint_type=module,
        ),
        journey_figures.to_deployment(
            name="journey-figures",
            schedule=Cron(when.figures_cron, timezone=when.print_batch_timezone),
            description="Every morning: how each journey is doing, one artifact per journey.",
            entrypoint_type=module,
        ),
    ]
    return [_built(deployment) for deployment in built]


DRAIN_SECONDS = (
    18.0  # inside `hundred up`'s 20 s before it kills the group (a print batch on a busy machine takes 10 s)
)


def in_flight(runner: Runner) -> int:
    """How many flow runs the runner's processes are running. Prefect 3.8 keeps them in its process
    manager (the runner's own `_flow_run_process_map` stays empty); older ones in that map."""
    manager = getattr(runner, "_process_manager", None)
    processes = getattr(manager, "_process_map", None)
    if processes is None:
        processes = getattr(runner, "_flow_run_process_map", None)
    return len(processes or {})


async def drain(runner: Runner, seconds: float = DRAIN_SECONDS) -> None:
    """Stop taking runs, let the ones in flight finish (a deliver run takes seconds), then stop:
    a run killed half-way is safe (the next one takes its touches over), but it writes a
    traceback into the log an operator reads."""
    poller = getattr(runner, "_scheduled_run_poller", None)
    if poller is not None:
        poller.stopping = True
    deadline = asyncio.get_running_loop().time() + seconds
    while in_flight(runner) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    await runner.astop()


def stale_after(runner: Runner) -> float:
    """How long without a poll means the runner has stopped polling: Prefect's poll loop gives up
    for good after three failed polls in a row (`critical_service_loop`, `backoff=1`), which a
    Prefect API gone for about 90 s causes, and the process would live on without taking a run."""
    return float(os.environ.get("HUNDRED_SERVE_STALE_SECONDS") or max(120.0, 12 * runner.query_seconds))


async def watch_polling(runner: Runner, stale: float) -> str:
    """Return (a reason) once the runner has not polled for `stale` seconds, so serve exits and
    its supervisor (`hundred up`, or systemd in the pool shape) starts a fresh one."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        await asyncio.sleep(min(10.0, stale / 4))
        last = runner.last_polled
        quiet = (datetime.now(UTC) - last).total_seconds() if last else loop.time() - started
        if quiet > stale:
            return f"the runner has not polled Prefect for {quiet:.0f} s"


async def run(limit: int) -> None:
    # no prefetch: a run is started when it is due, so none waits half-started for its moment
    # (a stop would kill it, with a traceback); the moment's run starts within the poll interval
    runner = Runner(pause_on_shutdown=False, limit=limit, prefetch_seconds=0)
    for deployment in await asyncio.to_thread(deployments):  # built as a script would, off the loop
        await runner.aadd_deployment(deployment)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    serving = asyncio.create_task(runner.start())
    await asyncio.sleep(0.5)  # the runner installs a SIGTERM handler of its own as it starts: replace it
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    stop = asyncio.create_task(stopping.wait())
    watchdog = asyncio.create_task(watch_polling(runner, stale_after(runner)))
    await asyncio.wait({serving, stop, watchdog}, return_when=asyncio.FIRST_COMPLETED)
    if not serving.done():
        await drain(runner)
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
    else:
        serving.result()
    if watchdog.done():
        raise SystemExit(f"serve: {watchdog.result()}; exiting so that it is started again")
    watchdog.cancel()


def main() -> None:
    asyncio.run(run(int(os.environ.get("HUNDRED_SERVE_LIMIT", "8"))))


if __name__ == "__main__":
    main()
