"""The stock Pipedrive and HubSpot webhooks over real HTTP: each deal that became won is
stored as sent and answered 202, without a call to the CRM's API; everything else is ignored;
duplicates and concurrent deliveries are one row; one bad event in a HubSpot batch does not fail
the others; the vendors' own authentication still guards the door."""

from __future__ import annotations

import base64
import copy
import json
import threading
import time

import httpx
import pytest
from crm_standins import HUBSPOT_BATCH, PIPEDRIVE_V1, PIPEDRIVE_V2, stand_ins  # noqa: F401 (stand_ins: a fixture)
from intake_site import HUBSPOT_SECRET, PIPEDRIVE_AUTH, hubspot_headers, make_home, serve


@pytest.fixture(scope="module")
def app(tmp_path_factory, stand_ins):
    """Both CRM APIs configured (their stand-ins): the webhooks must not call them (their request logs stay empty)."""
    from hundred import bootstrap
    from hundred.service.no_prefect import NoPrefect

    pipedrive, hubspot = stand_ins
    settings = make_home(
        tmp_path_factory.mktemp("crm"),
        pipedrive_api_url=pipedrive.url,
        pipedrive_api_token=pipedrive.token,
        hubspot_api_url=hubspot.url,
        hubspot_token=hubspot.token,
        hubspot_won_stages="closedwon,1234567",
    )
    served = serve(settings, intake=bootstrap.intake(settings, scheduler_=NoPrefect()))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def ledger(app):
    from hundred.adapters.ledger import Ledger

    led = Ledger.open(app.settings.ledger_url)
    yield led
    led.close()


def basic(auth: str = PIPEDRIVE_AUTH) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(auth.encode()).decode(), "content-type": "application/json"}


def pipedrive(app, body: dict | bytes) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(app.url + "/hooks/pipedrive", content=raw, headers=basic(), timeout=30)


def hubspot(app, events: list | bytes) -> httpx.Response:
    url = app.url + "/hooks/hubspot"
    raw = events if isinstance(events, bytes) else json.dumps(events).encode()
    return httpx.post(url, content=raw, headers=hubspot_headers(url, raw), timeout=30)


def deal_v1(deal_id: int, **changes) -> dict:
    body = copy.deepcopy(PIPEDRIVE_V1)
    body["current"]["id"] = body["previous"]["id"] = body["meta"]["id"] = deal_id
    for key, value in changes.items():
        where, _, field = key.partition("__")
        body[where][field] = value
    return body


def test_a_stock_pipedrive_v1_webhook_is_stored_as_sent_and_answered_202_without_calling_pipedrive(
    app, stand_ins, ledger
):
    response = pipedrive(app, PIPEDRIVE_V1)
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["crm"], body["deal"], body["state"]) == ("pipedrive", "4711", "pending")
    row = ledger.intake(body["intake"])
    assert (row.kind, row.source, row.state, row.deal_id) == ("pipedrive", "pipedrive", "pending", "4711")
    assert row.key == "pipedrive:7654321:deal:4711:won"
    assert json.loads(row.raw) == PIPEDRIVE_V1 and row.payload is None  # the deal is built later, from the API
    assert stand_ins[0].seen == [] and stand_ins[1].seen == []


def test_a_stock_pipedrive_v2_webhook_is_stored_too(app, ledger):
    response = pipedrive(app, PIPEDRIVE_V2)
    assert response.status_code == 202, response.text
    row = ledger.intake(response.json()["intake"])
    assert row.deal_id == "4712" and row.key == "pipedrive:7654321:deal:4712:won"
    assert json.loads(row.raw) == PIPEDRIVE_V2


@pytest.mark.parametrize(
    "change,why",
    [
        ({"previous__status": "won"}, "already won"),
        ({"current__status": "lost", "previous__status": "open"}, "not won"),
        ({"current__status": "open"}, "not won"),
    ],
)
def test_pipedrive_v1_updates_that_do_not_make_a_deal_won_are_ignored(app, ledger, change, why):
    before = len(ledger.intakes())
    response = pipedrive(app, deal_v1(5001, **change))
    assert response.status_code == 200 and why in response.json()["ignored"], response.text
    assert len(ledger.intakes()) == before


def test_pipedrive_v2_events_that_do_not_make_a_deal_won_are_ignored(app, ledger):
    before = len(ledger.intakes())
    title_only = copy.deepcopy(PIPEDRIVE_V2)
    title_only["previous"] = {"title": "Old title"}  # a won deal renamed: its status did not change
    person = copy.deepcopy(PIPEDRIVE_V2)
    person["meta"]["entity"] = "person"
    deleted = copy.deepcopy(PIPEDRIVE_V2)
    deleted["meta"]["action"], deleted["data"] = "delete", None
    for body, why in ((title_only, "already won"), (person, "not a deal event"), (deleted, "without the deal")):
        response = pipedrive(app, body)
        assert response.status_code == 200 and why in response.json()["ignored"], response.text
    assert len(ledger.intakes()) == before


def test_a_deal_created_won_counts_as_became_won(app, ledger):
    created = copy.deepcopy(PIPEDRIVE_V2)
    created["meta"]["action"], created["previous"] = "create", None
    created["data"]["id"] = created["meta"]["entity_id"] = 5002
    response = pipedrive(app, created)
    assert response.status_code == 202 and response.json()["deal"] == "5002"


def test_the_same_won_deal_twice_at_once_and_by_both_webhook_versions_is_one_row(app, ledger):
    body = deal_v1(5003)
    raw = json.dumps(body).encode()
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        barrier.wait()
        answers.append(pipedrive(app, raw))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [202] * 8, [a.text for a in answers]
    assert len({a.json()["intake"] for a in answers}) == 1
    assert sum(1 for a in answers if a.json().get("duplicate")) == 7
    v2 = copy.deepcopy(PIPEDRIVE_V2)
    v2["data"]["id"] = v2["meta"]["entity_id"] = 5003  # the same deal from a v2 webhook (company id as text)
    again = pipedrive(app, v2)
    assert again.status_code == 202 and again.json()["intake"] == answers[0].json()["intake"]
    assert again.json()["duplicate"] is True
    assert len(ledger.intakes(deal_id="5003")) == 1


def test_a_dead_won_deal_delivered_again_is_fetched_again(app, ledger):
    first = pipedrive(app, deal_v1(5004)).json()
    ledger.set_intake(first["intake"], "dead", reason="enrichment failed: GET /api/v2/persons/88: answered 404")
    again = pipedrive(app, deal_v1(5004))
    assert again.status_code == 202 and again.json()["intake"] == first["intake"]
    row = ledger.intake(first["intake"])
    assert row.state == "pending" and "delivered again" in row.reason


def test_a_pipedrive_body_that_is_not_a_webhook_is_a_dead_letter(app, ledger):
    for raw, words in ((b"{not json", "is not JSON"), (b"[1, 2]", "JSON object"), (b'{"current": {}}', "'meta'")):
        response = pipedrive(app, raw)
        assert response.status_code == 422 and words in response.json()["errors"][0]["message"], response.text
        row = ledger.intake(response.json()["intake"])
        assert row.state == "dead" and row.kind == "pipedrive" and row.raw == raw.decode()


def test_pipedrive_basic_auth_and_the_size_limit_still_guard_the_door(app, ledger):
    url = app.url + "/hooks/pipedrive"
    before = len(ledger.intakes())
    refused = httpx.post(url, json=PIPEDRIVE_V1, headers=basic("hundred:wrong"), timeout=30)
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert httpx.post(url, json=PIPEDRIVE_V1, timeout=30).status_code == 401
    assert httpx.post(url, content=b"x" * 1_048_577, headers=basic(), timeout=30).status_code == 413
    assert len(ledger.intakes()) == before


def hubspot_event(object_id: int, stage: str = "closedwon", **changes) -> dict:
    event = {**HUBSPOT_BATCH[0], "objectId": object_id, "eventId": 7_000_000 + object_id, "propertyValue": stage}
    event.update(changes)
    return event


def test_a_hubspot_batch_of_100_stores_each_won_deal_and_keeps_a_bad_event_apart(app, stand_ins, ledger):
    events = [hubspot_event(880_000 + i) for i in range(97)]
    events.insert(10, {**hubspot_event(0), "objectId": None})  # a broken event
    events.insert(20, hubspot_event(880_500, stage="contractsent"))  # not won
    events.insert(30, hubspot_event(880_501, subscriptionType="contact.propertyChange"))  # not a deal
    assert len(events) == 100
    started = time.monotonic()
    response = hubspot(app, events)
    elapsed = time.monotonic() - started
    assert response.status_code == 202, response.text
    body = response.json()
    assert len(body["stored"]) == 97 and body["ignored"] == 2
    ((refused),) = body["refused"]
    assert refused["event"] == 10 and "objectId is missing" in refused["error"]
    dead = ledger.intake(refused["intake"])
    assert dead.state == "dead" and dead.kind == "hubspot" and json.loads(dead.raw)["objectId"] is None
    rows = ledger.intakes(kinds=["hubspot"], states=["pending"], limit=10_000)
    stored = {r.deal_id for r in rows}
    assert {str(880_000 + i) for i in range(97)} <= stored
    row = next(r for r in rows if r.deal_id == "880000")
    assert row.key == "hubspot:24681357:deal:880000:won" and json.loads(row.raw) == events[0]
    assert stand_ins[1].seen == []  # no call to HubSpot's API while answering
    print(f"a batch of 100 events answered in {elapsed:.2f} s")


def test_hubspot_redelivers_a_batch_the_rows_stay_one_per_deal(app, ledger):
    events = [hubspot_event(881_000), hubspot_event(881_001, stage="1234567")]
    first = hubspot(app, events).json()
    again = hubspot(app, [{**e, "attemptNumber": 1} for e in events]).json()
    assert [s["intake"] for s in first["stored"]] == [s["intake"] for s in again["stored"]]
    assert all(s.get("duplicate") for s in again["stored"])
    assert len(ledger.intakes(deal_id="881001")) == 1


def test_a_hubspot_batch_with_nothing_won_is_answered_200_and_stores_nothing(app, ledger):
    before = len(ledger.intakes())
    response = hubspot(
        app, [hubspot_event(882_000, stage="appointmentscheduled"), hubspot_event(1, subscriptionType="deal.creation")]
    )
    assert response.status_code == 200 and response.json()["ignored"] == 2, response.text
    assert any("not a won stage" in w for w in response.json()["why"])
    assert len(ledger.intakes()) == before


def test_a_hubspot_body_that_is_not_a_batch_is_a_dead_letter(app, ledger):
    response = hubspot(app, b'"closedwon"')
    assert response.status_code == 422 and "JSON array" in response.json()["errors"][0]["message"]


def test_the_hubspot_signature_still_guards_the_door(app, ledger):
    url = app.url + "/hooks/hubspot"
    raw = json.dumps(HUBSPOT_BATCH).encode()
    before = len(ledger.intakes())
    for headers in (
        hubspot_headers(url, raw, secret="wrong"),
        hubspot_headers(url, raw, at_ms=int(time.time() * 1000) - 301_000),
        hubspot_headers(url + "?x=1", raw),  # signed for another URI
        {"content-type": "application/json"},
    ):
        assert httpx.post(url, content=raw, headers=headers, timeout=30).status_code == 401
    assert len(ledger.intakes()) == before


def test_the_hubspot_signature_is_the_documented_one():
    from hundred.deals.crm import hubspot_signature, hubspot_valid

    uri = "https://hooks.example.com/hooks/hubspot"
    sig = hubspot_signature(HUBSPOT_SECRET, "POST", uri, b"{}", "1700000000000")
    assert hubspot_valid(HUBSPOT_SECRET, "POST", uri, b"{}", sig, "1700000000000", now_ms=1700000100000)
    assert not hubspot_valid(HUBSPOT_SECRET, "POST", uri, b"{}", sig, "1700000000000", now_ms=1700000400000)


def test_a_very_large_pipedrive_body_is_stored_without_its_custom_fields_and_still_reads():
    from hundred.deals.crm_events import pipedrive_won, stored_won

    body = deal_v1(5005)
    for i in range(400):
        body["current"][f"{i:040x}"] = "x" * 200  # 400 custom fields of 200 characters
    won, _ = pipedrive_won(body)
    assert len(won.raw) < 48 * 1024 and "_trimmed" in won.event
    again = stored_won("pipedrive", won.raw)
    assert (again.deal_id, again.key) == ("5005", won.key)
