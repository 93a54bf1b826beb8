"""Journeys checked once and kept while their files are unchanged.

Every closed deal starts from its journey's YAML, and checking a journey in full (its schema, its
rules, every template it names) took most of a deal's start (bench/soak.py: ~13 % of filling a
ledger went to checking the same file again). The check runs again as soon as the journey's
bytes or any file under its templates folder changed, so an edit takes effect with the next deal
and a bad edit is refused exactly as before (`Invalid`): a bad YAML never replaces a good journey.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

from hundred.journeys.model import Journey
from hundred.validation.validate import load_journey

TemplatesMark = tuple[tuple[str, int, int], ...]


RACY_NS = 2_000_000_000  # a file written this recently may change again within its mtime's tick


def templates_mark(folder: Path) -> TemplatesMark:
    """Every file under `folder` with its modification time and size: changes when one does.

    A file modified in the last two seconds could be written again with the same size and time
    stamp (file systems tick in milliseconds); it marks the folder as never seen before, so the
    journey is checked again until the folder has been still for two seconds (as git does)."""
    racy = time.time_ns() - RACY_NS
    marks = []
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:  # removed while we looked: the next look differs anyway
                continue
            marks.append(
                (path, st.st_mtime_ns, st.st_size) if st.st_mtime_ns < racy else (path, -1, time.monotonic_ns())
            )
    return tuple(sorted(marks))


class LoadedJourneys:
    """`load_journey`, remembered per journey file while its bytes and its templates are the same."""

    def __init__(self) -> None:
        self._known: dict[tuple[Path, Path | None], tuple[bytes, TemplatesMark, tuple[Journey, Path]]] = {}
        self._lock = threading.Lock()  # a deal-closed run starts its deals on several threads

    def load(self, path: Path, templates_dir: Path | None = None) -> tuple[Journey, Path]:
        """The valid journey at `path` and its templates folder, or `Invalid` with every problem."""
        digest = hashlib.sha256(path.read_bytes()).digest()
        with self._lock:
            known = self._known.get((path, templates_dir))
        if known is not None and known[0] == digest and known[1] == templates_mark(known[2][1]):
            return known[2]
        # marks taken before the check: a file changed during it makes the next look check again
        before = templates_mark(templates_dir) if templates_dir is not None else None
        loaded = load_journey(path, templates_dir)
        mark = before if before is not None and loaded[1] == templates_dir else templates_mark(loaded[1])
        with self._lock:
            self._known[(path, templates_dir)] = (digest, mark, loaded)
        return loaded
