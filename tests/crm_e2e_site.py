"""What the CRM end-to-end tests share: `hundred up` (a real Prefect server, `flows.serve`, the web
app) on a home of its own, configured the way a marketer connects a CRM (an API token and URL, the
webhook's password or app secret, nothing else), the vendors' API stand-ins over real HTTP
(tests/crm_standins.py), a real SMTP server (aiosmtpd), and readers of what a user would look at:
the mail at the SMTP server, the ledger's journeys and dead letters, the print room's label sheet.

Deals are won "now" (the stand-ins' won deals from the fixtures are weeks old, which a journey
would play out as a backfill); each test adds its own deals to the stand-ins' accounts with
`won_pipedrive` / `won_hubspot` (undone when the module ends).

`assert_no_token` looks at every file the system wrote (every part's log, the ledger, Prefect's
database with its logs and artifacts, the letters, `up`'s own output): no API token, in any form.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import crm_standins as accounts
import httpx
import pytest
from conftest import hundred_process
from crm_standins import HUBSPOT_BATCH, PIPEDRIVE_V1, PIPEDRIVE_V2, StandIn, stand_ins  # noqa: F401 (stand_ins: a fixture)
from faults_site import Inbox
from home_files import HELLO, always_open_journey, home_env, write_home
from intake_site import HUBSPOT_SECRET, PIPEDRIVE_AUTH, at_once, hubspot_headers
from prefect_server import base_env, wait_for
from test_up_runs_right import Up

JOURNEY = always_open_journey(
    "first-100-days",
    "CRM end to end",
    """\
  - phase: admit
    touches:
      - {id: welcome, day: 0, channel: email, subject: "Welkom {{ contact.first_name }}", template: emails/hello.html}
  - phase: affirm
    touches:
      - {id: thanks, day: 0, channel: letter, template: letters/thanks.txt}
""",
    head="letters: {lead_days: 0}\n",
)
TEMPLATES = {
    "emails/hello.html": HELLO,
    "letters/thanks.txt": "Beste {{ contact.first_name }},\n\nDank je wel.\n\n{{ sender.name }}\n",
}
DAY = 20.0  # seconds per journey day (`hundred up --day-seconds`)
FLOW_TIMEOUT = 150.0  # webhook → deal-closed run → deliver run → SMTP, on a loaded 2-core box


class Mailbox(Inbox):
    """faults_site's SMTP server, also keeping each message's envelope recipients (RCPT TO)."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        with self._lock:
            last = self.messages[-1]  # the message (or, in tests/smtp_inbox.py's Inbox, a Received)
            self.envelopes.append((list(envelope.rcpt_tos), getattr(last, "message", last)))
        return answer

    def to(self, address: str) -> list[tuple[list[str], Any]]:
        """(envelope recipients, message) of every message whose RCPT TO named `address`."""
        with self._lock:
            return [(rcpt, m) for rcpt, m in self.envelopes if address in rcpt]


class CrmSite:
    """One `hundred up` connected to both stand-ins, and everything a test does against it."""

    def __init__(self, root: Path, inbox: Mailbox, pipedrive: StandIn, hubspot: StandIn, **env: str):
        self.root, self.inbox, self.pipedrive, self.hubspot = root, inbox, pipedrive, hubspot
        write_home(root, "first-100-days.yaml", JOURNEY, TEMPLATES)
        self.env = {
            **home_env(root, inbox.port, "Bakkerij Onboarding <onboarding@example.nl>"),
            # what connecting the CRMs takes: the webhooks' credentials, the APIs' address and token
            "HUNDRED_PIPEDRIVE_AUTH": PIPEDRIVE_AUTH,
            "HUNDRED_PIPEDRIVE_API_URL": pipedrive.url,
            "HUNDRED_PIPEDRIVE_API_TOKEN": pipedrive.token,
            "HUNDRED_HUBSPOT_SECRET": HUBSPOT_SECRET,
            "HUNDRED_HUBSPOT_API_URL": hubspot.url,
            "HUNDRED_HUBSPOT_TOKEN": hubspot.token,
            **env,
        }
        # compressed days (a day-0 letter is queued for the next print morning: DAY seconds at most)
        self.up = Up(root, "--day-seconds", str(DAY), "--send-compressed", env=self.env)
        self.home = self.up.home
        self._ledger: Any = None
        self._checked: dict[Path, int] = {}

    # -- the system ------------------------------------------------------------------------------

    def start(self) -> float:
        self.up.start()
        return self.up.wait_healthy()

    def restart(self, **env: str) -> float:
        """Ctrl-C, then `hundred up` again on the same ports with `env` changed (a fixed token)."""
        self.assert_no_tracebacks()
        self.up.stop()
        self._skip_logs()
        self.env.update(env)
        self.up.extra_env = self.env
        return self.start()

    def stop(self) -> None:
        self.close_ledger()
        self.up.stop()

    def close_ledger(self) -> None:
        """Close the test's own connections to the ledger (reopened when next read). Before the files
        are read raw: closing any file descriptor of ledger.db drops every SQLite lock this process
        holds on it, and a connection left open would then read pages `up` is checkpointing
        ("database disk image is malformed")."""
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    @property
    def ledger(self) -> Any:
        from hundred.adapters.ledger import Ledger

        if self._ledger is None:
            self._ledger = Ledger.open(f"sqlite:///{self.home / 'ledger.db'}")
        return self._ledger

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`hundred ARGS` as the operator types it next to the running `up` (same environment)."""
        env = base_env(self.root / "cli-prefect")
        env.update(self.env)
        done = hundred_process(*args, env=env, timeout=180)
        if check:
            assert done.returncode == 0, done.stderr + done.stdout
        return done

    def logs(self) -> list[Path]:
        return sorted((self.home / "logs").glob("*.log"))

    def wait(self, predicate: Any, what: str, timeout: float = FLOW_TIMEOUT) -> Any:
        return wait_for(predicate, timeout, what, self.up.proc, self.home / "logs" / "serve.log", 0.5)

    # -- the CRMs' webhooks ----------------------------------------------------------------------

    def post_pipedrive(self, body: dict[str, Any] | bytes, auth: str = PIPEDRIVE_AUTH) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {
            "authorization": "Basic " + base64.b64encode(auth.encode()).decode(),
            "content-type": "application/json",
        }
        return httpx.post(self.up.url + "/hooks/pipedrive", content=raw, headers=headers, timeout=60)

    def post_hubspot(self, events: list[dict[str, Any]] | bytes) -> httpx.Response:
        url = self.up.url + "/hooks/hubspot"
        raw = events if isinstance(events, bytes) else json.dumps(events).encode()
        return httpx.post(url, content=raw, headers=hubspot_headers(url, raw), timeout=60)

    def at_once(self, send: Any, times: int) -> list[httpx.Response]:
        """`send()` from `times` threads released together (a CRM retrying while the first is in flight)."""
        return at_once(send, times, timeout=90)

    # -- what a user looks at ----------------------------------------------------------------------

    def journeys_of(self, deal_id: str) -> list[Any]:
        return [j for j in self.ledger.journeys() if j.deal_id == deal_id]

    def intakes_of(self, deal_id: str) -> list[Any]:
        return [r for r in self.ledger.intakes(limit=100_000) if r.deal_id == deal_id]

    def mail_to(self, address: str) -> list[tuple[list[str], Any]]:
        return self.inbox.to(address)

    def wait_started(self, deal_id: str, address: str) -> Any:
        """The deal's journey started and its first email reached the SMTP server: that email."""
        self.wait(lambda: self.mail_to(address), f"the first email of deal {deal_id} to {address}")
        return self.mail_to(address)[0]

    def queued_letter(self, deal_id: str) -> Any:
        letters = [letter for letter in self.ledger.letters() if letter.deal_id == deal_id]
        return letters[0] if letters else None

    def label_text(self) -> str:
        """Today's print batch with its address labels (`hundred letters batch --labels`): the
        label sheet's text, one address block per label."""
        from pdftools import page_texts

        until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        done = json.loads(self.cli("letters", "batch", "--labels", "--date", until, "--json").stdout)
        assert done["labels"], done
        return "\n".join(page_texts(done["labels"]))

    def _skip_logs(self) -> None:
        """What the parts logged so far is checked; a stop's SIGTERM to runs in flight is no fault."""
        self._checked = {log: log.stat().st_size for log in self.logs()}

    def assert_no_tracebacks(self) -> None:
        """No traceback in any part's log since it started (or was checked and stopped), except the
        Prefect server's own SQLite lock contention on a loaded machine ("database is locked":
        Prefect retries the write; `up` already tells the operator), which is not hundred's."""
        for log in self.logs():
            text = log.read_bytes()[self._checked.get(log, 0) :].decode("utf-8", errors="replace")
            for record in re.split(r"\n(?=\d\d:\d\d:\d\d\.\d+ \| )", text):
                if log.name == "prefect.log" and "database is locked" in record:
                    continue
                assert "Traceback (most recent call last)" not in record, f"a traceback in {log}:\n{record[:4000]}"


@contextlib.contextmanager
def running(site: CrmSite) -> Iterator[CrmSite]:
    """`hundred up` for a test module; its logs must stay free of tracebacks until it is stopped."""
    print(f"hundred up healthy in {site.start():.1f} s")
    try:
        yield site
        site.assert_no_tracebacks()
    finally:
        site.stop()


def assert_no_token(site: CrmSite, tokens: list[str], *, must_find: str) -> int:
    """No token in any file under the site (every part's log, the ledger, Prefect's database with
    its logs and artifacts, the letters, up's output), nor in what `intake list` shows. `must_find`
    (something the system did store, e.g. a customer's email) proves the files were read.
    Returns how many files were read."""
    site.close_ledger()
    needles = [t.encode() for t in tokens] + [base64.b64encode(t.encode()) for t in tokens]
    found_marker, read = False, 0
    for path in sorted(p for p in site.root.rglob("*") if p.is_file()):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # a file written atomically (`.up.json.<pid>.tmp`) renamed meanwhile
            continue
        read += 1
        found_marker = found_marker or must_find.encode() in data
        for needle in needles:
            assert needle not in data, f"a CRM token is in {path}"
    assert found_marker, f"{must_find!r} is in none of the {read} files under {site.root}: the scan saw nothing"
    listing = site.cli("intake", "list", "--json").stdout
    assert not [t for t in tokens if t in listing], "a CRM token is in `hundred intake list --json`"
    return read


# -- the CRMs' accounts: deals won now ----------------------------------------------------------------


def now_z() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Accounts:
    """Adds deals to the stand-ins' accounts (module-level tables in crm_standins) and takes them out again."""

    def __init__(self) -> None:
        self.added: list[tuple[dict[Any, Any], Any]] = []

    def _add(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        table[key] = value
        self.added.append((table, key))

    def won_pipedrive(self, deal_id: int, person_id: int = 88, org_id: int = 21) -> dict[str, Any]:
        """A deal won just now in Pipedrive (API v2's shape, as the stand-in keeps it)."""
        won = now_z()
        deal = copy.deepcopy(accounts.PD_DEALS[4711])
        deal.update(id=deal_id, person_id=person_id, org_id=org_id, update_time=won, won_time=won, close_time=won)
        self._add(accounts.PD_DEALS, deal_id, deal)
        return deal

    def won_hubspot(self, deal_id: str, contacts: list[str], companies: list[Any], stage: str = "closedwon") -> None:
        deal = copy.deepcopy(accounts.HS_DEALS["9823471102"])
        deal["properties"].update(dealstage=stage, closedate=now_z(), hs_object_id=deal_id)
        deal.update(contacts=contacts, companies=companies)
        self._add(accounts.HS_DEALS, deal_id, deal)

    def person(self, person_id: int, **changes: Any) -> None:
        self._add(
            accounts.PD_PERSONS, person_id, {**copy.deepcopy(accounts.PD_PERSONS[88]), "id": person_id, **changes}
        )

    def person_at_work(self, person_id: int, first_name: str, last_name: str, email: str) -> None:
        """A Pipedrive person (Ilse's record otherwise) whose one email is `email`, primary, at work."""
        name = f"{first_name} {last_name}"
        work = [{"value": email, "primary": True, "label": "work"}]
        self.person(person_id, name=name, first_name=first_name, last_name=last_name, emails=work)

    def contact(self, contact_id: str, **props: Any) -> None:
        self._add(accounts.HS_CONTACTS, contact_id, {**accounts.HS_CONTACTS["501"], **props})

    def company(self, company_id: str, **props: Any) -> None:
        self._add(accounts.HS_COMPANIES, company_id, {**accounts.HS_COMPANIES["777"], **props})

    def undo(self) -> None:
        for table, key in reversed(self.added):
            table.pop(key, None)


def pipedrive_v1(deal_id: int) -> dict[str, Any]:
    """Pipedrive's stock v1 webhook for a deal that just became won (status open → won)."""
    body = copy.deepcopy(PIPEDRIVE_V1)
    body["current"]["id"] = body["previous"]["id"] = body["meta"]["id"] = deal_id
    body["meta"]["timestamp"] = int(time.time())
    return body


def pipedrive_v2(deal_id: int) -> dict[str, Any]:
    """Pipedrive's stock v2 webhook (`data`/`previous`, `meta.entity`) for the same kind of change."""
    body = copy.deepcopy(PIPEDRIVE_V2)
    body["data"]["id"] = deal_id
    body["meta"]["entity_id"] = str(deal_id)
    return body


def hubspot_event(object_id: str, stage: str, event_id: int) -> dict[str, Any]:
    """One `deal.propertyChange` event on `dealstage`, as HubSpot batches them."""
    event = copy.deepcopy(HUBSPOT_BATCH[0])
    event.update(eventId=event_id, objectId=int(object_id), propertyValue=stage, occurredAt=int(time.time() * 1000))
    return event


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller
    from prefect_server import free_port

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def crm_accounts() -> Iterator[Accounts]:
    added = Accounts()
    yield added
    added.undo()


__all__ = ["Accounts", "CrmSite", "Mailbox", "assert_no_token", "running"]
