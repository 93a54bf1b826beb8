"""The one SMTP server of the tests: a real aiosmtpd server on 127.0.0.1 and a free port, whose
handler keeps what it accepted and can misbehave the ways a real mail server does.

It counts (`count`, `to`, `subjects`), records Message-IDs (`message_ids`), refuses a recipient or
the message (`refuse_rcpt`, `refuse_data`), answers DATA slowly (`data_delay`), and holds one
recipient's transaction mid-way until the test releases it (`hold_for(address, at="RCPT")`: before
the sender has recorded anything; `at="DATA"`: the message is in, the server's 250 not given yet).

Fixtures (a test module imports the ones it uses: `from smtp_inbox import inbox`):
  inbox  one server for the test module
  smtp   `smtp(**controller_options)` → (Inbox, port), any number per test (TLS, AUTH ...)
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any, NamedTuple

import pytest
from aiosmtpd.controller import Controller
from ports import free_port


class Received(NamedTuple):
    """One accepted message: the envelope as the server saw it, and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class Inbox:
    """An aiosmtpd handler (its methods run on the server's thread; the test reads from its own)."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refuse_rcpt: str | None = None  # e.g. "550 5.1.1 no such user"
        self.refuse_data: str | None = None  # e.g. "554 5.7.1 rejected as spam"
        self.data_delay = 0.0  # seconds DATA blocks the server before it answers
        self.arrived = threading.Event()  # set at the first accepted message
        self.port = 0
        self._hold: dict[str, str] = {}  # address → "RCPT" or "DATA"
        self._held: dict[str, threading.Event] = {}
        self._released: set[str] = set()
        self._lose: set[str] = set()
        self._waiting: set[str] = set()  # addresses whose transaction is being held right now
        self._release_all = False
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # -- holding a transaction -------------------------------------------------------------------

    def hold_for(self, address: str, at: str = "RCPT") -> threading.Event:
        """Hold `address`'s next transaction at RCPT or at the end of DATA until `release`; the
        event is set once the transaction is being held."""
        assert at in ("RCPT", "DATA"), at
        self._hold[address] = at
        return self._held.setdefault(address, threading.Event())

    def release(self, address: str | None = None, keep: bool = True) -> None:
        """Let `address`'s held transaction go on (every held one when None). `keep=False`: the
        transaction held at DATA now is lost, as by a server that crashed before it stored the
        message (nothing kept, a 451 to a client that may be gone). Only that one: if it is gone
        already (its client's connection closed and aiosmtpd dropped it), nothing is marked, and
        a later transaction is kept."""
        if address is None:
            self._release_all = True
        else:
            with self._lock:
                if not keep and address in self._waiting:
                    self._lose.add(address)
                self._released.add(address)

    async def _wait_if_held(self, address: str, at: str) -> bool:
        """Wait while `address` is held at `at`; whether this transaction was the held one."""
        if self._hold.get(address) != at or address in self._released or self._release_all:
            return False
        with self._lock:
            self._waiting.add(address)
        self._held.setdefault(address, threading.Event()).set()
        try:
            while address not in self._released and not self._release_all:
                await asyncio.sleep(0.05)
        finally:
            with self._lock:
                self._waiting.discard(address)
        return True

    # -- the SMTP conversation -------------------------------------------------------------------

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        await self._wait_if_held(address, "RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        time.sleep(self.data_delay)  # blocking on purpose: the server does not notice the client leave
        if self.refuse_data:
            return self.refuse_data
        for address in envelope.rcpt_tos:  # the message is complete; the 250 waits
            if await self._wait_if_held(address, "DATA") and address in self._lose:
                self._lose.discard(address)
                return "451 4.3.0 lost before it was stored"
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self._lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        self.arrived.set()
        return "250 2.0.0 queued"

    # -- what arrived --------------------------------------------------------------------------

    def to(self, address: str) -> list[EmailMessage]:
        """The messages whose To: names `address`, in the order they arrived."""
        with self._lock:
            return [r.message for r in self.messages if address in str(r.message["To"])]

    def count(self, address: str) -> int:
        return len(self.to(address))

    def subjects(self, address: str) -> Counter:
        return Counter(str(m["Subject"]) for m in self.to(address))

    def message_ids(self) -> list[str]:
        """Every accepted message's Message-ID, repeats included (exactly once is the test's call)."""
        with self._lock:
            return [str(r.message["Message-ID"]) for r in self.messages]

    # -- the server ----------------------------------------------------------------------------

    def start(self, **controller_options: Any) -> Inbox:
        """Serve on 127.0.0.1 and a free port (`self.port`); options go to aiosmtpd's Controller."""
        self._controller = Controller(self, hostname="127.0.0.1", port=free_port(), **controller_options)
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        self.release()  # a transaction still held would keep the server's loop from stopping
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    """A real SMTP server for one test module."""
    box = Inbox().start()
    yield box
    box.stop()


@pytest.fixture
def smtp() -> Iterator[Callable[..., tuple[Inbox, int]]]:
    """`smtp(inbox=None, **controller_options)` → (Inbox, port); every server stops after the test."""
    started: list[Inbox] = []

    def start(inbox: Inbox | None = None, **options: Any) -> tuple[Inbox, int]:
        box = (inbox or Inbox()).start(**options)
        started.append(box)
        return box, box.port

    yield start
    for box in started:
        box.stop()
