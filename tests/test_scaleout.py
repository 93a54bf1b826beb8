"""Scale-out proof: hundred on Prefect with PostgreSQL and two process workers, the way prefect.yaml
tells an operator to run it, takes N deals from the CRM and delivers every touch exactly once.

PostgreSQL (Debian's package, started by the test) holds both the Prefect server's database and
hundred's ledger. `prefect work-pool create hundred --type process`, `prefect deploy --all` from the
repository root, two `prefect worker start --pool hundred --limit 4`. The web app (uvicorn, as
`hundred up` runs it) receives the deals as the CRM sends them: signed POST /hooks/deal-closed.
The deals stored in a moment are started by that moment's `deal-closed` run (each journey a task);
the touches due in a moment are delivered by that moment's `deliver` run (each touch a task): the
workers pick up flow runs per moment, not per touch. The touch is an email to a real SMTP server
(aiosmtpd), with journey days compressed to DAY seconds.

Exactly once is checked three ways: the mail server got each touch's Message-ID once; the ledger
holds each touch delivered, with one `delivered` event; Prefect holds one COMPLETED task per deal
(`<deal> · start`) and per touch (`<deal> · <touch>`). Both workers must have run some of the flow
runs. Task retries are not failures if the touch still went out once; they are counted.

HUNDRED_SCALEOUT_DEALS (default 200) sets the number of deals; HUNDRED_SCALEOUT_TIMEOUT (seconds)
the wait for the last touch (default three minutes).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import httpx
import pytest
from conftest import deal_payload
from home_files import HELLO, always_open_journey, home_env, write_home
from ports import free_port
from prefect_pool import Pool, asyncpg_url, running_pool
from prefect_server import REPO, assert_no_traceback, base_env, http_get, start_logged, stop_group, tail, wait_for
from smtp_inbox import Inbox, inbox  # noqa: F401 (inbox is a fixture)

pytestmark = [pytest.mark.scaleout, pytest.mark.prefect, pytest.mark.postgres, pytest.mark.slow]

DEALS = int(os.environ.get("HUNDRED_SCALEOUT_DEALS", "200"))
DAY = 30.0  # seconds per journey day
WORKER_LIMIT = 4
SECRET = "whsec-scaleout-0123456789"
JOURNEY = always_open_journey(
    "scaleout",
    "Scale-out",
    """\
  - phase: admit
    touches:
      - {id: welcome, day: 1, channel: email, subject: "Welkom {{ contact.first_name }}", template: emails/hello.html}
""",
)
TOUCHES = ("welcome",)


class ConnectionPeak:
    """The most client connections PostgreSQL held at once (sampled every half second): Prefect's
    server pool, the web app, and the ledger of every flow run must fit in max_connections."""

    def __init__(self, port: int) -> None:
        self.port, self.peak, self.limit = port, 0, 0
        self.per_database: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            self.limit = int(conn.execute("SHOW max_connections").fetchone()[0])
            while not self._stop.wait(0.5):
                rows = conn.execute(
                    "SELECT datname, count(*) FROM pg_stat_activity "
                    "WHERE backend_type = 'client backend' GROUP BY datname"
                ).fetchall()
                self.peak = max(self.peak, sum(n for _, n in rows))
                for name, n in rows:
                    self.per_database[name] = max(self.per_database.get(name, 0), n)

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)


def hundred_env(root: Path, ledger_url: str, smtp_port: int) -> dict[str, str]:
    """The HUNDRED_* settings shared by the web app, the workers and so every flow run."""
    write_home(root, "scaleout.yaml", JOURNEY, {"emails/hello.html": HELLO})
    return {
        **home_env(root, smtp_port),
        "HUNDRED_DATABASE_URL": ledger_url,
        "HUNDRED_WEBHOOK_SECRET": SECRET,
        "HUNDRED_DAY_SECONDS": str(DAY),
        # a moment's touches in deliver runs of 25 (shards by deal; 500 by default), so a moment
        # is more runs than one worker's limit: a process worker takes every due run it sees, up to
        # its limit, in one poll, and with few runs the worker that polls first can take them all
        "HUNDRED_SHARD_SIZE": "25",
    }


def start_web(pool: Pool, root: Path) -> tuple[subprocess.Popen, str, Path]:
    """The web app as `hundred up` runs it: `uvicorn --factory hundred.web:create_app`."""
    port = free_port()
    log = root / "web.log"
    env = base_env(root / "web-prefect", pool.api_url)
    env.update({k: v for k, v in pool.env.items() if k.startswith("HUNDRED_")})
    uvicorn = "-m uvicorn --factory hundred.web:create_app --host 127.0.0.1 --log-level warning".split()
    proc = start_logged([sys.executable, *uvicorn, "--port", str(port)], log, env, REPO)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: http_get(f"{url}/healthz")[0] != 0, 60, "the web app", proc, log, 0.25)
    return proc, url, log


def send_deals(url: str, deals: list[str]) -> list[httpx.Response]:
    """One won deal per id, signed as the CRM signs them, four requests in flight at a time."""
    from hundred.adapters.channels.signing import HEADER, sign

    closed = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")

    def send(deal: str) -> httpx.Response:
        payload = deal_payload(closed_at=closed, id=deal, journey="scaleout")
        payload["contact"]["email"] = f"{deal.lower()}@example.nl"
        raw = json.dumps(payload).encode()
        headers = {"content-type": "application/json", HEADER: sign(raw, SECRET, int(time.time()))}
        return httpx.post(f"{url}/hooks/deal-closed", content=raw, headers=headers, timeout=60)

    with ThreadPoolExecutor(4) as threads:
        return list(threads.map(send, deals))


def test_two_workers_on_postgresql_deliver_every_touch_of_every_deal_exactly_once(tmp_path, pg_cluster, inbox, capsys):
    ledger_url = pg_cluster.create_database(f"scaleout_ledger_{os.getpid()}")
    prefect_url = asyncpg_url(pg_cluster.create_database(f"scaleout_prefect_{os.getpid()}"))
    env = hundred_env(tmp_path, ledger_url, inbox.port)
    deals = [f"SO-{i:04d}" for i in range(1, DEALS + 1)]
    expected = {f"<{deal}.scaleout.{touch}@example.nl>" for deal in deals for touch in TOUCHES}
    with ConnectionPeak(pg_cluster.port) as connections, running_pool(tmp_path / "pool", prefect_url, env) as pool:
        workers = [pool.start_worker(name, limit=WORKER_LIMIT) for name in ("worker-a", "worker-b")]
        web, url, web_log = start_web(pool, tmp_path)
        try:
            started = time.monotonic()
            answers = send_deals(url, deals)
            sent = time.monotonic() - started
            refused = [(a.status_code, a.text) for a in answers if a.status_code != 202]
            assert not refused, refused[:3]
            try:
                wait_until_delivered(pool, inbox, expected, started)
            except BaseException:
                print(f"{pool.diagnostics()}\n--- web app\n{tail(web_log)}")
                raise
            elapsed = time.monotonic() - started
            time.sleep(DAY / 2)  # a touch that ran twice would be delivered again meanwhile
            assert all(w.alive for w in workers), pool.diagnostics()
        finally:
            stop_group(web)

        # 1. the mail server received each touch's Message-ID exactly once
        received = collections.Counter(inbox.message_ids())
        duplicates = {k: n for k, n in received.items() if n > 1}
        assert not duplicates and set(received) == expected, (duplicates, sorted(expected - set(received))[:10])

        # 2. the ledger: one journey per deal, every touch delivered, with one `delivered` event
        ledger = ledger_counts(ledger_url)
        assert ledger["journeys"] == sorted(deals)
        assert ledger["states"] == {"delivered": len(expected)}, ledger["states"]
        assert ledger["delivered_events"] == {1: len(expected)}, ledger["delivered_events"]

        # 3. Prefect: one COMPLETED task per deal and per touch, in runs per moment; both workers ran some
        deal_runs, touch_runs = pool.runs("deal-closed/deal-closed"), pool.runs("deliver/deliver")
        # Prefect records task runs and their states from events, a moment after they ran: wait for them
        wanted = len(deals) + len(expected)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            tasks = pool.task_runs()
            if len(tasks) >= wanted and all(t["state_type"] in ("COMPLETED", "FAILED", "CRASHED") for t in tasks):
                break
            time.sleep(1)

        # a task is known by its name, `<deal> · <touch>` (`start` for a deal's start); the few
        # Prefect's event recorder leaves under their first name carry a key: `<deal> · <touch>-0`
        known = {f"{d} · {t}": (d, t) for d in deals for t in ("start", *TOUCHES)}

        def identity(task: dict) -> tuple[str, str] | None:
            name = task["name"]
            return known.get(name) or known.get(name.rsplit("-", 1)[0])

        unknown = [t["name"] for t in tasks if identity(t) is None]
        assert not unknown, unknown[:5]
        starts = collections.Counter(identity(t)[0] for t in tasks if identity(t)[1] == "start")
        touches = collections.Counter(identity(t) for t in tasks if identity(t)[1] != "start")
        assert set(starts) == set(deals) and set(starts.values()) == {1}, starts
        assert set(touches) == {(d, t) for d in deals for t in TOUCHES} and set(touches.values()) == {1}
        keyed = [t["name"] for t in tasks if t["name"] not in known]
        print(f"task runs: {len(tasks)}, {len(keyed)} under Prefect's first name (with a key)")
        assert collections.Counter(t["state_type"] for t in tasks) == {"COMPLETED": len(tasks)}
        runs = deal_runs + touch_runs
        assert {r["state_type"] for r in runs} <= {"COMPLETED", "SCHEDULED", "PENDING", "RUNNING"}, collections.Counter(
            r["state_type"] for r in runs
        )  # none failed; a run of a later moment may still wait, or be starting: nothing left for it
        per_worker = collections.Counter(pool.worker_of(r) for r in runs if r["state_type"] == "COMPLETED")
        assert set(per_worker) == {"worker-a", "worker-b"}, per_worker
        assert connections.peak < connections.limit
        with capsys.disabled():  # the figures belong in CI's log, not only in a failure's
            print(report(deal_runs, touch_runs, tasks, expected, received, ledger, sent, elapsed, connections))


def wait_until_delivered(pool: Pool, inbox: Inbox, expected: set[str], started: float) -> None:
    """Until the mail server holds every expected Message-ID; progress every 30 s (shown when the
    test fails)."""
    budget = float(os.environ.get("HUNDRED_SCALEOUT_TIMEOUT", 180))
    last = [0.0]

    def delivered() -> bool:
        got = len(expected & set(inbox.message_ids()))
        if time.monotonic() - last[0] >= 30:
            last[0] = time.monotonic()
            print(
                f"  {last[0] - started:4.0f} s: {got}/{len(expected)} touches delivered, "
                f"{pool.count_runs(states=('COMPLETED',))} runs completed",
                flush=True,
            )
        return got == len(expected)

    wait_for(delivered, budget, f"{len(expected)} touches delivered", interval=1)


def ledger_counts(url: str) -> dict[str, Any]:
    """What the ledger holds: the journeys' deals, touch states, and how many `delivered` events
    each touch has (as {events per touch: touches}), and operator/reconcile re-runs."""
    from hundred.adapters.ledger import Ledger

    ledger = Ledger.open(url)
    try:
        events, after = [], 0
        while page := ledger.events(after_id=after, limit=1000):
            events.extend(page)
            after = page[-1].id
        delivered = collections.Counter((e.deal_id, e.touch_id) for e in events if e.event == "delivered")
        return {
            "journeys": sorted(j.deal_id for j in ledger.journeys()),
            "states": dict(collections.Counter(t.state for t in ledger.touches())),
            "delivered_events": dict(collections.Counter(delivered.values())),
        }
    finally:
        ledger.close()


def report(
    deal_runs: list[dict],
    touch_runs: list[dict],
    tasks: list[dict],
    expected: set[str],
    received: collections.Counter,
    ledger: dict[str, Any],
    sent: float,
    elapsed: float,
    connections: ConnectionPeak,
) -> str:
    done = [r for r in deal_runs + touch_runs if r["state_type"] == "COMPLETED"]
    split: dict[Any, collections.Counter] = collections.defaultdict(collections.Counter)
    for kind, some in (("deal-closed", deal_runs), ("deliver", touch_runs)):
        for r in some:
            if r["state_type"] == "COMPLETED":
                split[Pool.worker_of(r)][kind] += 1
    late = [seconds(r["start_time"]) - seconds(r["expected_start_time"]) for r in done]
    took = [seconds(r["end_time"]) - seconds(r["start_time"]) for r in done]
    retries = sum(t["run_count"] - 1 for t in tasks)
    return (
        f"\nscale-out: {len(expected)} deals by signed POST /hooks/deal-closed (all answered 202 in {sent:.1f} s); "
        f"{len(done)} flow runs ({sum(r['state_type'] == 'COMPLETED' for r in deal_runs)} deal-closed, "
        f"{sum(r['state_type'] == 'COMPLETED' for r in touch_runs)} deliver) holding {len(tasks)} tasks, on 2 "
        f"process workers (limit {WORKER_LIMIT} each), Prefect server and ledger on PostgreSQL\n"
        f"  runs per worker: "
        + "; ".join(f"{w}: {sum(c.values())} ({dict(c)})" for w, c in sorted(split.items()))
        + "\n"
        f"  touches delivered: {sum(received.values())} received by SMTP, {ledger['states'].get('delivered', 0)} in the "
        f"ledger; duplicates {sum(n - 1 for n in received.values())}, lost {len(expected - set(received))}\n"
        f"  elapsed {elapsed:.0f} s from the first POST to the last touch; task retries {retries}\n"
        f"  a run started {median(late):.1f} s after it was due (median; max {max(late):.1f} s) "
        f"and ran {median(took):.1f} s (median; max {max(took):.1f} s)\n"
        f"  PostgreSQL: at most {connections.peak} of {connections.limit} connections "
        f"(peak per database: {connections.per_database})"
    )


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_prefects_own_schedules_fire_in_the_pool_shape_on_postgresql(tmp_path, pg_cluster, inbox):
    """With prefect.yaml deployed to a process pool on PostgreSQL, Prefect's scheduler service (not
    hundred) makes the runs of reconcile's interval and of the print batch's cron, and a worker
    executes them. The first reconcile (run once by hand, as after `prefect deploy`) keeps the
    deployments' schedules to hundred's settings: here every 20 s and every minute."""
    ledger_url = pg_cluster.create_database(f"schedules_ledger_{os.getpid()}")
    prefect_url = asyncpg_url(pg_cluster.create_database(f"schedules_prefect_{os.getpid()}"))
    env = hundred_env(tmp_path, ledger_url, inbox.port)
    env.update({"HUNDRED_RECONCILE_SECONDS": "20", "HUNDRED_PRINT_BATCH_CRON": "* * * * *"})
    env["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = "5"  # Prefect's default: once a minute
    with running_pool(tmp_path / "pool", prefect_url, env) as pool:
        worker = pool.start_worker("worker-a", limit=WORKER_LIMIT)
        pool.prefect("deployment", "run", "reconcile/reconcile")

        def completed_auto_runs(deployment: str) -> int:
            return sum(r["state_type"] == "COMPLETED" and r.get("auto_scheduled") for r in pool.runs(deployment))

        try:
            wait_for(
                lambda: (
                    completed_auto_runs("reconcile/reconcile") >= 2 and completed_auto_runs("print-batch/print-batch")
                ),
                300,
                "Prefect's scheduler to make reconcile and print-batch runs that the worker completes",
                worker.proc,
                worker.log,
                2,
            )
        except BaseException:
            print(pool.diagnostics())
            raise
        failed = [r["name"] for r in pool.runs() if r["state_type"] in ("FAILED", "CRASHED")]
        assert not failed, pool.diagnostics()
        schedules = pool.deployment("reconcile/reconcile")["schedules"]
        assert [s["schedule"].get("interval") for s in schedules] == [20.0], schedules
        assert_no_traceback(worker.log)
        assert_no_traceback(pool.server.log)
