"""Fault proofs on the scale-out shape (tests/prefect_pool.py): a Prefect server on
PostgreSQL, the `hundred` process work pool deployed from prefect.yaml, `prefect worker` processes,
the ledger on PostgreSQL, email to a real SMTP server.

- a worker killed (SIGKILL to its process group: the worker and its flow run) while a touch run is
  inside its SMTP transaction: after a new worker starts and reconcile runs, the email went out
  exactly once and the ledger says delivered once;
- the Prefect server stopped while a touch falls due, and started again: the workers carry on and
  the touch is delivered once.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import faults_site
import httpx
import pytest
from faults_site import inbox  # noqa: F401 (a fixture)
from prefect_pool import Pool, Worker, asyncpg_url, start_pool
from test_e2e_prefect import _flow_run_pid

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory, pg_cluster, inbox):
    root, url = tmp_path_factory.mktemp("faults-pool"), pg_cluster.create_database("ledger_faults_pool")
    with faults_site.migrated_site(root, url, inbox.port) as s:
        yield s


@pytest.fixture(scope="module")
def pool(tmp_path_factory, pg_cluster, site) -> Iterator[Pool]:
    prefect_db = asyncpg_url(pg_cluster.create_database("prefect_faults_pool"))
    started = start_pool(tmp_path_factory.mktemp("pool"), prefect_db, site.env)
    try:
        yield started
    finally:
        started.stop()


def host_dies(worker: Worker, run_id: str) -> int:
    """SIGKILL to the worker's process group and to its flow run's (a process worker starts each
    flow run in a session of its own, so killing the worker's group alone leaves the run going)."""
    pid = _flow_run_pid(run_id)
    assert pid, f"the flow run {run_id} is not a process here"
    worker.kill()
    os.killpg(pid, signal.SIGKILL)
    faults_site.wait_until(lambda: _flow_run_pid(run_id) is None, 10, "the flow run's process to be gone")
    return pid


def test_a_worker_killed_mid_delivery_and_a_new_worker_with_reconcile_send_the_email_once(site, pool, inbox):
    from hundred.adapters.prefect.scheduler import PrefectScheduler

    api = pool.api_url
    address = "killed@example.nl"
    first = pool.start_worker("worker-a", limit=4)
    held = inbox.hold_for(address)
    faults_site.runtime(site, api, day_seconds=3600).deal_closed(faults_site.payload("F-KILL-1", address))
    faults_site.wait_until(held.is_set, 120, "the email's SMTP transaction (held at RCPT)", log=first.log)
    run_id = site.ledger.touch("F-KILL-1", "hello").flow_run_id
    assert pool.worker_of(faults_site.prefect_run(api, run_id)) == "worker-a"
    host_dies(first, run_id)  # the worker and its flow run, in the middle of the SMTP transaction
    assert not first.alive
    inbox.release(address)
    time.sleep(2)
    assert inbox.count(address) == 0 and faults_site.touch_states(site, "F-KILL-1")["hello"] == "running"
    print("after the kill:", faults_site.report(site, api, "F-KILL-1", inbox, address))

    # a new worker (its runs judge a run dead after 5 s instead of 10 minutes), then reconcile takes
    # the dead worker's run over: the same run, run again by worker-b, its claims let go
    pool.start_worker("worker-b", limit=4, env={"HUNDRED_RUN_LEASE_SECONDS": "5"})
    time.sleep(6)
    reconciled = PrefectScheduler(api).submit_reconcile("after a worker died")
    faults_site.wait_until(
        lambda: faults_site.prefect_run(api, reconciled)["state"]["type"] == "COMPLETED",
        120,
        "the reconcile run",
        log=pool.workers["worker-b"].log,
    )
    faults_site.wait_until(
        lambda: faults_site.touch_states(site, "F-KILL-1")["hello"] == "delivered",
        120,
        "the email, run again",
        log=pool.workers["worker-b"].log,
    )
    body = {"task_runs": {"name": {"any_": ["F-KILL-1 · hello"]}}, "sort": "EXPECTED_START_TIME_ASC"}

    def hello_tasks() -> list[str]:
        return [t["state"]["type"] for t in httpx.post(f"{api}/task_runs/filter", json=body, timeout=30).json()]

    # Prefect records task runs from their events, a batch a second (deployments.SERVER_SETTINGS):
    # the dead run's task can read CRASHED before the new run's task is recorded at all
    faults_site.wait_until(
        lambda: len(hello_tasks()) == 2 and set(hello_tasks()) <= set(faults_site.FINAL),
        60,
        "both task runs of the touch to be recorded and ended",
        log=pool.workers["worker-b"].log,
    )
    figures = faults_site.report(site, api, "F-KILL-1", inbox, address)
    assert figures["smtp"] == {"Hallo Ilse": 1}
    assert figures["deliveries"]["hello"] == "sent"
    assert figures["runs"]["F-KILL-1 · hello"][0] == "COMPLETED"
    assert hello_tasks() == ["CRASHED", "COMPLETED"]  # the dead one says so in the UI
    assert pool.worker_of(faults_site.prefect_run(api, run_id)) == "worker-b"
    events = [e.event for e in site.ledger.events(deal_id="F-KILL-1") if e.touch_id == "hello"]
    assert events.count("delivered") == 1, events
    assert site.ledger.touch("F-KILL-1", "hello").attempts == 2  # the dead run's attempt, and the one taken over


def test_after_a_prefect_server_restart_the_workers_deliver_what_fell_due_once(site, pool, inbox):
    api = pool.api_url
    address = "restart@example.nl"
    for name in ("worker-c", "worker-d"):
        if name not in pool.workers or not pool.workers[name].alive:
            pool.start_worker(name, limit=4)
    rt = faults_site.runtime(site, api, day_seconds=30)
    rt.deal_closed(faults_site.payload("F-RESTART-1", address))
    due = site.ledger.touch("F-RESTART-1", "later").due
    faults_site.wait_until(
        lambda: faults_site.touch_states(site, "F-RESTART-1")["hello"] == "delivered", 120, "the first email"
    )
    rt.scheduler.close()
    time.sleep(max(0.0, faults_site.seconds_until(due) - 8))
    pool.stop_server()
    stopped = time.monotonic()
    time.sleep(max(0.0, faults_site.seconds_until(due) + 8))  # `later` falls due while the server is down
    pool.start_server()
    print(
        f"Prefect server down for {time.monotonic() - stopped:.1f} s (`later` due {faults_site.seconds_until(due):.1f} s from now);"
        " workers alive:",
        {n: w.alive for n, w in pool.workers.items()},
    )
    faults_site.wait_until(
        lambda: faults_site.touch_states(site, "F-RESTART-1")["later"] == "delivered",
        150,
        "the email due meanwhile",
        log=pool.workers["worker-c"].log,
    )
    faults_site.wait_until_runs_end(
        api, "F-RESTART-1", *faults_site.prefect_runs(api, "F-RESTART-1"), log=pool.workers["worker-c"].log
    )
    figures = faults_site.report(site, api, "F-RESTART-1", inbox, address)
    assert figures["smtp"] == {"Hallo Ilse": 1, "Later": 1}
    assert figures["deliveries"] == {"hello": "sent", "later": "sent"}
    assert {state for state, _ in figures["runs"].values()} == {"COMPLETED"}
    assert all(pool.workers[n].alive for n in ("worker-c", "worker-d")), pool.diagnostics()
