"""Soak: what grows with the number of journeys in flight, on the PostgreSQL shape.

    nice -n 5 .venv/bin/python bench/soak.py               # 2,000 deals
    .venv/bin/python bench/soak.py --deals 100 --json      # one line of JSON

Starts PostgreSQL, a Prefect server on it and a ledger on it (bench/stack.py), with hundred's
deployments on a process work pool (prefect.yaml's scale-out shape). Then N closed deals of the
shipped journey (first-100-days: touches over 100 days) go through hundred's own path,
`Runtime.deal_closed` with `PrefectScheduler` (touches into the ledger with their moment, one
`deliver` run per moment in Prefect), each deal a little different (id, segment, contact,
country), all closed now. No worker runs: the runs stay scheduled, so what is measured is what
the calendar costs while it is full, not delivery (bench/burst.py measures that).

The deals go in from --threads threads, except at 10 %, 50 % and 100 %: there the last SAMPLE
deals go in one by one, alone, and the time to record and schedule one deal is their mean. Then,
still alone, it measures what could grow with the journeys in flight:

- Prefect's runs (by deployment and state) beside the ledger's moments and touches: the runs
  should follow the moments (and their shards of `shard_size` touches), not the touches;
- one pass of `reconcile` (hundred/service/reconcile.py, what the reconcile flow runs);
- cancelling one journey (`Runtime.cancel`: a ledger transition, no Prefect call);
- `hundred status <deal>` and `hundred status` (the CLI, a new process each time, median of 3),
  and what `status <deal>` reads once started (`status_one_work_ms`: journey, touches, story);
- the two scheduled-run polls (a `serve` runner's `POST /deployments/get_scheduled_flow_runs`,
  a worker's `POST /work_pools/<pool>/get_scheduled_flow_runs`), the Prefect server's memory
  (RSS of its process tree) and the two databases' sizes.

All deals closing within minutes is the hard case for a moment (it holds every deal's touch of
that day); deals closing over weeks spread the same touches over more moments of fewer touches.
Wall times suffer from whatever else the machine runs; the CPU the Prefect server and PostgreSQL
spent on a call (in brackets) does not.
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
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import REPO, Stack, closed_deal, cpu_s, rss_mb, stack  # also puts tests/ on the path

POOL = "hundred"
FILLS = (0.1, 0.5, 1.0)
POLLS = 15  # calls per poll measurement
SAMPLE = 20  # deals put in one by one at each mark: "time to record one deal"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=2000, help="closed deals to put in (default 2000)")
    parser.add_argument("--threads", type=int, default=3, help="threads filling between the marks (default 3)")
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    args = parser.parse_args()
    with stack("postgresql", work_pool=POOL) as s:
        result = soak(s, args.deals, args.threads, progress=not args.json)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['deals']} deals of first-100-days on PostgreSQL in {result['seconds']:.0f} s")
    print(
        f"{'fill':>5} {'deals':>6} {'touches':>8} {'moments':>8} {'runs':>6} {'deal ms':>12} {'reconcile s':>12} "
        f"{'cancel ms':>10} {'status 1':>13} {'status all':>10} {'serve poll':>12} {'pool poll':>12} {'RSS MB':>7}"
    )
    for m in result["fills"]:
        sp, pp, rc = m["serve_poll_ms"], m["pool_poll_ms"], m["reconcile"]
        print(
            f"{m['fill']:>5.0%} {m['deals']:>6} {m['touches']:>8} {m['moments']:>8} {m['prefect_runs']:>6} "
            f"{m['deal_ms']:>5.0f} ({m['deal_server_cpu_ms']:>4.0f}) {rc['seconds']:>5.2f} ({rc['server_cpu_s']:>4.2f}) "
            f"{m['cancel_ms']:>10.1f} {m['status_one_s']:>5.2f} ({m['status_one_work_ms']:>5.1f}) {m['status_all_s']:>10.2f} "
            f"{sp['p50']:>5.1f} ({sp['server_cpu_ms']:>4.1f}) {pp['p50']:>5.1f} ({pp['server_cpu_ms']:>4.1f}) "
            f"{m['server_rss_mb']:>7.0f}"
        )
    print(
        "touches: in the ledger; moments: distinct due moments of touches not yet started; runs: flow runs in "
        f"Prefect; in brackets: CPU of the Prefect server and PostgreSQL (ms; reconcile: s); deal: mean of {SAMPLE} "
        f"deals alone; status: the CLI in s (in brackets: its reads in ms, once started); polls: p50 ms of {POLLS} calls"
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
            from hundred import bootstrap
            from hundred.adapters.ledger import Ledger
            from hundred.adapters.prefect.scheduler import PrefectScheduler

            runtime = bootstrap.runtime(
                self.settings, ledger_=Ledger.open(self.s.ledger_url), scheduler_=PrefectScheduler(self.s.api_url)
            )
            self.local.runtime = runtime
            with self.lock:
                self.opened.append(runtime)
        return self.local.runtime

    def put(self, i: int) -> float:
        """Deal i in: seconds."""
        t0 = time.perf_counter()
        self.runtime().deal_closed(closed_deal(self.example, i, "SOAK"))
        return time.perf_counter() - t0

    def close(self) -> None:
        for runtime in self.opened:
            runtime.scheduler.close()
            runtime.ledger.close()


def soak(s: Stack, deals: int, threads: int, progress: bool = False) -> dict[str, Any]:
    filler = Filler(s, s.settings())
    marks = sorted({max(SAMPLE, round(deals * f)) for f in FILLS})
    fills: list[dict[str, Any]] = []
    done = 0
    started = time.perf_counter()
    try:
        for mark in marks:
            with ThreadPoolExecutor(threads) as pool:
                for n, _ in enumerate(pool.map(filler.put, range(done, mark - SAMPLE)), done + 1):
                    if progress and n % 100 == 0:
                        print(f"  {time.perf_counter() - started:.0f} s: {n} deals", file=sys.stderr, flush=True)
            done = max(done, mark - SAMPLE)
            cpu = cpu_s(*s.server_pids())
            took = [filler.put(i) for i in range(done, mark)]  # alone: the time one deal takes at this fill
            server_ms = (cpu_s(*s.server_pids()) - cpu) * 1000 / len(took)
            done = mark
            m = {
                "fill": round(mark / deals, 2),
                "deals": mark,
                "deal_ms": round(statistics.mean(took) * 1000, 1),
                "deal_server_cpu_ms": round(server_ms, 1),
                **measure(s, filler.runtime(), f"SOAK-{mark - 1:05d}", f"SOAK-{mark // 2:05d}"),
            }
            fills.append(m)
            if progress:
                print(f"  {time.perf_counter() - started:.0f} s: {json.dumps(m)}", file=sys.stderr, flush=True)
    finally:
        filler.close()
    return {"deals": deals, "db": s.db, "seconds": round(time.perf_counter() - started, 1), "fills": fills}


def measure(s: Stack, runtime: Any, cancel_id: str, one_id: str) -> dict[str, Any]:
    """Everything that might grow with the journeys in flight, measured now."""
    from hundred.service.reconcile import reconcile

    pids = s.server_pids()
    http = httpx.Client(base_url=s.api_url, timeout=120)
    deployments = {d["name"]: str(d["id"]) for d in http.post("/deployments/filter", json={}).json()}

    def poll(path: str, body: dict[str, Any]) -> dict[str, float]:
        took, found = [], 0
        cpu = cpu_s(*pids)
        for _ in range(POLLS):
            soon = (datetime.now(UTC) + timedelta(seconds=10)).isoformat()
            t0 = time.perf_counter()
            answer = http.post(path, json={**body, "scheduled_before": soon})
            took.append((time.perf_counter() - t0) * 1000)
            found = len(answer.json())
        return {
            "p50": round(statistics.median(took), 1),
            "max": round(max(took), 1),
            "found": found,
            "server_cpu_ms": round((cpu_s(*pids) - cpu) * 1000 / POLLS, 1),
        }

    runs: Counter[str] = Counter()
    for name, dep in deployments.items():
        for state in ("SCHEDULED", "COMPLETED", "CANCELLED", "PENDING", "RUNNING"):
            body = {"deployments": {"id": {"any_": [dep]}}, "flow_runs": {"state": {"type": {"any_": [state]}}}}
            n = http.post("/flow_runs/count", json=body).json()
            if n:
                runs[f"{name} {state.lower()}"] = n
    touches = Counter(t.state for t in runtime.ledger.touches())
    moments = runtime.ledger.due_moments()
    serve_poll = poll("/deployments/get_scheduled_flow_runs", {"deployment_ids": list(deployments.values())})
    pool_poll = poll(f"/work_pools/{POOL}/get_scheduled_flow_runs", {"work_queue_names": []})
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HUNDRED_")}, **s.env()}
    status_one = _cli(["status", one_id], env)
    status_all = _cli(["status"], env)
    status_work = _status_work(runtime, one_id)

    cpu, t0 = cpu_s(*pids), time.perf_counter()
    report = runtime.cancel(cancel_id, "soak: cancel one journey")
    cancel_s, cancel_cpu = time.perf_counter() - t0, cpu_s(*pids) - cpu

    cpu, t0 = cpu_s(*pids), time.perf_counter()
    repaired = reconcile(runtime)
    reconcile_s, reconcile_cpu = time.perf_counter() - t0, cpu_s(*pids) - cpu
    http.close()
    return {
        "touches": sum(touches.values()),
        "touch_states": dict(touches),
        "moments": len(moments),
        "largest_moment": max((n for _, n in moments), default=0),
        "prefect_runs": sum(runs.values()),
        "runs": dict(runs),
        "reconcile": {
            "seconds": round(reconcile_s, 2),
            "server_cpu_s": round(reconcile_cpu, 2),
            "repairs": dict(repaired.counts),
        },
        "cancel_ms": round(cancel_s * 1000, 1),
        "cancel_server_cpu_ms": round(cancel_cpu * 1000, 1),
        "cancelled": dict(report.counts),
        "status_one_s": status_one,
        "status_all_s": status_all,
        "status_one_work_ms": status_work,
        "serve_poll_ms": serve_poll,
        "pool_poll_ms": pool_poll,
        "server_rss_mb": rss_mb(pids[0]),
        "prefect_db_mb": s.pg_size_mb("prefect"),
        "ledger_db_mb": s.pg_size_mb("ledger"),
    }


def _status_work(runtime: Any, deal: str, repeat: int = 3) -> float:
    """The median ms of what `hundred status <deal>` reads once it has started (the journey, its
    touches, its story): the part that could grow with the ledger; the rest is Python's start."""
    from hundred import bootstrap

    figures = bootstrap.figures(runtime.settings, ledger_=runtime.ledger)
    took = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        runtime.ledger.journey(deal)
        runtime.ledger.touches(deal)
        figures.story(deal)
        took.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(took), 1)


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
