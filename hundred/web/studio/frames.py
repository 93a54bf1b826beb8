"""Documents the studio made for one session (a timeline, an email, a letter's image and PDF),
kept briefly in memory and served at an unguessable address under the studio's login.

A timeline or an email is a whole HTML page with its own styles (and the timeline its own small
script), so the studio shows it in a sandboxed frame from its own address with its own
Content-Security-Policy, instead of mixing it into the studio page, whose policy stays strict.
The store is bounded (entries and bytes); the oldest go first.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

MAX_ENTRIES = 256
MAX_BYTES = 96 * 1024 * 1024

# The timeline page brings its own policy (a <meta> allowing its one script by hash); this header
# only adds what a meta cannot say. An email runs no script at all and loads nothing.
TIMELINE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
FILE_CSP = "default-src 'none'; frame-ancestors 'self'"
# Browsers' PDF viewers refuse to show a PDF under default-src or sandbox (as the print room found).
PDF_CSP = "frame-ancestors 'self'"


@dataclass(frozen=True)
class Frame:
    data: bytes
    content_type: str
    csp: str
    sid: str
    filename: str | None = None


class Frames:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._items: OrderedDict[str, Frame] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, sid: str, data: bytes | str, content_type: str, csp: str, filename: str | None = None) -> str:
        body = data.encode("utf-8") if isinstance(data, str) else data
        key = secrets.token_urlsafe(18)
        with self._lock:
            self._items[key] = Frame(body, content_type, csp, sid, filename)
            self._bytes += len(body)
            while self._items and (len(self._items) > self.max_entries or self._bytes > self.max_bytes):
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old.data)
        return key

    def get(self, key: str, sid: str) -> Frame | None:
        """The document, to the session that made it only."""
        with self._lock:
            frame = self._items.get(key)
        return frame if frame is not None and secrets.compare_digest(frame.sid, sid) else None


__all__ = ["Frames", "Frame", "TIMELINE_CSP", "EMAIL_CSP", "FILE_CSP", "PDF_CSP"]
