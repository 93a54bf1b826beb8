"""The CRM's signed webhooks over real HTTP (uvicorn on a free port): every status code, the
same delivery twice and at once, Prefect down, a cancel before its deal-closed, deal-updated.

What is refused before it could reach Prefect (signatures, sizes, invalid payloads) is asked of an
app whose intake has no Prefect (`offline`, the fast lane); what starts runs asks the app on the
session's Prefect server (`app`, marked `prefect`)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import deal_payload
from intake_site import OLD_SECRET, SECRET, make_home, serve, start_stored
from ports import free_port

from hundred import bootstrap


def recent(**overrides):
    closed = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    return deal_payload(closed_at=closed, **{"journey": "first-100-days", **overrides})


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return make_home(tmp_path_factory.mktemp("hooks"))


@pytest.fixture(scope="module")
def app(home, hundred_deployments):
    served = serve(home)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def offline(home):
    """The web app whose intake has no Prefect API: accepted deals would be stored pending."""
    from hundred.service.intake import NoPrefect

    served = serve(home, intake=bootstrap.intake(home, scheduler_=NoPrefect()))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def ledger(home):
    from hundred.adapters.ledger import Ledger

    led = Ledger.open(home.ledger_url)
    yield led
    led.close()


def prefect_run(api: str, run_id: str) -> dict:
    response = httpx.get(f"{api}/flow_runs/{run_id}", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.prefect
@pytest.mark.slow
def test_an_accepted_deal_is_stored_with_its_key_and_its_moment_gets_a_deal_closed_run(
    home, app, ledger, hundred_deployments
):
    from hundred.deals.model import parse_deal
    from hundred.service.intake import deal_closed_key

    payload = recent(id="H-1")
    response = app.post("/hooks/deal-closed", payload)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["deal"] == "H-1" and body["journey"] == "first-100-days" and body["state"] == "pending"
    row = ledger.intake(body["intake"])
    stored = parse_deal(payload).model_dump(mode="json")
    assert row.payload == stored and row.key == deal_closed_key(stored)
    run = prefect_run(hundred_deployments.api_url, body["run"])  # the run of this moment, for every deal in it
    assert run["idempotency_key"].startswith("deal-closed:") and run["name"].startswith("deal-closed · ")
    assert set(run["parameters"]) == {"moment"} and "deal-closed" in run["tags"]

    again = app.post("/hooks/deal-closed", payload)  # the CRM re-sends: the same row
    assert again.status_code == 202 and again.json()["intake"] == body["intake"]
    assert again.json()["duplicate"] is True
    assert [r.state for r in start_stored(home, ledger) if r.deal_id == "H-1"] == ["started"]
    assert ledger.journey("H-1").state == "active" and ledger.intake(body["intake"]).state == "started"


@pytest.mark.prefect
@pytest.mark.slow
def test_the_same_delivery_at_once_starts_one_journey(app, ledger):
    payload = json.dumps(recent(id="H-2")).encode()
    answers = app.post_at_once("/hooks/deal-closed", payload, 8)
    assert [a.status_code for a in answers] == [202] * 8, [a.text for a in answers]
    assert len({a.json()["intake"] for a in answers}) == 1
    assert len(ledger.intakes(deal_id="H-2", kinds=["deal-closed"])) == 1


@pytest.mark.parametrize("case", ["missing", "wrong", "old", "future", "garbled", "other-body"])
def test_a_bad_signature_is_401_and_not_stored(offline, ledger, case):
    app = offline
    payload = recent(id=f"H-401-{case}")
    now = time.time()
    kwargs = {
        "missing": {"signature": ""},
        "wrong": {"secret": "not-the-secret"},
        "old": {"at": now - 301},
        "future": {"at": now + 330},  # past the 300 s tolerance even when the server answers late
        "garbled": {"signature": "t=abc,v1=zz"},
        "other-body": {
            "signature": __import__("hundred.adapters.channels.signing", fromlist=["sign"]).sign(
                b"{}", SECRET, int(now)
            )
        },
    }[case]
    response = app.post("/hooks/deal-closed", payload, **kwargs)
    assert response.status_code == 401, response.text
    assert "X-Hundred-Signature" in response.json()["error"]
    assert not ledger.intakes(deal_id=payload["id"])


@pytest.mark.prefect
@pytest.mark.slow
def test_both_secrets_are_accepted_while_rotating(app):
    assert app.post("/hooks/deal-closed", recent(id="H-ROT"), secret=OLD_SECRET).status_code == 202
    assert app.post("/hooks/deal-closed", recent(id="H-ROT"), at=time.time() - 290).status_code == 202


def test_a_body_over_the_limit_is_413_without_reading_it_all(offline, ledger):
    app = offline
    big = b'{"id": "H-BIG", "pad": "' + b"x" * (1_048_576) + b'"}'
    assert app.post("/hooks/deal-closed", big).status_code == 413

    def chunks():  # no Content-Length: the limit is counted while reading
        yield b'{"id": "H-BIG2", "pad": "'
        for _ in range(300):
            yield b"y" * 4096

    from hundred.adapters.channels.signing import sign

    response = httpx.post(
        app.url + "/hooks/deal-closed",
        content=chunks(),
        headers={"X-Hundred-Signature": sign(b"", SECRET, int(time.time()))},
        timeout=30,
    )
    assert response.status_code == 413
    assert not ledger.intakes(deal_id="H-BIG") and not ledger.intakes(deal_id="H-BIG2")


def test_an_invalid_payload_is_422_with_field_errors_and_kept_as_a_dead_letter(offline, ledger):
    app = offline
    payload = recent(id="H-422")
    payload["contact"]["first_name"] = "  "
    response = app.post("/hooks/deal-closed", payload)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"field": "contact.first_name", "message": "is blank"} in errors
    row = ledger.intake(response.json()["intake"])
    assert row.state == "dead" and "contact.first_name: is blank" in row.reason and row.deal_id == "H-422"
    assert json.loads(row.raw)["id"] == "H-422" and row.headers["content-type"] == "application/json"
    assert app.post("/hooks/deal-closed", b"{not json").status_code == 422
    assert (
        app.post("/hooks/deal-closed", recent(id="H-NOJ", journey="no-such-journey")).json()["errors"][0]["field"]
        == "journey"
    )


@pytest.mark.prefect
@pytest.mark.slow
def test_prefect_down_answers_202_pending_and_the_next_deal_closed_run_starts_it(home, app, ledger):
    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.service.intake import Intake

    down = Intake(ledger, home, PrefectScheduler(f"http://127.0.0.1:{free_port()}/api", attempts=1, timeout=2))
    served = serve(home, intake=down)
    try:
        response = served.post("/hooks/deal-closed", recent(id="H-DOWN"))
    finally:
        served.stop()
    assert response.status_code == 202 and response.json()["state"] == "pending" and response.json()["run"] is None
    row = ledger.intake(response.json()["intake"])
    assert row.state == "pending"
    # the next delivery to the app on a live Prefect makes a deal-closed run, which takes every
    # deal stored and not started, this one too
    assert app.post("/hooks/deal-closed", recent(id="H-NEXT")).json()["run"]
    started = {r.deal_id: r.state for r in start_stored(home, ledger)}
    assert started.get("H-DOWN") == "started" and started.get("H-NEXT") == "started"
    assert ledger.journey("H-DOWN").state == "active"


@pytest.mark.prefect
@pytest.mark.slow
def test_a_cancel_before_its_deal_closed_starts_the_journey_exited(home, app, ledger):
    cancel = app.post("/hooks/deal-cancelled", {"id": "H-EARLY", "reason": "churned before onboarding"})
    assert cancel.status_code == 202 and cancel.json()["state"] == "held"
    closed = app.post("/hooks/deal-closed", recent(id="H-EARLY"))
    assert closed.status_code == 202, closed.text
    assert {r.deal_id: r.state for r in start_stored(home, ledger)}["H-EARLY"] == "applied"
    assert ledger.intake(closed.json()["intake"]).state == "applied"
    journey = ledger.journey("H-EARLY")
    assert journey.state == "exited" and "churned before onboarding" in journey.exit_reason
    assert {t.state for t in ledger.touches("H-EARLY")} == {"cancelled"}
    assert ledger.intake(cancel.json()["intake"]).state == "applied"
    assert app.post("/hooks/deal-cancelled", {"reason": "x"}).status_code == 422


@pytest.mark.prefect
@pytest.mark.slow
def test_a_cancel_of_a_running_journey_exits_it(home, app, ledger):
    from hundred.service.simulate import VirtualScheduler

    bootstrap.runtime(home, ledger_=ledger, scheduler_=VirtualScheduler()).deal_closed(recent(id="H-RUN"))
    response = app.post("/hooks/deal-cancelled", {"id": "H-RUN"})
    assert response.status_code == 202 and response.json()["state"] == "applied"
    assert ledger.journey("H-RUN").state == "exited"


@pytest.mark.prefect
@pytest.mark.slow
def test_deal_updated_changes_what_when_sees_and_an_unknown_deal_is_404(home, app, ledger):
    from hundred.service.simulate import VirtualScheduler

    unknown = app.post("/hooks/deal-updated", recent(id="H-NOBODY"))
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "id"
    assert ledger.intake(unknown.json()["intake"]).state == "dead"
    bad = app.post("/hooks/deal-updated", {**recent(id="H-UPD"), "currency": "XXX"})
    assert bad.status_code == 422

    runtime = bootstrap.runtime(home, ledger_=ledger, scheduler_=VirtualScheduler())
    first = recent(id="H-UPD", segment="A")
    runtime.deal_closed(first)
    response = app.post("/hooks/deal-updated", {**first, "segment": "C"})
    assert response.status_code == 202 and response.json()["state"] == "applied"
    assert ledger.deal_payload("H-UPD")["segment"] == "C"
    outcome = runtime.run_touch("H-UPD", "hello")  # `when: deal.segment != 'C'` now false
    assert outcome.state == "skipped", outcome
    moved = app.post("/hooks/deal-updated", {**first, "closed_at": "2026-01-05T10:00:00+01:00"})
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "closed_at"


def test_a_ledger_that_cannot_be_written_is_503_so_the_crm_sends_again(home):
    class Broken:
        def closed(self, *args, **kwargs):
            raise ConnectionError("the ledger's database does not answer")

    served = serve(home, intake=Broken())
    try:
        response = served.post("/hooks/deal-closed", recent(id="H-503"))
    finally:
        served.stop()
    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    assert "send it again" in response.json()["error"]


def test_a_cancel_that_raced_its_deal_closed_is_applied_by_the_deal_closed_flow(home, ledger):
    from hundred.service.intake import Intake, NoPrefect
    from hundred.service.simulate import VirtualScheduler

    intake = Intake(ledger, home, NoPrefect())
    assert intake.cancelled(json.dumps({"id": "H-RACE"}).encode()).body["state"] == "held"
    runtime = bootstrap.runtime(home, ledger_=ledger, scheduler_=VirtualScheduler())
    runtime.deal_closed(recent(id="H-RACE"))  # the deal-closed run that was already under way
    applied = intake.apply_held("H-RACE")  # what starting a deal does right after its journey exists
    assert [r.state for r in applied] == ["applied"] and ledger.journey("H-RACE").state == "exited"


def test_the_same_refused_body_again_is_the_dead_letter_already_kept(offline, ledger):
    """A CRM that sends a refused deal again (or an import run twice) adds no second dead letter."""
    payload = recent(id="H-422-TWICE")
    payload["contact"]["first_name"] = "  "
    body = json.dumps(payload).encode()
    first, again = offline.post("/hooks/deal-closed", body), offline.post("/hooks/deal-closed", body)
    assert first.status_code == again.status_code == 422
    assert again.json()["intake"] == first.json()["intake"] and again.json()["duplicate"] is True
    assert "duplicate" not in first.json()
    assert [r.state for r in ledger.intakes(deal_id="H-422-TWICE")] == ["dead"]
    fixed = offline.post("/hooks/deal-closed", recent(id="H-422-TWICE", segment="B") | {"contact": payload["contact"]})
    assert fixed.status_code == 422 and fixed.json()["intake"] != first.json()["intake"]  # another body: kept too
