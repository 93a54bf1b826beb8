"""Fault proofs on the production shape: the ledger on PostgreSQL, the moments' deliver runs and the
deal-closed runs executed by `python -m flows.serve` on the session's Prefect server (each touch a
task of its moment's run), email to a real SMTP server (aiosmtpd).

The faults: the ledger's database briefly unreachable (its PostgreSQL server stopped and started
again on the same data) while a webhook arrives, while a deal-closed run or a touch run is due
(shorter and longer than the run's retries), while a touch is in the middle of its SMTP
transaction, and between the server's 250 and `sent` (the one documented window: never sent
twice); the same webhook delivered twice at once and again; a deal cancelled while one of its
touches is being delivered, and just as its email left. Each test prints and asserts the three
truths: messages at the SMTP server, touch and delivery states in the ledger, task run states in
Prefect. (A run killed mid-delivery and a Prefect restart with `serve`: tests/test_e2e_prefect.py;
with workers of a process pool: tests/test_faults_pool.py.)
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator

import pytest
from faults_site import (  # noqa: F401 (inbox: a fixture)
    Inbox,
    inbox,
    migrated_site,
    payload,
    prefect_run,
    prefect_runs,
    report,
    runtime,
    seconds_until,
    touch_states,
    wait_until,
    wait_until_runs_end,
)
from intake_site import serve as serve_app

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def faults_pg():
    """A PostgreSQL cluster of this module's own: pausing it takes down no other test's database."""
    from pgcluster import cluster_for_tests

    cluster = cluster_for_tests()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, faults_pg, inbox):
    with migrated_site(tmp_path_factory.mktemp("faults"), faults_pg.create_database("ledger_faults"), inbox.port) as s:
        yield s


@pytest.fixture(scope="module")
def served(hundred_deployments, site):
    with hundred_deployments.serve(site.root / "home", env=site.env, expect_tracebacks=True) as s:  # faults
        yield s


@contextlib.contextmanager
def ledger_down(cluster) -> Iterator[None]:
    """The ledger's database is unreachable inside the block (its connections cut), back after."""
    cluster.pause()
    started = time.monotonic()
    try:
        yield
    finally:
        cluster.resume()
        print(f"ledger database down for {time.monotonic() - started:.1f} s")


def test_a_webhook_while_the_ledger_is_down_is_503_and_its_repeats_start_one_journey(
    site, served, faults_pg, hundred_deployments, inbox
):
    api = hundred_deployments.api_url
    app = serve_app(site.settings)
    first = json.dumps(payload("F-HOOK-1", "hook1@example.nl")).encode()
    second = json.dumps(payload("F-HOOK-2", "hook2@example.nl")).encode()
    try:
        with ledger_down(faults_pg):  # the app has not opened its ledger yet
            cold = app.post("/hooks/deal-closed", first)
        assert app.post("/hooks/deal-closed", first).status_code == 202  # now stored: its pool is open
        with ledger_down(faults_pg):  # the pool's connections are cut under it
            warm = [app.post("/hooks/deal-closed", second) for _ in range(2)]
        # the CRM sends again: twice at once, then once more
        answers = app.post_at_once("/hooks/deal-closed", second, 2) + [app.post("/hooks/deal-closed", second)]
    finally:
        app.stop()
    print("while down:", cold.status_code, [w.status_code for w in warm], "after:", [a.status_code for a in answers])
    for refused in [cold, *warm]:
        assert refused.status_code == 503 and refused.headers["retry-after"] == "30", refused.text
        assert "send it again" in refused.json()["error"]
    assert [a.status_code for a in answers] == [202, 202, 202], [a.text for a in answers]
    assert len({a.json()["intake"] for a in answers}) == 1
    assert answers[2].json()["duplicate"] is True
    assert len(site.ledger.intakes(deal_id="F-HOOK-2")) == 1 and len(site.ledger.intakes(deal_id="F-HOOK-1")) == 1

    for deal, address in (("F-HOOK-1", "hook1@example.nl"), ("F-HOOK-2", "hook2@example.nl")):
        wait_until(
            lambda deal=deal: touch_states(site, deal).get("hello") == "delivered",
            120,
            f"{deal}'s first email",
            log=served.log,
        )
        wait_until_runs_end(api, deal, f"{deal} · start", f"{deal} · hello", log=served.log)
        figures = report(site, api, deal, inbox, address)
        assert figures["smtp"] == {"Hallo Ilse": 1}
        assert figures["deliveries"]["hello"] == "sent"
        assert figures["runs"][f"{deal} · start"][0] == "COMPLETED"
        assert figures["runs"][f"{deal} · hello"][0] == "COMPLETED"
        assert [j.deal_id for j in site.ledger.journeys()].count(deal) == 1


def _later_run_6_s_before_due(site, api, deal_id: str, address: str) -> str:
    """A deal whose `hello` goes at once and whose `later` is due 25 s after it was received; its
    `later` run's id, 6 s before that run is due."""
    rt = runtime(site, api, day_seconds=25)
    rt.deal_closed(payload(deal_id, address))
    due = site.ledger.touch(deal_id, "later").due
    wait_until(lambda: touch_states(site, deal_id)["hello"] == "delivered", 90, f"{deal_id}'s first email")
    run_id = site.ledger.touch(deal_id, "later").flow_run_id
    time.sleep(max(0.0, seconds_until(due) - 6))
    return run_id


def _later_sent_once(site, api, deal_id: str, inbox: Inbox, address: str, what: str, log) -> None:
    """`later` delivered after the outage, its run ended COMPLETED, each email at the server once."""
    wait_until(lambda: touch_states(site, deal_id)["later"] == "delivered", 90, what, log=log)
    wait_until_runs_end(api, deal_id, f"{deal_id} · later", log=log)
    figures = report(site, api, deal_id, inbox, address)
    assert figures["smtp"] == {"Hallo Ilse": 1, "Later": 1}
    assert figures["deliveries"] == {"hello": "sent", "later": "sent"}
    assert figures["runs"][f"{deal_id} · later"][0] == "COMPLETED"


def test_a_touch_due_while_the_ledger_is_down_is_retried_by_prefect_and_sent_once(
    site, served, faults_pg, hundred_deployments, inbox
):
    api = hundred_deployments.api_url
    run_id = _later_run_6_s_before_due(site, api, "F-DUE-1", "due1@example.nl")
    with ledger_down(faults_pg):  # from before the run starts until its first attempt has failed
        wait_until(
            lambda: prefect_run(api, run_id)["state"]["name"] == "AwaitingRetry",
            90,
            "the run's first attempt to fail",
            log=served.log,
        )
    _later_sent_once(site, api, "F-DUE-1", inbox, "due1@example.nl", "the email due meanwhile", served.log)
    assert prefect_run(api, run_id)["run_count"] >= 2, "the moment's run did not meet the outage"


def test_a_touch_whose_retries_ran_out_while_the_ledger_was_down_is_run_again_by_reconcile(
    site, served, faults_pg, hundred_deployments, inbox
):
    from hundred.adapters.prefect.scheduler import PrefectScheduler

    api = hundred_deployments.api_url
    run_id = _later_run_6_s_before_due(site, api, "F-DUE-2", "due2@example.nl")
    with ledger_down(faults_pg):  # longer than the run's retries (2 × 10 s)
        wait_until(
            lambda: prefect_run(api, run_id)["state"]["type"] == "FAILED",
            120,
            "the run to use up its retries",
            log=served.log,
        )
    print("after the outage:", touch_states(site, "F-DUE-2"), prefect_runs(api, "F-DUE-2"))
    assert (
        touch_states(site, "F-DUE-2")["later"] == "scheduled"
        and "Later" not in report(site, api, "F-DUE-2", inbox, "due2@example.nl")["smtp"]
    )  # its moment's run failed before it could claim it: reconcile sees that and makes a run now
    reconciled = PrefectScheduler(api).submit_reconcile("after the ledger outage")
    wait_until(
        lambda: prefect_run(api, reconciled)["state"]["type"] == "COMPLETED", 90, "the reconcile run", log=served.log
    )
    _later_sent_once(site, api, "F-DUE-2", inbox, "due2@example.nl", "the email, run again", served.log)
    assert [e.event for e in site.ledger.events(deal_id="F-DUE-2") if e.touch_id == "later"].count("delivered") == 1


def test_the_ledger_going_down_in_the_middle_of_a_delivery_sends_it_once(
    site, served, faults_pg, hundred_deployments, inbox
):
    api = hundred_deployments.api_url
    address = "mid1@example.nl"
    held = inbox.hold_for(address)
    runtime(site, api, day_seconds=3600).deal_closed(payload("F-MID-1", address))
    wait_until(held.is_set, 90, "the email's SMTP transaction (held at RCPT)", log=served.log)
    assert touch_states(site, "F-MID-1")["hello"] == "running"
    with ledger_down(faults_pg):  # the run cannot record `sending`: it must not send
        inbox.release(address)
        time.sleep(4)
        assert inbox.count(address) == 0
    wait_until(
        lambda: touch_states(site, "F-MID-1")["hello"] == "delivered", 90, "the email after the outage", log=served.log
    )
    wait_until_runs_end(api, "F-MID-1", "F-MID-1 · hello", log=served.log)
    figures = report(site, api, "F-MID-1", inbox, address)
    assert figures["smtp"] == {"Hallo Ilse": 1} and figures["deliveries"]["hello"] == "sent"
    state, run_count = figures["runs"]["F-MID-1 · hello"]
    assert state == "COMPLETED" and run_count == 2  # the task's retry sent it, once


def test_a_deal_cancelled_while_its_touch_is_being_delivered_sends_nothing_after_and_says_what_happened(
    site, served, hundred_deployments, inbox
):
    api = hundred_deployments.api_url
    address = "cancel1@example.nl"
    held = inbox.hold_for(address)
    runtime(site, api, day_seconds=30).deal_closed(payload("F-CANCEL-1", address))
    later_due = site.ledger.touch("F-CANCEL-1", "later").due
    wait_until(held.is_set, 90, "the email's SMTP transaction (held at RCPT)", log=served.log)
    app = serve_app(site.settings)
    try:
        cancel = app.post("/hooks/deal-cancelled", {"id": "F-CANCEL-1", "reason": "churned"})
    finally:
        app.stop()
    assert cancel.status_code == 202 and cancel.json()["state"] == "applied", cancel.text
    inbox.release(address)
    wait_until(
        lambda: (
            prefect_runs(api, "F-CANCEL-1").get("F-CANCEL-1 · hello", ("",))[0] in ("COMPLETED", "CANCELLED", "FAILED")
        ),
        60,
        "the held touch's task to end",
        log=served.log,
    )
    time.sleep(max(0.0, seconds_until(later_due) + 5))  # past the day-1 email: its moment's run came and went
    figures = report(site, api, "F-CANCEL-1", inbox, address)
    assert site.ledger.journey("F-CANCEL-1").state == "exited"
    assert "Later" not in figures["smtp"] and figures["touches"]["later"] == "cancelled"
    assert "F-CANCEL-1 · later" not in figures["runs"]  # a cancel is a ledger change: no run ever took it
    sent = figures["smtp"].get("Hallo Ilse", 0)
    # the held email either went (once, and the ledger says delivered) or did not (and it says cancelled)
    assert (sent, figures["touches"]["hello"]) in ((1, "delivered"), (0, "cancelled")), figures
    assert figures["runs"]["F-CANCEL-1 · hello"][0] == ("COMPLETED" if sent else "CANCELLED")
    assert figures["deliveries"].get("hello") == ("sent" if sent else "pending")


def test_a_deal_closed_run_whose_retries_ran_out_while_the_ledger_was_down_is_run_again_by_reconcile(
    site, served, faults_pg, hundred_deployments, inbox
):
    """Stored and answered 202, then the ledger goes away before the deal-closed run reads it."""
    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.service.reconcile import STORED_GRACE

    api = hundred_deployments.api_url
    app = serve_app(site.settings)
    try:
        stored_at = time.monotonic()
        answer = app.post("/hooks/deal-closed", payload("F-CLOSED-1", "closed1@example.nl"))
        assert answer.status_code == 202 and answer.json()["state"] == "pending", answer.text
        run_id = answer.json()["run"]
        with ledger_down(faults_pg):  # longer than the deal-closed run's retries (2 × 5 s)
            wait_until(
                lambda: prefect_run(api, run_id)["state"]["type"] == "FAILED",
                120,
                "the deal-closed run to use up its retries",
                log=served.log,
            )
    finally:
        app.stop()
    assert site.ledger.journey("F-CLOSED-1") is None
    assert site.ledger.intake(answer.json()["intake"]).state == "pending"  # stored: nothing lost
    # reconcile leaves a stored deal to the runs for STORED_GRACE (a run may be about to take it)
    time.sleep(max(0.0, STORED_GRACE.total_seconds() + 1 - (time.monotonic() - stored_at)))
    reconciled = PrefectScheduler(api).submit_reconcile("after the ledger outage")
    wait_until(
        lambda: prefect_run(api, reconciled)["state"]["type"] == "COMPLETED", 90, "the reconcile run", log=served.log
    )
    wait_until(
        lambda: touch_states(site, "F-CLOSED-1").get("hello") == "delivered",
        120,
        "the journey's first email",
        log=served.log,
    )
    wait_until_runs_end(api, "F-CLOSED-1", "F-CLOSED-1 · start", log=served.log)
    figures = report(site, api, "F-CLOSED-1", inbox, "closed1@example.nl")
    assert figures["smtp"] == {"Hallo Ilse": 1} and figures["deliveries"]["hello"] == "sent"
    assert figures["runs"]["F-CLOSED-1 · start"][0] == "COMPLETED"
    assert [j.deal_id for j in site.ledger.journeys()].count("F-CLOSED-1") == 1


def test_an_email_that_left_just_as_the_cancel_came_is_recorded_as_delivered(site):
    """The cancel lands between the run's last check and the server's 250 (the window the check
    before DATA cannot close): the ledger must say the email went, not that it was cancelled."""
    from hundred.service.ports import DeliveryResult
    from hundred.service.runtime import Runtime
    from hundred.service.simulate import VirtualScheduler

    def sent_while_cancelled(content, log):
        rt.cancel("F-RACE-1", "churned")
        return DeliveryResult("sent", "accepted by 127.0.0.1:25: 250 OK", "<F-RACE-1.faults.hello@example.nl>")

    rt = Runtime(
        site.ledger,
        VirtualScheduler(),
        site.settings.model_copy(update={"day_seconds": 3600}),
        deliver=sent_while_cancelled,
    )
    rt.deal_closed(payload("F-RACE-1", "race1@example.nl"))
    outcome = rt.run_touch("F-RACE-1", "hello")
    print(outcome, touch_states(site, "F-RACE-1"))
    assert outcome.state == "delivered" and "250 OK" in outcome.detail
    assert touch_states(site, "F-RACE-1") == {"hello": "delivered", "later": "cancelled"}
    assert site.ledger.journey("F-RACE-1").state == "exited"


def test_the_ledger_going_down_between_the_servers_250_and_sent_never_sends_twice(
    site, served, faults_pg, hundred_deployments, inbox
):
    """The one window the README documents: the server accepted, the run could not record `sent`.
    Its retry sends nothing more and fails the touch naming the Message-ID to look up; in doubt,
    it is not retried again (only the operator's look at the mail server's log settles it)."""
    api = hundred_deployments.api_url
    address = "window1@example.nl"
    held = inbox.hold_for(address, at="DATA")
    runtime(site, api, day_seconds=3600).deal_closed(payload("F-WINDOW-1", address))
    wait_until(held.is_set, 90, "the email's DATA (held before the 250)", log=served.log)
    with ledger_down(faults_pg):
        inbox.release(address)
        time.sleep(4)
    wait_until(
        lambda: prefect_runs(api, "F-WINDOW-1").get("F-WINDOW-1 · hello", ("",))[0] == "FAILED",
        120,
        "the task's retry to end",
        log=served.log,
    )
    figures = report(site, api, "F-WINDOW-1", inbox, address)
    assert figures["smtp"] == {"Hallo Ilse": 1}
    assert figures["touches"]["hello"] == "failed" and figures["deliveries"]["hello"] == "sending"
    assert "<F-WINDOW-1.faults.hello@example.nl>" in site.ledger.touch("F-WINDOW-1", "hello").error
    # two attempts: the first failed with the ledger down (retried), the second found it in doubt
    assert figures["runs"]["F-WINDOW-1 · hello"] == ("FAILED", 2)
