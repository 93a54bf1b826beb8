"""The `journey-figures` flow on the session's real Prefect server: one markdown artifact per
journey with the figures of a ledger the runtime built (tests/figures_world.py), and its daily
schedule in the served deployments."""

from __future__ import annotations

import asyncio

import pytest
from figures_world import EXPECTED, iter_world

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    yield from iter_world(tmp_path_factory.mktemp("figures-flow"))


def test_the_daily_artifact_says_how_each_journey_is_doing(world, prefect_server, monkeypatch):
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.figures import journey_figures

    monkeypatch.setenv("HUNDRED_HOME", str(world.settings.home))
    monkeypatch.delenv("HUNDRED_DATABASE_URL", raising=False)
    result = asyncio.run(journey_figures())
    assert result == {"journeys": ["figures"]}
    with SyncPrefectClient(prefect_server.api_url) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["journey-figures-figures"]))
        )
    assert artifact.type == "markdown"
    text = artifact.data
    assert text.startswith("# Cijfers (figures)")
    assert f"| {EXPECTED['entered']} | {EXPECTED['active']} | {EXPECTED['completed']} | {EXPECTED['exited']} |" in text
    assert "| thanks | 4 | 3 | 1 | 3 | 0 |" in text  # posted, on time, late, median delay, overdue
    assert "| Piet Bakker | 1 | 0 | 1 | 1 |" in text  # the overdue task
    assert "longest silence over 10 days: 4" in text


def test_it_runs_every_morning():
    from flows.serve import deployments

    figures = next(d for d in deployments() if d.name == "journey-figures")
    (schedule,) = figures.schedules
    assert schedule.schedule.cron == "0 7 * * *"
    assert figures.entrypoint.endswith("journey_figures")
