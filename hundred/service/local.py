"""Where the running `hundred up` of a HUNDRED_HOME is: pure file reading, no Prefect import.

`hundred up` writes `HUNDRED_HOME/up.json` (URLs, pids, each part's state) and holds an flock on
`HUNDRED_HOME/up.lock` while it runs. Operator commands call `prefect_api_url(home)` to find the
Prefect API: PREFECT_API_URL when set, else the local server of a running `up`, else None.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

UP_FILE = "up.json"
LOCK_FILE = "up.lock"


def up_file(home: Path) -> Path:
    return Path(home) / UP_FILE


def lock_file(home: Path) -> Path:
    return Path(home) / LOCK_FILE


def read_up(home: Path) -> dict[str, Any] | None:
    """The running supervisor's `up.json`, or None when no `hundred up` holds this home."""
    try:
        data = json.loads(up_file(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not is_running(home):
        return None
    return data


def is_running(home: Path) -> bool:
    """True while a `hundred up` holds the home's lock (immune to stale files and reused pids)."""
    path = lock_file(home)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def local_prefect_api_url(home: Path) -> str | None:
    """The Prefect API of the `hundred up` running on this home, or None."""
    data = read_up(home)
    url = (data or {}).get("prefect_api_url")
    return url if isinstance(url, str) and url else None


def prefect_api_url(home: Path) -> str | None:
    """PREFECT_API_URL when set (a shared server wins), else the local `hundred up`'s, else None."""
    return os.environ.get("PREFECT_API_URL") or local_prefect_api_url(home)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Readers never see half a file: write beside it, then rename over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


# -- the print room's login lockout ----------------------------------------------------------------

PRINT_UNLOCK_FILE = "print-unlock"


def unlock_print_room(home: Path) -> Path:
    """End the print room's lockout after too many wrong passwords (`hundred letters unlock`): the
    web app of this home forgets every failed login it counted before this moment."""
    path = Path(home) / PRINT_UNLOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{time.time_ns()}\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def print_unlock_stamp(home: Path) -> str | None:
    """What the last `hundred letters unlock` wrote (None: never unlocked); a new value means unlock."""
    try:
        return (Path(home) / PRINT_UNLOCK_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
