"""`hundred intake list/replay/retry` and `hundred import` as a user runs them (subprocesses on
the session Prefect server), and the backfill rule: long-overdue touches expire, never sent late."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import deal_payload, hundred_process
from intake_site import JOURNEY, env_of, make_home, serve

from hundred import bootstrap

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent


def hundred(settings, api_url, *args, check=None):
    env = {**os.environ, **env_of(settings, api_url)}
    if api_url is None:
        env.pop("PREFECT_API_URL", None)
    done = hundred_process(*args, env=env, timeout=180)
    if check is not None:
        assert done.returncode == check, done.stdout + done.stderr
    return done


def recent(days: float = 0.1, **overrides):
    closed = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
    return deal_payload(closed_at=closed, **{"journey": "first-100-days", **overrides})


def test_a_dead_letter_is_listed_and_starts_when_replayed_after_the_fix(tmp_path, hundred_deployments):
    settings = make_home(tmp_path)
    api = hundred_deployments.api_url
    app = serve(settings)
    try:
        response = app.post("/hooks/deal-closed", recent(id="CLI-1", journey="welcome-back"))
    finally:
        app.stop()
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "journey"
    intake_id = response.json()["intake"]

    listed = json.loads(hundred(settings, api, "intake", "list", "--json", check=0).stdout)
    assert [(r["intake"], r["state"], r["deal"]) for r in listed] == [(intake_id, "dead", "CLI-1")]
    assert "welcome-back" in listed[0]["reason"] and json.loads(listed[0]["raw"])["id"] == "CLI-1"
    text = hundred(settings, api, "intake", "list", check=0).stdout
    assert intake_id in text and "dead" in text

    still = hundred(settings, api, "intake", "replay", intake_id, check=1)  # not fixed yet: still dead
    assert f"{intake_id}: journey:" in still.stderr and "still a dead letter" in still.stderr
    (settings.journeys_dir / "welcome-back.yaml").write_text(
        JOURNEY.replace("first-100-days", "welcome-back"), encoding="utf-8"
    )
    fixed = hundred(settings, api, "intake", "replay", intake_id, check=0)
    assert "pending (deal CLI-1), run " in fixed.stdout  # stored; its moment's deal-closed run starts it
    row = json.loads(hundred(settings, api, "intake", "list", "--json", check=0).stdout)[0]
    assert row["state"] == "pending" and row["attempts"] >= 2
    run_id = fixed.stdout.strip().rpartition("run ")[2]
    run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=30).json()
    assert run["name"].startswith("deal-closed · ")
    assert hundred(settings, api, "intake", "replay", "in-nope", check=1).stderr.strip() == "no intake in-nope"


def write_csv(path: Path) -> None:
    closed = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")
    head = (
        "id,closed_at,journey,amount,currency,owner.name,owner.email,contact.first_name,contact.email,"
        "company.name,address.street,address.postcode,address.city,address.country,fields.source"
    )
    row = (
        "{id},{closed},first-100-days,100.00,EUR,Sanne de Vries,sanne@example.nl,{first},ilse@example.nl,"
        "Bakkerij,Dorpsstraat 12,8011 AB,Zwolle,NL,backfill"
    )
    lines = [
        head,
        row.format(id="IMP-1", closed=closed, first="Ilse"),
        row.format(id="IMP-2", closed=closed, first=" "),  # line 3: blank name
        row.format(id="IMP-3", closed=closed, first="Pieter"),
        row.format(id="IMP-4", closed="yesterday", first="Anna"),  # line 5: bad time
        "IMP-5,too,few",  # line 6: short row
        row.format(id="IMP-6", closed=closed, first="Joost"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_import_reports_bad_rows_by_line_and_the_good_rows_go_in(tmp_path, hundred_deployments):
    settings = make_home(tmp_path)
    api = hundred_deployments.api_url
    csv = tmp_path / "deals.csv"
    write_csv(csv)

    dry = hundred(settings, api, "import", str(csv), "--dry-run", check=1)
    assert f"{csv}:3: contact.first_name: is blank" in dry.stderr
    assert f"{csv}:5: closed_at:" in dry.stderr and f"{csv}:6: has 3 cells" in dry.stderr
    assert "3 would be accepted, 3 bad (dry run: nothing stored)" in dry.stdout
    assert not (settings.home / "ledger.db").exists()

    done = hundred(settings, api, "import", str(csv), check=1)
    assert f"{csv}:3: contact.first_name: is blank" in done.stderr
    assert "3 accepted, 3 bad" in done.stdout, done.stdout
    rows = json.loads(hundred(settings, api, "intake", "list", "--json", check=0).stdout)
    started = sorted(r["deal"] for r in rows if r["state"] == "pending")  # stored; a deal-closed run starts them
    assert started == ["IMP-1", "IMP-3", "IMP-6"]
    assert {r["source"] for r in rows if r["deal"] == "IMP-1"} == {"import deals.csv:2"}
    assert sorted(r["deal"] for r in rows if r["state"] == "dead") == ["IMP-2", "IMP-4"]  # a short row has no deal

    again = hundred(settings, api, "import", str(csv), check=1)  # a second import starts nothing new
    assert "0 accepted, 3 already imported, 3 bad" in again.stdout


def test_import_without_prefect_stores_pending_and_retry_submits(tmp_path, hundred_deployments):
    settings = make_home(tmp_path)
    csv = tmp_path / "deals.csv"
    write_csv(csv)
    env_less = hundred(settings, None, "import", str(csv), check=1)
    assert "3 stored pending" in env_less.stdout
    retried = hundred(settings, hundred_deployments.api_url, "intake", "retry", check=0)
    assert retried.stdout.count("pending") == 3 and "3 stored deals to be started by deal-closed run " in retried.stdout


def test_a_backfilled_deal_expires_long_overdue_touches_instead_of_sending_them(tmp_path):
    from hundred.adapters.ledger import Ledger
    from hundred.service.ports import DeliveryResult
    from hundred.service.runtime import Runtime
    from hundred.service.simulate import VirtualScheduler

    settings = make_home(tmp_path)
    sent = []
    runtime = Runtime(
        Ledger.memory(),
        VirtualScheduler(),
        settings,
        deliver=lambda content, log: sent.append(content) or DeliveryResult("sent", "ok"),
    )
    runtime.deal_closed(recent(days=60, id="OLD"))  # day 1 and day 40 are 59 and 20 days overdue
    runtime.deal_closed(recent(days=3, id="FRESH"))  # day 1 is 2 days overdue: within the grace
    for touch in ("hello", "later"):
        outcome = runtime.run_touch("OLD", touch)
        assert outcome.state == "expired" and "backfill: due" in outcome.detail, outcome
    assert runtime.run_touch("FRESH", "hello").state == "delivered" and len(sent) == 1


def test_reconcile_makes_a_deal_closed_run_for_what_was_stored_while_prefect_was_down(tmp_path, hundred_deployments):
    from hundred.adapters.ledger import Ledger
    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.service.intake import Intake
    from hundred.service.no_prefect import NoPrefect
    from hundred.service.reconcile import reconcile

    settings = make_home(tmp_path, catch_up_seconds=1)
    ledger = Ledger.open(settings.ledger_url)
    answer = Intake(ledger, settings, NoPrefect()).closed(json.dumps(recent(id="REC-1")).encode())
    assert answer.status == 202 and answer.body["state"] == "pending" and answer.body["run"] is None
    time.sleep(1.5)
    with PrefectScheduler(hundred_deployments.api_url) as scheduler:
        report = reconcile(bootstrap.runtime(settings, ledger_=ledger, scheduler_=scheduler))
    assert report.counts["intake"] == 1
    run_id = re.search(r"run ([0-9a-f-]{36}) starts it", report.lines[0]).group(1)
    run = httpx.get(f"{hundred_deployments.api_url}/flow_runs/{run_id}", timeout=30).json()
    assert run["state"]["type"] in ("SCHEDULED", "PENDING") and run["name"].startswith("deal-closed · ")
    assert ledger.intake(answer.body["intake"]).state == "pending"  # the run starts it
    ledger.close()
