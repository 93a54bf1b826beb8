"""PrefectScheduler against a real Prefect server: one run per touch, cancel by deal, run states."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from hundred.planning.identity import TouchKey
from hundred.service import deployments

pytestmark = [pytest.mark.usefixtures("hundred_deployments"), pytest.mark.prefect, pytest.mark.slow]


def _deal() -> str:
    return f"T-{uuid.uuid4().hex[:8]}"


def _due(days: float) -> datetime:
    """Far enough ahead that no serve running elsewhere in the session picks the run up."""
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


@pytest.fixture
def scheduler(prefect_server):
    """hundred's scheduler, with Prefect's own client beside it (`.client`) to look at the runs."""
    from prefect.client.orchestration import SyncPrefectClient

    from hundred.adapters.prefect.scheduler import PrefectScheduler

    with PrefectScheduler(prefect_server.api_url) as s, SyncPrefectClient(prefect_server.api_url) as client:
        s.client = client  # type: ignore[attr-defined]
        yield s


def test_schedule_is_idempotent_with_name_tags_time_and_parameters(scheduler):
    key = TouchKey(_deal(), "first-100-days", "abc123", "thank-you-letter")
    due = _due(30)
    first = scheduler.schedule(key, due, "affirm", "letter")
    again = scheduler.schedule(key, due + timedelta(hours=5), "admit", "email")
    assert again == first

    run = scheduler.client.read_flow_run(uuid.UUID(first))
    assert run.name == key.flow_run_name == f"{key.deal} · thank-you-letter"
    assert sorted(run.tags) == sorted(key.tags("affirm", "letter"))
    assert run.idempotency_key == key.idempotency_key
    assert run.parameters == {"deal": key.deal, "touch": "thank-you-letter"}
    assert run.state.type.value == "SCHEDULED"
    assert run.state.state_details.scheduled_time == due
    assert str(run.deployment_id) == scheduler.deployment_id("run-touch/run-touch")
    assert scheduler.run_state(first) == "SCHEDULED"

    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    runs = scheduler.client.read_flow_runs(
        flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"deal:{key.deal}"]))
    )
    assert [str(r.id) for r in runs] == [first]


def test_same_touch_of_another_deal_is_another_run(scheduler):
    one = scheduler.schedule(TouchKey(_deal(), "j", "v", "t"), _due(30), "affirm", "task")
    two = scheduler.schedule(TouchKey(_deal(), "j", "v", "t"), _due(30), "affirm", "task")
    assert one != two


def test_cancel_deal_cancels_only_that_deals_scheduled_runs(scheduler):
    from prefect.states import Completed

    deal, other = _deal(), _deal()
    # 55 runs: more than one bulk call (the server takes 50 at a time).
    ids = [scheduler.schedule(TouchKey(deal, "j", "v", f"t{i:02}"), _due(30 + i), "affirm", "email") for i in range(55)]
    done = ids[0]
    scheduler.client.set_flow_run_state(uuid.UUID(done), Completed(), force=True)
    others = [scheduler.schedule(TouchKey(other, "j", "v", f"t{i}"), _due(30), "affirm", "email") for i in range(3)]

    assert scheduler.cancel_deal(deal, "customer churned") == 54
    assert scheduler.run_state(done) == "COMPLETED"
    assert {scheduler.run_state(i) for i in ids[1:]} == {"CANCELLED"}
    assert {scheduler.run_state(i) for i in others} == {"SCHEDULED"}
    run = scheduler.client.read_flow_run(uuid.UUID(ids[1]))
    assert run.state.message == "customer churned"

    assert scheduler.cancel_deal(deal, "again") == 0
    # A cancelled run keeps its key: scheduling the touch again returns the cancelled run.
    assert scheduler.schedule(TouchKey(deal, "j", "v", "t01"), _due(40), "affirm", "email") == ids[1]


def test_run_state_is_none_once_the_run_is_deleted(scheduler):
    key = TouchKey(_deal(), "j", "v", "gone")
    run_id = scheduler.schedule(key, _due(30), "affirm", "email")
    scheduler.client.delete_flow_run(uuid.UUID(run_id))
    assert scheduler.run_state(run_id) is None
    # The key is free again: reconcile can re-create the run.
    assert scheduler.schedule(key, _due(30), "affirm", "email") != run_id


def test_submit_deal_closed_is_one_run_per_deal_and_payload(prefect_server):
    from hundred.adapters.prefect.scheduler import PrefectScheduler

    deal = _deal()
    payload = {"id": deal, "closed_at": "2026-11-20T14:03:00+01:00"}
    later = datetime.now(UTC) + timedelta(days=30)  # not run by a serve elsewhere
    first = PrefectScheduler(prefect_server.api_url).submit_deal_closed(payload, received_at=later)
    assert PrefectScheduler(prefect_server.api_url).submit_deal_closed(payload) == first
    corrected = PrefectScheduler(prefect_server.api_url).submit_deal_closed(
        {**payload, "segment": "B"}, received_at=later
    )
    assert corrected != first  # a fixed payload after a refused one is not stuck on the refused run
    from prefect.client.orchestration import SyncPrefectClient

    with SyncPrefectClient(prefect_server.api_url) as client:
        run = client.read_flow_run(uuid.UUID(first))
        client.delete_flow_run(run.id)  # keep the session's server free of a due deal-closed
        client.delete_flow_run(uuid.UUID(corrected))
    assert run.idempotency_key.startswith(f"deal-closed:{deal}:")
    assert run.parameters == {"payload": payload, "received_at": later.astimezone(UTC).isoformat()}


def test_no_api_url_is_a_clear_error_not_an_ephemeral_server(prefect_server):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from hundred.adapters.prefect.scheduler import PrefectScheduler

    with temporary_settings(restore_defaults={PREFECT_API_URL}), pytest.raises(ValueError, match="PREFECT_API_URL"):
        PrefectScheduler("")


def _wait_run(scheduler, run_id: str, states=("COMPLETED", "FAILED", "CRASHED"), timeout: float = 90) -> str:
    from prefect_server import wait_for

    return wait_for(lambda: (s := scheduler.run_state(run_id)) in states and s, timeout, f"run {run_id} to finish")


def test_served_flows_start_a_journey_deliver_its_first_touch_and_cancel_it(prefect_server, tmp_path):
    """hundred's flows, served by `python -m flows.serve`, driving hundred's runtime end to end."""
    import json

    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect_server import REPO, wait_for

    from hundred.adapters.ledger import Ledger
    from hundred.adapters.prefect.scheduler import PrefectScheduler

    home = tmp_path / "home"
    payload = json.loads((REPO / "examples" / "deal-nl.json").read_text())
    payload["id"] = deal = f"E2E-{uuid.uuid4().hex[:6]}"
    payload["closed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    with (
        prefect_server.serve(home, env={"HUNDRED_DAY_SECONDS": "3"}) as served,
        PrefectScheduler(prefect_server.api_url) as scheduler,
    ):
        closed = PrefectScheduler(prefect_server.api_url).submit_deal_closed(payload)
        assert _wait_run(scheduler, closed) == "COMPLETED", served.log.read_text()[-3000:]
        ledger = Ledger.open(f"sqlite:///{home / 'ledger.db'}")
        touches = {t.touch_id: t for t in ledger.touches(deal)}
        assert touches["next-steps-email"].flow_run_id
        assert touches["referral-letter"].state == "waiting" and not touches["referral-letter"].flow_run_id
        from prefect.client.orchestration import SyncPrefectClient

        with SyncPrefectClient(prefect_server.api_url) as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"journey-{deal.lower()}"]))
            )
        assert artifacts and artifacts[0].type == "markdown"

        wait_for(
            lambda: ledger.touch(deal, "next-steps-email").state == "delivered",
            90,
            "the first email to be delivered",
            served.proc,
            served.log,
            0.5,
        )
        assert list((home / "outbox").glob(f"{deal}.*next-steps-email*.eml"))
        assert scheduler.run_state(ledger.touch(deal, "next-steps-email").flow_run_id) in ("RUNNING", "COMPLETED")

        cancel = scheduler.create_run(deployments.CANCEL_JOURNEY, {"deal": deal, "reason": "test churn"})
        assert _wait_run(scheduler, cancel) == "COMPLETED", served.log.read_text()[-3000:]
        assert ledger.journey(deal).state == "exited"
        later = [t for t in ledger.touches(deal) if t.flow_run_id and t.touch_id in ("small-gift", "needs-check")]
        assert later and {scheduler.run_state(t.flow_run_id) for t in later} == {"CANCELLED"}

        assert _wait_run(scheduler, PrefectScheduler(prefect_server.api_url).submit_reconcile()) == "COMPLETED"
