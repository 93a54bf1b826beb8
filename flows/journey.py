"""hundred's journey flows (the print room's `print-batch` is in print_batch.py). Each is a short script around one call of `hundred.service.runtime`.

The decisions (what to schedule, whether a touch may run, what opens the affirm gate) live in the
runtime and the engine; these flows only give Prefect something to run, retry and show.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from prefect import flow
from prefect.artifacts import acreate_markdown_artifact
from prefect.runtime import flow_run
from prefect.states import Cancelled, Completed, Failed

from flows.wiring import as_json, with_runtime

RECONCILE_EVERY = timedelta(minutes=15)


class TouchFailed(RuntimeError):
    """The touch could not be delivered; the ledger holds the reason and the touch can be retried."""


def artifact_key(prefix: str, name: str) -> str:
    """Prefect artifact keys are lowercase letters, digits and dashes: `journey-d-1042`."""
    return f"{prefix}-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "x")


@flow(name="deal-closed", retries=2, retry_delay_seconds=5)
async def deal_closed(payload: dict[str, Any], received_at: str | None = None) -> Any:
    """A closed deal: record it, write its plan, schedule every touch the gate does not hold."""
    from hundred.service.runtime import IntakeError  # lazy: serving the deployments needs only Prefect

    received = datetime.fromisoformat(received_at) if received_at else None
    try:
        result = await with_runtime(lambda rt: rt.deal_closed(payload, received_at=received))
    except IntakeError as exc:  # a deal hundred refuses: retrying cannot help, so fail without retries
        return Failed(message=f"deal refused: {exc}")
    await with_runtime(lambda rt: _apply_held(rt, result.deal))  # a cancel from the CRM that raced this run
    await acreate_markdown_artifact(
        markdown=result.markdown(),
        key=artifact_key("journey", str(payload.get("id", ""))),
        description="The journey planned for this deal",
    )
    return as_json(result)


@flow(name="run-touch", retries=2, retry_delay_seconds=10)
async def run_touch(deal: str, touch: str) -> Any:
    """One touch at its due time: re-checked, delivered through its channel, recorded."""
    run_id = flow_run.get_id()
    outcome = await with_runtime(lambda rt: rt.run_touch(deal, touch, flow_run_id=run_id))
    if outcome.failed:
        raise TouchFailed(f"{deal} · {touch}: {outcome.detail}")
    if outcome.state == "cancelled":  # the journey exited before this run started: say so in the UI
        return Cancelled(message=outcome.detail, data=as_json(outcome))
    if outcome.state in ("skipped", "expired"):
        return Completed(name=outcome.state.capitalize(), message=outcome.detail, data=as_json(outcome))
    return as_json(outcome)


@flow(name="cancel-journey")
async def cancel_journey(deal: str, reason: str = "cancelled") -> dict[str, Any]:
    """Stop a deal's journey: the ledger marks it exited and its scheduled touches are cancelled."""
    return as_json(await with_runtime(lambda rt: rt.cancel(deal, reason)))


@flow(name="reconcile")
async def reconcile() -> dict[str, Any]:
    """Repair what the ledger expects and Prefect lacks; report what was repaired. Also submits the
    CRM deliveries stored while Prefect was unreachable and applies cancels that came early."""
    report = await with_runtime(_reconcile)
    await acreate_markdown_artifact(
        markdown=report.markdown(), key="reconcile", description="What the last reconcile repaired"
    )
    return as_json(report)


def _intake(rt: Any) -> Any:
    from hundred import bootstrap  # lazy: serving the deployments needs only Prefect

    return bootstrap.intake(rt.settings, ledger_=rt.ledger, scheduler_=rt.scheduler)


def _apply_held(rt: Any, deal_id: str) -> Any:
    return _intake(rt).apply_held(deal_id)


def _reconcile(rt: Any) -> Any:
    report = rt.reconcile()
    intake = _intake(rt)
    for row in intake.retry_pending():
        report.add("intake", f"intake {row.intake_id} (deal {row.deal_id}): {row.state}")
    for row in intake.rerun_failed():
        report.add("intake", f"intake {row.intake_id} (deal {row.deal_id}): its deal-closed run failed; run again")
    return report


from flows.print_batch import print_batch  # noqa: E402  (one tuple of every flow hundred serves)

FLOWS = (deal_closed, run_touch, cancel_journey, reconcile, print_batch)
