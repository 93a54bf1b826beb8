"""Burst: N touches due at one moment, delivered to a real SMTP server: how late, and at what CPU.

    nice -n 5 .venv/bin/python bench/burst.py                         # 1,000 touches, embedded shape
    nice -n 5 .venv/bin/python bench/burst.py --shape pool --json     # PostgreSQL and two workers
    .venv/bin/python bench/burst.py --touches 100                     # a quick look

A bench journey (`burst`, written into the bench's own journeys folder) has four email touches at
the same local time T, a whole minute 20-30 s (--lead) after the deals will be in; N/4 deals go in
through hundred's own path (`Runtime.deal_closed` with the Prefect scheduler: touches in the
ledger with their moment, the moment's `deliver` runs in Prefect), so all N touches fall due at T.
Nothing is faked at the edges: a real SMTP server (aiosmtpd, in this process) receives the mail.

- embedded: `hundred up` (a SQLite Prefect server, `python -m flows.serve`, the web app; the
  ledger a SQLite file in its home), the shape a single host runs.
- pool: PostgreSQL holding the Prefect server's database and the ledger, `prefect deploy --all`
  from prefect.yaml to a process work pool, two `prefect worker start` (limit 4 each), as
  tests/test_scaleout.py starts them.

Measured from T: when the last email arrived, each touch's lateness (arrival − T; p50/p95),
duplicates (a Message-ID received twice) and lost (expected, never received), and the CPU every
process of the shape spent (Prefect server, PostgreSQL, serve or the workers with their flow-run
processes, the web app) from 5 s before T until the moment's runs have all ended, divided by N.
Beside it `floor_cpu_s`, the machine's speed before and after (`stack.floor_cpu_s`): CPU seconds
stretch on a busy shared host, so compare two runs' figures only with their floors.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import REPO, closed_deal, cpu_s, floor_cpu_s, percentile  # also puts tests/ on the path

ZONE = "Europe/Amsterdam"  # the zone of home_files.always_open_journey's journeys
TOUCHES = ("one", "two", "three", "four")
TOUCH = '      - {{id: {id}, day: {day}, at: "{at}", channel: email, subject: "{id} {{{{ contact.first_name }}}}", template: emails/burst.html}}'
WAITING = ("SCHEDULED", "PENDING", "RUNNING")


class Inbox:
    """A real SMTP server's arrivals: (Message-ID, epoch seconds)."""

    def __init__(self) -> None:
        self.arrived: list[tuple[str, float]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import email

        msg = email.message_from_bytes(envelope.original_content)
        with self.lock:
            self.arrived.append((str(msg["Message-ID"]), time.time()))
        return "250 OK"


def write_journey(root: Path, at: datetime) -> None:
    """The bench journey, its four touches at `at` (a whole minute), beside the shipped ones."""
    from home_files import HELLO, always_open_journey, write_home

    local = at.astimezone(ZoneInfo(ZONE))
    day = (local.date() - datetime.now(ZoneInfo(ZONE)).date()).days
    lines = "".join(TOUCH.format(id=t, day=day, at=f"{local:%H:%M}") + "\n" for t in TOUCHES)
    journey = always_open_journey("burst", "Burst", "  - phase: admit\n    touches:\n" + lines)
    write_home(root, "burst.yaml", journey, {"emails/burst.html": HELLO})


def hundred_env(root: Path, smtp_port: int, ledger_url: str | None) -> dict[str, str]:
    from home_files import home_env

    env = {**home_env(root, smtp_port), "HUNDRED_PRINT_PASSWORD": "bench-not-used-123"}
    if ledger_url:
        env["HUNDRED_DATABASE_URL"] = ledger_url
    return env


@contextlib.contextmanager
def embedded(root: Path, env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """`hundred up` on free ports; parts: the process trees of its Prefect server, serve and web app."""
    from prefect_server import free_port, http_get, start_logged, stop_group, wait_for

    port, prefect_port = free_port(), free_port()
    child = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "HUNDRED_"))} | env
    log = root / "up.log"
    hundred = str(Path(sys.executable).parent / "hundred")
    up = start_logged([hundred, "up", "--port", str(port), "--prefect-port", str(prefect_port)], log, child, root)
    api = f"http://127.0.0.1:{prefect_port}/api"
    try:
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 300, "hundred up", up, log, 0.5)
        wait_for(lambda: _ready(api), 120, "serve to poll its deployments", up, log, 0.5)
        parts = json.loads((root / "home" / "up.json").read_text())["parts"]
        yield {
            "api": api,
            "ledger": f"sqlite:///{root / 'home' / 'ledger.db'}",
            "parts": {name: [parts[name]["pid"]] for name in ("prefect", "serve", "web")},
        }
    finally:
        stop_group(up, timeout=30)


def _ready(api: str) -> bool:
    from prefect_server import http_get

    status, body = http_get(f"{api}/deployments/name/deliver/deliver")
    return status == 200 and json.loads(body).get("status") == "READY"


@contextlib.contextmanager
def pool(root: Path, env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """PostgreSQL, the Prefect server on it, prefect.yaml deployed to the `hundred` pool, two workers."""
    from pgcluster import start_cluster
    from prefect_pool import asyncpg_url, running_pool

    cluster = start_cluster()
    try:
        ledger = cluster.create_database("ledger")
        prefect_db = asyncpg_url(cluster.create_database("prefect"))
        with running_pool(root / "pool", prefect_db, {**env, "HUNDRED_DATABASE_URL": ledger}) as p:
            workers = [p.start_worker(name, limit=4) for name in ("worker-a", "worker-b")]
            postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
            yield {
                "api": p.api_url,
                "ledger": ledger,
                "pool": p,
                "parts": {
                    "prefect": [p.server.proc.pid],
                    "postgresql": [postmaster],
                    "workers": [w.pid for w in workers],
                },
            }
    finally:
        cluster.stop()


def put_deals(env: dict[str, str], api: str, ledger_url: str, deals: int, threads: int = 3) -> None:
    """The deals in through `Runtime.deal_closed`, one Runtime (ledger, scheduler) per thread."""
    from hundred import bootstrap
    from hundred.adapters.ledger import Ledger
    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.service.settings import Settings

    settings = Settings(
        home=Path(env["HUNDRED_HOME"]),
        journeys_dir=Path(env["HUNDRED_JOURNEYS_DIR"]),
        templates_dir=Path(env["HUNDRED_TEMPLATES_DIR"]),
        database_url=ledger_url,
        day_seconds=None,
    )
    example = json.loads((REPO / "examples" / "deal-nl.json").read_text(encoding="utf-8"))
    local, opened = threading.local(), []

    def put(i: int) -> None:
        if not hasattr(local, "rt"):
            local.rt = bootstrap.runtime(settings, ledger_=Ledger.open(ledger_url), scheduler_=PrefectScheduler(api))
            opened.append(local.rt)
        payload = {**closed_deal(example, i, "BURST"), "journey": "burst"}
        payload["closed_at"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
        local.rt.deal_closed(payload)

    try:
        with ThreadPoolExecutor(threads) as workers:
            list(workers.map(put, range(deals)))
    finally:
        for rt in opened:
            rt.scheduler.close()
            rt.ledger.close()


def deliver_runs(api: str) -> list[dict[str, Any]]:
    dep = httpx.get(f"{api}/deployments/name/deliver/deliver", timeout=30).json()
    body = {"deployments": {"id": {"any_": [dep["id"]]}}, "limit": 200}
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30).json()


def burst(shape: str, touches: int, lead: float, timeout: float, keep: Path | None) -> dict[str, Any]:
    from aiosmtpd.controller import Controller
    from prefect_server import free_port

    deals = math.ceil(touches / len(TOUCHES))
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    root = Path(tempfile.mkdtemp(prefix=f"hundred-burst-{shape}-"))
    try:
        for folder in ("journeys", "templates"):
            shutil.copytree(REPO / folder, root / folder)
        env = hundred_env(root, smtp.port, None)
        with embedded(root, env) if shape == "embedded" else pool(root, env) as s:
            fill_at = time.time()  # the journey is read as each deal goes in: T is set now
            at = datetime.fromtimestamp(math.ceil((fill_at + deals * 0.1 + lead) / 60) * 60, UTC)
            write_journey(root, at)
            put_deals(env, s["api"], s["ledger"], deals)
            result = measure(s, inbox, at.timestamp(), deals, timeout)
            result["setup_s"] = round(result.pop("filled") - fill_at, 1)
    finally:
        smtp.stop()
        if keep:
            shutil.copytree(root, keep / root.name, ignore=shutil.ignore_patterns("*.sock*"), dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
    return {"shape": shape, **result}


def task_runs(api: str) -> int:
    return int(httpx.post(f"{api}/task_runs/count", json={}, timeout=30).json())


def measure(s: dict[str, Any], inbox: Inbox, T: float, deals: int, timeout: float) -> dict[str, Any]:
    """From the deals in to the moment's runs ended: CPU idle before T, CPU from T − 5 s on, arrivals."""
    filled = time.time()
    if filled > T - 5:
        raise SystemExit(f"the deals went in {filled - T + 5:.0f} s too late for T; raise --lead")
    time.sleep(2)

    def cpu() -> dict[str, float]:
        return {name: cpu_s(*pids) for name, pids in s["parts"].items()}

    idle0, idle_at = cpu(), time.time()
    while time.time() < T - 5:
        time.sleep(0.2)
    cpu0 = cpu()
    idle = {name: round((cpu0[name] - idle0[name]) / (time.time() - idle_at), 3) for name in cpu0}
    load = os.getloadavg()
    expected = {f"<BURST-{i:05d}.burst.{t}@example.nl>" for i in range(deals) for t in TOUCHES}
    deadline = T + timeout
    while time.time() < deadline and len(expected & {m for m, _ in inbox.arrived}) < len(expected):
        time.sleep(0.5)
    while time.time() < deadline and any(r["state_type"] in WAITING for r in deliver_runs(s["api"])):
        time.sleep(0.5)
    ended = time.time()
    # Prefect records a task run from the events its client sends, behind the runs: its work
    # counts too, until every touch's task run is recorded (or the deadline)
    while time.time() < deadline and task_runs(s["api"]) < len(expected):
        time.sleep(0.5)
    recorded = time.time()
    used = {name: round(v - cpu0[name], 2) for name, v in cpu().items()}
    time.sleep(5)  # a touch delivered twice would arrive meanwhile
    runs = deliver_runs(s["api"])
    received = collections.Counter(m for m, _ in inbox.arrived)
    first: dict[str, float] = {}
    for m, t in inbox.arrived:
        first.setdefault(m, t)
    late = [first[m] - T for m in expected if m in first]
    by = collections.Counter((r.get("labels") or {}).get("prefect.worker.name", "serve") for r in runs)
    return {
        "touches": len(expected),
        "seconds_to_last": round(max(late), 1) if late else None,
        "cpu_ms_per_touch": round(sum(used.values()) * 1000 / len(expected), 1),
        "late_p50_s": round(percentile(late, 50), 1),
        "late_p95_s": round(percentile(late, 95), 1),
        "duplicates": sum(n - 1 for n in received.values()),
        "lost": len(expected - set(received)),
        "deals": deals,
        "cpu_s_by_part": used,
        "idle_cpu_s_per_s": idle,  # before T, nothing due: what the shape costs doing nothing
        "runs_done_after_s": round(ended - T, 1),
        "task_runs_recorded_after_s": round(recorded - T, 1),
        "deliver_runs": dict(collections.Counter(r["state_name"] for r in runs)),
        "runs_per_runner": dict(by),
        "run_started_late_s": sorted(round(_stamp(r["start_time"]) - T, 1) for r in runs if r["start_time"]),
        "run_seconds": sorted(round(r["total_run_time"], 1) for r in runs),
        "task_runs": task_runs(s["api"]),
        "ledger": ledger_states(s["ledger"]),
        "unexpected": len(set(received) - expected),
        "load_at_T": [round(x, 2) for x in load],
        "filled": filled,
    }


def _stamp(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def ledger_states(url: str) -> dict[str, int]:
    from hundred.adapters.ledger import Ledger

    ledger = Ledger.open(url)
    try:
        return dict(collections.Counter(t.state for t in ledger.touches()))
    finally:
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--touches", type=int, default=1000, help="touches due at one moment (default 1000)")
    parser.add_argument("--shape", choices=["embedded", "pool"], default="embedded")
    parser.add_argument("--lead", type=float, default=25.0, help="seconds between the deals in and T (about)")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up this long after T")
    parser.add_argument("--keep", type=Path, help="copy the run's folder (logs, ledger) here")
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    args = parser.parse_args()
    floor = floor_cpu_s()
    result = burst(args.shape, args.touches, args.lead, args.timeout, args.keep)
    result["floor_cpu_s"] = [floor, floor_cpu_s()]  # the machine's speed before and after (stack.py)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['shape']}: {result['touches']} touches of {result['deals']} deals due at one moment; the last "
        f"arrived {result['seconds_to_last']} s after it (p50 {result['late_p50_s']} s, p95 {result['late_p95_s']} s); "
        f"duplicates {result['duplicates']}, lost {result['lost']}\n"
        f"CPU {result['cpu_ms_per_touch']} ms a touch ({result['cpu_s_by_part']} s) until the moment's runs ended "
        f"{result['runs_done_after_s']} s after it; deliver runs {result['deliver_runs']} "
        f"({result['runs_per_runner']}); {result['task_runs']} task runs; ledger {result['ledger']}; "
        f"load {result['load_at_T']}; the machine's import floor {result['floor_cpu_s']} s CPU before and after"
    )


if __name__ == "__main__":
    main()
