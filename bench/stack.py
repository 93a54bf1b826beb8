"""The server stack the load benchmarks run on: a Prefect server and a ledger, on SQLite or PostgreSQL.

`stack("postgresql")` starts a throwaway PostgreSQL cluster (tests/pgcluster.py) with two
databases, `prefect` (the Prefect server's, through asyncpg) and `ledger` (hundred's, through
psycopg), then a Prefect server on it (tests/prefect_server.py), the same starters the tests use.
The shipped journeys and templates are copied in at the start. `stack("sqlite")` is the local shape: a SQLite Prefect server and a SQLite ledger file. Both
register hundred's deployments; with `work_pool` they are deployed to a process work pool (the
scale-out shape of prefect.yaml) so a worker's poll can be measured too. Nothing is served: the
runs stay scheduled unless a benchmark starts `python -m flows.serve` itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # the package from a checkout; the tests' starters

from pgcluster import Cluster, start_cluster  # noqa: E402
from prefect_server import PrefectServer, each_process, start_prefect_server  # noqa: E402

NAMES = ["Ilse", "Daan", "Sanne", "Bram", "Femke", "Joris", "Lotte", "Ruben"]
PLACES = [
    ("NL", "8011 AB", "Zwolle"),
    ("NL", "1012 JS", "Amsterdam"),
    ("BE", "2000", "Antwerpen"),
    ("NL", "3511 LX", "Utrecht"),
]


def closed_deal(example: dict[str, Any], i: int, prefix: str) -> dict[str, Any]:
    """Deal i: the shipped example with its own id, segment, contact and address, closed now."""
    country, postcode, city = PLACES[i % len(PLACES)]
    name = NAMES[i % len(NAMES)]
    return {
        **example,
        "id": f"{prefix}-{i:05d}",
        "closed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "segment": "AB"[i % 2],
        "amount": f"{5000 + 37 * i}.00",
        "contact": {**example["contact"], "first_name": name, "email": f"{name.lower()}.{i}@example.nl"},
        "company": {"name": f"Klant {i} B.V."},
        "address": {**example["address"], "postcode": postcode, "city": city, "country": country},
    }


@dataclass
class Stack:
    db: str  # "sqlite" or "postgresql"
    root: Path  # a temporary folder for everything of this stack
    server: PrefectServer
    ledger_url: str
    cluster: Cluster | None

    @property
    def api_url(self) -> str:
        return self.server.api_url

    def settings(self, **values: Any) -> Any:
        """hundred's settings for this stack: the shipped journeys and templates, the stack's ledger."""
        from hundred.service.settings import Settings

        base = dict(
            home=self.root / "home",
            journeys_dir=self.root / "journeys",
            templates_dir=self.root / "templates",
            database_url=self.ledger_url,
            day_seconds=None,
        )
        base.update(values)
        settings = Settings(**base)
        settings.home.mkdir(parents=True, exist_ok=True)
        return settings

    def env(self) -> dict[str, str]:
        """The environment a `hundred` command needs to see this stack."""
        return {
            "HUNDRED_HOME": str(self.root / "home"),
            "HUNDRED_DATABASE_URL": self.ledger_url,
            "HUNDRED_JOURNEYS_DIR": str(self.root / "journeys"),
            "HUNDRED_TEMPLATES_DIR": str(self.root / "templates"),
            "PREFECT_API_URL": self.api_url,
        }

    def server_pids(self) -> list[int]:
        """The Prefect server's process, and PostgreSQL's postmaster when there is one."""
        pids = [self.server.proc.pid]
        if self.cluster is not None:
            pids.append(int((self.cluster.data / "postmaster.pid").read_text().split()[0]))
        return pids

    def pg_size_mb(self, database: str) -> float | None:
        """The size of one of the cluster's databases, in MB (None on SQLite)."""
        if self.cluster is None:
            return None
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.cluster.port} user=postgres dbname={database}") as conn:
            row = conn.execute("SELECT pg_database_size(%s)", (database,)).fetchone()
        return round(row[0] / 1e6, 1) if row else None


def use_prefect(api_url: str, prefect_home: Path) -> None:
    """Point this process's Prefect client at the server (before anything imports prefect)."""
    os.environ["PREFECT_API_URL"] = api_url
    os.environ["PREFECT_HOME"] = str(prefect_home)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@contextlib.contextmanager
def stack(db: str, *, work_pool: str | None = None) -> Iterator[Stack]:
    """A running stack; everything (cluster, server, files) is gone when the block ends, also
    when the benchmark is stopped with SIGTERM (which then ends it as SystemExit)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix=f"hundred-bench-{db}-"))
    cluster = server = None
    try:
        for folder in ("journeys", "templates"):  # a copy: a long run does not see the checkout change
            shutil.copytree(REPO / folder, root / folder)
        if db == "postgresql":
            cluster = start_cluster()
            prefect_url = cluster.create_database("prefect").replace("+psycopg", "+asyncpg")
            ledger_url = cluster.create_database("ledger")
        elif db == "sqlite":
            prefect_url, ledger_url = None, f"sqlite:///{root / 'ledger.db'}"
        else:
            raise ValueError(f"unknown database {db!r}: sqlite or postgresql")
        server = start_prefect_server(root / "prefect", database_url=prefect_url)
        use_prefect(server.api_url, root / "prefect")
        made = Stack(db, root, server, ledger_url, cluster)
        register_deployments(made, work_pool)
        yield made
    finally:
        if server is not None:
            server.stop()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def register_deployments(made: Stack, work_pool: str | None) -> None:
    """hundred's deployments on the server, as `flows.serve` registers them (or on a process pool)."""
    from flows.serve import deployments

    if work_pool:
        env = {k: v for k, v in os.environ.items()}
        subprocess.run(
            [sys.executable, "-m", "prefect", "work-pool", "create", work_pool, "--type", "process"],
            env=env,
            cwd=made.root,
            check=True,
            capture_output=True,
            timeout=120,
        )
    for deployment in deployments():
        deployment.apply(work_pool_name=work_pool) if work_pool else deployment.apply()


def _tree(pid: int) -> list[list[str]]:
    """The /proc stat fields (from the state on) of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for each, raw in each_process("stat"):
        stat = raw.decode()
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(each)
        stats[each] = fields
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in stats:
            found.append(stats[p])
        todo += children.get(p, [])
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    return round(sum(int(f[21]) for f in _tree(pid)) * os.sysconf("SC_PAGE_SIZE") / 1e6, 1)


def cpu_s(*pids: int) -> float:
    """CPU seconds (user + system) used so far by these processes, their living descendants and
    the descendants that ended and were waited for (a flow run's process, a PostgreSQL backend:
    the kernel adds their time to the parent's cutime/cstime): the work a call costs, whatever
    else the machine is busy with."""
    ticks = sum(int(f[11]) + int(f[12]) + int(f[13]) + int(f[14]) for pid in pids for f in _tree(pid))
    return ticks / os.sysconf("SC_CLK_TCK")


def floor_cpu_s(runs: int = 5) -> float:
    """This machine's speed right now: the median CPU seconds of a Python that imports pydantic,
    jinja2, typer, yaml and babel (bytecode cached). A shared host's CPU seconds stretch when its
    neighbours are busy (here from 0.13 to 0.19 s within an hour), and a figure in CPU stretches
    with them; printed beside it, two figures from different hours can be compared."""
    import resource
    import statistics

    command = [sys.executable, "-c", "import pydantic, jinja2, typer, yaml, babel"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    took = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, env=env, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        took.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return round(statistics.median(took), 3)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]
