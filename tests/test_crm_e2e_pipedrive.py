"""Pipedrive end to end, as a marketer connects it: `hundred up` with a Pipedrive API
token and URL and the webhook's password, nothing else; Pipedrive's stock won-deal webhook (v1 and
v2) in over HTTP → 202 at once → the deal-closed run fetches the deal, person, organisation and
owner from the API stand-in → one journey → the first email at a real SMTP server, addressed to the
person's primary email, and the letter in the print room with the organisation's address block.
Duplicate and concurrent deliveries, in both webhook versions, are one journey.
"""

from __future__ import annotations

import time

import idna
import pytest
from crm_e2e_site import (
    CrmSite,
    assert_no_token,
    crm_accounts,  # noqa: F401  (fixture)
    mailbox,  # noqa: F401  (fixture)
    pipedrive_v1,
    pipedrive_v2,
    running,
    stand_ins,  # noqa: F401  (fixture)
)
from crm_standins import HUBSPOT_TOKEN, PIPEDRIVE_TOKEN

pytestmark = [pytest.mark.prefect, pytest.mark.slow]  # `hundred up`: a Prefect server and its runs


@pytest.fixture(scope="module")
def site(tmp_path_factory, stand_ins, mailbox):
    with running(CrmSite(tmp_path_factory.mktemp("crm-e2e-pipedrive"), mailbox, *stand_ins)) as s:
        yield s


def api_calls(site: CrmSite, deal_id: int) -> list[tuple[str, str]]:
    return [(s.method, s.path) for s in site.pipedrive.seen if s.path.endswith(f"/deals/{deal_id}")]


def test_a_stock_v1_won_webhook_starts_a_journey_mailing_the_primary_email_and_writing_to_the_org(site, crm_accounts):
    crm_accounts.won_pipedrive(6001, person_id=88, org_id=21)  # Ilse: a home address first, the work one primary
    sent = time.monotonic()
    answer = site.post_pipedrive(pipedrive_v1(6001))
    assert answer.status_code == 202, answer.text
    assert time.monotonic() - sent < 10 and answer.json()["deal"] == "6001"

    rcpt, mail = site.wait_started("6001", "ilse@example.nl")
    assert rcpt == ["ilse@example.nl"] and not site.mail_to("ilse.prive@example.nl")  # the primary one
    assert mail["To"] == "Ilse Jansen <ilse@example.nl>" and mail["Subject"] == "Welkom Ilse"
    assert mail["From"] == "Sanne de Vries <onboarding@example.nl>" and mail["Reply-To"] == "sanne@example.nl"
    assert "Hallo Ilse van Bakkerij Jansen B.V." in mail.get_body(("html",)).get_content()
    assert mail["Message-ID"] == "<6001.first-100-days.welcome@example.nl>"

    journeys = site.journeys_of("6001")
    assert [(j.journey_id, j.state) for j in journeys] == [("first-100-days", "active")]
    (row,) = site.intakes_of("6001")
    assert (row.kind, row.state) == ("pipedrive", "started")
    assert row.payload["owner"]["email"] == "sanne@example.nl" and row.payload["product"] == "Jaarabonnement"
    token_ok = [s for s in site.pipedrive.seen if s.headers.get("x-api-token") == PIPEDRIVE_TOKEN]
    fetched = {s.path for s in token_ok}
    assert {"/api/v2/deals/6001", "/api/v2/persons/88", "/api/v2/organizations/21"} <= fetched, fetched
    assert not [s for s in site.pipedrive.seen if "api_token" in s.query]  # the token never in a URL

    site.wait(lambda: site.queued_letter("6001"), "deal 6001's letter in the print room")
    letter = site.queued_letter("6001")
    assert letter.state == "queued"
    assert {k: letter.address.get(k) for k in ("company", "street", "postcode", "city", "country")} == {
        "company": "Bakkerij Jansen B.V.",
        "street": "Dorpsstraat 12",  # route + street number, as the Netherlands writes it
        "postcode": "8011 AB",
        "city": "Zwolle",
        "country": "NL",  # Pipedrive said "Nederland"
    }
    labels = site.label_text()
    block = labels[labels.index("Bakkerij Jansen B.V.") :].splitlines()[:4]
    assert [" ".join(line.split()) for line in block] == [  # pdftotext keeps one of NL's two spaces
        "Bakkerij Jansen B.V.",
        "Ilse Jansen",
        "Dorpsstraat 12",
        "8011 AB ZWOLLE",
    ]
    assert_no_token(site, [PIPEDRIVE_TOKEN, HUBSPOT_TOKEN], must_find="ilse@example.nl")


def test_a_stock_v2_won_webhook_starts_a_journey_too_with_an_international_email_domain(site, crm_accounts):
    crm_accounts.won_pipedrive(6002, person_id=89, org_id=22)  # Jörg at bäckerei.de, in Berlin
    answer = site.post_pipedrive(pipedrive_v2(6002))
    assert answer.status_code == 202, answer.text
    ascii_address = "jorg@" + idna.encode("bäckerei.de", uts46=True).decode()
    rcpt, mail = site.wait_started("6002", ascii_address)
    assert rcpt == [ascii_address] and mail["Subject"] == "Welkom Jörg"
    assert len(site.journeys_of("6002")) == 1
    site.wait(lambda: site.queued_letter("6002"), "deal 6002's letter in the print room")
    address = site.queued_letter("6002").address
    assert (address["street"], address["postcode"], address["city"], address["country"]) == (
        "Hauptstraße 5",
        "10115",
        "Berlin",
        "DE",  # "Deutschland"
    )
    assert_no_token(site, [PIPEDRIVE_TOKEN, HUBSPOT_TOKEN], must_find="Hauptstra")


def test_duplicate_and_concurrent_deliveries_in_both_versions_start_one_journey(site, crm_accounts):
    crm_accounts.person_at_work(90, "Bram", "Visser", "bram@example.nl")
    crm_accounts.won_pipedrive(6003, person_id=90, org_id=21)
    v1, v2 = pipedrive_v1(6003), pipedrive_v2(6003)
    answers = site.at_once(lambda: site.post_pipedrive(v1), 4) + site.at_once(lambda: site.post_pipedrive(v2), 2)
    assert [a.status_code for a in answers] == [202] * 6, [a.text for a in answers]
    assert len({a.json()["intake"] for a in answers}) == 1  # one stored event: the CRM's ids are its key
    site.wait_started("6003", "bram@example.nl")
    again = site.post_pipedrive(v1)  # Pipedrive retries after the journey has started
    assert again.status_code == 202 and again.json()["duplicate"] is True and again.json()["state"] == "started"

    site.wait(lambda: site.queued_letter("6003"), "deal 6003's letter")
    time.sleep(6)  # a second journey, had one started, would have mailed by now (2 s moments)
    assert len(site.mail_to("bram@example.nl")) == 1
    assert len(site.journeys_of("6003")) == 1 and len(site.intakes_of("6003")) == 1
    assert len([s for s in site.pipedrive.seen if s.path == "/api/v2/deals/6003"]) == 1  # fetched once
    assert len([letter for letter in site.ledger.letters() if letter.deal_id == "6003"]) == 1
    assert_no_token(site, [PIPEDRIVE_TOKEN, HUBSPOT_TOKEN], must_find="bram@example.nl")
