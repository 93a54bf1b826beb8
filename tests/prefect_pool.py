"""hundred's scale-out shape for tests: a Prefect server on PostgreSQL, the `hundred` process work
pool, `prefect deploy --all` from the repository's prefect.yaml, and N `prefect worker` processes.

Everything is done the way prefect.yaml tells an operator to, with the real CLI in subprocesses:

    pool = start_pool(root, prefect_db_url, hundred_env)   # server + work pool + deploy --all
    a = pool.start_worker("worker-a", limit=4)             # `prefect worker start --pool hundred`
    b = pool.start_worker("worker-b", limit=4)
    ...
    pool.stop()                                            # every worker, then the server

or `with running_pool(root, prefect_db_url, hundred_env) as pool: ...`.

API (kept backward compatible; fault tests build on it):

- `start_pool(root, database_url, hundred_env, *, name="hundred", deploy=True) -> Pool`
  `database_url` is the Prefect server's ("postgresql+asyncpg://postgres@127.0.0.1:PORT/DB", see
  `asyncpg_url`); `hundred_env` holds the HUNDRED_* settings every worker (and so every flow run:
  a process worker hands its environment down) gets: HUNDRED_DATABASE_URL, HUNDRED_HOME, …
- `Pool.api_url`, `Pool.server` (a tests/prefect_server.PrefectServer), `Pool.env` (the
  environment of the CLI and the workers), `Pool.workers` (name → Worker, started ones).
- `Pool.prefect(*args, check=True)`: the `prefect` CLI against this server, from the repo root.
- `Pool.create_pool()`, `Pool.deploy()`: `prefect work-pool create NAME --type process` and
  `prefect --no-prompt deploy --all` (start_pool does both unless deploy=False).
- `Pool.start_worker(name, *, limit=4, env=None, wait=True) -> Worker`: waits until the server
  lists the worker ONLINE in the pool. Its log is `root/workers/NAME.log`, its PREFECT_HOME
  `root/workers/NAME`; the worker is the leader of a new process group holding its flow runs.
- `Worker.stop(timeout=30)`: SIGTERM to the worker's group (a service manager stopping it),
  SIGKILL after `timeout`; flow runs left running are then killed, so none outlives a test.
  `Worker.kill()`: a host dying, SIGKILL to the worker and every flow run it is running.
  `Worker.flow_run_pids()`: its flow runs' processes now (Prefect 3.8 starts each in a session
  of its own, so signals to the worker's group do not reach them). `Worker.alive`, `Worker.pid`,
  `Worker.tail(lines)`.
- `Pool.stop_server()` / `Pool.start_server()` / `Pool.restart_server()`: the same port and
  database, so workers and flow runs find it again.
- `Pool.runs(deployment=None, **filters)`: flow runs as JSON dicts (POST /flow_runs/filter,
  paged); `Pool.worker_of(run)`: the name of the worker that submitted it (the
  `prefect.worker.name` label the worker gives the run), None if no worker took it.
- `Pool.count_runs(deployment=None, states=())`: how many runs, e.g. `count_runs("run-touch/run-touch",
  ("COMPLETED",))` (POST /flow_runs/count).
- `Pool.online_workers()`: names the server lists as ONLINE in the pool.
- `Pool.diagnostics()`: tails of the server's and every worker's log, for assertion messages.
- `Pool.stop()`: every worker at once (SIGTERM to all, SIGKILL to whatever is left after
  `WORKER_GRACE` seconds), then the server.

Worker timing: workers poll every PREFECT_WORKER_QUERY_SECONDS (2 here, Prefect's default is 10)
and fetch runs due within PREFECT_WORKER_PREFETCH_SECONDS (2), so compressed days stay on time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect_server import REPO, PrefectServer, base_env, http_get, start_prefect_server, stop_group, tail, wait_for

from hundred.service import deployments

POOL = "hundred"
QUERY_SECONDS = "2"
CLI_TIMEOUT = 240.0
WORKER_GRACE = 10.0  # seconds a stopping pool gives its workers before SIGKILL


def asyncpg_url(psycopg_url: str) -> str:
    """The Prefect server's driver for a database tests/pgcluster.py made (postgresql+psycopg://…)."""
    return psycopg_url.replace("postgresql+psycopg://", "postgresql+asyncpg://", 1)


def http_json(method: str, url: str, body: Any = None, timeout: float = 30.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (from /proc). Prefect 3.8's process worker starts each flow
    run in a session of its own (a workspace supervisor that execs `python -m prefect.engine`), so
    a signal to the worker's process group does not reach its flow runs."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def signal_all(pids: set[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


@dataclass
class Worker:
    """One `prefect worker start --pool NAME` process (leader of its own process group); its flow
    runs are its child processes, each in a session of its own."""

    name: str
    proc: subprocess.Popen
    log: Path
    limit: int

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def flow_run_pids(self) -> set[int]:
        """The processes of the flow runs this worker is running now (and anything they started)."""
        return descendants(self.pid) if self.alive else set()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to the worker's group, as a service manager stops it; SIGKILL after `timeout`.
        Flow runs still running when the worker has gone are killed too, so none outlives a test."""
        runs = self.flow_run_pids()
        stop_group(self.proc, signal.SIGTERM, timeout)
        signal_all(runs, signal.SIGKILL)

    def kill(self) -> None:
        """A host dying: SIGKILL to the worker and to every flow run it is running, mid-step."""
        runs = self.flow_run_pids()
        signal_all(runs, signal.SIGKILL)
        stop_group(self.proc, signal.SIGKILL, 5.0)
        signal_all(runs, signal.SIGKILL)

    def tail(self, lines: int = 40) -> str:
        return tail(self.log, lines)


@dataclass
class Pool:
    root: Path
    database_url: str
    env: dict[str, str]
    name: str = POOL
    server: PrefectServer | None = None
    port: int | None = None
    workers: dict[str, Worker] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        assert self.server is not None, "the Prefect server is not running"
        return self.server.api_url

    # -- the server ----------------------------------------------------------------------------

    def start_server(self) -> PrefectServer:
        settings = {k: v for k, v in self.env.items() if k.startswith("PREFECT_SERVER_")}
        self.server = start_prefect_server(
            self.root / "server", port=self.port, database_url=self.database_url, settings=settings
        )
        self.port = int(self.server.api_url.rsplit(":", 1)[1].split("/")[0])
        self.env["PREFECT_API_URL"] = self.server.api_url
        return self.server

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.stop()

    def restart_server(self) -> PrefectServer:
        self.stop_server()
        return self.start_server()

    # -- the operator's commands ---------------------------------------------------------------

    def prefect(self, *args: str, check: bool = True, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        """`prefect ARGS` against this server, run from the repository root as an operator would."""
        done = subprocess.run(
            [sys.executable, "-m", "prefect", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"prefect {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done

    def create_pool(self) -> None:
        self.prefect("work-pool", "create", self.name, "--type", "process")

    def deploy(self) -> subprocess.CompletedProcess:
        """`prefect deploy --all` with the repository's prefect.yaml; every deployment lands in the pool."""
        done = self.prefect("--no-prompt", "deploy", "--all")
        for name in deployments.ALL:
            dep = self.deployment(name)
            assert dep is not None, f"prefect deploy --all did not create {name}\n{done.stdout}\n{done.stderr}"
            assert dep.get("work_pool_name") == self.name, (
                f"{name} is not in pool {self.name}: {dep.get('work_pool_name')}"
            )
        return done

    def deployment(self, name: str) -> dict | None:
        status, body = http_get(f"{self.api_url}/deployments/name/{name}")
        return json.loads(body) if status == 200 else None

    # -- workers -------------------------------------------------------------------------------

    def start_worker(
        self, name: str, *, limit: int = 4, env: dict[str, str] | None = None, wait: bool = True, timeout: float = 120.0
    ) -> Worker:
        """`prefect worker start --pool NAME --name NAME --limit N` in a new process group."""
        home = self.root / "workers" / name
        home.mkdir(parents=True, exist_ok=True)
        child_env = dict(self.env, PREFECT_HOME=str(home))
        child_env.update(env or {})
        log = self.root / "workers" / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "worker",
                    "start",
                    "--pool",
                    self.name,
                    "--name",
                    name,
                    "--limit",
                    str(limit),
                    "--no-create-pool-if-not-found",
                ],
                cwd=REPO,
                env=child_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(name, proc, log, limit)
        self.workers[name] = worker
        if wait:
            wait_for(lambda: name in self.online_workers(), timeout, f"worker {name} to come online", proc, log, 0.5)
        return worker

    def online_workers(self) -> set[str]:
        try:
            rows = http_json("POST", f"{self.api_url}/work_pools/{self.name}/workers/filter", {}, timeout=10)
        except OSError:
            return set()
        return {w["name"] for w in rows if w.get("status") == "ONLINE"}

    # -- what ran where ------------------------------------------------------------------------

    def runs(self, deployment: str | None = None, **filters: Any) -> list[dict]:
        """Every flow run (optionally of one deployment, e.g. "run-touch/run-touch"), as JSON."""
        body: dict[str, Any] = dict(filters)
        if deployment:
            dep = self.deployment(deployment)
            assert dep is not None, f"no deployment {deployment}"
            body["deployments"] = {"id": {"any_": [dep["id"]]}}
        return self._every("flow_runs", body)

    def task_runs(self, **filters: Any) -> list[dict]:
        """Every task run the server holds (one per touch delivered), as JSON, paged like `runs`."""
        return self._every("task_runs", filters)

    def _every(self, kind: str, body: dict[str, Any]) -> list[dict]:
        """Every object `POST /{kind}/filter` finds with `body`, read 200 at a time."""
        found: list[dict] = []
        while True:
            page = http_json(
                "POST",
                f"{self.api_url}/{kind}/filter",
                {**body, "limit": 200, "offset": len(found), "sort": "ID_DESC"},
            )
            found.extend(page)
            if len(page) < 200:
                return found

    def count_runs(self, deployment: str | None = None, states: tuple[str, ...] = ()) -> int:
        """How many flow runs (of one deployment; in one of `states`, e.g. ("COMPLETED",)) the server holds."""
        body: dict[str, Any] = {}
        if deployment:
            dep = self.deployment(deployment)
            assert dep is not None, f"no deployment {deployment}"
            body["deployments"] = {"id": {"any_": [dep["id"]]}}
        if states:
            body["flow_runs"] = {"state": {"type": {"any_": list(states)}}}
        return int(http_json("POST", f"{self.api_url}/flow_runs/count", body))

    @staticmethod
    def worker_of(run: dict) -> str | None:
        return (run.get("labels") or {}).get("prefect.worker.name")

    def diagnostics(self, lines: int = 30) -> str:
        parts = [f"--- server log\n{tail(self.server.log if self.server else None, lines)}"]
        parts += [f"--- worker {w.name} (alive={w.alive})\n{w.tail(lines)}" for w in self.workers.values()]
        return "\n".join(parts)

    def stop(self) -> None:
        """Every worker at once, then the server. After a Prefect server restart, a SIGTERM'd
        worker's events client can wait on an event it never sends, so each worker waits out its
        grace period: stopped one by one, three of them cost a test module 90 s of teardown."""
        alive = [w for w in self.workers.values() if w.alive]
        runs = set().union(*(w.flow_run_pids() for w in alive))
        for worker in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + WORKER_GRACE
        for worker in alive:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.proc.wait(max(0.1, deadline - time.monotonic()))
        for worker in alive:
            stop_group(worker.proc, signal.SIGKILL, 5.0)
        signal_all(runs, signal.SIGKILL)
        self.stop_server()


def start_pool(
    root: Path, database_url: str, hundred_env: dict[str, str], *, name: str = POOL, deploy: bool = True
) -> Pool:
    """A PG-backed Prefect server with the work pool created and prefect.yaml deployed; no workers yet."""
    root.mkdir(parents=True, exist_ok=True)
    env = base_env(root / "cli")
    env.update({"PREFECT_WORKER_QUERY_SECONDS": QUERY_SECONDS, "PREFECT_WORKER_PREFETCH_SECONDS": QUERY_SECONDS})
    env.update(deployments.SERVER_SETTINGS)  # the server a pool's operator runs, as the README asks
    env.update(hundred_env)
    pool = Pool(root, database_url, env, name)
    pool.start_server()
    try:
        pool.create_pool()
        if deploy:
            pool.deploy()
    except BaseException:
        pool.stop()
        raise
    return pool


@contextlib.contextmanager
def running_pool(
    root: Path, database_url: str, hundred_env: dict[str, str], *, name: str = POOL, deploy: bool = True
) -> Iterator[Pool]:
    pool = start_pool(root, database_url, hundred_env, name=name, deploy=deploy)
    try:
        yield pool
    finally:
        pool.stop()
