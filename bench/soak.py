"""Soak: what grows with the number of journeys in flight, on the PostgreSQL shape.

    nice -n 5 .venv/bin/python bench/soak.py               # 2,000 deals (~26,000 runs)
    nice -n 5 .venv/bin/python bench/soak.py --horizon 7   # the same with a 7-day schedule horizon
    .venv/bin/python bench/soak.py --deals 100 --json      # one line of JSON

Starts PostgreSQL, a Prefect server on it and a ledger on it (bench/stack.py), with hundred's
deployments on a process work pool (prefect.yaml's scale-out shape). Then N closed deals of the
shipped journey (first-100-days: touches over 100 days) go through hundred's own path,
`Runtime.deal_closed` with `PrefectScheduler`, each a little different (id, segment, contact,
country; closed now). Nothing executes: the runs stay scheduled in the future.

The deals go in from --threads threads (to fill quickly), except at 10 %, 50 % and 100 %: there
the last SAMPLE deals go in one by one, alone, and the time to schedule one deal is their mean.
Then, still alone, it measures what could grow with the runs in the future: the Prefect server's
memory (RSS of its process tree), the two scheduled-run polls (a `serve` runner's
`POST /deployments/get_scheduled_flow_runs`, a worker's `POST /work_pools/<pool>/get_scheduled_flow_runs`),
`hundred status` for one deal and for all (the CLI, a new process each time), cancelling one
journey (`Runtime.cancel`), and one `Runtime.reconcile` pass (what the reconcile flow does every
15 minutes; above --reconcile-max runs it is estimated from 200 of its run-state reads).

Wall times suffer from whatever else the machine runs; the CPU time the Prefect server and
PostgreSQL spent on a call (in brackets) does not, and shows growth as well.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hundred import bootstrap

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import REPO, Stack, closed_deal, cpu_s, rss_mb, stack

POOL = "hundred"
FILLS = (0.1, 0.5, 1.0)
POLLS = 15  # calls per poll measurement
SAMPLE = 20  # deals put in one by one at each mark: "time to schedule one deal"
RECONCILE_SAMPLE = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=2000, help="closed deals to put in (default 2000)")
    parser.add_argument("--threads", type=int, default=3, help="threads filling between the marks (default 3)")
    parser.add_argument(
        "--reconcile-max",
        type=int,
        default=6000,
        help="run a whole reconcile pass up to this many scheduled runs, estimate above (default 6000)",
    )
    parser.add_argument(
        "--horizon",
        type=float,
        default=None,
        metavar="DAYS",
        help="HUNDRED_SCHEDULE_HORIZON_DAYS: runs only for touches due within DAYS (default: none)",
    )
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    args = parser.parse_args()
    with stack("postgresql", work_pool=POOL) as s:
        result = soak(s, args.deals, args.threads, args.reconcile_max, args.horizon, progress=True)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['deals']} deals, {result['runs']} scheduled runs on PostgreSQL, schedule horizon "
        f"{result['horizon_days'] or 'none'}, {result['seconds']:.0f} s"
    )
    print(
        f"{'fill':>5} {'deals':>6} {'runs':>6} {'deal ms':>12} {'RSS MB':>7} {'serve poll':>12} {'pool poll':>12} "
        f"{'status 1':>8} {'status all':>10} {'cancel ms':>11} {'reconcile s':>14} {'PG MB':>6}"
    )
    for m in result["fills"]:
        sp, pp, rc = m["serve_poll_ms"], m["pool_poll_ms"], m["reconcile"]
        print(
            f"{m['fill']:>5.0%} {m['deals']:>6} {m['runs_on_server']:>6} {m['deal_ms']:>5.0f} ({m['deal_server_cpu_ms']:>4.0f}) "
            f"{m['server_rss_mb']:>7.0f} {sp['p50']:>5.1f} ({sp['server_cpu_ms']:>4.1f}) "
            f"{pp['p50']:>5.1f} ({pp['server_cpu_ms']:>4.1f}) {m['status_one_s']:>8.2f} {m['status_all_s']:>10.2f} "
            f"{m['cancel_ms']:>4.0f} ({m['cancel_server_cpu_ms']:>4.0f}) "
            f"{rc['seconds']:>6.1f}{'~' if rc['estimated'] else ' '}({rc['server_cpu_s']:>5.1f}) "
            f"{m['prefect_db_mb'] or 0:>6.0f}"
        )
    print(
        "runs: SCHEDULED runs on the server; in brackets: CPU the Prefect server and PostgreSQL spent on it (ms, "
        f"reconcile: s); deal: Runtime.deal_closed, mean of {SAMPLE} deals; polls: p50 ms of {POLLS} calls; "
        "status: the CLI in s; cancel: Runtime.cancel of one journey; reconcile: one pass, ~ estimated; "
        "PG MB: the Prefect database"
    )


class Filler:
    """Deals into hundred through `Runtime.deal_closed`, one Runtime (ledger, scheduler) per thread."""

    def __init__(self, s: Stack, settings: Any):
        self.s, self.settings = s, settings
        self.example = json.loads((REPO / "examples" / "deal-nl.json").read_text(encoding="utf-8"))
        self.local = threading.local()
        self.opened: list[Any] = []
        self.lock = threading.Lock()

    def runtime(self) -> Any:
        if not hasattr(self.local, "runtime"):
            from hundred.adapters.ledger import Ledger
            from hundred.adapters.prefect.scheduler import PrefectScheduler

            runtime = bootstrap.runtime(
                self.settings, ledger_=Ledger.open(self.s.ledger_url), scheduler_=PrefectScheduler(self.s.api_url)
            )
            self.local.runtime = runtime
            with self.lock:
                self.opened.append(runtime)
        return self.local.runtime

    def put(self, i: int) -> tuple[float, int]:
        """Deal i in: (seconds, runs it scheduled)."""
        t0 = time.perf_counter()
        result = self.runtime().deal_closed(closed_deal(self.example, i, "SOAK"))
        return time.perf_counter() - t0, sum(1 for t in result.touches if t.state == "scheduled")

    def close(self) -> None:
        for runtime in self.opened:
            runtime.scheduler.close()
            runtime.ledger.close()


def soak(
    s: Stack, deals: int, threads: int, reconcile_max: int, horizon: float | None = None, progress: bool = False
) -> dict[str, Any]:
    settings = s.settings(schedule_horizon_days=horizon)
    filler = Filler(s, settings)
    marks = sorted({max(SAMPLE, round(deals * f)) for f in FILLS})
    fills: list[dict[str, Any]] = []
    runs, done = 0, 0
    started = time.perf_counter()
    try:
        for mark in marks:
            with ThreadPoolExecutor(threads) as pool:
                for n, (_, made) in enumerate(pool.map(filler.put, range(done, mark - SAMPLE)), done + 1):
                    runs += made
                    if progress and n % 50 == 0:
                        print(
                            f"  {time.perf_counter() - started:.0f} s: {n} deals, {runs} runs",
                            file=sys.stderr,
                            flush=True,
                        )
            done = max(done, mark - SAMPLE)
            cpu, took = cpu_s(*s.server_pids()), []
            for i in range(done, mark):  # alone: the time one deal takes at this fill
                seconds, made = filler.put(i)
                took.append(seconds)
                runs += made
            server_ms = (cpu_s(*s.server_pids()) - cpu) * 1000 / len(took)
            done = mark
            m = {
                "fill": round(mark / deals, 2),
                "deals": mark,
                "runs": runs,
                "deal_ms": round(statistics.mean(took) * 1000, 1),
                "deal_server_cpu_ms": round(server_ms, 1),
                **measure(s, filler.runtime(), f"SOAK-{mark - 1:05d}", f"SOAK-{mark // 2:05d}", reconcile_max),
            }
            fills.append(m)
            if progress:
                print(f"  {time.perf_counter() - started:.0f} s: {json.dumps(m)}", file=sys.stderr, flush=True)
    finally:
        filler.close()
    return {
        "deals": deals,
        "runs": runs,
        "db": s.db,
        "seconds": round(time.perf_counter() - started, 1),
        "horizon_days": settings.schedule_horizon_days,
        "fills": fills,
    }


def measure(s: Stack, runtime: Any, cancel_id: str, one_id: str, reconcile_max: int) -> dict[str, Any]:
    """Everything that might grow with the runs in flight, measured now."""
    scheduler = runtime.scheduler
    http = scheduler.client
    pids = s.server_pids()
    deployment_ids = [str(d["id"]) for d in http.request("POST", "/deployments/filter", json={}).json()]

    def poll(path: str, body: dict[str, Any]) -> dict[str, float]:
        took, found = [], 0
        cpu = cpu_s(*pids)
        for _ in range(POLLS):
            soon = (datetime.now(UTC) + timedelta(seconds=10)).isoformat()
            t0 = time.perf_counter()
            answer = http.request("POST", path, json={**body, "scheduled_before": soon})
            took.append((time.perf_counter() - t0) * 1000)
            found = len(answer.json())
        return {
            "p50": round(statistics.median(took), 1),
            "max": round(max(took), 1),
            "found": found,
            "server_cpu_ms": round((cpu_s(*pids) - cpu) * 1000 / POLLS, 1),
        }

    scheduled = http.request(
        "POST", "/flow_runs/count", json={"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}
    ).json()
    serve_poll = poll("/deployments/get_scheduled_flow_runs", {"deployment_ids": deployment_ids})
    pool_poll = poll(f"/work_pools/{POOL}/get_scheduled_flow_runs", {"work_queue_names": []})
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HUNDRED_")}, **s.env()}
    if runtime.settings.schedule_horizon_days is not None:
        env["HUNDRED_SCHEDULE_HORIZON_DAYS"] = str(runtime.settings.schedule_horizon_days)
    status_one = _cli(["status", one_id], env)
    status_all = _cli(["status"], env)

    cpu = cpu_s(*pids)
    t0 = time.perf_counter()
    report = runtime.cancel(cancel_id, "soak: cancel one journey")
    cancel_s = time.perf_counter() - t0
    cancel_cpu = cpu_s(*pids) - cpu
    return {
        "runs_on_server": scheduled,
        "server_rss_mb": rss_mb(pids[0]),
        "serve_poll_ms": serve_poll,
        "pool_poll_ms": pool_poll,
        "status_one_s": status_one,
        "status_all_s": status_all,
        "cancel_ms": round(cancel_s * 1000, 1),
        "cancel_server_cpu_ms": round(cancel_cpu * 1000, 1),
        "cancelled_runs": report.counts.get("runs", 0) and int(report.lines[-1].split()[0]),
        "reconcile": reconcile(s, runtime, scheduled, reconcile_max),
        "prefect_db_mb": s.pg_size_mb("prefect"),
        "ledger_db_mb": s.pg_size_mb("ledger"),
    }


def reconcile(s: Stack, runtime: Any, scheduled: int, reconcile_max: int) -> dict[str, Any]:
    """One reconcile pass: its seconds and the servers' CPU; estimated from RECONCILE_SAMPLE of its
    run-state reads (one per scheduled touch) when there are more than `reconcile_max` runs."""
    pids = s.server_pids()
    cpu, t0 = cpu_s(*pids), time.perf_counter()
    if scheduled <= reconcile_max:
        report = runtime.reconcile()
        return {
            "seconds": round(time.perf_counter() - t0, 1),
            "server_cpu_s": round(cpu_s(*pids) - cpu, 1),
            "estimated": False,
            "reads": scheduled,
            "repairs": dict(report.counts),
        }
    touches = runtime.ledger.touches(states=["scheduled"])[:RECONCILE_SAMPLE]
    for t in touches:
        runtime.scheduler.run_state(t.flow_run_id)
    factor = scheduled / max(1, len(touches))
    return {
        "seconds": round((time.perf_counter() - t0) * factor, 1),
        "server_cpu_s": round((cpu_s(*pids) - cpu) * factor, 1),
        "estimated": True,
        "reads": scheduled,
    }


def _cli(args: list[str], env: dict[str, str], repeat: int = 3) -> float:
    """The median wall time of `hundred <args>` (a new process: what an operator waits for)."""
    took = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).parent / "hundred"), *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
        took.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise RuntimeError(f"hundred {' '.join(args)} failed: {done.stderr[-500:]}")
    return round(statistics.median(took), 2)


if __name__ == "__main__":
    main()
