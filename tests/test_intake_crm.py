"""The HubSpot and Pipedrive adapters over real HTTP: their own signatures, the shipped mapping on
realistic sample payloads (examples/crm/), a payload that is not a won deal, a custom mapping."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx
import pytest
from intake_site import HUBSPOT_SECRET, PIPEDRIVE_AUTH, hubspot_headers, make_home, serve

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "crm"
HUBSPOT = (EXAMPLES / "hubspot-deal-won.json").read_bytes()
PIPEDRIVE = (EXAMPLES / "pipedrive-deal-won.json").read_bytes()


@pytest.fixture(scope="module")
def app(tmp_path_factory, hundred_deployments):
    served = serve(make_home(tmp_path_factory.mktemp("crm")))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def ledger(app):
    from hundred.adapters.ledger import Ledger

    led = Ledger.open(app.settings.ledger_url)
    yield led
    led.close()


def basic(auth: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(auth.encode()).decode(), "content-type": "application/json"}


def test_the_shipped_mapping_reads_both_samples_onto_the_deal():
    from hundred.deals.crm import load_mapping, map_deal
    from hundred.deals.model import parse_deal

    hub, problem = map_deal("hubspot", json.loads(HUBSPOT), load_mapping())
    assert problem is None
    deal = parse_deal(hub)
    assert (
        deal.id,
        deal.closed_at.isoformat(),
        deal.contact.first_name,
        deal.contact.email,
        deal.company.name,
        deal.address.postcode,
        deal.owner.name,
        str(deal.amount),
    ) == (
        "9823471102",
        "2026-11-20T13:03:00+00:00",
        "Ilse",
        "ilse@example.nl",
        "Bakkerij Jansen B.V.",
        "8011 AB",
        "Sanne de Vries",
        "12500",
    )
    pipe, problem = map_deal("pipedrive", json.loads(PIPEDRIVE), load_mapping())
    deal = parse_deal(pipe)
    assert (
        deal.id,
        deal.closed_at.isoformat(),
        deal.contact.first_name,
        deal.contact.last_name,
        deal.address.city,
    ) == ("4711", "2026-11-20T13:03:00+00:00", "Ilse", "Jansen", "Zwolle")


@pytest.mark.prefect
@pytest.mark.slow
def test_hubspot_v3_signature_accepted_and_refused(app, ledger):
    url = app.url + "/hooks/hubspot"
    response = httpx.post(url, content=HUBSPOT, headers=hubspot_headers(url, HUBSPOT), timeout=60)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["deal"] == "9823471102" and body["run"] and ledger.intake(body["intake"]).source == "hubspot"
    for headers in (
        hubspot_headers(url, HUBSPOT, secret="wrong"),
        hubspot_headers(url, HUBSPOT, at_ms=int(time.time() * 1000) - 301_000),
        hubspot_headers(url + "?x=1", HUBSPOT),  # signed for another URI
        {"content-type": "application/json"},
    ):
        assert httpx.post(url, content=HUBSPOT, headers=headers, timeout=30).status_code == 401


@pytest.mark.prefect
@pytest.mark.slow
def test_hubspot_not_won_is_ignored_and_a_bad_deal_is_a_dead_letter(app, ledger):
    url = app.url + "/hooks/hubspot"
    open_deal = json.loads(HUBSPOT)
    open_deal["properties"]["dealstage"] = "appointmentscheduled"
    raw = json.dumps(open_deal).encode()
    response = httpx.post(url, content=raw, headers=hubspot_headers(url, raw), timeout=30)
    assert response.status_code == 200 and "not a won deal" in response.json()["ignored"]
    no_email = json.loads(HUBSPOT)
    no_email["objectId"] = 1111
    no_email["associations"]["contact"]["firstname"] = ""
    raw = json.dumps(no_email).encode()
    response = httpx.post(url, content=raw, headers=hubspot_headers(url, raw), timeout=30)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "contact.first_name"
    assert ledger.intake(response.json()["intake"]).kind == "hubspot"


@pytest.mark.prefect
@pytest.mark.slow
def test_pipedrive_basic_auth_accepted_and_refused(app, ledger):
    url = app.url + "/hooks/pipedrive"
    response = httpx.post(url, content=PIPEDRIVE, headers=basic(PIPEDRIVE_AUTH), timeout=60)
    assert response.status_code == 202, response.text
    assert response.json()["deal"] == "4711"
    refused = httpx.post(url, content=PIPEDRIVE, headers=basic("hundred:wrong"), timeout=30)
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
    assert httpx.post(url, content=PIPEDRIVE, timeout=30).status_code == 401
    assert httpx.post(url, content=b"x" * 1_048_577, headers=basic(PIPEDRIVE_AUTH), timeout=30).status_code == 413


@pytest.mark.prefect
@pytest.mark.slow
def test_a_custom_mapping_file_connects_another_field_layout(tmp_path, hundred_deployments):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        """\
pipedrive:
  won: {path: data.status, in: [won]}
  fields:
    id: {path: data.id, format: text}
    closed_at: {path: data.won_time, format: utc}
    contact.first_name: data.person.first
    contact.email: data.person.email
    company.name: data.org
    address.street: data.street
    address.postcode: data.zip
    address.city: data.city
    address.country: {value: NL}
    owner.name: {value: Sanne de Vries}
    owner.email: {value: sanne@example.nl}
""",
        encoding="utf-8",
    )
    served = serve(make_home(tmp_path / "home", crm_mapping=mapping))
    try:
        body = {
            "data": {
                "id": 99,
                "status": "won",
                "won_time": "2026-11-20 09:00:00",
                "org": "Bakkerij",
                "person": {"first": "Ilse", "email": "ilse@example.nl"},
                "street": "Dorpsstraat 12",
                "zip": "8011 AB",
                "city": "Zwolle",
            }
        }
        response = httpx.post(served.url + "/hooks/pipedrive", json=body, headers=basic(PIPEDRIVE_AUTH), timeout=60)
        assert response.status_code == 202, response.text
        assert response.json()["deal"] == "99"
    finally:
        served.stop()


def test_the_hubspot_signature_is_the_documented_one():
    from hundred.deals.crm import hubspot_signature, hubspot_valid

    sig = hubspot_signature(HUBSPOT_SECRET, "POST", "https://hooks.example.com/hooks/hubspot", b"{}", "1700000000000")
    assert hubspot_valid(
        HUBSPOT_SECRET,
        "POST",
        "https://hooks.example.com/hooks/hubspot",
        b"{}",
        sig,
        "1700000000000",
        now_ms=1700000100000,
    )
    assert not hubspot_valid(
        HUBSPOT_SECRET,
        "POST",
        "https://hooks.example.com/hooks/hubspot",
        b"{}",
        sig,
        "1700000000000",
        now_ms=1700000400000,
    )
