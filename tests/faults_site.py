"""What the fault tests share: a ledger on its own PostgreSQL cluster (paused and resumed to make
the database briefly unreachable, without touching the session's cluster that other tests and
Prefect may use), the real SMTP server of tests/smtp_inbox.py (it counts what it accepted and can
hold a transaction mid-way), a hundred site (journey, templates, environment) and readers of the
three truths: messages at the SMTP server, touch states in the ledger, run states in Prefect.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from conftest import deal_payload
from home_files import HELLO, always_open_journey, home_env, home_settings, write_home
from intake_site import SECRET  # the secret intake_site.App signs with
from smtp_inbox import Inbox, inbox  # noqa: F401 (the fault tests' SMTP server, a module fixture)

from hundred import bootstrap

DAY = 600.0  # seconds per journey day for deals the flows start (webhooks): their day 1 never comes in a test
JOURNEY = always_open_journey(
    "faults",
    "Fault proofs",
    """\
  - phase: admit
    touches:
      - {id: hello, day: 0, channel: email, subject: "Hallo {{ contact.first_name }}", template: emails/hello.html}
  - phase: affirm
    touches:
      - {id: later, day: 1, channel: email, subject: "Later", template: emails/hello.html}
""",
)


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
    write_home(root, "faults.yaml", JOURNEY, {"emails/hello.html": HELLO})
    values = {
        **home_env(root, smtp_port),
        "HUNDRED_DATABASE_URL": url,
        "HUNDRED_DAY_SECONDS": str(DAY),
        "HUNDRED_WEBHOOK_SECRET": SECRET,
        **env,
    }
    (root / "home").mkdir(parents=True, exist_ok=True)
    settings = home_settings(
        root,
        database_url=url,
        smtp_url=values["HUNDRED_SMTP_URL"],
        mail_from=values["HUNDRED_MAIL_FROM"],
        webhook_secret=SECRET,
        day_seconds=float(values["HUNDRED_DAY_SECONDS"]),
        print_password="not-used-here-123",
    )
    return Site(root, url, values, settings)


@contextlib.contextmanager
def migrated_site(root: Path, url: str, smtp_port: int) -> Iterator[Site]:
    """make_site's site, its ledger migrated once before any process races to do it; closed after."""
    s = make_site(root, url, smtp_port)
    s.ledger
    try:
        yield s
    finally:
        s.close()


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
    (its deal-closed task) and `<deal> · <touch>` (each touch's task); a touch run again after its
    process died has two task runs of one name: the later one counts."""
    body = {"task_runs": {"name": {"like_": f"{deal_id} · "}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 200}
    response = httpx.post(f"{api_url}/task_runs/filter", json=body, timeout=30)
    response.raise_for_status()
    mine = [r for r in response.json() if r["name"].startswith(f"{deal_id} · ")]
    return {r["name"]: (r["state"]["type"], r["run_count"]) for r in mine}


def prefect_run(api_url: str, run_id: str) -> dict[str, Any]:
    response = httpx.get(f"{api_url}/flow_runs/{run_id}", timeout=30)
    response.raise_for_status()
    return response.json()


FINAL = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")


def wait_until_runs_end(api_url: str, deal_id: str, *names: str, timeout: float = 60, log: Path | None = None) -> Any:
    """Until each named run of the deal is in a final state. A run records its touch in the ledger
    before it reports its own end to Prefect, so a test that waited for the ledger reads the run's
    state only once the run has ended, never the moment the ledger changed."""
    return wait_until(
        lambda: all(prefect_runs(api_url, deal_id).get(name, ("",))[0] in FINAL for name in names),
        timeout,
        f"the runs {', '.join(names)} to end",
        log=log,
    )


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


def report(site: Site, api_url: str, deal_id: str, inbox: Inbox, address: str) -> dict[str, Any]:
    """The three truths of a deal, printed: its messages at the SMTP server, its touch and delivery
    states in the ledger, its runs in Prefect."""
    figures = {
        "smtp": dict(inbox.subjects(address)),
        "touches": touch_states(site, deal_id),
        "deliveries": delivery_states(site, deal_id),
        "runs": prefect_runs(api_url, deal_id),
    }
    print(deal_id, json.dumps(figures, sort_keys=True))
    return figures
