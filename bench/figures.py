"""How fast the journeys' figures are: `/journeys` and one customer's page with 2,000 journeys.

    nice -n 5 .venv/bin/python bench/figures.py                 # SQLite and PostgreSQL, 2,000 journeys
    .venv/bin/python bench/figures.py --db sqlite --deals 200   # a quicker look
    .venv/bin/python bench/figures.py --json                    # one line of JSON

Goals: `/journeys` within 300 ms and one deal's page within 150 ms, on SQLite and on
PostgreSQL (a throwaway cluster, tests/pgcluster.py).

The ledger is filled the way production fills it: `hundred.bootstrap.runtime` on the real ledger,
with the simulator's in-memory scheduler and a clock the bench moves, plays N customers of the
shipped journey (first-100-days, two thirds Dutch, one third English) received over the last
140 days, with real channels (emails and task mails into an outbox folder, letters as PDFs).
People act as people do: print staff post most letters on their print-by day, some days late,
a few never; account managers do most tasks on the day, some late, a few never; one journey in
twenty is cancelled; every thirtieth new deal names an earlier customer in `referred_by`. So the
ledger holds journeys at every stage: just started, in the middle, done, and exited.

Then it asks the web app (in process, through its ASGI interface with the print room's bearer
token) for `/journeys` and for deal pages, `--repeat` times each, and reports the median and the
95th percentile; the first (cold) request is reported apart. Filling takes a while (minutes per
1,000 journeys: every touch renders and delivers; its files go to /dev/shm where there is one);
`--keep DIR` keeps the SQLite ledger there.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(REPO),
    str(REPO / "tests"),
]  # the package from a checkout; the tests' PostgreSQL starter, home settings

from home_files import home_settings  # noqa: E402

from hundred import bootstrap  # noqa: E402
from hundred.service.settings import Settings  # noqa: E402
from hundred.service.simulate import VirtualScheduler  # noqa: E402

GOAL_PAGE_MS, GOAL_DEAL_MS = 300.0, 150.0
TOKEN = "bench-figures-token-0123456789"
# in memory where there is a tmpfs: every email, task mail and letter is fsynced as it is written,
# which on a disk is much of the fill's time and none of what is measured
SHM = Path("/dev/shm")
SPAN_DAYS = 140
JOURNEYS = (("first-100-days", "examples/deal-nl.json"), ("first-100-days-en", "examples/deal-en.json"))
NAMES = ["Ilse", "Daan", "Sanne", "Bram", "Femke", "Joris", "Lotte", "Ruben"]
OWNERS = [("Sanne de Vries", "sanne@example.nl"), ("Piet Bakker", "piet@example.nl"), ("Eva Smit", "eva@example.nl")]


class Fill:
    """Plays N customers through the runtime on the bench's clock; people act on their cues."""

    def __init__(self, settings: Settings, ledger: Any, deals: int, seed: int = 20):
        self.now = [datetime.now(UTC) - timedelta(days=SPAN_DAYS)]
        self.end = datetime.now(UTC)
        self.ledger = ledger
        ledger.clock = self.clock
        self.runtime = bootstrap.runtime(settings, ledger_=ledger, scheduler_=VirtualScheduler(), clock=self.clock)
        self.deals = deals
        self.rng = random.Random(seed)
        self.heap: list[tuple[datetime, int, str, tuple[Any, ...]]] = []
        self.seq = itertools.count()
        self.queued: set[tuple[str, str]] = set()
        self.asked: list[str] = []  # deals whose referral ask went out
        self.examples = {j: json.loads((REPO / path).read_text(encoding="utf-8")) for j, path in JOURNEYS}

    def clock(self) -> datetime:
        return self.now[0]

    def at(self, when: datetime, kind: str, *what: Any) -> None:
        heapq.heappush(self.heap, (when, next(self.seq), kind, what))

    def deal(self, i: int) -> dict[str, Any]:
        journey = JOURNEYS[0][0] if i % 3 else JOURNEYS[1][0]
        example = self.examples[journey]
        owner = OWNERS[i % len(OWNERS)]
        payload = {
            **example,
            "id": f"B-{i:05d}",
            "journey": journey,
            "closed_at": self.now[0].isoformat(timespec="seconds"),
            "segment": "ABC"[i % 3],
            "owner": {**example["owner"], "name": owner[0], "email": owner[1]},
            "contact": {**example["contact"], "first_name": NAMES[i % len(NAMES)], "email": f"klant{i}@example.com"},
        }
        if i % 30 == 29 and self.asked:
            payload["referred_by"] = self.rng.choice(self.asked)
        return payload

    def watch(self, deal_id: str) -> None:
        """Queue the deal's touches that have a due moment and are not queued yet."""
        for t in self.ledger.touches(deal_id, states=["planned", "scheduled"]):
            if (deal_id, t.touch_id) not in self.queued and t.due is not None:
                self.queued.add((deal_id, t.touch_id))
                self.at(t.due, "run", deal_id, t.touch_id)

    def after_run(self, deal_id: str, touch_id: str, state: str, channel: str) -> None:
        """What a person does next: post the letter, do the task (or not, or late)."""
        if state != "running":
            if state == "delivered" and touch_id.startswith("referral"):
                self.asked.append(deal_id)
            return
        roll = self.rng.random()
        if channel == "letter":
            letter = self.ledger.letter(f"{deal_id}/{touch_id}")
            if letter is None or roll > 0.97:
                return  # never posted: an overdue letter
            day = letter.print_by or self.now[0].date()
            late = 0 if roll < 0.88 else self.rng.randint(1, 4)
            moment = datetime.combine(day + timedelta(days=late), datetime.min.time(), UTC) + timedelta(hours=15)
            self.at(max(moment, self.now[0]), "post", letter.letter_id)
        else:
            if roll > 0.95:
                return  # never done: an overdue task
            late = 0 if roll < 0.85 else self.rng.randint(1, 5)
            self.at(self.now[0] + timedelta(days=late, hours=2), "done", deal_id, touch_id)

    def run(self, progress: bool = True) -> None:
        span = self.end - self.now[0]
        for i in range(self.deals):
            self.at(self.now[0] + span * i / self.deals, "close", i)
            if self.rng.random() < 0.05:
                self.at(self.now[0] + span * i / self.deals + timedelta(days=self.rng.randint(2, 60)), "cancel", i)
        done, started = 0, time.monotonic()
        while self.heap and self.heap[0][0] <= self.end:
            when, _, kind, what = heapq.heappop(self.heap)
            self.now[0] = max(self.now[0], when)
            if kind == "close":
                result = self.runtime.deal_closed(self.deal(what[0]))
                self.watch(result.deal)
                done += 1
                if progress and done % 100 == 0:
                    print(f"  {done} journeys filled ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
            elif kind == "run":
                deal_id, touch_id = what
                outcome = self.runtime.run_touch(deal_id, touch_id)
                row = self.ledger.touch(deal_id, touch_id)
                self.after_run(deal_id, touch_id, outcome.state, row.channel if row else "")
                self.watch(deal_id)
            elif kind == "post":
                self.runtime.letter_posted(what[0])
                self.watch(what[0].split("/")[0])
            elif kind == "done":
                if self.ledger.touch(*what).state in ("running", "scheduled", "failed"):
                    self.runtime.task_done(*what)
                self.watch(what[0])
            elif kind == "cancel":
                deal_id = f"B-{what[0]:05d}"
                if self.ledger.journey(deal_id) is not None:
                    self.runtime.cancel(deal_id, self.rng.choice(["churned", "deal lost", "duplicate deal"]))
        self.now[0] = self.end


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(settings: Settings, ledger: Any, repeat: int) -> dict[str, Any]:
    """Time the web app's answers to /journeys and to deal pages (in process, over ASGI)."""
    from starlette.testclient import TestClient

    from hundred.web import create_app

    app = create_app(settings.home, settings=settings.model_copy(), figures=bootstrap.figures(settings, ledger_=ledger))
    headers = {"authorization": f"Bearer {TOKEN}"}
    deals = [j.deal_id for j in ledger.journeys()]
    sample = [deals[i] for i in range(0, len(deals), max(1, len(deals) // repeat))][:repeat]
    out: dict[str, Any] = {}
    with TestClient(app) as client:
        for name, paths in (
            ("journeys", ["/journeys"] * (repeat + 1)),
            ("deal", [f"/journeys/{ledger.journey(d).journey_id}/deals/{d}" for d in sample[:1] + sample]),
        ):
            times = []
            for path in paths:
                started = time.perf_counter()
                answer = client.get(path, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            warm = times[1:]
            out[name] = {
                "cold_ms": round(times[0], 1),
                "median_ms": round(statistics.median(warm), 1),
                "p95_ms": round(percentile(warm, 0.95), 1),
                "bytes": len(answer.content),
            }
    out["journeys"]["goal_ms"], out["deal"]["goal_ms"] = GOAL_PAGE_MS, GOAL_DEAL_MS
    out["journeys"]["ok"] = out["journeys"]["median_ms"] <= GOAL_PAGE_MS
    out["deal"]["ok"] = out["deal"]["median_ms"] <= GOAL_DEAL_MS
    return out


def copy_ledger(source: Any, target: Any) -> None:
    """Every row of the source ledger into the (empty, migrated) target, table by table."""
    from sqlalchemy import insert, select

    from hundred.adapters.ledger.models import Base

    with source.engine.connect() as read, target.engine.begin() as write:
        for table in Base.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in read.execute(select(table))]
            for start in range(0, len(rows), 2000):
                write.execute(insert(table), rows[start : start + 2000])
        if write.dialect.name == "postgresql":  # the copied ids: let new rows carry on after them
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement:
                    write.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {table.name}), 1))"
                    )


def filled_sqlite(deals: int, keep: Path | None, root: Path, progress: bool) -> tuple[str, float]:
    """A SQLite ledger holding `deals` journeys played through the runtime (reused from `keep`
    when an earlier run left one of that size there); its URL and the seconds the fill took."""
    from hundred.adapters.ledger import Ledger

    folder = keep or root
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / f'ledger-{deals}.db'}"
    ledger = Ledger.open(url)
    try:
        if len(ledger.journeys()) >= deals:
            return url, 0.0
        started = time.monotonic()
        settings = bench_settings(root, url)
        Fill(settings, ledger, deals).run(progress)
        return url, time.monotonic() - started
    finally:
        ledger.close()


def bench_settings(root: Path, url: str) -> Settings:
    settings: Settings = home_settings(
        root,
        journeys_dir=REPO / "journeys",
        templates_dir=REPO / "templates",
        database_url=url,
        print_token=TOKEN,
        print_password="bench figures password",
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings


def one(db: str, deals: int, repeat: int, keep: Path | None, progress: bool, fill_each: bool) -> dict[str, Any]:
    from hundred.adapters.ledger import Ledger

    root = Path(tempfile.mkdtemp(prefix=f"hundred-bench-figures-{db}-", dir=SHM if SHM.is_dir() else None))
    cluster = None
    try:
        filled = 0.0
        if db == "sqlite" or not fill_each:
            sqlite_url, filled = filled_sqlite(deals, keep, root, progress)
        if db == "postgresql":
            from pgcluster import start_cluster

            cluster = start_cluster()
            url = cluster.create_database("ledger")
        else:
            url = sqlite_url
        settings = bench_settings(root, url)
        ledger = Ledger.open(url)
        if db == "postgresql" and fill_each:
            started = time.monotonic()
            Fill(settings, ledger, deals).run(progress)
            filled = time.monotonic() - started
        elif db == "postgresql":  # the very rows the runtime wrote to SQLite: both timed on one ledger
            source = Ledger.open(sqlite_url)
            copy_ledger(source, ledger)
            source.close()
        if db == "postgresql":
            # a ledger in use has its statistics (autovacuum gathers them within a minute of a
            # fill); a fresh copy has none, and autovacuum would gather them mid-measurement
            with ledger.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        ledger.clock = lambda: datetime.now(UTC)
        counts = ledger.counts()
        result = {
            "db": db,
            "in_ledger": len(ledger.journeys()),
            "touches": sum(counts.values()),
            "fill_s": round(filled, 1),
            "filled": "runtime" if db == "sqlite" or fill_each else "copied from the SQLite fill",
            **measure(settings, ledger, repeat),
        }
        ledger.close()
        return result
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=2000, help="journeys to fill the ledger with (default 2000)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (default 20)")
    parser.add_argument("--keep", type=Path, help="keep the filled SQLite ledger in this folder (and reuse it)")
    parser.add_argument(
        "--fill-each", action="store_true", help="play the journeys through the runtime on PostgreSQL too (slow)"
    )
    parser.add_argument("--json", action="store_true", help="print one line of JSON")
    args = parser.parse_args()
    results = []
    store = args.keep or Path(tempfile.mkdtemp(prefix="hundred-bench-figures-", dir=SHM if SHM.is_dir() else None))
    try:
        for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            print(f"{db}: {args.deals} journeys …", file=sys.stderr, flush=True)
            results.append(one(db, args.deals, args.repeat, store, progress=True, fill_each=args.fill_each))
    finally:
        if args.keep is None:
            shutil.rmtree(store, ignore_errors=True)
    if args.json:
        print(json.dumps({"deals": args.deals, "results": results}))
        return
    for r in results:
        print(
            f"{r['db']:<10} {r['in_ledger']} journeys, {r['touches']} touches (filled in {r['fill_s']} s)\n"
            f"  /journeys   median {r['journeys']['median_ms']} ms, p95 {r['journeys']['p95_ms']} ms, "
            f"cold {r['journeys']['cold_ms']} ms (goal {GOAL_PAGE_MS:g} ms: {'ok' if r['journeys']['ok'] else 'MISSED'})\n"
            f"  deal page   median {r['deal']['median_ms']} ms, p95 {r['deal']['p95_ms']} ms, "
            f"cold {r['deal']['cold_ms']} ms (goal {GOAL_DEAL_MS:g} ms: {'ok' if r['deal']['ok'] else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
