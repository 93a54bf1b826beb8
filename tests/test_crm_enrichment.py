"""Enrichment against local stand-ins of Pipedrive's and HubSpot's APIs over real HTTP:
a stored stock webhook becomes hundred's deal from the person, organisation and owner the API
returns (API v1 and v2 shapes, pagination), and every way a CRM API fails: 429 with Retry-After,
5xx with backoff, an outage that loses nothing, 401, 404, a mapping that reads nothing, a country
name that maps to no code; the dead letters' words, the retries counted, the concurrency limit,
and the token absent from everything logged, raised or stored."""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path

import pytest
from crm_standins import (
    HUBSPOT_BATCH,
    HUBSPOT_TOKEN,
    JOURNEY_KEY,
    NOTE_KEY,
    PD_DEALS,
    PD_ORGS,
    PD_PERSONS,
    PIPEDRIVE_TOKEN,
    PIPEDRIVE_V1,
    PIPEDRIVE_V2,
    REFERRED_KEY,
    StandIn,
)
from intake_site import make_home

from hundred import bootstrap
from hundred.service.enrichment import EnrichmentFailed, enrich


@pytest.fixture(scope="module")
def pd_api():
    stand_in = StandIn("pipedrive")
    yield stand_in
    stand_in.close()


@pytest.fixture(scope="module")
def hs_api():
    stand_in = StandIn("hubspot")
    yield stand_in
    stand_in.close()


@pytest.fixture
def setup(tmp_path, pd_api, hs_api):
    """A home whose CRM settings point at the stand-ins, and an intake on an in-memory ledger."""
    pd_api.seen.clear()
    hs_api.seen.clear()

    def make(**overrides):
        from hundred.service.no_prefect import NoPrefect

        values = dict(
            pipedrive_api_url=pd_api.url,
            pipedrive_api_token=PIPEDRIVE_TOKEN,
            hubspot_api_url=hs_api.url,
            hubspot_token=HUBSPOT_TOKEN,
            hubspot_won_stages="closedwon,1234567",
        )
        values.update(overrides)
        settings = make_home(tmp_path / f"home{len(list(tmp_path.iterdir()))}", **values)
        return bootstrap.intake(settings, ledger_=bootstrap.memory_ledger(), scheduler_=NoPrefect())

    return make


def stored(intake, vendor: str, body) -> object:
    """The intake row a stock webhook leaves (the webhook's own code path, without HTTP)."""
    answer = intake.crm_webhook(vendor, json.dumps(body).encode())
    assert answer.status == 202, answer.body
    first = answer.body if vendor == "pipedrive" else answer.body["stored"][0]
    return intake.ledger.intake(first["intake"])


def test_a_pipedrive_v1_webhook_becomes_the_deal_from_the_api(setup, pd_api):
    intake = setup()
    row = stored(intake, "pipedrive", PIPEDRIVE_V1)
    deal = enrich(row, bootstrap.crm(intake.settings, "pipedrive"), intake.settings)
    assert deal["id"] == "4711" and deal["closed_at"] == "2026-11-20T13:03:00Z"
    assert deal["contact"] == {
        "first_name": "Ilse",
        "last_name": "Jansen",
        "email": "ilse@example.nl",  # the primary one, not the first
        "phone": "+31 6 1234 5678",
        "locale": None,
        "timezone": None,
    }
    assert deal["owner"]["name"] == "Sanne de Vries" and deal["owner"]["email"] == "sanne@example.nl"
    assert deal["company"] == {"name": "Bakkerij Jansen B.V."}
    assert deal["address"] == {
        "street": "Dorpsstraat 12",
        "postcode": "8011 AB",
        "city": "Zwolle",
        "state": "Overijssel",
        "country": "NL",  # from "Nederland"
    }
    assert (deal["amount"], deal["currency"], deal["product"]) == ("12500", "EUR", "Jaarabonnement")
    paths = [s.path for s in pd_api.seen]
    assert paths[0] == "/api/v2/deals/4711" and sorted(paths[1:]) == [
        "/api/v1/users/12345",
        "/api/v2/organizations/21",
        "/api/v2/persons/88",
    ]


def test_pipedrive_api_v1_answers_build_the_same_deal(setup):
    v2, v1 = setup(), setup(pipedrive_api_version="v1")
    deal_v2 = enrich(stored(v2, "pipedrive", PIPEDRIVE_V1), bootstrap.crm(v2.settings, "pipedrive"), v2.settings)
    deal_v1 = enrich(stored(v1, "pipedrive", PIPEDRIVE_V1), bootstrap.crm(v1.settings, "pipedrive"), v1.settings)
    assert deal_v1 == deal_v2


def test_a_pipedrive_v2_webhook_of_a_german_customer(setup):
    intake = setup()
    deal = enrich(
        stored(intake, "pipedrive", PIPEDRIVE_V2), bootstrap.crm(intake.settings, "pipedrive"), intake.settings
    )
    assert deal["address"]["street"] == "Hauptstraße 5" and deal["address"]["country"] == "DE"  # "Deutschland"
    assert deal["contact"]["email"] == "jorg@bäckerei.de"  # an international domain is accepted


def test_a_hubspot_dealstage_event_becomes_the_deal_with_contact_primary_company_and_owner(setup, hs_api):
    intake = setup()
    row = stored(intake, "hubspot", HUBSPOT_BATCH)
    deal = enrich(row, bootstrap.crm(intake.settings, "hubspot"), intake.settings)
    assert deal["id"] == "9823471102" and deal["closed_at"] == "2026-11-20T13:03:00Z"
    assert deal["contact"]["email"] == "ilse@example.nl" and deal["contact"]["locale"] == "nl"
    assert deal["company"]["name"] == "Bakkerij Jansen B.V."  # the primary company, on the association's 2nd page
    assert deal["address"] == {
        "street": "Dorpsstraat 12",
        "postcode": "8011AB",
        "city": "Zwolle",
        "state": "Overijssel",
        "country": "NL",
    }
    assert deal["owner"] == {"name": "Sanne de Vries", "email": "sanne@example.nl", "title": None, "phone": None}
    pages = [s for s in hs_api.seen if "/associations/companies" in s.path]
    assert [p.query["after"] for p in pages] == [["1"], ["2"]]  # followed to the last page
    reads = [s for s in hs_api.seen if s.path.endswith("/batch/read")]
    assert {tuple(r.body["inputs"][0].values()) for r in reads} == {("501",), ("777",)}
    contact_read = next(r for r in reads if "contacts" in r.path)
    assert set(contact_read.body["properties"]) >= {"firstname", "lastname", "email", "phone", "hs_language"}


def test_custom_fields_pick_the_journey_and_fill_fields(setup, tmp_path):
    shipped = json.loads((Path(__file__).resolve().parent.parent / "hundred/deals/crm_mapping.json").read_text())
    shipped["pipedrive"]["fields"].update(
        {
            "journey": {
                "from": f"deal.custom_fields.{JOURNEY_KEY}",
                "map": {"42": "first-100-days", "43": "first-100-days-en"},
            },
            "fields.referred_by": f"deal.custom_fields.{REFERRED_KEY}",
            "fields.note": f"deal.custom_fields.{NOTE_KEY}",
        }
    )
    shipped["hubspot"]["fields"]["segment"] = "deal.hundred_segment"
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(shipped), encoding="utf-8")
    intake = setup(crm_mapping=mapping)
    deal = enrich(
        stored(intake, "pipedrive", PIPEDRIVE_V1), bootstrap.crm(intake.settings, "pipedrive"), intake.settings
    )
    assert deal["journey"] == "first-100-days"  # option 42 of the Journey dropdown
    assert deal["fields"] == {"referred_by": "Bakkerij de Vries", "note": "Levering via achterdeur.\nBel eerst."}
    hub = enrich(stored(intake, "hubspot", HUBSPOT_BATCH), bootstrap.crm(intake.settings, "hubspot"), intake.settings)
    assert hub["segment"] == "A"
    v1 = setup(crm_mapping=mapping, pipedrive_api_version="v1")  # v1 has custom fields at the top level
    deal_v1 = enrich(stored(v1, "pipedrive", PIPEDRIVE_V1), bootstrap.crm(v1.settings, "pipedrive"), v1.settings)
    assert deal_v1["journey"] == "first-100-days" and deal_v1["fields"] == deal["fields"]


def test_429_with_retry_after_is_waited_for_then_the_call_is_made_again(setup, pd_api):
    intake = setup()
    row = stored(intake, "pipedrive", PIPEDRIVE_V1)
    pd_api.script("GET", "/api/v2/persons/88", (429, {"Retry-After": "1"}))
    started = time.monotonic()
    deal = enrich(row, bootstrap.crm(intake.settings, "pipedrive"), intake.settings)
    assert time.monotonic() - started >= 1.0
    assert deal["contact"]["email"] == "ilse@example.nl"
    assert pd_api.calls("GET", "/api/v2/persons/88") == 2


def test_a_retry_after_longer_than_hundred_waits_leaves_the_deal_for_later(setup, pd_api):
    intake = setup()
    row = stored(intake, "pipedrive", PIPEDRIVE_V1)
    pd_api.script("GET", "/api/v2/deals/4711", (429, {"Retry-After": "3600"}))
    with pytest.raises(EnrichmentFailed) as info:
        enrich(row, bootstrap.crm(intake.settings, "pipedrive"), intake.settings)
    assert not info.value.permanent and "Retry-After 3600 s" in str(info.value)
    assert pd_api.calls("GET", "/api/v2/deals/4711") == 1


def test_an_outage_loses_nothing_the_deal_waits_and_is_built_once_the_api_is_back(setup, pd_api):
    intake = setup(crm_attempts=3)
    row = stored(intake, "pipedrive", PIPEDRIVE_V1)
    pd_api.down = True
    try:
        after = intake.enrich(row)
    finally:
        pd_api.down = False
    assert after.state == "pending" and after.payload is None and after.attempts == 1
    assert after.reason.startswith("waiting for the CRM: GET /api/v2/deals/4711: answered 503 Service Unavailable")
    assert "(tried 3 times)" in after.reason and "tried again later" in after.reason
    assert pd_api.calls("GET", "/api/v2/deals/4711") == 3
    again = intake.enrich(after)
    assert again.state == "pending" and again.payload["contact"]["email"] == "ilse@example.nl" and again.reason is None


def test_5xx_is_retried_with_backoff_and_succeeds(setup, pd_api):
    intake = setup()
    row = stored(intake, "pipedrive", PIPEDRIVE_V1)
    pd_api.script("GET", "/api/v2/organizations/21", (500, {}), (502, {}))
    deal = enrich(row, bootstrap.crm(intake.settings, "pipedrive"), intake.settings)
    assert deal["address"]["city"] == "Zwolle" and pd_api.calls("GET", "/api/v2/organizations/21") == 3


def test_a_refused_token_is_a_dead_letter_naming_the_call_and_the_setting(setup, pd_api):
    intake = setup(pipedrive_api_token="wrong-token-123")
    row = intake.enrich(stored(intake, "pipedrive", PIPEDRIVE_V1))
    assert row.state == "dead"
    assert row.reason.startswith("enrichment failed: GET /api/v2/deals/4711: answered 401 Unauthorized")
    assert "HUNDRED_PIPEDRIVE_API_TOKEN" in row.reason and f"hundred intake replay {row.intake_id}" in row.reason
    assert "wrong-token-123" not in row.reason
    assert pd_api.calls("GET", "/api/v2/deals/4711") == 1  # a 401 is not tried again


def test_the_deal_closed_run_records_a_refused_token_as_a_dead_letter_and_goes_on(setup, pd_api):
    """`Intake.start`, the deal-closed run's task: a call that cannot succeed leaves the dead letter
    and returns; it does not raise (a failed task is retried by Prefect, calling the CRM again)."""
    from hundred.service.simulate import VirtualScheduler

    intake = setup(pipedrive_api_token="wrong-token-123")
    row = stored(intake, "pipedrive", PIPEDRIVE_V1)
    runtime = bootstrap.runtime(intake.settings, ledger_=intake.ledger, scheduler_=VirtualScheduler())
    done = intake.start(row, runtime)
    assert done.state == "dead" and "GET /api/v2/deals/4711: answered 401" in done.reason
    assert pd_api.calls("GET", "/api/v2/deals/4711") == 1 and intake.ledger.journey("4711") is None


def test_a_deleted_person_is_a_dead_letter_and_a_replay_after_the_fix_starts_it(setup, pd_api, monkeypatch):
    intake = setup()
    body = copy.deepcopy(PIPEDRIVE_V1)
    body["current"]["id"] = body["meta"]["id"] = 4713
    monkeypatch.setitem(PD_DEALS, 4713, {**PD_DEALS[4711], "id": 4713, "person_id": 99})
    row = intake.enrich(stored(intake, "pipedrive", body))
    assert row.state == "dead" and row.attempts == 1
    assert row.reason.startswith("enrichment failed: GET /api/v2/persons/99: answered 404 Not Found: Person not found")
    answer = intake.replay(row.intake_id)  # not fixed yet: still dead, the same words
    assert answer.status == 422 and "GET /api/v2/persons/99" in answer.body["errors"][0]["message"]
    monkeypatch.setitem(
        PD_PERSONS,
        99,
        {**PD_PERSONS[88], "id": 99, "emails": [{"value": "anna@example.nl", "primary": True, "label": "work"}]},
    )
    answer = intake.replay(row.intake_id)
    assert answer.status == 202, answer.body
    after = intake.ledger.intake(row.intake_id)
    assert after.payload["contact"]["email"] == "anna@example.nl" and after.deal_id == "4713"
    assert after.state == "pending" and answer.body["run"] is None  # stored; a deal-closed run starts it (none up here)


def test_a_country_name_that_maps_to_no_code_is_named_in_the_dead_letter(setup, monkeypatch):
    intake = setup()
    address = {**PD_ORGS[21]["address"], "country": "Absurdistan"}
    monkeypatch.setitem(PD_ORGS, 21, {**PD_ORGS[21], "address": address})
    row = intake.enrich(stored(intake, "pipedrive", PIPEDRIVE_V1))
    assert row.state == "dead"
    assert "address.country: organization.address.country: 'Absurdistan' is not a country name" in row.reason
    assert "GET /api/v2/organizations/21" in row.reason


def test_a_mapping_that_reads_nothing_says_which_field_and_where(setup, tmp_path):
    shipped = json.loads((Path(__file__).resolve().parent.parent / "hundred/deals/crm_mapping.json").read_text())
    shipped["pipedrive"]["fields"]["contact.first_name"] = "person.voornaam"
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(shipped), encoding="utf-8")
    intake = setup(crm_mapping=mapping)
    row = intake.enrich(stored(intake, "pipedrive", PIPEDRIVE_V1))
    assert row.state == "dead"
    assert "contact.first_name: is missing (read from person.voornaam, GET /api/v2/persons/88)" in row.reason


def test_a_deal_without_a_person_names_what_is_missing(setup, monkeypatch):
    intake = setup()
    body = copy.deepcopy(PIPEDRIVE_V1)
    body["current"]["id"] = body["meta"]["id"] = 4714
    monkeypatch.setitem(PD_DEALS, 4714, {**PD_DEALS[4711], "id": 4714, "person_id": None})
    row = intake.enrich(stored(intake, "pipedrive", body))
    assert row.state == "dead" and "the deal has no person (GET /api/v2/deals/4714 (person_id is empty))" in row.reason


def test_an_unconfigured_crm_is_a_dead_letter_saying_what_to_set(setup):
    intake = setup(hubspot_token=None)
    row = intake.enrich(stored(intake, "hubspot", HUBSPOT_BATCH))
    assert row.state == "dead" and "HUNDRED_HUBSPOT_TOKEN is not set" in row.reason


def test_hubspot_404_and_a_missing_contact_are_dead_letters(setup, hs_api):
    intake = setup()
    missing = intake.enrich(stored(intake, "hubspot", [{**HUBSPOT_BATCH[0], "objectId": 1}]))
    assert missing.state == "dead" and "GET /crm/v3/objects/deals/1: answered 404 Not Found" in missing.reason
    from crm_standins import HS_CONTACTS

    saved = HS_CONTACTS.pop("501")
    try:
        gone = intake.enrich(stored(intake, "hubspot", [{**HUBSPOT_BATCH[0], "objectId": 9823471102, "portalId": 2}]))
    finally:
        HS_CONTACTS["501"] = saved
    assert gone.state == "dead"
    assert "POST /crm/v3/objects/contacts/batch/read: contact 501: Could not get some CONTACT objects" in gone.reason


def test_at_most_n_calls_are_in_flight(setup, pd_api):
    pd_api.delay = 0.3
    try:
        one = setup(crm_max_concurrent=1)
        pd_api.most_in_flight = 0
        enrich(stored(one, "pipedrive", PIPEDRIVE_V1), bootstrap.crm(one.settings, "pipedrive"), one.settings)
        assert pd_api.most_in_flight == 1
        three = setup(crm_max_concurrent=3)
        pd_api.most_in_flight = 0
        enrich(stored(three, "pipedrive", PIPEDRIVE_V1), bootstrap.crm(three.settings, "pipedrive"), three.settings)
        assert pd_api.most_in_flight == 3  # person, organisation and owner at once
    finally:
        pd_api.delay = 0.0


def test_the_tokens_appear_in_nothing_logged_raised_or_stored(setup, pd_api, hs_api, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at DEBUG
    intake = setup(crm_attempts=2)
    texts: list[str] = []
    rows = [
        intake.enrich(stored(intake, "pipedrive", PIPEDRIVE_V1)),  # built
        intake.enrich(stored(intake, "hubspot", HUBSPOT_BATCH)),  # built
    ]
    pd_api.script("GET", "/api/v2/deals/4712", (500, {}), (500, {}))  # waits for the CRM
    rows.append(intake.enrich(stored(intake, "pipedrive", PIPEDRIVE_V2)))
    pd_api.script("GET", "/api/v2/deals/4711", (400, {}, f"bad request with api_token={PIPEDRIVE_TOKEN}"))
    echoed = intake.enrich(
        stored(intake, "pipedrive", {**PIPEDRIVE_V1, "meta": {**PIPEDRIVE_V1["meta"], "company_id": 1}})
    )
    assert echoed.state == "dead" and "api_token=[token]" in echoed.reason  # an API that echoes it: redacted
    bad = setup(pipedrive_api_token=PIPEDRIVE_TOKEN + "-revoked", hubspot_token=HUBSPOT_TOKEN + "-revoked")
    rows.append(bad.enrich(stored(bad, "pipedrive", PIPEDRIVE_V1)))  # 401: dead
    rows.append(bad.enrich(stored(bad, "hubspot", HUBSPOT_BATCH)))  # 401: dead
    try:
        enrich(stored(bad, "pipedrive", PIPEDRIVE_V2), bootstrap.crm(bad.settings, "pipedrive"), bad.settings)
    except EnrichmentFailed as exc:
        texts += [str(exc), repr(exc), exc.reason, exc.call]
    assert [r.state for r in rows] == ["pending", "pending", "pending", "dead", "dead"]
    for r in rows + bad.ledger.intakes() + intake.ledger.intakes():
        texts.append(json.dumps({**r.to_json(), "raw": r.raw, "payload": r.payload}, default=str))
    texts += [record.getMessage() for record in caplog.records] + [caplog.text]
    api = bootstrap.crm(intake.settings, "pipedrive")
    texts += [repr(intake.settings), repr(bad.settings), repr(api), repr(api.http), str(api.http)]
    for token in (PIPEDRIVE_TOKEN, HUBSPOT_TOKEN):
        assert not [text for text in texts if token in text], token
    for stand_in in (pd_api, hs_api):  # only ever in its header, never in a URL
        assert stand_in.seen and all("api_token" not in s.query and "token" not in s.path for s in stand_in.seen)
        assert all(s.headers.get("x-api-token") or s.headers.get("authorization") for s in stand_in.seen)


def test_retry_after_reads_seconds_and_http_dates():
    from hundred.adapters.crm.http import retry_after

    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=1792567670.0) == pytest.approx(10.0)
    assert retry_after("soon") is None and retry_after(None) is None
