"""A part of `hundred up`: one child process in its own process group, its output appended to its
log, stopped so that nothing it started outlives it (the supervisor restarts and reports it)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

STOP_TIMEOUT = 20.0  # serve drains its runs in flight for up to 18 s (flows/serve.py)


@dataclass
class Part:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    state: str = "stopped"
    restarts: int = 0
    failures: int = 0  # consecutive quick exits, for the backoff
    started_at: float = 0.0  # monotonic, for the backoff
    started_wall: float = 0.0  # epoch, for the web app's "polled since it started" check
    restart_at: float | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            out.write(f"\n--- {datetime.now().isoformat(timespec='seconds')} starting {self.name}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=os.getcwd(),
            )
        self.state, self.started_at, self.restart_at = "running", time.monotonic(), None
        self.started_wall = time.time()

    def exited(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM to the part, then to its group, then SIGKILL to the group: no orphans."""
        proc, self.state = self.proc, "stopped"
        if proc is None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
            try:
                if sig == signal.SIGTERM and wait == timeout:
                    proc.send_signal(sig) if proc.poll() is None else None
                else:
                    os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
            if not _group_alive(proc.pid):
                break
        self.proc = None

    def info(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "pid": self.proc.pid if self.proc else None,
            "restarts": self.restarts,
            "started": self.started_wall,
            "log": str(self.log),
        }


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
