"""`free_port()`: the one way tests pick a TCP port for a server they start (Prefect, PostgreSQL,
SMTP, uvicorn, `hundred up`): the kernel hands out a free one on 127.0.0.1."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on right now (the server binds it moments later; the kernel does not
    hand the same ephemeral port out again that soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
