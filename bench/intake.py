"""Intake on PostgreSQL: the webhook's 202 under 8 concurrent senders, beside Prefect's own run
creation, with the ledger engine's `pool_pre_ping` on and off, and what a database disconnect does.

    nice -n 5 .venv/bin/python bench/intake.py                 # 200 deals per round
    .venv/bin/python bench/intake.py --deals 50 --json

bench/stack.py starts PostgreSQL with a Prefect server and a ledger on it. Then, in this order:

1. raw: N/2 deal-closed runs made straight with Prefect's client (`create_flow_run_from_deployment`,
   each its own idempotency key, scheduled later so nothing runs), from THREADS threads;
2. per `pool_pre_ping` setting (on, then off): the web app as `hundred up` runs it (uvicorn,
   `hundred.web:create_app`, its own process; the ledger engine built with that setting),
   N different deals POSTed to /hooks/deal-closed, signed, from THREADS threads: 202s per second
   and the 202's p50/p95. Each is validated, stored in the ledger (one write, `pending`) and
   answered once the moment's deal-closed run exists in Prefect (one per 5 s, whatever the deals);
   then the faults, one request at a time: every ledger connection of the web app ended with
   `pg_terminate_backend`, then PostgreSQL stopped (a request while it is down), then started
   again: each answer's status and seconds (a 503 must come quickly, and the next request work);
3. raw again, N/2 runs: both raw halves see the server as full as hundred's rounds do.

CPU: what the Prefect server, PostgreSQL and the web app spent per accepted deal and per raw run
(unlike the rates, barely moved by the rest of the machine's load). Nothing serves the runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import REPO, Stack, closed_deal, cpu_s, percentile, stack  # also puts tests/ on the path

THREADS = 8
SECRET = "whsec-bench-0123456789"
# the web app with the ledger engine's pool_pre_ping forced on or off (argv: on|off, port)
WEB = """\
import sys
import hundred.adapters.ledger.db as db
from sqlalchemy import create_engine
pre_ping = sys.argv[1] == "on"
def engine(url, **kw):
    if "pool_pre_ping" in kw:
        kw["pool_pre_ping"] = pre_ping
        print(f"ledger engine: pool_pre_ping={pre_ping}", flush=True)
    return create_engine(url, **kw)
db.create_engine = engine
import uvicorn
uvicorn.run("hundred.web:create_app", factory=True, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=200, help="deals per round (default 200)")
    parser.add_argument("--threads", type=int, default=THREADS, help=f"concurrent senders (default {THREADS})")
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    args = parser.parse_args()
    with stack("postgresql") as s:
        result = bench(s, args.deals, args.threads)
    if args.json:
        print(json.dumps(result))
        return
    raw = result["raw"]
    print(
        f"raw Prefect: {raw['runs_per_s']} runs/s, p50 {raw['p50_ms']} ms, p95 {raw['p95_ms']} ms, "
        f"CPU {raw['cpu_ms']} ms a run ({args.threads} threads)"
    )
    for r in result["rounds"]:
        print(
            f"pre-ping {r['pool_pre_ping']:<3}: {r['accepted']}/{r['deals']} accepted, {r['accepted_per_s']}/s "
            f"({r['vs_raw']:.2f}× raw), p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, CPU {r['cpu_ms']} ms a deal "
            f"{r['cpu_ms_by_process']}"
        )
        for fault, answers in r["faults"].items():
            print(f"   {fault:<11} " + ", ".join(f"{status} in {s:.2f} s" for status, s in answers))


def bench(s: Stack, deals: int, threads: int) -> dict[str, Any]:
    import httpx

    example = json.loads((REPO / "examples" / "deal-nl.json").read_text(encoding="utf-8"))
    rounds = []
    before = raw_runs(s, deals // 2, threads, "A")
    for pre_ping in ("on", "off"):
        web = start_web(s, pre_ping)
        try:
            with httpx.Client(timeout=120, limits=httpx.Limits(max_connections=threads)) as http:
                for i in range(3):  # warm-up: the app opens its ledger and Prefect client on first use
                    post(http, web["url"], closed_deal(example, i, f"WARM-{pre_ping}"))
                payloads = [closed_deal(example, i, f"HOOK-{pre_ping}") for i in range(deals)]
                parts = {"prefect": [s.server_pids()[0]], "postgresql": s.server_pids()[1:], "web": [web["proc"].pid]}
                cpu0 = {name: cpu_s(*pids) for name, pids in parts.items()}
                first = time.perf_counter()
                with ThreadPoolExecutor(threads) as pool:
                    answers = list(pool.map(post, [http] * deals, [web["url"]] * deals, payloads))
                seconds = time.perf_counter() - first
                used = {name: cpu_s(*pids) - cpu0[name] for name, pids in parts.items()}
                faults = disconnects(s, http, web["url"], example, pre_ping)
        finally:
            stop(web["proc"])
        accepted = [a for a in answers if a[0] == 202]
        took = [a[1] for a in answers]
        rounds.append(
            {
                "pool_pre_ping": pre_ping,
                "confirmed": f"pool_pre_ping={pre_ping == 'on'}" in web["log"].read_text(),
                "deals": deals,
                "accepted": len(accepted),
                "statuses": sorted({a[0] for a in answers}),
                "accepted_per_s": round(len(accepted) / seconds, 1),
                "p50_ms": round(percentile(took, 50) * 1000, 1),
                "p95_ms": round(percentile(took, 95) * 1000, 1),
                "cpu_ms": round(sum(used.values()) * 1000 / deals, 1),
                "cpu_ms_by_process": {k: round(v * 1000 / deals, 1) for k, v in used.items()},
                "faults": faults,
            }
        )
    after = raw_runs(s, deals - deals // 2, threads, "B")
    runs, secs = before["runs"] + after["runs"], before["seconds"] + after["seconds"]
    raw = {
        "runs": runs,
        "runs_per_s": round(runs / secs, 1),
        "runs_per_s_before_after": [round(r["runs"] / r["seconds"], 1) for r in (before, after)],
        "p50_ms": round(percentile(before["took"] + after["took"], 50) * 1000, 1),
        "p95_ms": round(percentile(before["took"] + after["took"], 95) * 1000, 1),
        "cpu_ms": round((before["cpu"] + after["cpu"]) * 1000 / runs, 1),
    }
    for r in rounds:
        r["vs_raw"] = round(r["accepted_per_s"] / raw["runs_per_s"], 2)
    return {"deals": deals, "threads": threads, "raw": raw, "rounds": rounds}


def disconnects(s: Stack, http: Any, url: str, example: dict[str, Any], tag: str) -> dict[str, list[Any]]:
    """(status, seconds) of requests after the web app's ledger connections were ended, while
    PostgreSQL is down, and after it is back."""
    import psycopg

    assert s.cluster is not None
    n = iter(range(10_000))

    def one() -> tuple[int, float]:
        status, seconds = post(http, url, closed_deal(example, next(n), f"FAULT-{tag}"))
        return status, round(seconds, 2)

    dsn = f"host=127.0.0.1 port={s.cluster.port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'ledger' AND pid <> pg_backend_pid()"
        )
    terminated = [one() for _ in range(3)]
    s.cluster.pause()
    try:
        down = [one() for _ in range(2)]
    finally:
        s.cluster.resume()
    return {"terminated": terminated, "db_down": down, "db_back": [one() for _ in range(3)]}


def post(http: Any, url: str, payload: dict[str, Any]) -> tuple[int, float]:
    """One signed delivery: (status, seconds)."""
    from hundred.adapters.channels.signing import HEADER, sign

    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", HEADER: sign(body, SECRET, int(time.time()))}
    t0 = time.perf_counter()
    response = http.post(url + "/hooks/deal-closed", content=body, headers=headers)
    return response.status_code, time.perf_counter() - t0


def raw_runs(s: Stack, runs: int, threads: int, tag: str) -> dict[str, Any]:
    """N deal-closed runs made straight with Prefect's client: what run creation costs by itself."""
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.service import deployments

    deployment_id = PrefectScheduler(s.api_url).deployment_id(deployments.DEAL_CLOSED)
    later = datetime.now(UTC) + timedelta(days=1)
    with get_client(sync_client=True) as client:

        def create(i: int) -> float:
            t0 = time.perf_counter()
            client.create_flow_run_from_deployment(
                deployment_id,
                parameters={"moment": later.isoformat()},
                state=Scheduled(scheduled_time=later),
                idempotency_key=f"raw:{tag}:{i}",
                name=f"raw · {i}",
                tags=["deal-closed"],
            )
            return time.perf_counter() - t0

        cpu = cpu_s(*s.server_pids())
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            took = list(pool.map(create, range(runs)))
        seconds = time.perf_counter() - started
    return {"runs": runs, "seconds": seconds, "took": took, "cpu": cpu_s(*s.server_pids()) - cpu}


def start_web(s: Stack, pre_ping: str) -> dict[str, Any]:
    """The web app as `hundred up` starts it (uvicorn, the app factory), the ledger's pre-ping set."""
    import httpx
    from prefect_server import base_env, free_port, start_logged

    port = free_port()
    env = {
        **base_env(s.root / "prefect", s.api_url),
        **s.env(),
        "HUNDRED_WEBHOOK_SECRET": SECRET,
        "HUNDRED_PRINT_PASSWORD": "bench-not-used-123",
    }
    log = s.root / f"web-{pre_ping}.log"
    proc = start_logged([sys.executable, "-c", WEB, pre_ping, str(port)], log, env, REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url + "/login", timeout=2).status_code < 500:
                return {"proc": proc, "url": url, "log": log}
        except httpx.TransportError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"the web app did not start:\n{log.read_text(errors='replace')[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    from prefect_server import stop_group

    stop_group(proc)


if __name__ == "__main__":
    main()
