"""What `hundred up` settles before it starts anything, and how the commands of an operator find
the `up` that runs on their home; no server is started here (tests/test_up.py runs the real one).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from conftest import hundred_cli
from ports import free_port

from hundred import bootstrap
from hundred.service import local
from hundred.up import start, supervisor


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HUNDRED_HOME", str(folder))
    for name in ("PREFECT_API_URL", "HUNDRED_DAY_SECONDS", "HUNDRED_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return folder


def test_a_second_up_on_the_same_home_is_refused_naming_the_first(home):
    held = start._lock(home)  # the first `up`
    try:
        local.write_json_atomic(local.up_file(home), {"pid": 4242})
        done = hundred_cli("up", "--port", str(free_port()), "--prefect-port", str(free_port()))
    finally:
        os.close(held)
    assert done.returncode == 1, done.stdout
    assert done.stderr.strip() == f"hundred up is already running for {home} (pid 4242)"


def test_one_port_for_both_parts_is_refused(home):
    port = free_port()
    done = hundred_cli("up", "--port", str(port), "--prefect-port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip() == f"--port and --prefect-port are both {port}"


def test_a_port_another_server_listens_on_is_refused_naming_the_option(home):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = hundred_cli("up", "--port", str(port), "--prefect-port", str(free_port()))
    assert done.returncode == 1
    assert done.stderr.strip() == f"port {port} (web app) is already in use; choose another with --port"


def test_operator_commands_find_the_running_up_and_its_clock_through_its_home(home):
    up = supervisor.Supervisor(home, free_port(), free_port(), day_seconds=5.0, demo=False)
    up.build_parts()
    assert {name: part.log for name, part in up.parts.items()} == {
        name: home / "logs" / f"{name}.log" for name in ("prefect", "serve", "web")
    }
    env = up.environment()
    assert env["PREFECT_API_URL"] == up.api_url and env["HUNDRED_DAY_SECONDS"] == "5.0"
    assert env["HUNDRED_HOME"] == str(home) and env["PREFECT_HOME"] == str(home / "prefect")

    held = start._lock(home)
    try:
        up.write_state()
        assert local.is_running(home)
        assert local.prefect_api_url(home) == up.api_url
        assert bootstrap.settings().day_seconds == 5.0  # one journey clock: the running up's
    finally:
        os.close(held)
    assert not local.is_running(home) and local.prefect_api_url(home) is None  # up.json alone is stale
    assert bootstrap.settings().day_seconds != 5.0


def test_up_batches_prefects_task_run_recording_unless_the_operator_says_otherwise(home, monkeypatch):
    """A burst's task runs reach the Prefect UI as they happen (deployments.SERVER_SETTINGS), and
    an operator's own value wins."""
    monkeypatch.delenv("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE", raising=False)
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL", "5")
    env = supervisor.Supervisor(home, free_port(), free_port(), day_seconds=None, demo=False).environment()
    assert env["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE"] == "100"
    assert env["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL"] == "5"
