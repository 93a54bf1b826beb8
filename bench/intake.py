"""Intake under load: N signed deal-closed webhooks at once, beside Prefect's own run-creation rate.

    .venv/bin/python bench/intake.py                         # 50 deals, SQLite and PostgreSQL
    .venv/bin/python bench/intake.py --deals 50 --db sqlite --json

Per database (bench/stack.py: a Prefect server and a ledger, both SQLite or both PostgreSQL):

1. the web app as `hundred up` runs it (`uvicorn --factory hundred.web:create_app`, its own
   process, real HTTP);
2. raw: N deal-closed runs (half before 3, half after) made straight with Prefect's client
   (`create_flow_run_from_deployment`, idempotency keys, the same parameters, due at once as
   hundred's), from THREADS threads; deleted again before serve starts;
3. hundred: N different deals POSTed to /hooks/deal-closed with `X-Hundred-Signature`, from the
   same number of threads: accepted (202) per second, p50/p95 latency. Each is validated, stored
   in the ledger and submitted as a deal-closed run, as the CRM's deliveries are; overhead =
   raw runs/s ÷ accepted/s − 1 (the goal: at most 20 %);
4. `python -m flows.serve` is started (as `hundred up` does) and the deal-closed runs execute:
   the time from the first POST until every deal's first-phase touches have their Prefect runs
   (the ledger says `scheduled`, with a run id).

CPU: what the Prefect server, PostgreSQL, the web app and this process spent per accepted deal
and per raw run (unlike the rates, barely moved by the rest of the machine's load). Both rates
are measured with serve stopped, so they compare the intake with run creation and not
with the flows' CPU; the time in 4 counts serve's start.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import REPO, Stack, closed_deal, cpu_s, percentile, stack

THREADS = 8
SECRET = "whsec-bench-0123456789"
SCHEDULE_TIMEOUT = 900.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=50, help="deals per database (default 50)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--threads", type=int, default=THREADS, help=f"concurrent senders (default {THREADS})")
    parser.add_argument("--no-serve", action="store_true", help="skip 4: only the rates")
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    args = parser.parse_args()
    results = []
    if args.db == "both":  # one process per database: Prefect's client reads its API URL once per process
        for db in ("sqlite", "postgresql"):
            cmd = [
                sys.executable,
                __file__,
                "--db",
                db,
                "--deals",
                str(args.deals),
                "--threads",
                str(args.threads),
                "--json",
            ] + (["--no-serve"] if args.no_serve else [])
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results += json.loads(done.stdout.strip().splitlines()[-1])["results"]
    else:
        with stack(args.db) as s:
            results.append(bench(s, args.deals, args.threads, serve=not args.no_serve))
    if args.json:
        print(json.dumps({"deals": args.deals, "threads": args.threads, "results": results}))
        return
    print(f"{args.deals} deals per database, {args.threads} concurrent senders")
    for r in results:
        print(
            f"{r['db']:<10} hundred: {r['accepted']}/{r['deals']} accepted, {r['accepted_per_s']:.1f}/s, "
            f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms | raw Prefect: {r['raw_runs_per_s']:.1f} runs/s, "
            f"p50 {r['raw_p50_ms']:.0f} ms | overhead {r['overhead'] * 100:+.0f} % | CPU a deal {r['cpu_ms']:.0f} ms "
            f"vs a raw run {r['raw_cpu_ms']:.0f} ms ({r['cpu_overhead'] * 100:+.0f} %) | "
            + (
                f"first-phase touches of {r['scheduled_deals']} deals scheduled {r['scheduled_after_s']} s after "
                f"the first POST (serve ready at {r['serve_ready_after_s']} s)"
                if r["scheduled_deals"]
                else "no serve"
            )
        )


def bench(s: Stack, deals: int, threads: int, serve: bool = True) -> dict[str, Any]:
    import httpx

    from hundred.adapters.ledger import Ledger

    settings = s.settings(webhook_secret=SECRET, print_password="bench-not-used-123")
    web = start_web(s)
    try:
        example = json.loads((REPO / "examples" / "deal-nl.json").read_text(encoding="utf-8"))
        with httpx.Client(timeout=120, limits=httpx.Limits(max_connections=threads)) as http:
            for i in range(2):  # warm-up: the app opens its ledger and Prefect client on first use
                post(http, web["url"], closed_deal(example, i, "WARM"))
            # raw before and after hundred's deliveries: both see the server as full as the other
            before = raw_runs(s, [closed_deal(example, i, "RAW") for i in range(deals // 2)], threads)
            payloads = [closed_deal(example, i, "HOOK") for i in range(deals)]
            parts = {"prefect": [s.server_pids()[0]], "postgresql": s.server_pids()[1:], "web": [web["proc"].pid]}
            cpu = cpu_s(*s.server_pids(), web["proc"].pid), time.process_time()
            split = {name: cpu_s(*pids) if pids else 0.0 for name, pids in parts.items()}
            first_post = time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                answers = list(pool.map(lambda p: post(http, web["url"], p), payloads))
            posting_s = time.perf_counter() - first_post
            hook_cpu = cpu_s(*s.server_pids(), web["proc"].pid) - cpu[0] + time.process_time() - cpu[1]
            split = {
                name: round((cpu_s(*pids) - split[name]) * 1000 / deals, 1) if pids else 0.0
                for name, pids in parts.items()
            }
            split["sender"] = round((time.process_time() - cpu[1]) * 1000 / deals, 1)
            after = raw_runs(s, [closed_deal(example, i, "RAW") for i in range(deals // 2, deals)], threads)
            delete_runs(before["ids"] + after["ids"])
    finally:
        stop(web["proc"])
    accepted = [a for a in answers if a[0] == 202]
    latencies = [a[1] for a in answers]
    ledger = Ledger.open(s.ledger_url)
    done_at, serve_ready = {"seconds": None, "deals": 0}, first_post
    try:
        first_phase = first_phase_touches(settings)
        ids = {p["id"] for p in payloads}
        if serve:
            with s.server.serve(s.root / "serve-home", env=s.env()):
                serve_ready = time.perf_counter()
                done_at = wait_scheduled(ledger, ids, first_phase, first_post)
    finally:
        ledger.close()
    rate = len(accepted) / posting_s
    raw = {
        "raw_runs_per_s": round((before["runs"] + after["runs"]) / (before["seconds"] + after["seconds"]), 1),
        "raw_p50_ms": round(percentile(before["took"] + after["took"], 50) * 1000, 1),
        "raw_p95_ms": round(percentile(before["took"] + after["took"], 95) * 1000, 1),
        "raw_runs_per_s_before_after": [round(r["runs"] / r["seconds"], 1) for r in (before, after)],
        "raw_cpu_ms": round((before["cpu"] + after["cpu"]) * 1000 / (before["runs"] + after["runs"]), 1),
    }
    hook_cpu_ms = hook_cpu * 1000 / max(1, len(answers))
    return {
        "db": s.db,
        "deals": deals,
        "accepted": len(accepted),
        "posting_s": round(posting_s, 2),
        "accepted_per_s": round(rate, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        **raw,
        "overhead": round(raw["raw_runs_per_s"] / rate - 1, 3) if rate else None,
        "cpu_ms": round(hook_cpu_ms, 1),
        "cpu_ms_by_process": split,
        "cpu_overhead": round(hook_cpu_ms / raw["raw_cpu_ms"] - 1, 3),
        "scheduled_after_s": done_at["seconds"],
        "scheduled_deals": done_at["deals"],
        "serve_ready_after_s": round(serve_ready - first_post, 1),
        "statuses": sorted({a[0] for a in answers}),
    }


def post(http: Any, url: str, payload: dict[str, Any]) -> tuple[int, float]:
    """One signed delivery: (status, seconds)."""
    from hundred.adapters.channels.signing import sign

    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json", "X-Hundred-Signature": sign(body, SECRET, int(time.time()))}
    t0 = time.perf_counter()
    response = http.post(url + "/hooks/deal-closed", content=body, headers=headers)
    return response.status_code, time.perf_counter() - t0


def raw_runs(s: Stack, payloads: list[dict[str, Any]], threads: int) -> dict[str, Any]:
    """N deal-closed runs made straight with Prefect's client: what run creation costs by itself."""
    from hundred.service.deal_run import deal_closed_run
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.deals.model import parse_deal
    from hundred.service import deployments

    deployment_id = PrefectScheduler(s.api_url).deployment_id(deployments.DEAL_CLOSED)
    now = datetime.now(UTC)  # due at once, as hundred's (deleted before serve starts)
    runs = [deal_closed_run(parse_deal(p).model_dump(mode="json"), datetime.now(UTC)) for p in payloads]
    with get_client(sync_client=True) as client:

        def create(run: Any) -> tuple[float, Any]:
            t0 = time.perf_counter()
            made = client.create_flow_run_from_deployment(
                deployment_id,
                parameters=run.parameters,
                state=Scheduled(scheduled_time=now),
                idempotency_key=run.idempotency_key,
                name=run.name,
                tags=run.tags,
            )
            return time.perf_counter() - t0, made.id

        cpu = cpu_s(*s.server_pids()), time.process_time()
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            made = list(pool.map(create, runs))
        seconds = time.perf_counter() - started
        used = cpu_s(*s.server_pids()) - cpu[0] + time.process_time() - cpu[1]
    return {
        "runs": len(runs),
        "seconds": seconds,
        "took": [m[0] for m in made],
        "cpu": used,
        "ids": [m[1] for m in made],
    }


def delete_runs(ids: list[Any]) -> None:
    """The raw runs go before serve starts: they were only there to be made."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for run_id in ids:
            client.delete_flow_run(run_id)


def first_phase_touches(settings: Any) -> set[str]:
    """The touch ids of the shipped journey's first phase."""
    from hundred.journeys.catalog import find_journey
    from hundred.validation.validate import load_journey

    journey, _ = load_journey(find_journey(settings.default_journey, settings.journeys_dir), settings.templates_dir)
    first = journey.phases[0].phase
    return {t.id for block, t in journey.touches() if block.phase == first}


def wait_scheduled(ledger: Any, ids: set[str], first_phase: set[str], since: float) -> dict[str, Any]:
    """Poll the ledger until every deal's first-phase touches have a run; seconds since `since`."""
    deadline = time.monotonic() + SCHEDULE_TIMEOUT
    done: set[str] = set()
    while time.monotonic() < deadline:
        have: dict[str, set[str]] = {}
        for t in ledger.touches():
            if t.deal_id in ids and t.touch_id in first_phase and t.flow_run_id:
                have.setdefault(t.deal_id, set()).add(t.touch_id)
        done = {d for d, touches in have.items() if touches == first_phase}
        if done == ids:
            return {"seconds": round(time.perf_counter() - since, 1), "deals": len(done)}
        time.sleep(0.5)
    return {"seconds": None, "deals": len(done)}


def start_web(s: Stack) -> dict[str, Any]:
    """`uvicorn --factory hundred.web:create_app` as `hundred up` starts it, on a free port."""
    import httpx
    from prefect_server import base_env, free_port

    port = free_port()
    env = {
        **base_env(s.root / "prefect", s.api_url),
        **s.env(),
        "HUNDRED_WEBHOOK_SECRET": SECRET,
        "HUNDRED_PRINT_PASSWORD": "bench-not-used-123",
    }
    log = s.root / "web.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "hundred.web:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/login", timeout=2).status_code < 500:
                return {"proc": proc, "url": url}
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"the web app did not start:\n{log.read_text(errors='replace')[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    from prefect_server import stop_group

    stop_group(proc)


if __name__ == "__main__":
    main()
