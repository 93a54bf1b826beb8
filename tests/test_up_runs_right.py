"""`hundred up` running right for a hundred days, in the shape a user runs it:

- Prefect's own schedules fire (reconcile's interval, the print batch's cron) and their runs execute;
- one journey clock on every path a deal comes in by (webhook, CLI, import, demo, deal-updated), and
  a deal that closed months ago plays out from its start under compressed days;
- `--day-seconds` with a real SMTP server is refused unless the operator says so;
- killed hard (every process group, SIGKILL) at random moments while deals are in flight, `up` is
  back within seconds and every email reaches the SMTP server exactly once.

A traceback in any part's log fails a test, unless the test expects that fault.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import hundred_process
from home_files import HELLO, always_open_journey, write_home
from ports import free_port
from prefect_pool import descendants
from prefect_server import REPO, assert_no_traceback, base_env, http_get, start_logged, stop_group, wait_for
from smtp_inbox import inbox  # noqa: F401 (a fixture)

from hundred.adapters.channels.signing import sign

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
UP_TIMEOUT = float(os.environ.get("HUNDRED_TEST_UP_TIMEOUT", "240"))
SECRET = "whsec-up-test-0123456789"
JOURNEY = always_open_journey(
    "first-100-days",
    "Up test",
    """\
  - phase: admit
    touches:
      - {id: hello, day: 0, channel: email, subject: "Hallo {{ contact.first_name }}", template: emails/hello.html}
  - phase: affirm
    touches:
      - {id: check-in, day: 1, channel: email, subject: "Alles goed?", template: emails/hello.html}
  - phase: activate
    touches:
      - {id: tip, day: 2, channel: email, subject: "Een tip", template: emails/hello.html}
""",
)


def make_site(root: Path) -> Path:
    return write_home(root, "first-100-days.yaml", JOURNEY, {"emails/hello.html": HELLO})


class Up:
    """One `hundred up` on a home, started (again) on the same ports."""

    def __init__(self, root: Path, *args: str, env: dict[str, str] | None = None):
        self.root, self.home = root, root / "home"
        self.port, self.prefect_port = free_port(), free_port()
        self.args, self.extra_env = args, env or {}
        self.proc: subprocess.Popen | None = None
        self.out = root / "up.out"
        self.starts = 0

    def start(self) -> subprocess.Popen:
        env = base_env(self.root / "unused-prefect-home")
        env.update(
            {
                "HUNDRED_HOME": str(self.home),
                "HUNDRED_JOURNEYS_DIR": str(self.root / "journeys"),
                "HUNDRED_TEMPLATES_DIR": str(self.root / "templates"),
                "HUNDRED_WEBHOOK_SECRET": SECRET,
                "HUNDRED_PRINT_PASSWORD": "print-room-test-pass",
            }
        )
        env.update(self.extra_env)
        self.starts += 1
        with open(self.out, "a") as out:
            out.write(f"\n=== start {self.starts}\n")
        ports = ["--port", str(self.port), "--prefect-port", str(self.prefect_port)]
        self.proc = start_logged([sys.executable, "-m", "hundred.cli", "up", *ports, *self.args], self.out, env, REPO)
        return self.proc

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}/api"

    def healthy(self) -> bool:
        status, body = http_get(f"{self.url}/healthz")
        return status == 200 and json.loads(body)["status"] == "ok"

    def wait_healthy(self, timeout: float = UP_TIMEOUT) -> float:
        started = time.monotonic()
        wait_for(
            self.healthy,
            timeout,
            "hundred up's /healthz to answer ok",
            self.proc,
            self.home / "logs" / "prefect.log",
            0.25,
        )
        return time.monotonic() - started

    def kill_hard(self) -> None:
        """Power loss: SIGKILL to the supervisor and everything it started, every process group
        (the parts, the flow runs they started). Each is frozen (SIGSTOP) first, and the tree walked
        again until nothing new appears, so none can start a survivor between the walk and the kill."""
        frozen: set[int] = set()
        while doomed := (descendants(self.proc.pid) | {self.proc.pid}) - frozen:
            for pid in doomed:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            frozen |= doomed
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_group(self.proc, signal.SIGINT, timeout=60)

    def cli(self, *args: str, check: int | None = 0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        full = {
            **os.environ,
            "HUNDRED_HOME": str(self.home),
            "HUNDRED_JOURNEYS_DIR": str(self.root / "journeys"),
            "HUNDRED_TEMPLATES_DIR": str(self.root / "templates"),
            **(env or {}),
        }
        full.pop("PREFECT_API_URL", None)  # the running `up` is found through HUNDRED_HOME
        full.pop("HUNDRED_DAY_SECONDS", None)  # the running `up`'s clock, not the command's own
        done = hundred_process(*args, env=full, timeout=180)
        if check is not None:
            assert done.returncode == check, done.stdout + done.stderr
        return done

    def post_deal(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = {"content-type": "application/json", "X-Hundred-Signature": sign(body, SECRET, int(time.time()))}
        return httpx.post(f"{self.url}{path}", content=body, headers=headers, timeout=60)

    def logs_clean(self) -> None:
        for log in sorted((self.home / "logs").glob("*.log")):
            assert_no_traceback(log, sqlite_contention=log.name == "prefect.log")


def deal(deal_id: str, closed_at: datetime | None = None, **more: Any) -> dict[str, Any]:
    from conftest import deal_payload

    payload = deal_payload(
        closed_at=(closed_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        id=deal_id,
        journey="first-100-days",
        **more,
    )
    payload["contact"]["email"] = f"{deal_id.lower()}@example.nl"
    return payload


def ledger_of(up: Up) -> Any:
    from hundred.adapters.ledger import Ledger

    return Ledger.open(f"sqlite:///{up.home / 'ledger.db'}")


def test_prefects_own_schedules_fire_and_their_runs_execute_under_up(tmp_path):
    """The reconcile interval and the print batch's cron get runs from Prefect's scheduler service
    (auto-scheduled: not made by hundred) and those runs complete; every part's log stays clean."""
    up = Up(
        make_site(tmp_path),
        env={
            "HUNDRED_RECONCILE_SECONDS": "20",
            "HUNDRED_PRINT_BATCH_CRON": "* * * * *",
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "10",
        },
    )
    up.start()
    try:
        up.wait_healthy()

        def auto_runs(deployment: str, *states: str) -> list[dict[str, Any]]:
            """The deployment's runs that Prefect's scheduler made, oldest first (it makes up to
            100 ahead, so an unsorted page can hold only future ones)."""
            dep = httpx.get(f"{up.api}/deployments/name/{deployment}", timeout=30).json()
            body: dict[str, Any] = {
                "deployments": {"id": {"any_": [dep["id"]]}},
                "sort": "EXPECTED_START_TIME_ASC",
                "limit": 50,
            }
            if states:
                body["flow_runs"] = {"state": {"type": {"any_": list(states)}}}
            runs = httpx.post(f"{up.api}/flow_runs/filter", json=body, timeout=30).json()
            return [r for r in runs if r.get("auto_scheduled")]

        def completed(deployment: str) -> bool:
            return bool(auto_runs(deployment, "COMPLETED"))

        wait_for(
            lambda: completed("reconcile/reconcile") and completed("print-batch/print-batch"),
            240,
            "an auto-scheduled reconcile and print-batch run to complete",
            up.proc,
            up.home / "logs" / "serve.log",
            2,
        )
        assert not auto_runs("reconcile/reconcile", "FAILED", "CRASHED")
        assert up.healthy()
    finally:
        up.stop()
    up.logs_clean()


def test_one_journey_clock_on_every_path_a_deal_comes_in_by(tmp_path, inbox):
    """Webhook, CLI, import, demo and deal-updated all keep the running `up`'s clock: the same
    journey gets the same schedule in journey days from its receipt, whichever way it came. A deal
    that closed four months ago plays out from its start instead of expiring at once."""
    day = 20.0
    up = Up(
        make_site(tmp_path),
        "--day-seconds",
        str(day),
        "--demo",
        "--send-compressed",
        env={"HUNDRED_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}?starttls=false"},
    )
    up.start()
    try:
        up.wait_healthy()
        # Journey days count by the close *date* in Amsterdam, so every deal closes at the same local
        # time of day: deals closed seconds apart around midnight, or 120 days back across a change
        # of summer time, would rightly get schedules a day apart.
        closed = (datetime.now(AMSTERDAM) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
        assert up.post_deal("/hooks/deal-closed", deal("CLK-HOOK", closed)).status_code == 202
        (tmp_path / "cli.json").write_text(json.dumps(deal("CLK-CLI", closed)), encoding="utf-8")
        up.cli("deal-closed", str(tmp_path / "cli.json"))
        old = deal("CLK-OLD", closed_at=closed - timedelta(days=120))  # wall-clock arithmetic: 12:00 too
        (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
        up.cli("deal-closed", str(tmp_path / "old.json"))
        csv = tmp_path / "deals.csv"
        row = deal("CLK-CSV", closed)
        csv.write_text(
            "id,closed_at,journey,amount,currency,owner.name,owner.email,contact.first_name,contact.email,"
            "company.name,address.street,address.postcode,address.city,address.country\n"
            f"CLK-CSV,{row['closed_at']},first-100-days,100.00,EUR,Sanne,sanne@example.nl,Ilse,clk-csv@example.nl,"
            "Bakkerij,Dorpsstraat 12,8011 AB,Zwolle,NL\n",
            encoding="utf-8",
        )
        up.cli("import", str(csv))
        ledger = ledger_of(up)
        deals = ["CLK-HOOK", "CLK-CLI", "CLK-CSV", "CLK-OLD"]
        wait_for(
            lambda: (
                all(ledger.journey(d) for d in deals) and any(j.deal_id.startswith("DEMO-") for j in ledger.journeys())
            ),
            120,
            "every deal's journey to start",
            up.proc,
            up.home / "logs" / "serve.log",
            0.5,
        )
        demo = next(j.deal_id for j in ledger.journeys() if j.deal_id.startswith("DEMO-"))

        def schedule(deal_id: str) -> dict[str, float]:
            row = ledger.journey(deal_id)
            assert row.day_seconds == day, (deal_id, row.day_seconds)
            return {
                t.touch_id: (t.planned_due - row.received_at).total_seconds() / day for t in ledger.touches(deal_id)
            }

        hook = schedule("CLK-HOOK")
        for other in ("CLK-CLI", "CLK-CSV", "CLK-OLD"):
            got = schedule(other)
            assert got.keys() == hook.keys()
            for touch, days in hook.items():  # the same shape in journey days (received a few seconds apart)
                assert abs(got[touch] - days) < 0.05, (other, touch, got[touch], days)
        assert set(schedule(demo)) != set()  # the shipped journey: its own touches, on the same clock
        assert ledger.journey(demo).day_seconds == day

        before = {t.touch_id: t.due for t in ledger.touches("CLK-HOOK")}
        updated = deal("CLK-HOOK", segment="B")
        updated["closed_at"] = ledger.deal_payload("CLK-HOOK")["closed_at"]
        assert up.post_deal("/hooks/deal-updated", updated).status_code == 202
        assert {t.touch_id: t.due for t in ledger.touches("CLK-HOOK")} == before  # an update keeps the clock

        # the old deal plays out from its start: its day-0 email goes out, nothing expires
        wait_for(
            lambda: ledger.touch("CLK-OLD", "hello").state == "delivered",
            120,
            "the old deal's first email",
            up.proc,
            up.home / "logs" / "serve.log",
            0.5,
        )
        assert not [t for t in ledger.touches("CLK-OLD") if t.state == "expired"]
        ledger.close()
    finally:
        up.stop()
    up.logs_clean()


def test_compressed_days_with_a_real_smtp_server_need_an_explicit_flag(tmp_path):
    up = Up(make_site(tmp_path), "--day-seconds", "5", env={"HUNDRED_SMTP_URL": "smtp://mail.example.com:587"})
    proc = up.start()
    proc.wait(120)
    text = up.out.read_text()
    assert proc.returncode == 1
    assert "would mail real customers 100 days of touches in minutes" in text and "--send-compressed" in text
    assert not (up.home / "logs").exists()  # nothing was started


def test_killed_hard_three_times_up_comes_back_in_seconds_and_every_email_goes_out_once(tmp_path, inbox):
    """Power loss while 20 deals are in flight, three times (the first while the mail server holds
    two emails, then at random moments): every process group SIGKILLed. After each, `up` is back (its /healthz ok) within seconds on the same ports, takes
    over what the dead one held, and in the end every email reached the SMTP server exactly once:
    those a kill left in doubt once the operator has said what the mail server's log shows."""
    day = 6.0
    up = Up(
        make_site(tmp_path),
        "--day-seconds",
        str(day),
        "--send-compressed",
        env={"HUNDRED_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}?starttls=false", "HUNDRED_RUN_LEASE_SECONDS": "60"},
    )
    up.start()
    back_in: list[float] = []
    rng = random.Random(int(os.environ.get("HUNDRED_TEST_SEED", "0")) or None)
    try:
        up.wait_healthy()
        deals = [f"K-{n:02d}" for n in range(20)]
        # The first kill falls while the mail server holds K-00's and K-01's first emails after
        # their closing dot (each claimed `sending`, its 250 not yet answered): both are left in
        # doubt. Released after the kill, the server keeps K-00's and loses K-01's.
        held = [inbox.hold_for(f"{d.lower()}@example.nl", at="DATA") for d in ("K-00", "K-01")]
        sender = threading.Thread(target=lambda: [up.post_deal("/hooks/deal-closed", deal(d)) for d in deals])
        sender.start()
        for kill in range(3):
            if kill == 0:
                assert all(h.wait(120) for h in held), "the two held emails never reached the SMTP server"
            else:
                time.sleep(rng.uniform(2.0, 3 * day))
            up.kill_hard()
            if kill == 0:
                inbox.release("k-00@example.nl")
                inbox.release("k-01@example.nl", keep=False)
            up.start()
            back_in.append(up.wait_healthy())
        sender.join(120)
        ledger = ledger_of(up)
        for d in deals:  # a POST the kill cut off is sent again, as a CRM would
            if ledger.journey(d) is None and not ledger.intakes(deal_id=d):
                assert up.post_deal("/hooks/deal-closed", deal(d)).status_code == 202
        emails = {(d, t): f"<{d}.first-100-days.{t}@localhost>" for d in deals for t in ("hello", "check-in", "tip")}

        def doubt(row: Any) -> bool:
            return row.state == "failed" and "may already have been delivered" in (row.error or "")

        def settled() -> bool:  # every email delivered, or waiting for the operator's look at the mail log
            rows = {(t.deal_id, t.touch_id): t for t in ledger.touches() if t.deal_id in deals}
            return all(k in rows and (rows[k].state == "delivered" or doubt(rows[k])) for k in emails)

        serve_log = up.home / "logs" / "serve.log"
        wait_for(settled, 300, "every email delivered or in doubt", up.proc, serve_log, 1)
        # A kill after a claim and before the closing dot (or before the 250 was recorded) leaves the
        # email in doubt: never sent again on a guess. The operator looks its Message-ID up in the
        # mail server's log and says what it shows; `hundred retry` then records it or sends it once.
        in_doubt = {(t.deal_id, t.touch_id) for t in ledger.touches() if t.deal_id in deals and doubt(t)}
        # the held email of each is its first to reach the server: `hello`, or `check-in` when a
        # late run sent both at once and check-in got there first
        assert {"K-00", "K-01"} <= {d for d, _ in in_doubt}, in_doubt
        arrived_before = set(inbox.message_ids())

        def as_operator(d: str, t: str, *flags: str, code: int) -> subprocess.CompletedProcess:
            # the touch waits failed for the operator: Prefect does not run an email in doubt again
            # (flows/journey.py), so `hundred retry` is never refused as "is running" meanwhile
            assert doubt(ledger.touch(d, t)), ledger.touch(d, t)
            done = up.cli("retry", d, t, *flags, check=None)
            assert done.returncode == code, done.stdout + done.stderr
            return done

        for d, t in sorted(in_doubt):
            plain = as_operator(d, t, code=1)
            assert "may already have been delivered" in plain.stderr and "--not-delivered" in plain.stderr
            as_operator(d, t, "--delivered" if emails[d, t] in arrived_before else "--not-delivered", code=0)
        wait_for(
            lambda: set(emails.values()) <= set(inbox.message_ids()),
            300,
            "every deal's three emails at the SMTP server",
            up.proc,
            serve_log,
            1,
        )
        time.sleep(2 * day)  # anything sent twice would have arrived by now
        counts = collections.Counter(inbox.message_ids())
        doubled = {m: n for m, n in counts.items() if n > 1}
        lost = set(emails.values()) - set(counts)
        states = {(t.deal_id, t.touch_id): t.state for t in ledger.touches() if t.deal_id in deals}
        print(
            f"\nkilled 3 times; back (healthz ok) in {', '.join(f'{s:.1f} s' for s in back_in)}; "
            f"{len(in_doubt)} emails in doubt ({len({emails[k] for k in in_doubt} & arrived_before)} of them had "
            f"arrived), settled by the operator; {len(counts)} emails at SMTP, {len(doubled)} twice, {len(lost)} "
            f"lost; touches: {sum(s == 'delivered' for s in states.values())} delivered of {len(states)}"
        )
        assert not doubled and not lost
        assert all(s == "delivered" for s in states.values()), {k: s for k, s in states.items() if s != "delivered"}
        # Goal: back within 30 s. Prefect's own SQLite sometimes stalls a write for its whole 60 s
        # busy timeout after a hard kill (seen once in twelve comebacks: 75 s, the docket's
        # mark_deployments_ready waiting 60 s); one such comeback is allowed, never two.
        assert sorted(back_in)[1] < 30 and max(back_in) < 90, back_in
        ledger.close()
    finally:
        up.stop()
