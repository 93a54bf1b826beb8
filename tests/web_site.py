"""A print room to test the web page against: a ledger holding a journey whose affirm letter is
queued (its referral waits on it), two more queued letters (one overdue, one for later), and the
web app served by uvicorn in a thread on a free port.

The letter is made the way production makes it: `Runtime.deal_closed` schedules the touches on the
scheduler it is handed (a PrefectScheduler on the session's Prefect server in the browser test, the
simulator's in-memory one elsewhere) and `Runtime.run_touch` renders and queues it.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from conftest import deal_payload
from home_files import HELLO, always_open_journey, home_settings, write_home
from ports import free_port

from hundred import bootstrap

PASSWORD = "correct horse battery"
TOKEN = "print-room-test-token-0123456789"
DEAL = "D-PRINT-1"
JOURNEY = always_open_journey(
    "printroom",
    "Print room",
    """\
  - phase: affirm
    touches:
      - {id: thanks, day: 0, channel: letter, template: letters/thanks.txt}
  - phase: advocate
    touches:
      - {id: referral, day: 1, channel: email, referral: true, subject: "Wie ken jij?", template: emails/hello.html}
""",
    head="letters: {lead_days: 0}\n",
)
TEMPLATES = {
    "letters/thanks.txt": "Beste {{ contact.first_name }},\n\nDank je wel voor je vertrouwen.\n\n{{ sender.name }}\n",
    "emails/hello.html": HELLO,
}


@dataclass
class Site:
    root: Path
    settings: Any
    ledger: Any
    runtime: Any
    scheduler: Any
    letter_id: str
    overdue_id: str
    later_id: str


def build_site(root: Path, scheduler: Any) -> Site:
    from hundred.adapters.ledger import Ledger

    write_home(root, "printroom.yaml", JOURNEY, TEMPLATES)
    settings = home_settings(
        root,
        print_password=PASSWORD,
        print_token=TOKEN,
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    ledger = Ledger.open(settings.ledger_url)
    runtime = bootstrap.runtime(settings, ledger_=ledger, scheduler_=scheduler)
    now = datetime.now(UTC)
    runtime.deal_closed(
        deal_payload(closed_at=(now - timedelta(minutes=5)).isoformat(timespec="seconds"), id=DEAL, journey="printroom")
    )
    outcome = runtime.run_touch(DEAL, "thanks")
    assert outcome.state == "running", outcome
    letter = ledger.letters(deal_id=DEAL)[0]
    today = letter.print_by or now.date()
    extra = {}
    for suffix, print_by, country in (
        ("overdue", today - timedelta(days=2), "NL"),
        ("later", today + timedelta(days=3), "DE"),
    ):
        letter_id = f"D-OTHER-{suffix}/thanks"
        address = {**letter.address, "name": f"Klant {suffix.title()}", "country": country}
        if country == "DE":
            address.update(postcode="10115", city="Berlin")
        ledger.queue_letter(
            letter_id=letter_id,
            deal_id=f"D-OTHER-{suffix}",
            touch_id="thanks",
            text=letter.text,
            seed=letter_id,
            hand=letter.hand,
            layout=letter.layout,
            address=address,
            signer=letter.signer,
            signer_title=letter.signer_title,
            print_by=print_by,
        )
        extra[suffix] = letter_id
    return Site(root, settings, ledger, runtime, scheduler, letter.letter_id, extra["overdue"], extra["later"])


class Served:
    """The web app under uvicorn in a thread."""

    def __init__(self, app: Any):
        import uvicorn

        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(site: Site) -> Served:
    from hundred.web import create_app

    return Served(create_app(site.settings.home, settings=replace_settings(site.settings)))


def replace_settings(settings: Any) -> Any:
    """A copy for the app (it forgets the plain password once hashed)."""
    return settings.model_copy()


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def login(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    """Log in as a browser would: fetch the form (its token and pre-login cookie), post it."""
    page = client.get("/login", headers={"accept": "text/html"})
    token = CSRF.search(page.text).group(1)
    return client.post(
        "/login",
        data={"csrf": token, "password": password, "next": "/print"},
        headers={"accept": "text/html", "origin": str(client.base_url).rstrip("/")},
    )


def csrf_of(client: httpx.Client) -> str:
    return CSRF.search(client.get("/print", headers={"accept": "text/html"}).text).group(1)


__all__ = ["DEAL", "PASSWORD", "TOKEN", "Served", "Site", "build_site", "csrf_of", "login", "replace", "serve"]
