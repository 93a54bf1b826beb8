"""What the fault tests share: a ledger on its own PostgreSQL cluster (paused and resumed to make
the database briefly unreachable, without touching the session's cluster that other tests and
Prefect may use), a real SMTP server that counts what it accepted and can hold a transaction
mid-way, a hundred site (journey, templates, environment) and readers of the three truths:
messages at the SMTP server, touch states in the ledger, run states in Prefect.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import deal_payload
from intake_site import SECRET  # the secret intake_site.App signs with
from prefect_server import free_port

from hundred import bootstrap

DAY = 600.0  # seconds per journey day for deals the flows start (webhooks): their day 1 never comes in a test
JOURNEY = """\
journey: faults
name: Fault proofs
timezone: Europe/Amsterdam
calendar: {workdays: [mon, tue, wed, thu, fri, sat, sun]}
send_window: "00:00-23:59"
phases:
  - phase: admit
    touches:
      - {id: hello, day: 0, channel: email, subject: "Hallo {{ contact.first_name }}", template: emails/hello.html}
  - phase: affirm
    touches:
      - {id: later, day: 1, channel: email, subject: "Later", template: emails/hello.html}
"""
HELLO = "<p>Hallo {{ contact.first_name }} van {{ company.name }}</p>\n"


class Inbox:
    """A real SMTP server (aiosmtpd) that can hold a delivery mid-way until `release(address)`."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.hold: set[str] = set()
        self.hold_data: set[str] = set()
        self.held: dict[str, threading.Event] = {}
        self._released: set[str] = set()
        self._lock = threading.Lock()

    def hold_for(self, address: str, at: str = "RCPT") -> threading.Event:
        """Hold `address`'s transaction at RCPT (before the run claims `sending`) or at the end of
        DATA (the message is in, the server's 250 not yet given)."""
        (self.hold if at == "RCPT" else self.hold_data).add(address)
        return self.held.setdefault(address, threading.Event())

    def release(self, address: str) -> None:
        self._released.add(address)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.hold:
            self.held.setdefault(address, threading.Event()).set()
            while address not in self._released:
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        stalled = [a for a in envelope.rcpt_tos if a in self.hold_data]
        if stalled:  # the message is complete; the 250 waits (the sender does not know yet)
            self.held.setdefault(stalled[0], threading.Event()).set()
            while stalled[0] not in self._released:
                await asyncio.sleep(0.05)
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 OK"

    def count(self, address: str) -> int:
        with self._lock:
            return sum(1 for m in self.messages if address in str(m["To"]))

    def subjects(self, address: str) -> Counter:
        with self._lock:
            return Counter(str(m["Subject"]) for m in self.messages if address in str(m["To"]))


def start_inbox() -> tuple[Inbox, Any]:
    from aiosmtpd.controller import Controller

    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    return box, controller


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    """A real SMTP server for one test module (import it: `from faults_site import inbox`)."""
    box, controller = start_inbox()
    yield box
    controller.stop()


@dataclass
class Site:
    """A hundred home whose ledger is `url` on the faults cluster; `env` is what every process shares."""

    root: Path
    url: str
    env: dict[str, str]
    settings: Any = None
    _ledger: Any = field(default=None, repr=False)

    @property
    def ledger(self) -> Any:
        from hundred.adapters.ledger import Ledger

        if self._ledger is None:
            self._ledger = Ledger.open(self.url)
        return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


def make_site(root: Path, url: str, smtp_port: int, **env: str) -> Site:
    from hundred.service.settings import Settings

    (root / "journeys").mkdir(parents=True, exist_ok=True)
    (root / "journeys" / "faults.yaml").write_text(JOURNEY, encoding="utf-8")
    (root / "templates" / "emails").mkdir(parents=True, exist_ok=True)
    (root / "templates" / "emails" / "hello.html").write_text(HELLO, encoding="utf-8")
    values = {
        "HUNDRED_HOME": str(root / "home"),
        "HUNDRED_DATABASE_URL": url,
        "HUNDRED_JOURNEYS_DIR": str(root / "journeys"),
        "HUNDRED_TEMPLATES_DIR": str(root / "templates"),
        "HUNDRED_LETTERS_DIR": str(root / "letters"),
        "HUNDRED_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?starttls=false",
        "HUNDRED_MAIL_FROM": "Onboarding <onboarding@example.nl>",
        "HUNDRED_DAY_SECONDS": str(DAY),
        "HUNDRED_WEBHOOK_SECRET": SECRET,
        **env,
    }
    (root / "home").mkdir(parents=True, exist_ok=True)
    settings = Settings(
        home=root / "home",
        database_url=url,
        journeys_dir=root / "journeys",
        templates_dir=root / "templates",
        letters_dir=root / "letters",
        smtp_url=values["HUNDRED_SMTP_URL"],
        mail_from=values["HUNDRED_MAIL_FROM"],
        webhook_secret=SECRET,
        day_seconds=float(values["HUNDRED_DAY_SECONDS"]),
        print_password="not-used-here-123",
    )
    return Site(root, url, values, settings)


def midnight() -> datetime:
    """Today's midnight in the journey's zone: a deal closed then has its day-1 touch due DAY (the
    journey's day length) seconds after it is received."""
    return datetime.now(ZoneInfo("Europe/Amsterdam")).replace(hour=0, minute=0, second=0, microsecond=0)


def payload(deal_id: str, contact: str, closed_at: datetime | None = None) -> dict[str, Any]:
    body = deal_payload(closed_at=(closed_at or midnight()).isoformat(), id=deal_id, journey="faults")
    body["contact"]["email"] = contact
    return body


def runtime(site: Site, api_url: str, **settings: Any) -> Any:
    """The runtime as the flows build it (ledger on PostgreSQL, Prefect as scheduler)."""
    from hundred.adapters.prefect.scheduler import PrefectScheduler

    return bootstrap.runtime(
        site.settings.model_copy(update=settings), ledger_=site.ledger, scheduler_=PrefectScheduler(api_url)
    )


def touch_states(site: Site, deal_id: str) -> dict[str, str]:
    return {t.touch_id: t.state for t in site.ledger.touches(deal_id)}


def delivery_states(site: Site, deal_id: str) -> dict[str, str]:
    """Delivery rows of the deal's touches: `sent` once per email that left."""
    out = {}
    for t in site.ledger.touches(deal_id):
        row = site.ledger.delivery(f"{deal_id}/faults/{t.touch_id}#{t.channel}")
        if row is not None:
            out[t.touch_id] = row.state
    return out


def prefect_runs(api_url: str, deal_id: str) -> dict[str, tuple[str, int]]:
    """{task run name: (state type, run_count)} of the deal's work in Prefect: `<deal> · start`
    (its deal-closed task) and `<deal> · <touch>` (each touch's task), tagged `deal:<id>`."""
    body = {"task_runs": {"tags": {"all_": [f"deal:{deal_id}"]}}, "limit": 200}
    response = httpx.post(f"{api_url}/task_runs/filter", json=body, timeout=30)
    response.raise_for_status()
    return {r["name"]: (r["state"]["type"], r["run_count"]) for r in response.json()}


def prefect_run(api_url: str, run_id: str) -> dict[str, Any]:
    response = httpx.get(f"{api_url}/flow_runs/{run_id}", timeout=30)
    response.raise_for_status()
    return response.json()


def wait_until(predicate, timeout: float, what: str, interval: float = 0.5, log: Path | None = None) -> Any:
    from prefect_server import tail

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail(log)}")


def seconds_until(moment: datetime) -> float:
    return (moment - datetime.now(UTC)).total_seconds()
