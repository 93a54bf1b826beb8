"""Watching the parts' logs: a traceback in any of them is something an operator must hear about.

The defect that hid longest in hundred was Prefect's scheduler failing every minute into its log
while everything else looked fine. `hundred up` therefore reads what each part writes: each new
traceback is reduced to its kind (the exception's type and the start of its message) and said once
per kind in the terminal, in one line with the log's path; a part whose log shows repeated
failures (`REPEATED` within `WINDOW`) is reported as degraded in `up.json`, which `/healthz` reads.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TRACEBACK = "Traceback (most recent call last):"
CHAINED = "During handling of the above exception, another exception occurred"
CAUSED = "The above exception was the direct cause of the following exception"
WINDOW = 600.0  # seconds
REPEATED = 3
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|[A-Z]\w+))(?::\s*(.*))?$")


@dataclass
class PartLog:
    """What one part's log has shown so far."""

    path: Path
    offset: int = 0
    pending: list[str] = field(default_factory=list)  # lines of a traceback being read
    in_traceback: bool = False
    seen: set[str] = field(default_factory=set)
    times: deque[float] = field(default_factory=lambda: deque(maxlen=100))
    last: str | None = None
    chained: bool = False  # the next traceback belongs to the one just read ("During handling of …")


def kind_of(lines: list[str]) -> str:
    """'InvalidRequestError: Can't evaluate bulk DML statement' from a traceback's lines."""
    for line in reversed(lines):
        text = line.strip()
        match = _EXCEPTION.match(text)
        if match and not text.startswith("File "):
            name = match.group(1).rsplit(".", 1)[-1]
            message = (match.group(2) or "").strip()
            return f"{name}: {message[:80]}" if message else name
    return "an error"


class LogWatch:
    """Reads each part's log from where it left off (call `poll()` every second or so)."""

    def __init__(self, logs: dict[str, Path], say: Callable[[str], None], clock: Callable[[], float] = time.time):
        self.parts = {name: PartLog(path) for name, path in logs.items()}
        self.say, self.clock = say, clock
        for part in self.parts.values():  # what an earlier run wrote is not this run's business
            part.offset = part.path.stat().st_size if part.path.exists() else 0

    def poll(self) -> None:
        for name, part in self.parts.items():
            for line in self._new_lines(part):
                self._read(name, part, line)

    def _new_lines(self, part: PartLog) -> list[str]:
        try:
            size = part.path.stat().st_size
        except OSError:
            return []
        if size < part.offset:  # rotated or truncated
            part.offset = 0
        if size == part.offset:
            return []
        with open(part.path, "rb") as fh:
            fh.seek(part.offset)
            data = fh.read(size - part.offset)
        end = data.rfind(b"\n") + 1  # a half-written line waits for the next poll
        part.offset += end
        return data[:end].decode("utf-8", "replace").splitlines()

    def _read(self, name: str, part: PartLog, line: str) -> None:
        if TRACEBACK in line:
            if part.in_traceback:
                self._close(name, part)
            part.in_traceback, part.pending = True, []
            return
        if not part.in_traceback:
            if CHAINED in line or CAUSED in line:
                part.chained = True
            elif line.strip():
                part.chained = False
            return
        part.pending.append(line)
        stripped = line.strip()
        if stripped and not line.startswith((" ", "\t")) and _EXCEPTION.match(stripped):
            self._close(name, part)

    def _close(self, name: str, part: PartLog) -> None:
        kind = kind_of(part.pending)
        part.in_traceback, part.pending = False, []
        if not part.chained:  # one failure, however many chained tracebacks tell it
            part.times.append(self.clock())
        part.chained = False
        part.last = kind
        if kind not in part.seen:
            part.seen.add(kind)
            self.say(f"  {name}: {kind} (traceback in {part.path})")

    def failures(self, name: str) -> int:
        """Tracebacks in the part's log within the last WINDOW seconds."""
        now = self.clock()
        return sum(1 for t in self.parts[name].times if now - t <= WINDOW)

    def report(self) -> dict[str, dict[str, object]]:
        """Per part: recent failures, whether that is degraded, the last kind and every kind seen."""
        out: dict[str, dict[str, object]] = {}
        for name, part in self.parts.items():
            recent = self.failures(name)
            out[name] = {
                "recent_failures": recent,
                "degraded": recent >= REPEATED,
                "last_failure": part.last,
                "failure_kinds": sorted(part.seen),
            }
        return out
