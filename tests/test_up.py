"""`hundred up` as a user runs it: a real Prefect server, served flows and the web app, supervised."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from ports import free_port
from prefect_server import REPO, base_env, each_process, http_get, stop_group, tail, wait_for

from hundred.service.local import is_running, local_prefect_api_url, prefect_api_url

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

UP_TIMEOUT = float(os.environ.get("HUNDRED_TEST_UP_TIMEOUT", "240"))


def _up(home: Path, port: int, prefect_port: int, *extra: str, stdout: Any = subprocess.PIPE) -> subprocess.Popen:
    env = base_env(home / "unused-prefect-home")
    env["HUNDRED_HOME"] = str(home)
    return subprocess.Popen(
        [sys.executable, "-m", "hundred.cli", "up", "--port", str(port), "--prefect-port", str(prefect_port), *extra],
        env=env,
        cwd=REPO,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _groups_members(pgids: set[int]) -> set[int]:
    """Live pids whose process group is one of `pgids` (a part and everything it started)."""
    members = set()
    for pid, stat in each_process("stat"):
        fields = stat.decode().rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) in pgids:
            members.add(pid)
    return members


def _healthz(port: int) -> dict | None:
    status, body = http_get(f"http://127.0.0.1:{port}/healthz")
    return json.loads(body) if status == 200 else None


@pytest.fixture
def running_up(tmp_path: Path):
    """`hundred up --demo --day-seconds 5` on a fresh home and free ports, healthy."""
    home, port, prefect_port = tmp_path / "home", free_port(), free_port()
    out_path = tmp_path / "up.out"
    with open(out_path, "w") as out:
        proc = _up(home, port, prefect_port, "--demo", "--day-seconds", "5", stdout=out)
    log = home / "logs" / "prefect.log"
    try:
        started = time.monotonic()
        wait_for(lambda: _healthz(port), UP_TIMEOUT, "hundred up's /healthz to answer 200", proc, log, 0.5)
        yield home, port, prefect_port, proc, out_path, time.monotonic() - started
    finally:
        if proc.poll() is None:
            stop_group(proc, signal.SIGINT, timeout=60)
        _, err = proc.communicate(timeout=10)
        print(out_path.read_text(), err, sep="\n")


def test_up_demo_delivers_restarts_a_part_and_stops_cleanly_on_ctrl_c(running_up):
    home, port, prefect_port, proc, out_path, took = running_up
    print(f"hundred up took {took:.1f} s to be healthy")

    # --demo: the example deal's first touches are delivered, and shown, within a minute; the
    # deadline allows for one stall of Prefect's SQLite write lock (its busy timeout is 60 s: a
    # fresh-clone CI saw it once, and hundred's retries rode it out) on top.
    demo_started = time.monotonic()
    wait_for(
        lambda: " delivered" in out_path.read_text(),
        150,
        "the demo's first delivered touch",
        proc,
        home / "logs" / "serve.log",
        0.5,
    )
    print(f"first touch delivered {time.monotonic() - demo_started:.1f} s after up was healthy")
    assert "demo: deal DEMO-" in out_path.read_text()

    health = _healthz(port)
    assert {name: part["state"] for name, part in health["parts"].items()} == {
        "prefect": "up",
        "serve": "up",
        "web": "up",
    }

    status, page = http_get(f"http://127.0.0.1:{prefect_port}/")
    assert status == 200 and b"<html" in page.lower(), "the Prefect UI answers"
    up = json.loads((home / "up.json").read_text())
    api = f"http://127.0.0.1:{prefect_port}/api"
    assert up["prefect_api_url"] == api and up["web_url"] == f"http://127.0.0.1:{port}"
    assert is_running(home) and local_prefect_api_url(home) == api

    # A second `up` on the same home, or on ports in use: one line, exit 1.
    second = _up(home, free_port(), free_port())
    out, err = second.communicate(timeout=60)
    assert second.returncode == 1, (out, err)
    assert err.strip().count("\n") == 0 and "already running" in err and str(home) in err
    busy = _up(home.parent / "other-home", port, free_port())
    out, err = busy.communicate(timeout=60)
    assert busy.returncode == 1 and err.strip().count("\n") == 0 and f"port {port}" in err, (out, err)

    # A part that exits is restarted.
    serve_pid = up["parts"]["serve"]["pid"]
    os.killpg(serve_pid, signal.SIGKILL)

    def serve_back():
        h = _healthz(port)
        return h and h["parts"]["serve"].get("restarts") == 1 and h["parts"]["serve"]["state"] == "up"

    wait_for(serve_back, 120, "serve to be restarted and up again", proc, home / "logs" / "serve.log", 0.5)

    # Prefect's server is restarted too; once it answers, a reconcile run makes good what it missed.
    log = home / "logs" / "prefect.log"
    os.killpg(up["parts"]["prefect"]["pid"], signal.SIGKILL)

    def prefect_back():
        h = _healthz(port)
        return h and h["parts"]["prefect"].get("restarts") == 1 and h["parts"]["prefect"]["state"] == "up"

    wait_for(prefect_back, 120, "Prefect to be restarted and up again", proc, log, 0.5)
    wait_for(lambda: "prefect is back: reconcile submitted" in out_path.read_text(), 30, "the reconcile", proc, log)

    def reconciled() -> bool:
        body = {"flow_runs": {"name": {"like_": "reconcile · prefect is back"}}, "limit": 5}
        runs = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30).json()
        return any(r["state"]["type"] == "COMPLETED" for r in runs)

    wait_for(reconciled, 90, "the reconcile run after Prefect's restart to complete", proc, home / "logs" / "serve.log")

    # Ctrl-C stops every part and everything the parts started.
    up = json.loads((home / "up.json").read_text())
    pgids = {p["pid"] for p in up["parts"].values()}
    members = _groups_members(pgids)
    assert len(members) >= 3
    started = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    proc.wait(60)
    print(f"stopped in {time.monotonic() - started:.1f} s")
    assert proc.returncode == 0, tail(home / "logs" / "serve.log")
    assert not _groups_members(pgids | members), "orphan processes after Ctrl-C"
    assert not (home / "up.json").exists()
    assert not is_running(home) and local_prefect_api_url(home) is None


def test_prefect_api_url_prefers_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    assert prefect_api_url(tmp_path) == "http://prefect.example:4200/api"
    monkeypatch.delenv("PREFECT_API_URL")
    assert prefect_api_url(tmp_path) is None
    (tmp_path / "up.json").write_text(json.dumps({"prefect_api_url": "http://127.0.0.1:1/api"}))
    assert prefect_api_url(tmp_path) is None, "a stale up.json without a running up is ignored"
