"""Prefect as hundred's scheduler against a real Prefect server: one run per moment, made once;
runs taken over; the retired per-touch runs cancelled; schedules kept; the served flows end to end."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hundred.adapters.prefect.scheduler import PrefectScheduler, deliver_run_name
from hundred.service import deployments
from hundred.service.ports import Schedules, StaleRun

pytestmark = [pytest.mark.usefixtures("hundred_deployments"), pytest.mark.prefect, pytest.mark.slow]


def _moment(days: float) -> datetime:
    """Far enough ahead that no serve running elsewhere in the session picks the run up, and a
    moment no other test uses (the seconds are random)."""
    base = datetime.now(UTC) + timedelta(days=days)
    return base.replace(microsecond=0) + timedelta(seconds=uuid.uuid4().int % 10_000)


def _run(api: str, run_id: str) -> dict:
    response = httpx.get(f"{api}/flow_runs/{run_id}", timeout=30)
    response.raise_for_status()
    return response.json()


def _set_state(api: str, run_id: str, state: str) -> None:
    body = {"state": {"type": state, "name": state.capitalize()}, "force": True}
    httpx.post(f"{api}/flow_runs/{run_id}/set_state", json=body, timeout=30).raise_for_status()


@pytest.fixture
def scheduler(prefect_server):
    with PrefectScheduler(prefect_server.api_url) as s:
        yield s


def test_a_moment_has_one_deliver_run_however_often_it_is_asked_for(scheduler, prefect_server):
    moment = _moment(30)
    first = scheduler.ensure_moment(moment, touches=1)
    again = scheduler.ensure_moment(moment, touches=3)  # two more deals with a touch then
    assert again == first and len(first) == 1
    run = _run(prefect_server.api_url, first[0])
    assert run["name"] == deliver_run_name(moment, 3) == f"deliver · {moment:%Y-%m-%d %H:%M:%S} UTC · 3 touches"
    assert run["idempotency_key"] == f"deliver:{moment.isoformat().replace('+00:00', 'Z')}:0"
    assert run["parameters"] == {"moment": moment.isoformat().replace("+00:00", "Z"), "shard": 0, "shards": 1}
    assert run["state"]["type"] == "SCHEDULED" and "deliver" in run["tags"]
    scheduled = datetime.fromisoformat(run["state"]["state_details"]["scheduled_time"].replace("Z", "+00:00"))
    assert scheduled == moment
    assert run["deployment_id"] == scheduler.deployment_id(deployments.DELIVER)


def test_a_big_moment_gets_a_run_per_shard(scheduler, prefect_server):
    moment = _moment(31)
    runs = scheduler.ensure_moment(moment, touches=600, shards=3)
    assert len(set(runs)) == 3
    names = [_run(prefect_server.api_url, r)["name"] for r in runs]
    assert names == [deliver_run_name(moment, 600, k, 3) for k in range(3)]
    assert scheduler.ensure_moment(moment, touches=600, shards=3) == runs


def test_a_moment_whose_run_has_started_gets_a_fresh_run_for_what_it_missed(scheduler, prefect_server):
    """A touch stored just after its moment's run looked at the ledger would wait for ever."""
    moment = _moment(32)
    [first] = scheduler.ensure_moment(moment, touches=1)
    _set_state(prefect_server.api_url, first, "COMPLETED")
    with PrefectScheduler(prefect_server.api_url) as other:  # another process, which asks Prefect
        [fresh] = other.ensure_moment(moment, touches=2)
        assert fresh != first
        assert _run(prefect_server.api_url, fresh)["idempotency_key"].startswith(
            f"deliver:{moment.isoformat().replace('+00:00', 'Z')}:0:after:"
        )
    with PrefectScheduler(prefect_server.api_url) as racing:
        assert racing.ensure_moment(moment, touches=2) in ([fresh], [first])  # racing callers share one
    _set_state(prefect_server.api_url, fresh, "CANCELLED")


def test_the_deals_a_deal_closed_run_starts_ask_prefect_for_their_moments_runs_once(prefect_server):
    """250 deals closed together share their moments: after the first ask, a moment still ahead
    costs no call to Prefect, or one rename when its count is a tenth off its name; near its
    moment Prefect is asked again (its run may have started)."""
    calls: list[tuple[str, str]] = []
    with PrefectScheduler(prefect_server.api_url) as s:
        s._http.event_hooks["request"].append(lambda request: calls.append((request.method, request.url.path)))
        moment = _moment(36)
        first = s.ensure_moment(moment, touches=1)
        asked = len(calls)
        assert s.ensure_moment(moment, touches=1) == first and len(calls) == asked
        assert s.ensure_moment(moment, touches=2) == first
        assert [m for m, _ in calls[asked:]] == ["PATCH"]  # only the new name
        assert _run(prefect_server.api_url, first[0])["name"] == deliver_run_name(moment, 2)
        s.ensure_moment(moment, touches=20)
        asked = len(calls)
        assert s.ensure_moment(moment, touches=21) == first and len(calls) == asked  # within a tenth: no call
        assert _run(prefect_server.api_url, first[0])["name"] == deliver_run_name(moment, 20)
        s.ensure_moment(moment, touches=22)
        assert [m for m, _ in calls[asked:]] == ["PATCH"]  # a tenth off: named again
        assert _run(prefect_server.api_url, first[0])["name"] == deliver_run_name(moment, 22)
        near = datetime.now(UTC) + timedelta(seconds=0.5)
        ran = s.ensure_moment(near, touches=1)
        asked = len(calls)
        assert s.ensure_moment(near, touches=1) == ran and len(calls) > asked  # near its moment: Prefect is asked
        _set_state(prefect_server.api_url, ran[0], "CANCELLED")


def test_deals_stored_in_a_moment_share_one_deal_closed_run(scheduler, prefect_server):
    moment = _moment(33)
    first = scheduler.ensure_deal_closed(moment)
    assert scheduler.ensure_deal_closed(moment) == first
    run = _run(prefect_server.api_url, first)
    assert run["name"] == f"deal-closed · {moment:%Y-%m-%d %H:%M:%S} UTC" and "deal-closed" in run["tags"]
    assert run["deployment_id"] == scheduler.deployment_id(deployments.DEAL_CLOSED)


def test_a_burst_of_deals_in_one_moment_asks_prefect_once_until_the_moment_is_near(prefect_server):
    """Every webhook ensures its moment's deal-closed run; a second ask for a moment still ahead is
    answered without a call to Prefect, and a moment about to start is asked again (its run may
    have started, and then a deal stored now needs the run after it)."""
    calls: list[str] = []
    with PrefectScheduler(prefect_server.api_url) as s:
        s._http.event_hooks["request"].append(lambda request: calls.append(request.url.path))
        moment = _moment(35)
        first = s.ensure_deal_closed(moment)
        asked = len(calls)
        assert [s.ensure_deal_closed(moment) for _ in range(20)] == [first] * 20
        assert len(calls) == asked  # no call for the same moment while it is ahead
        near = datetime.now(UTC) + timedelta(seconds=0.5)
        ran = s.ensure_deal_closed(near)
        asked = len(calls)
        assert s.ensure_deal_closed(near) == ran and len(calls) > asked  # near its moment: Prefect is asked
        _set_state(prefect_server.api_url, ran, "CANCELLED")


def test_webhooks_at_once_for_one_moment_ask_prefect_once(prefect_server):
    """A CRM posting a burst: the threads that ask for the same moment's run at the same instant
    take turns, so Prefect gets one creation, not one per webhook (on SQLite, concurrent
    creations of one idempotency key are answered 503 "database is locked")."""
    creations: list[str] = []  # answered ones: a 503 that `_call` retries is not a second ask

    def answered(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/create_flow_run") and response.status_code < 500:
            creations.append(response.request.url.path)

    with PrefectScheduler(prefect_server.api_url) as s:
        s._http.event_hooks["response"].append(answered)
        moment, deliver_moment = _moment(37), _moment(38)
        start = threading.Barrier(12)

        def ask(i: int) -> str:
            start.wait(timeout=30)
            return s.ensure_deal_closed(moment) if i % 2 else s.ensure_moment(deliver_moment, touches=i)[0]

        with ThreadPoolExecutor(12) as pool:
            runs = list(pool.map(ask, range(12)))
    assert len(set(runs[1::2])) == 1 and len(set(runs[0::2])) == 1
    assert len(creations) == 2, creations  # one for each moment
    for run in set(runs):
        _set_state(prefect_server.api_url, run, "CANCELLED")


def test_a_run_a_dead_process_held_is_taken_over(scheduler, prefect_server):
    [run_id] = scheduler.ensure_moment(_moment(34), touches=1)
    _set_state(prefect_server.api_url, run_id, "PENDING")  # a runner took it and died
    later = datetime.now(UTC) + timedelta(seconds=2)
    stale = {r.run_id: r for r in scheduler.stale_runs(later)}
    assert stale[run_id].flow == "deliver" and stale[run_id].phase == "claimed"
    assert run_id not in {r.run_id for r in scheduler.stale_runs(datetime.now(UTC) - timedelta(hours=1))}
    scheduler.take_over(stale[run_id], "its worker died")
    run = _run(prefect_server.api_url, run_id)
    assert run["state"]["type"] == "SCHEDULED" and "taken over: its worker died" in run["state"]["message"]
    _set_state(prefect_server.api_url, run_id, "CANCELLED")
    assert StaleRun(run_id, "deliver", "running", later).phase == "running"


def test_the_retired_per_touch_runs_are_cancelled(scheduler, prefect_server):
    """An older hundred scheduled one `run-touch` run per touch; the ledger now delivers them."""
    api = prefect_server.api_url
    flow = httpx.post(f"{api}/flows/", json={"name": "run-touch"}, timeout=30).json()
    dep = httpx.post(f"{api}/deployments/", json={"name": "run-touch", "flow_id": flow["id"]}, timeout=30).json()
    due = (datetime.now(UTC) + timedelta(days=20)).isoformat()
    for n in range(3):
        body = {
            "state": {"type": "SCHEDULED", "name": "Scheduled", "state_details": {"scheduled_time": due}},
            "name": f"OLD-{n} · hello",
            "parameters": {},
            "idempotency_key": f"old/{uuid.uuid4()}",
        }
        httpx.post(f"{api}/deployments/{dep['id']}/create_flow_run", json=body, timeout=30).raise_for_status()
    assert scheduler.retire_touch_runs() >= 3
    assert scheduler.retire_touch_runs() == 0
    left = httpx.post(
        f"{api}/flow_runs/filter",
        json={"deployments": {"id": {"any_": [dep["id"]]}}, "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}},
        timeout=30,
    ).json()
    assert left == []


def test_the_periodic_deployments_follow_hundreds_settings(scheduler, prefect_server):
    wanted = Schedules(reconcile_seconds=321, print_batch_cron="30 9 * * 1-5", print_batch_timezone="America/New_York")
    changed = scheduler.keep_schedules(wanted)
    assert len(changed) == 3, changed  # the figures' morning moves to the journey's zone with the batch
    assert scheduler.keep_schedules(wanted) == []  # already so: nothing changes
    api = prefect_server.api_url
    reconcile = httpx.get(f"{api}/deployments/{scheduler.deployment_id(deployments.RECONCILE)}/schedules").json()
    assert [s["schedule"]["interval"] for s in reconcile] == [321.0]
    batch = httpx.get(f"{api}/deployments/{scheduler.deployment_id(deployments.PRINT_BATCH)}/schedules").json()
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in batch] == [("30 9 * * 1-5", "America/New_York")]
    figures = httpx.get(f"{api}/deployments/{scheduler.deployment_id(deployments.JOURNEY_FIGURES)}/schedules").json()
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in figures] == [("0 7 * * *", "America/New_York")]


def test_no_api_url_is_a_clear_error_not_an_ephemeral_server():
    with pytest.raises(ValueError, match="PREFECT_API_URL"):
        PrefectScheduler("")


def test_served_flows_start_a_journey_deliver_its_first_touch_and_cancel_it(prefect_server, tmp_path):
    """hundred's flows, served by `python -m flows.serve`, driving hundred's runtime end to end:
    the deal goes in through the intake; its moment's deal-closed run starts the journey; the
    moment's deliver run delivers the first email as a task named after the deal and touch."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, TaskRunFilter, TaskRunFilterName
    from prefect_server import REPO, wait_for

    from hundred import bootstrap
    from hundred.adapters.ledger import Ledger

    home = tmp_path / "home"
    payload = json.loads((REPO / "examples" / "deal-nl.json").read_text())
    payload["id"] = deal = f"E2E-{uuid.uuid4().hex[:6]}"
    payload["closed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    with prefect_server.serve(home, env={"HUNDRED_DAY_SECONDS": "3"}) as served:
        settings = bootstrap.settings(home=home, day_seconds=3.0)
        ledger = Ledger.open(f"sqlite:///{home / 'ledger.db'}")
        with PrefectScheduler(prefect_server.api_url) as scheduler:
            answer = bootstrap.intake(settings, ledger_=ledger, scheduler_=scheduler).closed(json.dumps(payload))
        assert answer.status == 202 and answer.body["run"], answer.body
        wait_for(
            lambda: ledger.journey(deal) is not None and not ledger.touches(deal, states=["planned"]),
            90,
            "the deal-closed run to start the journey and make its moments' runs",
            served.proc,
            served.log,
            0.5,
        )
        touches = {t.touch_id: t for t in ledger.touches(deal)}
        assert touches["next-steps-email"].flow_run_id and touches["next-steps-email"].moment
        assert touches["referral-letter"].state == "waiting" and not touches["referral-letter"].flow_run_id
        wait_for(
            lambda: ledger.touch(deal, "next-steps-email").state == "delivered",
            90,
            "the first email to be delivered",
            served.proc,
            served.log,
            0.5,
        )
        assert list((home / "outbox").glob(f"{deal}.*next-steps-email*.eml"))
        with SyncPrefectClient(prefect_server.api_url) as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"journey-{deal.lower()}"]))
            )
            assert artifacts and artifacts[0].type == "markdown"
            by_name = TaskRunFilter(name=TaskRunFilterName(any_=[f"{deal} · next-steps-email"]))
            # Prefect records a task run from its events a moment after it ran (a batch a second)
            wait_for(
                lambda: client.read_task_runs(task_run_filter=by_name),
                30,
                "the task run recorded",
                served.proc,
                served.log,
                0.5,
            )
            tasks = client.read_task_runs(task_run_filter=by_name)
            assert tasks and not tasks[0].tags  # a tag costs a concurrency-slot call per task (flows/journey.py)
            everyone = client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=f"{deal} · ")))
            names = [t.name for t in everyone]  # the deal's start and its touches, each named for it
            assert all(n.startswith(f"{deal} · ") for n in names) and any("· start" in n for n in names), names

        with PrefectScheduler(prefect_server.api_url) as scheduler:
            cancel = scheduler.create_run(deployments.CANCEL_JOURNEY, {"deal": deal, "reason": "test churn"})
            wait_for(
                lambda: scheduler.run_state(cancel) in ("COMPLETED", "FAILED", "CRASHED"),
                180,
                "the cancel-journey run",
                served.proc,
                served.log,
                0.5,
            )
            assert scheduler.run_state(cancel) == "COMPLETED", served.log.read_text()[-3000:]
        assert ledger.journey(deal).state == "exited"
        assert {t.state for t in ledger.touches(deal) if t.touch_id in ("small-gift", "needs-check")} == {"cancelled"}
        time.sleep(1)
        ledger.close()
