"""PrefectScheduler (Prefect's REST API over httpx, for the web app) against the session's real
Prefect server: it makes the very runs PrefectScheduler makes, once per touch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hundred.adapters.prefect.scheduler import PrefectScheduler
from hundred.planning.identity import TouchKey

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def _run(api_url: str, run_id: str) -> dict:
    response = httpx.get(f"{api_url}/flow_runs/{run_id}")
    response.raise_for_status()
    return response.json()


def _comparable(run: dict) -> dict:
    return {
        "name": run["name"],
        "parameters": run["parameters"],
        "tags": sorted(run["tags"]),
        "state": run["state"]["type"],
        "scheduled": run["state"]["state_details"]["scheduled_time"],
        "deployment_id": run["deployment_id"],
    }


def test_rest_scheduler_makes_the_runs_prefect_scheduler_makes_once_per_touch(hundred_deployments):
    from hundred.adapters.prefect.scheduler import PrefectScheduler

    api = hundred_deployments.api_url
    deal = f"REST-{uuid.uuid4().hex[:8]}"
    due = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    with PrefectScheduler(api) as rest, PrefectScheduler(api) as prefect:
        run_a = rest.schedule(TouchKey(deal, "j", "v1", "a"), due, "affirm", "letter")
        assert rest.schedule(TouchKey(deal, "j", "v2", "a"), due + timedelta(hours=1), "affirm", "letter") == run_a
        assert prefect.schedule(TouchKey(deal, "j", "v1", "a"), due, "affirm", "letter") == run_a
        run_b = prefect.schedule(TouchKey(deal, "j", "v1", "b"), due, "advocate", "email")
        rest_b = rest.schedule(TouchKey(deal, "j", "v1", "b"), due, "advocate", "email")
        assert rest_b == run_b
        mine, theirs = _run(api, run_a), _run(api, run_b)
        assert mine["idempotency_key"] == f"{deal}/j/a"
        assert _comparable(mine)["tags"] == sorted(TouchKey(deal, "j", "v1", "a").tags("affirm", "letter"))
        assert _comparable(mine)["name"] == f"{deal} · a"
        assert mine["parameters"] == {"deal": deal, "touch": "a"}
        assert datetime.fromisoformat(_comparable(mine)["scheduled"].replace("Z", "+00:00")) == due
        # the same shape as PrefectScheduler's run for the same kind of touch
        same = {k: v for k, v in _comparable(theirs).items() if k not in ("name", "parameters", "tags")}
        assert {k: v for k, v in _comparable(mine).items() if k not in ("name", "parameters", "tags")} == same
        assert rest.run_state(run_a) == "SCHEDULED"

        assert rest.cancel_deal(deal, "test") == 2
        assert rest.run_state(run_a) == "CANCELLED" and prefect.run_state(run_b) == "CANCELLED"
        assert rest.cancel_deal(deal, "again") == 0

        rest.retry(run_a, datetime.now(UTC) + timedelta(days=9))
        assert rest.run_state(run_a) == "SCHEDULED"

        httpx.delete(f"{api}/flow_runs/{run_a}").raise_for_status()
        assert rest.run_state(run_a) is None
        assert rest.run_state(str(uuid.uuid4())) is None


def test_rest_scheduler_refuses_a_naive_time_and_a_run_id_that_is_no_uuid(hundred_deployments):
    with PrefectScheduler(hundred_deployments.api_url) as rest:
        with pytest.raises(ValueError, match="no time zone"):
            rest.schedule(TouchKey("D", "j", "v", "t"), datetime(2026, 1, 1), "affirm", "letter")
        with pytest.raises(ValueError):
            rest.run_state("../../deployments")


def test_rest_scheduler_without_an_api_says_how_to_get_one():
    with pytest.raises(ValueError, match="PREFECT_API_URL"):
        PrefectScheduler("")


def test_many_run_states_in_pages_agree_with_one_at_a_time_in_both_schedulers(hundred_deployments, monkeypatch):
    """reconcile reads every scheduled run's state; in pages of STATES_PER_CALL (2 here), a gone
    run is None, and both schedulers say what run_state says."""
    import hundred.adapters.prefect.scheduler

    monkeypatch.setattr(hundred.adapters.prefect.scheduler, "STATES_PER_CALL", 2)
    api = hundred_deployments.api_url
    deal = f"STATES-{uuid.uuid4().hex[:8]}"
    due = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    with PrefectScheduler(api) as rest, PrefectScheduler(api) as prefect:
        runs = [rest.schedule(TouchKey(deal, "j", "v1", f"t{i}"), due, "affirm", "email") for i in range(5)]
        rest.cancel_deal(deal, "test")
        rest.retry(runs[0], due)
        httpx.delete(f"{api}/flow_runs/{runs[1]}").raise_for_status()
        asked = [*runs, str(uuid.uuid4())]
        expected = {r: rest.run_state(r) for r in asked}
        assert expected[runs[0]] == "SCHEDULED" and expected[runs[1]] is None and expected[runs[2]] == "CANCELLED"
        assert rest.run_states(asked) == expected
        assert prefect.run_states(asked) == expected
        assert rest.run_states([]) == {} == prefect.run_states([])
