"""A real Prefect server for the tests, and `python -m flows.serve` against it.

One server process per session (a subprocess on a free port, its own PREFECT_HOME and SQLite
file), started when the first test needs it; PREFECT_API_URL points at it meanwhile. Each test
module that asks for `prefect_server` gets it as a clean namespace: `clear()` deletes every
deployment, flow run, flow, work pool, concurrency limit and variable the modules before left,
and checks nothing remains, before the module's first test (measured on this machine: 0.2 to 1 s,
2.3 s after a module that left 300 runs; a fresh server per module would cost 14 to 17 s each). A module's tests share what its own
fixtures made (a serve, a web app); within it, a new `serve` first cancels the runs its earlier
tests left to do. `hundred_deployments` registers hundred's deployments in the module's namespace.

`server.serve(hundred_home)` runs hundred's deployments against it while a test needs flows to
execute; only one serve at a time per server (they share the deployment names, and two serves
would both pick up every run). A test using the server is marked `prefect` and `slow`.

Heartbeats: hundred's flows are async, and Prefect's async engine does not join its heartbeat
thread on exit (the sync engine does, ~1 s per run; PREFECT_FLOWS_HEARTBEAT_FREQUENCY cannot be
set to "off" from the environment in 3.8.8). The runner polls every second here
(PREFECT_RUNNER_POLL_FREQUENCY=1) so due runs start promptly.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from lanes import require_lane
from ports import free_port

from hundred.service import deployments

REPO = Path(__file__).resolve().parent.parent
SERVER_TIMEOUT = float(os.environ.get("HUNDRED_TEST_PREFECT_TIMEOUT", "180"))
DEPLOYMENTS = deployments.ALL


def http_get(url: str, timeout: float = 3.0) -> tuple[int, bytes]:
    """(status, body); status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def wait_for(
    predicate,
    timeout: float,
    what: str,
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
    interval: float = 0.25,
):
    """Poll `predicate()` until truthy; fail with the log's tail on timeout or an early exit.

    A predicate whose HTTP call times out or finds no server is asked again until the deadline:
    a Prefect server on SQLite can hold its write lock for its whole busy timeout (60 s; a
    fresh-clone CI saw it), and the product rides that out with retries, so the test waits too."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (httpx.TransportError, TimeoutError, ConnectionError, urllib.error.URLError) as exc:
            value, last_error = None, exc
        except httpx.HTTPStatusError as exc:  # Prefect's "database is locked" is a 503
            if exc.response.status_code not in (429, 503):
                raise
            value, last_error = None, exc
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: process exited with {proc.returncode}\n{tail(log)}")
        time.sleep(interval)
    error = f" (the last call: {type(last_error).__name__}: {last_error})" if last_error else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{error}\n{tail(log)}")


def tail(log: Path | None, lines: int = 40) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Stop a process started with start_new_session=True and everything in its group."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def each_process(file: str) -> Iterator[tuple[int, bytes]]:
    """(pid, the bytes of /proc/<pid>/`file`) of every process whose file could be read (one that
    ended meanwhile is left out)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / file).read_bytes()
            except OSError:
                continue


def start_logged(args: list[str], log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """`args` started in a process group of its own (stop_group ends it and all it started), in
    `cwd` with the environment `env`, its output and errors appended to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def base_env(prefect_home: Path, api_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "HUNDRED_"))}
    env.update(
        {
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_UI_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
        }
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


_TEST_STARTED: list[float] = [0.0]


@pytest.fixture(autouse=True)
def note_when_the_test_started() -> Iterator[None]:
    """For `PrefectServer.serve`: runs created before this moment belong to earlier tests."""
    _TEST_STARTED[0] = time.time()
    yield


def cancel_runs_of_earlier_tests(api_url: str, before: float) -> int:
    """Cancel the runs earlier tests of this module left on the server still to do (due touches of
    deals whose homes are gone, runs awaiting a retry): a serve for this test would otherwise spend
    its slots on them and fail them against the wrong ledger. Runs this test made are kept."""
    from datetime import datetime

    stale, offset = [], 0
    while True:
        body = {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED", "PENDING"]}}}, "limit": 200, "offset": offset}
        page = _call(api_url, "POST", "/flow_runs/filter", body)
        stale += [
            run["id"]
            for run in page
            if datetime.fromisoformat(run["created"].replace("Z", "+00:00")).timestamp() < before
        ]
        if len(page) < 200:
            break
        offset += 200
    for run_id in stale:
        state = {
            "state": {"type": "CANCELLED", "name": "Cancelled", "message": "left by an earlier test"},
            "force": True,
        }
        with contextlib.suppress(urllib.error.HTTPError):
            _call(api_url, "POST", f"/flow_runs/{run_id}/set_state", state)
    return len(stale)


@dataclass
class Served:
    """A running `python -m flows.serve`."""

    proc: subprocess.Popen
    home: Path
    log: Path

    def stop(self) -> None:
        stop_group(self.proc)


@dataclass
class PrefectServer:
    api_url: str
    home: Path
    proc: subprocess.Popen
    log: Path
    _serving: list[Served] = field(default_factory=list)

    def deployment(self, name: str) -> dict | None:
        status, body = http_get(f"{self.api_url}/deployments/name/{name}")
        return json.loads(body) if status == 200 else None

    @contextlib.contextmanager
    def serve(
        self,
        hundred_home: Path,
        env: dict[str, str] | None = None,
        timeout: float = 120.0,
        expect_tracebacks: bool = False,
    ) -> Iterator[Served]:
        """`python -m flows.serve` against this server with HUNDRED_HOME=hundred_home, until exit.

        Waits until serve has polled (all of hundred's deployments READY). A traceback in its log
        fails the test, unless the test says it expects that fault."""
        assert not self._serving, "one serve per server at a time (they share deployment names)"
        hundred_home.mkdir(parents=True, exist_ok=True)
        cancel_runs_of_earlier_tests(self.api_url, _TEST_STARTED[0])
        child_env = base_env(self.home, self.api_url)
        child_env.update(
            {"HUNDRED_HOME": str(hundred_home), "PREFECT_RUNNER_POLL_FREQUENCY": "1", "PREFECT_LOGGING_LEVEL": "INFO"}
        )
        child_env.update(env or {})
        log = hundred_home / "serve.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "flows.serve"],
                env=child_env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        served = Served(proc, hundred_home, log)
        self._serving.append(served)
        try:
            # READY is set when serve polls for its runs; a fresh deployment is NOT_READY.
            started = time.time()

            def ready() -> bool:
                for name in DEPLOYMENTS:
                    dep = self.deployment(name)
                    if not dep or dep.get("status") != "READY" or not _polled_since(dep, started):
                        return False
                return True

            wait_for(ready, timeout, "flows.serve to register and poll its deployments", proc, log, 0.5)
            yield served
        finally:
            served.stop()
            self._serving.remove(served)
        if not expect_tracebacks:
            assert_no_traceback(log)

    def stop(self) -> None:
        stop_group(self.proc)


def assert_no_traceback(log: Path, *, sqlite_contention: bool = False) -> None:
    """A traceback in a part's log is a failure a user would see: the test fails on it.

    `sqlite_contention=True` (the log of Prefect's own server on SQLite, the embedded shape)
    accepts exactly Prefect's "database is locked" tracebacks: Prefect logs one whenever two of its
    writers meet (Prefect issues #18934, #10188), its clients retry, and `hundred up` says so once
    without calling the part degraded. Any other traceback still fails; PostgreSQL logs none."""
    from hundred.up.logwatch import CONTENTION, TRACEBACK, kind_of

    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    at = -1
    for start in _traceback_starts(text, TRACEBACK):
        body = text[start:].splitlines()[1:]
        end = next((i for i, line in enumerate(body) if line.strip() and not line.startswith((" ", "\t"))), len(body))
        if not (sqlite_contention and CONTENTION in kind_of(body[: end + 1])):
            at = start
            break
    assert at < 0, f"a traceback in {log}:\n{text[max(0, at - 500) : at + 3000]}"


def _traceback_starts(text: str, marker: str) -> list[int]:
    starts, at = [], text.find(marker)
    while at >= 0:
        starts.append(at)
        at = text.find(marker, at + 1)
    return starts


def _polled_since(deployment: dict, started: float) -> bool:
    from datetime import datetime

    last = deployment.get("last_polled")
    if not last:
        return False
    return datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp() >= started - 1


def start_prefect_server(
    prefect_home: Path,
    port: int | None = None,
    timeout: float = SERVER_TIMEOUT,
    database_url: str | None = None,
    settings: dict[str, str] | None = None,
) -> PrefectServer:
    """`prefect server start` on a free port; returns once /api/health is 200.

    Its database is a fresh SQLite file in `prefect_home`, or `database_url` (e.g. a test
    PostgreSQL database: "postgresql+asyncpg://postgres@127.0.0.1:PORT/NAME"). `settings`: more
    PREFECT_SERVER_* variables (a test that waits for the scheduler service makes it loop faster)."""
    require_lane("prefect", "a Prefect server")
    prefect_home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log = prefect_home / "server.log"
    env = base_env(prefect_home)
    if database_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    env.update(settings or {})
    server_start = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    proc = start_logged(server_start, log, env, prefect_home)
    server = PrefectServer(api_url, prefect_home, proc, log)
    try:
        wait_for(lambda: http_get(f"{api_url}/health")[0] == 200, timeout, "the Prefect server", proc, log, 0.25)
    except BaseException:
        server.stop()
        raise
    return server


def _call(api_url: str, method: str, path: str, body: dict | None = None, attempts: int = 8) -> Any:
    """One REST call; a busy server's 503 (SQLite locked) or 429 is retried, as Prefect's client
    does, and so is a call that timed out (a server on SQLite can stall for its 60 s busy timeout)."""
    request = urllib.request.Request(
        f"{api_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                data = response.read()
            return json.loads(data) if data else None
        except urllib.error.HTTPError as exc:
            if exc.code not in (429, 503) or attempt == attempts - 1:
                raise
            time.sleep(0.25 * 2**attempt)
        except TimeoutError:
            if attempt >= 2:
                raise


# what else a module may leave: (what, filter path, delete path of one, the key that names one)
_ONE_BY_ONE = (
    ("work pools", "/work_pools/filter", "/work_pools/{}", "name"),
    ("concurrency limits", "/v2/concurrency_limits/filter", "/v2/concurrency_limits/{}", "id"),
    ("tag concurrency limits", "/concurrency_limits/filter", "/concurrency_limits/{}", "id"),
    ("variables", "/variables/filter", "/variables/{}", "id"),
)


def clear(api_url: str) -> dict[str, int]:
    """Empty the server's namespace: delete every deployment, flow run (their task runs and logs
    go with them), flow, work pool, concurrency limit and variable. Returns what was deleted;
    fails if anything is left."""
    deleted: dict[str, int] = {}
    for kind in ("deployments", "flow_runs", "flows"):  # deployments first: no new scheduled runs
        deleted[kind] = 0
        while batch := _call(api_url, "POST", f"/{kind}/bulk_delete", {"limit": 50})["deleted"]:
            deleted[kind] += len(batch)
    for what, listing, one, key in _ONE_BY_ONE:
        rows = _call(api_url, "POST", listing, {"limit": 200}) or []
        for row in rows:
            _call(api_url, "DELETE", one.format(row[key]))
        deleted[what] = len(rows)
    left = {kind: _call(api_url, "POST", f"/{kind}/count", {}) for kind in ("deployments", "flow_runs", "flows")}
    assert not any(left.values()), f"the Prefect server still holds {left} after clearing it"
    return deleted


@pytest.fixture(scope="session")
def _prefect_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """The session's one Prefect server process; PREFECT_API_URL points at it meanwhile."""
    server = start_prefect_server(tmp_path_factory.mktemp("prefect-home"))
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_HOME")}
    os.environ["PREFECT_API_URL"] = server.api_url
    os.environ["PREFECT_HOME"] = str(server.home)
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    try:
        # Prefect reads its settings once at import; this makes the already-imported copy agree.
        with temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_HOME: str(server.home)}):
            yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def prefect_server(_prefect_process: PrefectServer) -> PrefectServer:
    """The session's Prefect server as a clean namespace for this test module (see `clear`)."""
    require_lane("prefect", "a Prefect server")
    started = time.monotonic()
    deleted = clear(_prefect_process.api_url)
    print(f"Prefect namespace cleared in {time.monotonic() - started:.2f} s: {deleted}")
    return _prefect_process


@pytest.fixture(scope="module")
def hundred_deployments(prefect_server: PrefectServer) -> PrefectServer:
    """hundred's deployments registered in this module's namespace (without serving them)."""
    from flows.serve import deployments

    for deployment in deployments():
        deployment.apply()
    return prefect_server
