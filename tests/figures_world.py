"""A ledger with known outcomes, built the way production builds one: `hundred.bootstrap.runtime`
(the simulator's in-memory scheduler, a clock the test moves, the real ledger) plays five
customers through a small journey, with real channels behind it (an SMTP server that refuses one
address with 550, a webhook receiver that refuses one deal with 422, letter PDFs):

    D-ON    everything on time; gets the referral ask on day 8
    D-LATE  segment C (check-in skipped); its letter posted on day 4, three days after print-by
            (affirm late too); its day-5 call never done (an overdue task); owner Piet Bakker
    D-FAIL  its check-in bounces (550) and its webhook is refused (422): the affirm gate stays
            shut, its referral waits
    D-GONE  cancelled on day 1 ("churned"): its queued letter is withdrawn
    D-REF   closed on day 10, `referred_by: D-ON`, all on time: a referral received

`EXPECTED` holds the figures this world must show, worked out by hand from the story above.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from conftest import deal_payload
from home_files import HELLO, always_open_journey, home_settings, write_home
from prefect_server import free_port

from hundred import bootstrap

ZONE = ZoneInfo("Europe/Amsterdam")
OWNER_PIET = {"name": "Piet Bakker", "email": "piet@example.nl"}
JOURNEY = always_open_journey(
    "figures",
    "Cijfers",
    """\
  - phase: admit
    touches:
      - {id: welcome-call, day: 0, channel: task, title: "Bel {{ contact.first_name }}", template: tasks/call.md}
  - phase: affirm
    touches:
      - {id: check-in, day: 1, channel: email, subject: "Hallo", template: emails/hello.html, when: "deal.segment != 'C'"}
      - {id: thanks, day: 2, channel: letter, template: letters/thanks.txt}
  - phase: activate
    touches:
      - {id: crm-note, day: 1, channel: webhook, url: "http://127.0.0.1:{port}/note", template: webhooks/note.json}
  - phase: accomplish
    touches:
      - {id: result-call, day: 5, channel: task, title: "Resultaat", template: tasks/call.md}
  - phase: advocate
    touches:
      - {id: referral, day: 8, channel: email, referral: true, subject: "Wie ken jij?", template: emails/hello.html}
""",
    head="locale: nl_NL\nlength: 30\nletters: {lead_days: 1}\nlint:\n  silence: {days: 10}\n",
)
TEMPLATES = {
    "letters/thanks.txt": "Beste {{ contact.first_name }},\n\nDank je wel voor je vertrouwen.\n\n{{ sender.name }}\n",
    "emails/hello.html": HELLO,
    "tasks/call.md": "# Bel {{ contact.first_name }}\n\nTelefoon: {{ contact.phone }}\n",
    "webhooks/note.json": '{"deal": {{ deal.id | json }}}\n',
}
BOUNCE = "bounce@example.nl"
REFUSED_DEAL = "D-FAIL"

EXPECTED: dict[str, Any] = {
    "entered": 5,
    "active": 2,
    "completed": 2,
    "exited": 1,
    "exit_reasons": {"churned": 1},
    "funnel": {  # phase: (reached, median day)
        "admit": (4, 0),
        "affirm": (5, 1),
        "activate": (4, 1),
        "accomplish": (3, 5),
        "advocate": (3, 8),
    },
    "touches": {  # touch: {state: count}
        "welcome-call": {"done": 4, "cancelled": 1},
        "check-in": {"delivered": 3, "skipped": 1, "failed": 1},
        "crm-note": {"delivered": 4, "failed": 1},
        "thanks": {"delivered": 4, "cancelled": 1},
        "result-call": {"done": 3, "running": 1, "cancelled": 1},
        "referral": {"delivered": 3, "waiting": 1, "cancelled": 1},
    },
    "letters": {"posted": 4, "on_time": 3, "late": 1, "overdue": 0, "median_delay_days": 3.0, "withdrawn": 1},
    "tasks": {"result-call": {"done": 3, "done_late": 0, "open": 1, "overdue": 1}},
    "owners": {"Piet Bakker": {"done": 1, "open": 1, "overdue": 1}, "Sanne de Vries": {"done": 6, "overdue": 0}},
    "emails": {"check-in": {"sent": 3, "failed": 1, "bounced": 1}, "referral": {"sent": 3, "failed": 0, "bounced": 0}},
    "webhooks": {"crm-note": {"ok": 4, "failed": 1}},
    "silence": {"limit_days": 10, "over": 4, "longest": {1: 1, 12: 1, 15: 1, 22: 2}},
    "affirm": {"limit_days": 3, "reached": 5, "late": 1, "not_yet_late": 0, "median_day": 1.0},
    "referrals": {"asked": 3, "median_day": 8.0, "received": 1, "by_touch": {"referral": 1}},
    "attention": {
        ("D-FAIL", "check-in", "failed"),
        ("D-FAIL", "crm-note", "failed"),
        ("D-LATE", "result-call", "task-overdue"),
    },
}


class Refuser:
    """A real SMTP server (aiosmtpd) that refuses BOUNCE with 550 and takes everything else."""

    def __init__(self) -> None:
        self.accepted: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == BOUNCE:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted.extend(envelope.rcpt_tos)
        await asyncio.sleep(0)
        return "250 OK"


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        self.send_response(422 if body.get("deal") == REFUSED_DEAL else 200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class World:
    root: Path
    settings: Any
    ledger: Any
    runtime: Any
    t0: datetime
    clock: list[datetime]
    stops: list[Any] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return self.clock[0]

    def time(self) -> datetime:
        """The world's clock, for whatever takes a clock function."""
        return self.clock[0]

    def day(self, n: int, hour: int = 12, t0: datetime | None = None) -> datetime:
        start = (t0 or self.t0).astimezone(ZONE)
        return datetime.combine(start.date() + timedelta(days=n), time(hour), ZONE).astimezone(UTC)

    def run_until(self, until: datetime) -> None:
        """Every touch due by `until` runs at its due moment, in order (what the deliver runs do)."""
        while True:
            due = sorted(self.ledger.touches(states=["planned", "scheduled"], due_before=until), key=lambda t: t.due)
            if not due:
                break
            t = due[0]
            self.clock[0] = max(self.clock[0], t.due)
            self.runtime.run_touch(t.deal_id, t.touch_id)
        self.clock[0] = max(self.clock[0], until)

    def at(self, moment: datetime) -> None:
        self.run_until(moment)

    def close(self) -> None:
        for stop in self.stops:
            stop()
        self.ledger.close()


def build_world(root: Path, ledger_url: str | None = None) -> World:
    """The five customers' story on a real ledger (`ledger_url`, default a SQLite file in `root`)."""
    from aiosmtpd.controller import Controller

    from hundred.service.simulate import VirtualScheduler

    before = os.environ.get("HUNDRED_ALLOW_PRIVATE_WEBHOOKS")
    os.environ["HUNDRED_ALLOW_PRIVATE_WEBHOOKS"] = "1"  # the receiver is on this machine

    def restore() -> None:
        if before is None:
            os.environ.pop("HUNDRED_ALLOW_PRIVATE_WEBHOOKS", None)
        else:
            os.environ["HUNDRED_ALLOW_PRIVATE_WEBHOOKS"] = before

    smtp = Controller(Refuser(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    receiver = HTTPServer(("127.0.0.1", free_port()), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()

    write_home(root, "figures.yaml", JOURNEY.replace("{port}", str(receiver.server_address[1])), TEMPLATES)
    settings = home_settings(
        root,
        smtp_url=f"smtp://127.0.0.1:{smtp.port}?starttls=false",
        webhook_secret="figures-test-secret",
        allow_private_webhooks=True,
        print_password="correct horse battery",
        print_token="figures-test-token-0123456789",
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    local = datetime.now(UTC).astimezone(ZONE) - timedelta(days=20)
    t0 = datetime.combine(local.date(), time(9), ZONE).astimezone(UTC)
    clock = [t0]
    ledger = bootstrap.clocked_ledger(
        settings.model_copy(update={"database_url": ledger_url}) if ledger_url else settings, lambda: clock[0]
    )
    runtime = bootstrap.runtime(settings, ledger_=ledger, scheduler_=VirtualScheduler(), clock=lambda: clock[0])
    world = World(root, settings, ledger, runtime, t0, clock, [smtp.stop, receiver.shutdown, restore])

    def deal(deal_id: str, closed: datetime, **extra: Any) -> None:
        payload = deal_payload(closed.isoformat(), id=deal_id, journey="figures", **extra)
        world.runtime.deal_closed(payload)

    w = world
    deal("D-ON", t0, segment="A")
    deal("D-LATE", t0, segment="C", owner=OWNER_PIET)
    deal("D-FAIL", t0, segment="B", contact={**deal_payload("x")["contact"], "email": BOUNCE})
    deal("D-GONE", t0, segment="A")
    w.run_until(t0)
    w.at(t0 + timedelta(hours=1))
    for d in ("D-ON", "D-LATE", "D-FAIL"):
        w.runtime.task_done(d, "welcome-call")
    w.at(w.day(1, 12))
    w.runtime.cancel("D-GONE", "churned")
    w.at(w.day(1, 16))
    for d in ("D-ON", "D-FAIL"):
        w.runtime.letter_posted(f"{d}/thanks")
    w.at(w.day(4, 16))
    w.runtime.letter_posted("D-LATE/thanks")
    w.at(w.day(5, 12))
    for d in ("D-ON", "D-FAIL"):
        w.runtime.task_done(d, "result-call")
    w.at(w.day(10, 9))
    t_ref = w.now
    deal("D-REF", t_ref, segment="A", referred_by="D-ON")
    w.run_until(t_ref)
    w.at(t_ref + timedelta(hours=1))
    w.runtime.task_done("D-REF", "welcome-call")
    w.at(w.day(1, 16, t_ref))
    w.runtime.letter_posted("D-REF/thanks")
    w.at(w.day(5, 12, t_ref))
    w.runtime.task_done("D-REF", "result-call")
    w.at(w.day(20, 9))
    return world


def iter_world(root: Path, ledger_url: str | None = None) -> Iterator[World]:
    world = build_world(root, ledger_url)
    try:
        yield world
    finally:
        world.close()
