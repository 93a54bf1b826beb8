"""`python -m flows.serve` builds hundred's deployments as a script would: off the event loop, every
one by module path (so a flow run imports `flows.journey` from any directory), the periodic ones
with their schedules. No Prefect server: building a deployment does not talk to one."""

from __future__ import annotations

import asyncio

import pytest
from prefect.deployments.runner import RunnerDeployment
from prefect.types.entrypoint import EntrypointType

from flows import serve
from hundred.service import deployments

PERIODIC = {deployments.RECONCILE, deployments.PRINT_BATCH, deployments.JOURNEY_FIGURES}


def test_serve_builds_every_deployment_by_module_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HUNDRED_HOME", str(tmp_path))
    built = asyncio.run(asyncio.to_thread(serve.deployments))  # as `run` does it
    assert [f"{d.flow_name}/{d.name}" for d in built] == list(deployments.ALL)
    assert {d.entrypoint_type for d in built} == {EntrypointType.MODULE_PATH}
    assert {f"{d.flow_name}/{d.name}" for d in built if d.schedules} == PERIODIC


def test_serve_refuses_a_deployment_left_unbuilt():
    async def pending() -> RunnerDeployment:  # what to_deployment hands back inside an event loop
        raise AssertionError("never awaited")

    coroutine = pending()
    with pytest.raises(TypeError, match="off the event loop"):
        serve._built(coroutine)
    coroutine.close()
