"""`hundred up`'s entry point: what it settles before it starts anything (one `up` per home, ports
that answer nobody else, a print-room password) and the signals that stop it; the supervisor runs
the parts."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from hundred.service.local import lock_file, up_file
from hundred.service.settings import Settings
from hundred.up.supervisor import HOST, Supervisor, say_to_terminal


class AlreadyUp(Exception):
    """One line for the person at the keyboard; `up` exits 1."""


def _port_free(port: int) -> bool:
    """Free unless something answers on it. Bound the way servers bind (SO_REUSEADDR), so sockets
    of a killed `up` lingering in TIME_WAIT do not keep hundred down for a minute and more."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        if probe.connect_ex((HOST, port)) == 0:
            return False  # a live listener
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _lock(home: Path) -> int:
    """Hold the home's lock for the life of this process; AlreadyUp when another `up` has it."""
    fd = os.open(lock_file(home), os.O_RDWR | os.O_CREAT, 0o644)
    for _attempt in range(10):  # a short wait covers an operator command probing the lock
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError:
            time.sleep(0.05)
    os.close(fd)
    try:
        pid = json.loads(up_file(home).read_text(encoding="utf-8")).get("pid")
    except (OSError, ValueError):
        pid = None
    raise AlreadyUp(f"hundred up is already running for {home}" + (f" (pid {pid})" if pid else ""))


def print_room_login() -> str:
    """The print room needs a password. Without HUNDRED_PRINT_PASSWORD(_HASH), this run makes one
    and says it, so the first `hundred up` has a print room staff can open; sessions are signed
    with a key of this run (HUNDRED_PRINT_SECRET), so a restarted web part keeps them."""

    os.environ.setdefault("HUNDRED_PRINT_SECRET", secrets.token_hex(32))
    if os.environ.get("HUNDRED_PRINT_PASSWORD") or os.environ.get("HUNDRED_PRINT_PASSWORD_HASH"):
        return "password from HUNDRED_PRINT_PASSWORD"
    password = secrets.token_urlsafe(9)
    os.environ["HUNDRED_PRINT_PASSWORD"] = password
    return f"password for this run: {password}; set HUNDRED_PRINT_PASSWORD to choose one"


def main(
    *,
    demo: bool = False,
    day_seconds: float | None = None,
    port: int = 8000,
    prefect_port: int = 4200,
    send_compressed: bool = False,
) -> int:
    """Run until Ctrl-C / SIGTERM; the exit status."""

    if day_seconds is not None:
        os.environ["HUNDRED_DAY_SECONDS"] = repr(float(day_seconds))
    settings = Settings()
    if settings.day_seconds and settings.smtp_url and not send_compressed:
        say_to_terminal(
            f"--day-seconds {settings.day_seconds:g} with HUNDRED_SMTP_URL set would mail real customers 100 days of "
            "touches in minutes; unset HUNDRED_SMTP_URL (emails then go to the outbox), or add --send-compressed "
            "if that SMTP server is a test one",
            sys.stderr,
        )
        return 1
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    os.environ["HUNDRED_HOME"] = str(home)
    try:
        lock_fd = _lock(home)
        for wanted, what, flag in ((prefect_port, "Prefect server", "--prefect-port"), (port, "web app", "--port")):
            if not _port_free(wanted):
                raise AlreadyUp(f"port {wanted} ({what}) is already in use; choose another with {flag}")
        if port == prefect_port:
            raise AlreadyUp(f"--port and --prefect-port are both {port}")
    except AlreadyUp as exc:
        say_to_terminal(str(exc), sys.stderr)
        return 1
    supervisor = Supervisor(home, port, prefect_port, day_seconds, demo)
    supervisor.print_login = print_room_login()

    def on_signal(signum: int, _frame: Any) -> None:
        supervisor.stopping = True

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        supervisor.run()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abandon the children
        say_to_terminal("stopping …")
        supervisor.stop()
        up_file(home).unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(lock_fd)
        say_to_terminal("stopped")
    return 0


__all__ = ["main"]
