"""hundred's journey flows: each a short script over the runtime (the print room's is print_batch.py).

- `deal-closed`: one run per moment in which deals were stored; it claims them and starts each
  journey as a task named `<deal> · start`.
- `deliver`: one run per moment (a few for a big one); it claims the touches due by now and
  delivers each as a task named `<deal> · <touch>` (no tags: Prefect asks its server for tag
  concurrency slots before every tagged task, one at a time), several at a time, with retries.
- `cancel-journey`, `reconcile`.

The decisions (what is due, whether a touch may run, what opens the affirm gate) live in the
runtime and the engine; the claims in the ledger make every run safe to repeat or take over.
Tasks use no Prefect cache (`NO_CACHE`): whether a touch goes out is the ledger's decision, never a
cached result's, and hashing each task's inputs and source cost CPU on every touch.
"""

from __future__ import annotations

import copy
import re
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from prefect import Task, flow, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import SyncClientContext
from prefect.runtime import flow_run
from prefect.states import Cancelled, Completed
from prefect.task_runners import ThreadPoolTaskRunner

from flows.wiring import as_json, runtime, with_runtime

if TYPE_CHECKING:  # types only: serving the deployments needs only Prefect (flows/wiring.py)
    from hundred.service.runtime import Runtime

P = ParamSpec("P")
R = TypeVar("R")
CLAIM_BATCH = 32  # touches (or deals) claimed per round trip; the lease covers them while they run


class TouchFailed(RuntimeError):
    """The touch could not be delivered; the ledger holds the reason and the touch can be retried."""


class TouchInDoubt(TouchFailed):
    """The touch's email may have left (hundred/service/in_doubt.py): only the operator's look at the
    mail server's log settles it, so Prefect does not run it again."""


def _worth_retrying(task_: Task[Any, Any], task_run: Any, state: Any) -> bool:
    """Prefect's retry condition: any failure but an email in doubt. Running that one again would
    find it in doubt again, and while it ran the touch would be `running`, refusing the operator's
    `hundred retry --delivered` for the ~20 s of two retries."""
    return not isinstance(state.data, TouchInDoubt)


def artifact_key(prefix: str, name: str) -> str:
    """Prefect artifact keys are lowercase letters, digits and dashes: `journey-d-1042`."""
    return f"{prefix}-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "x")


def _named(task_: Task[P, R], deal: str, touch: str) -> Task[P, R]:
    """`task_` under the name `<deal> · <touch>`: what `with_options(name=…, task_run_name=…)` gives,
    without building a new Task per touch (Prefect reads and hashes the function's source for each:
    ~9 ms of the flow's loop a touch). A shallow copy: the same function, retries and policies."""
    named = copy.copy(task_)
    named.name = named.task_run_name = _task_name(deal, touch)
    return named


def _task_name(deal: str, touch: str) -> str:
    """`<deal> · <touch>`: a task's name is its identity in the Prefect UI (search by deal there).

    It is the task's own name too: Prefect first records a task run under its task's name plus a
    key (`deliver_touch-a1b`) and renames it when it starts; under load the UI now and then keeps
    that first name, which then still says which touch it is.

    Tasks carry no tags, on purpose: Prefect 3.8 asks the server for tag concurrency slots before
    every tagged task runs, one API call at a time per flow run process. Measured with 200 no-op
    tasks on 8 threads: 66 ms of CPU a task and 73.5 s in all with one tag, 9 ms and 3.1 s without.
    """
    return f"{deal} · {touch}"


def _holder() -> str:
    return str(flow_run.get_id() or "local")


def _one_client() -> AbstractContextManager[SyncClientContext]:
    """One Prefect client for all of a run's tasks. Without it Prefect builds one per task (an SSL
    context and a server version check each: ~15 ms of CPU a touch); the tasks' threads share
    this one, as a sync flow's tasks do."""
    return SyncClientContext.get_or_create()


# -- deal-closed ---------------------------------------------------------------------------------


@task(retries=2, retry_delay_seconds=5, task_run_name="{deal} · start", log_prints=False, cache_policy=NO_CACHE)
def start_journey(intake_id: str, deal: str) -> dict[str, Any]:
    """Start one stored deal's journey (or refuse it as a dead letter, saying why)."""
    from hundred import bootstrap  # lazy: serving the deployments needs only Prefect

    rt = runtime()
    intake = bootstrap.intake(rt.settings, ledger_=rt.ledger, scheduler_=rt.scheduler)
    row = rt.ledger.intake(intake_id)
    if row is None:
        return {"intake": intake_id, "state": "gone"}
    done = intake.start(row, rt)
    return {"intake": intake_id, "deal": deal, "state": done.state, "reason": done.reason}


@flow(
    name="deal-closed",
    retries=2,
    retry_delay_seconds=5,
    task_runner=ThreadPoolTaskRunner(max_workers=4),  # type: ignore[arg-type]  # Prefect's stub: TaskRunner is invariant
)
async def deal_closed(moment: str | None = None) -> dict[str, Any]:
    """Start the journeys of the deals stored by now: claimed from the ledger, one task each."""
    from hundred.service.intake import DEAL_KINDS  # lazy: serving the deployments needs only Prefect

    holder = _holder()
    rt = await with_runtime(lambda rt: rt)
    started: list[dict[str, Any]] = []
    with _one_client():
        while True:
            rows = await with_runtime(
                lambda rt: rt.ledger.claim_intakes(
                    holder=holder, now=rt.now(), lease=rt.lease, limit=CLAIM_BATCH, kinds=DEAL_KINDS
                )
            )
            if not rows:
                break
            futures = [
                _named(start_journey, row.deal_id or "?", "start").submit(row.intake_id, row.deal_id or "?")
                for row in rows
            ]
            started += [f.result() for f in futures]
    for item in started:
        if item.get("state") == "started":
            await _journey_artifact(rt, item["deal"])
    return {
        "moment": moment,
        "deals": len(started),
        "started": sum(i.get("state") == "started" for i in started),
        "refused": [i for i in started if i.get("state") == "dead"],
    }


async def _journey_artifact(rt: Runtime, deal: str) -> None:
    from hundred.service.outcomes import ClosedResult  # lazy: serving the deployments needs only Prefect

    row = rt.ledger.journey(deal)
    if row is None:
        return
    result = ClosedResult(deal, row.journey_id, row.version, True, rt.ledger.touches(deal))
    await acreate_markdown_artifact(
        markdown=result.markdown(), key=artifact_key("journey", deal), description="The journey planned for this deal"
    )


# -- deliver -------------------------------------------------------------------------------------


@task(retries=2, retry_delay_seconds=10, retry_condition_fn=_worth_retrying, log_prints=False, cache_policy=NO_CACHE)
def deliver_touch(deal: str, touch: str, holder: str) -> Any:
    """One touch: re-checked, delivered through its channel, recorded. A failure raises, so
    Prefect retries it (the ledger keeps the reason), except an email in doubt, which waits for
    the operator (a touch that may have left is never resent).
    The Prefect UI says what became of it: Completed, Skipped or Expired, or Cancelled."""
    outcome = runtime().run_touch(deal, touch, holder=holder)
    if outcome.failed:
        raise (TouchInDoubt if outcome.in_doubt else TouchFailed)(f"{deal} · {touch}: {outcome.detail}")
    if outcome.state == "cancelled":  # the journey exited before it left: say so in the UI
        return Cancelled(message=outcome.detail, data=as_json(outcome))
    if outcome.state in ("skipped", "expired"):
        return Completed(name=outcome.state.capitalize(), message=outcome.detail, data=as_json(outcome))
    return as_json(outcome)


@flow(
    name="deliver",
    retries=2,
    retry_delay_seconds=10,
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # type: ignore[arg-type]  # Prefect's stub: TaskRunner is invariant
)
async def deliver(moment: str | None = None, shard: int = 0, shards: int = 1) -> Any:
    """Deliver every touch due by now, claimed from the ledger a few at a time, each as a task.
    A run with nothing left to do (another shard or run took it, the journey was cancelled) ends
    at once: "nothing due"."""
    holder = _holder()
    rt = await with_runtime(lambda rt: rt)
    concurrency = rt.settings.deliver_concurrency
    outcomes: list[dict[str, Any]] = []
    failed = 0
    with _one_client():
        while True:
            rows = await with_runtime(
                lambda rt: rt.claim_due(holder, shard=shard, shards=shards, limit=max(concurrency * 2, 1))
            )
            if not rows:
                break
            futures = [_named(deliver_touch, t.deal_id, t.touch_id).submit(t.deal_id, t.touch_id, holder) for t in rows]
            for f in futures:
                f.wait()
                if f.state.is_completed():
                    outcomes.append(f.result())
                elif not f.state.is_cancelled():
                    failed += 1
    summary = {"moment": moment, "shard": shard, "delivered": len(outcomes), "failed": failed}
    if not outcomes and not failed:
        return Completed(
            name="Nothing due", message="another run took them, or their journeys were cancelled", data=summary
        )
    if failed:  # the touches say why (`hundred status`); running the whole moment again would not help
        return Completed(name="Completed with failures", message=f"{failed} touches failed", data=summary)
    return summary


# -- cancel and reconcile ------------------------------------------------------------------------


@flow(name="cancel-journey")
async def cancel_journey(deal: str, reason: str = "cancelled") -> dict[str, Any]:
    """Stop a deal's journey: the ledger marks it exited; a run that finds a touch cancelled sends nothing."""
    return as_json(await with_runtime(lambda rt: rt.cancel(deal, reason)))


@flow(name="reconcile")
async def reconcile() -> dict[str, Any]:
    """Repair what a crash, an outage or an outside hand left (see hundred/service/reconcile.py)."""
    from hundred.service.reconcile import reconcile as repair  # lazy: serving the deployments needs only Prefect

    report = await with_runtime(repair)
    await acreate_markdown_artifact(
        markdown=report.markdown(), key="reconcile", description="What the last reconcile repaired"
    )
    return as_json(report)


from flows.print_batch import print_batch  # noqa: E402  (one tuple of every flow hundred serves)

FLOWS = (deal_closed, deliver, cancel_journey, reconcile, print_batch)
