"""End to end on a real Prefect server, a real `flows.serve`, a real SMTP server (aiosmtpd) and
compressed days: what an operator and a customer would see.

One journey day lasts DAY seconds; the journey's calendar is open every day, so the timing is
the test's and not the holiday calendar's.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from conftest import deal_payload, hundred_process
from home_files import HELLO, always_open_journey, home_env, write_home
from prefect_server import base_env, each_process, start_prefect_server, wait_for
from smtp_inbox import inbox  # noqa: F401 (a fixture)

from hundred import bootstrap

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

DAY = 3.0
JOURNEY = always_open_journey(
    "e2e",
    "End to end",
    """\
  - phase: admit
    touches:
      - {id: welcome, day: 0, channel: task, title: "Bel {{ contact.first_name }}", template: tasks/call.md, confirm: false}
  - phase: affirm
    touches:
      - {id: thanks, day: 1, channel: letter, template: letters/thanks.txt}
      - {id: hello, day: 1, channel: email, subject: "Hallo {{ contact.first_name }}", template: emails/hello.html}
  - phase: advocate
    touches:
      - {id: referral, day: 2, channel: email, referral: true, subject: "Wie ken jij?", template: emails/hello.html}
""",
    head="letters: {lead_days: 0}\n",
)
TEMPLATES = {
    "letters/thanks.txt": "Beste {{ contact.first_name }},\n\nDank je wel.\n\n{{ sender.name }}\n",
    "emails/hello.html": HELLO,
    "tasks/call.md": "Bel {{ contact.first_name }} op {{ contact.phone }}.\n",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, inbox) -> dict[str, str]:
    """A hundred home with the e2e journey, and the environment every process here shares."""
    root = tmp_path_factory.mktemp("e2e")
    write_home(root, "e2e.yaml", JOURNEY, TEMPLATES)
    return {
        **home_env(root, inbox.port, "Bakkerij Onboarding <onboarding@example.nl>"),
        "HUNDRED_DAY_SECONDS": str(DAY),
    }


@pytest.fixture(scope="module")
def served(prefect_server, site):
    with prefect_server.serve(Path(site["HUNDRED_HOME"]), env=site) as s:
        yield s


def hundred(site: dict[str, str], api_url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = base_env(Path(site["HUNDRED_HOME"]) / "cli-prefect", api_url)
    env.update(site)
    done = hundred_process(*args, env=env)
    if check:
        assert done.returncode == 0, done.stderr + done.stdout
    return done


def close_deal(site, api_url, tmp_path, deal_id: str, contact_email: str, closed_at: datetime | None = None) -> Path:
    closed = closed_at or datetime.now(UTC)
    payload = deal_payload(closed_at=closed.isoformat(), id=deal_id, journey="e2e")
    payload["contact"]["email"] = contact_email
    path = tmp_path / f"{deal_id}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    hundred(site, api_url, "deal-closed", str(path))
    return path


def states(site, api_url, deal_id: str) -> dict[str, str]:
    data = json.loads(hundred(site, api_url, "status", deal_id, "--json").stdout)
    return {t["touch"]: t["state"] for t in data["touches"]}


def letters_of(site, api_url, deal_id: str) -> list[tuple[str, str]]:
    letters = json.loads(hundred(site, api_url, "letters", "list", "--json").stdout)["letters"]
    return [(l["letter"], l["state"]) for l in letters if l["deal"] == deal_id]


def tasks_of(api_url: str, deal_id: str) -> dict[str, list[str]]:
    """The deal's task runs in Prefect (one per touch delivered, named `<deal> · <touch>`): their states by name."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    with SyncPrefectClient(api_url) as client:
        runs = client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=f"{deal_id} · ")))
    found: dict[str, list[str]] = {}
    for run in (r for r in runs if r.name.startswith(f"{deal_id} · ")):
        found.setdefault(run.name, []).append(run.state.type.value if run.state else "?")
    return found


def test_a_closed_deal_plays_out_in_order_and_the_referral_waits_for_the_posted_letter(
    prefect_server, served, site, inbox, tmp_path
):
    api = prefect_server.api_url
    path = close_deal(site, api, tmp_path, "E2E-1", "ilse@example.nl")
    first = states(site, api, "E2E-1")
    assert first.pop("welcome") in ("scheduled", "running", "done")  # day 0: it may already be under way
    assert first == {"thanks": "scheduled", "hello": "scheduled", "referral": "waiting"}
    again = hundred(site, api, "deal-closed", str(path))
    assert "already running; nothing new scheduled" in again.stdout

    wait_for(
        lambda: inbox.to("ilse@example.nl") and letters_of(site, api, "E2E-1"),
        120,
        "the welcome task, the email and the queued letter",
        served.proc,
        served.log,
        1,
    )
    owner = inbox.to("sanne@example.nl")
    assert len(owner) == 1 and owner[0]["Subject"] == "Bel Ilse"
    invite = next(p for p in owner[0].walk() if p.get_content_type() == "text/calendar")
    assert "UID:E2E-1/e2e/welcome@hundred" in invite.get_content().replace("\r\n ", "")
    hello = inbox.to("ilse@example.nl")[0]
    assert hello["Subject"] == "Hallo Ilse" and hello["To"] == "Ilse Jansen <ilse@example.nl>"
    assert hello["Message-ID"] == "<E2E-1.e2e.hello@example.nl>"
    assert hello["From"] == "Sanne de Vries <onboarding@example.nl>" and hello["Reply-To"] == "sanne@example.nl"
    assert {p.get_content_type() for p in hello.walk()} >= {"text/plain", "text/html"}
    assert letters_of(site, api, "E2E-1") == [("E2E-1/thanks", "queued")]
    assert states(site, api, "E2E-1")["thanks"] == "running"  # in the print room until it is posted

    time.sleep(3 * DAY)  # long past the referral's planned day 2: the unposted letter holds the gate
    assert states(site, api, "E2E-1")["referral"] == "waiting"
    assert len(inbox.to("ilse@example.nl")) == 1
    posted_at = datetime.now(UTC)
    hundred(site, api, "letters", "mark-posted", "E2E-1/thanks")
    assert states(site, api, "E2E-1")["referral"] == "scheduled"
    wait_for(lambda: len(inbox.to("ilse@example.nl")) == 2, 60, "the referral email", served.proc, served.log, 1)
    referral = inbox.to("ilse@example.nl")[1]
    assert referral["Subject"] == "Wie ken jij?"
    assert email.utils.parsedate_to_datetime(referral["Date"]) >= posted_at.replace(microsecond=0)
    final = states(site, api, "E2E-1")
    assert final == {"welcome": "done", "thanks": "delivered", "hello": "delivered", "referral": "delivered"}
    # one task per touch that ran (the letter's task queued it), and one that started the journey:
    # the repeated deal-closed was a duplicate
    tasks = tasks_of(api, "E2E-1")
    assert {name: runs for name, runs in tasks.items() if runs == ["COMPLETED"]} == {
        f"E2E-1 · {t}": ["COMPLETED"] for t in ("start", "welcome", "thanks", "hello", "referral")
    }


def test_cancel_stops_the_rest_of_the_journey(prefect_server, served, site, inbox, tmp_path):
    api = prefect_server.api_url
    close_deal(site, api, tmp_path, "E2E-2", "bram@example.nl")
    done = hundred(site, api, "cancel", "E2E-2", "--reason", "deal churned")
    assert "journey exited: deal churned" in done.stdout
    time.sleep(3 * DAY)
    assert not inbox.to("bram@example.nl")
    after = states(site, api, "E2E-2")
    assert {after[t] for t in ("thanks", "hello", "referral")} == {"cancelled"}
    assert not {"E2E-2 · thanks", "E2E-2 · hello", "E2E-2 · referral"} & set(tasks_of(api, "E2E-2"))  # none ran


def _flow_run_pid(run_id: str) -> int | None:
    marker = f"PREFECT__FLOW_RUN_ID={run_id}".encode()
    return next((pid for pid, environ in each_process("environ") if marker in environ), None)


def test_a_run_killed_mid_delivery_and_run_again_sends_one_email(prefect_server, served, site, inbox, tmp_path):
    api = prefect_server.api_url
    held = inbox.hold_for("kees@example.nl")
    close_deal(site, api, tmp_path, "E2E-3", "kees@example.nl")
    wait_for(held.is_set, 90, "the email's SMTP transaction", served.proc, served.log, 0.5)
    run_id = json.loads(hundred(site, api, "status", "E2E-3", "--json").stdout)
    run_id = next(t["flow_run_id"] for t in run_id["touches"] if t["touch"] == "hello")
    pid = _flow_run_pid(run_id)
    assert pid, "the run delivering the email is not a process here"
    os.kill(pid, signal.SIGKILL)  # the worker dies in the middle of the SMTP transaction
    inbox.release("kees@example.nl")
    assert states(site, api, "E2E-3")["hello"] == "running"

    from hundred.adapters.ledger import Ledger
    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.service.reconcile import reconcile
    from hundred.service.settings import Settings

    settings = Settings(home=Path(site["HUNDRED_HOME"]), run_lease_seconds=0.5)
    runtime = bootstrap.runtime(settings, ledger_=Ledger.open(settings.ledger_url), scheduler_=PrefectScheduler(api))
    time.sleep(1)
    report = reconcile(runtime)  # the runner saw its run's process die (Crashed): its claim is let go
    # the dead run held the email and, unless it had already been delivered, the letter due with it
    assert report.counts.get("released") == 1, report.lines
    assert re.match(r"[12] claims? of 1 ended run let go", report.lines[0]), report.lines
    wait_for(
        lambda: states(site, api, "E2E-3")["hello"] == "delivered",
        60,
        "the email, run again",
        served.proc,
        served.log,
        1,
    )
    assert len(inbox.to("kees@example.nl")) == 1


def test_reconcile_makes_again_a_moments_run_that_was_deleted(hundred_deployments, site, tmp_path):
    from hundred.adapters.ledger import Ledger
    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.service.reconcile import reconcile
    from hundred.service.settings import Settings

    api = hundred_deployments.api_url
    settings = Settings(
        home=tmp_path / "home",
        journeys_dir=Path(site["HUNDRED_JOURNEYS_DIR"]),
        templates_dir=Path(site["HUNDRED_TEMPLATES_DIR"]),
        day_seconds=3600,
    )
    runtime = bootstrap.runtime(settings, ledger_=Ledger.open(settings.ledger_url), scheduler_=PrefectScheduler(api))
    runtime.deal_closed(deal_payload(closed_at=datetime.now(UTC).isoformat(), id="E2E-4", journey="e2e"))
    hello = runtime.ledger.touch("E2E-4", "hello")
    httpx.delete(f"{api}/flow_runs/{hello.flow_run_id}", timeout=30).raise_for_status()  # deleted in the UI
    reconcile(runtime)  # it makes the run again, unless the reconcile `serve` runs on Prefect's schedule just did
    again = runtime.ledger.touch("E2E-4", "hello")
    assert again.state == "scheduled" and again.flow_run_id != hello.flow_run_id
    run = httpx.get(f"{api}/flow_runs/{again.flow_run_id}", timeout=30).json()
    assert run["state"]["type"] == "SCHEDULED" and run["parameters"]["moment"].startswith(
        hello.moment.isoformat().replace("+00:00", "")
    )
    httpx.post(
        f"{api}/flow_runs/{again.flow_run_id}/set_state",
        timeout=30,
        json={"state": {"type": "CANCELLED", "name": "Cancelled"}, "force": True},
    )


def test_after_a_prefect_server_restart_the_pending_touches_still_run(tmp_path_factory, site, inbox, tmp_path):
    """Its own server: this test stops it for a while, with touches falling due meanwhile."""
    from zoneinfo import ZoneInfo

    server = start_prefect_server(tmp_path_factory.mktemp("restart-prefect"))
    day = 20.0  # closed at midnight: day 1 falls due `day` seconds after the deal is received
    env = {**site, "HUNDRED_HOME": str(tmp_path / "home"), "HUNDRED_DAY_SECONDS": str(day)}
    midnight = datetime.now(ZoneInfo("Europe/Amsterdam")).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        with server.serve(tmp_path / "home", env=env, expect_tracebacks=True) as s:  # the server goes away
            close_deal(env, server.api_url, tmp_path, "E2E-5", "anna@example.nl", closed_at=midnight)
            # `deal-closed` returns once the journey is in the ledger; its deliver run is made just
            # after. Stopped before that, the touches would wait planned for reconcile (every 15 min).
            wait_for(
                lambda: "planned" not in states(env, server.api_url, "E2E-5").values(),
                60,
                "the touches' deliver run in Prefect",
                s.proc,
                s.log,
                0.5,
            )
            port = server.api_url.split(":")[-1].split("/")[0]
            server.stop()
            time.sleep(day + 5)  # the email falls due while the server is down
            restarted = start_prefect_server(server.home, port=int(port))
            server.proc = restarted.proc
            wait_for(lambda: inbox.to("anna@example.nl"), 120, "the email after the restart", s.proc, s.log, 1)
        assert len(inbox.to("anna@example.nl")) == 1
    finally:
        server.stop()
