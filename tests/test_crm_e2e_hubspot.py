"""HubSpot end to end, as a marketer connects it: `hundred up` with a private app token,
the API address and the app's secret, nothing else; a stock, signed `deal.propertyChange` batch on
`dealstage` in over HTTP → 202 at once → the deal-closed run reads each won deal with its
associated contact, its primary company and its owner from the API stand-in → one journey per won
deal → the first email at a real SMTP server to the contact, the letter with the company's address.
An event for another stage is ignored, one the API does not know (404) becomes a dead letter
naming the call, a malformed one is refused; none of them holds up the others. Duplicate and
concurrent deliveries of a batch (HubSpot retries) are one journey per deal.
"""

from __future__ import annotations

import time

import pytest
from crm_e2e_site import (
    CrmSite,
    assert_no_token,
    crm_accounts,  # noqa: F401  (fixture)
    hubspot_event,
    mailbox,  # noqa: F401  (fixture)
    running,
    stand_ins,  # noqa: F401  (fixture)
)
from crm_standins import HUBSPOT_TOKEN, PIPEDRIVE_TOKEN

pytestmark = [pytest.mark.prefect, pytest.mark.slow]  # `hundred up`: a Prefect server and its runs

TOKENS = [PIPEDRIVE_TOKEN, HUBSPOT_TOKEN]


@pytest.fixture(scope="module")
def site(tmp_path_factory, stand_ins, mailbox):
    with running(CrmSite(tmp_path_factory.mktemp("crm-e2e-hubspot"), mailbox, *stand_ins)) as s:
        yield s


@pytest.fixture(scope="module")
def smit(crm_accounts):
    """Koffiebranderij Smit, HubSpot's primary company of the deals below (a holding comes first)."""
    crm_accounts.company(
        "779", name="Koffiebranderij Smit", address="Stationsweg 3", zip="3811 MA", city="Amersfoort", state="Utrecht"
    )
    return [("778", "deal_to_company_unlabeled"), ("779", "deal_to_company"), ("779", "deal_to_company_unlabeled")]


def deals_read(site: CrmSite, deal_id: str) -> int:
    return sum(1 for s in site.hubspot.seen if s.path == f"/crm/v3/objects/deals/{deal_id}")


def test_a_stock_dealstage_batch_starts_each_won_deal_and_the_bad_events_do_not_fail_the_others(
    site, crm_accounts, smit
):
    crm_accounts.contact("601", firstname="Anna", lastname="de Boer", email="anna@example.nl")
    crm_accounts.contact("602", firstname="Piet", lastname="Smit", email="piet@example.nl", hs_language="en-gb")
    crm_accounts.contact("603", firstname="Joost", lastname="Smit", email="joost@example.nl")
    crm_accounts.won_hubspot("9900000001", contacts=["601"], companies=smit)
    crm_accounts.won_hubspot("9900000002", contacts=["602", "603"], companies=smit)  # the first contact is mailed
    crm_accounts.won_hubspot("9900000005", contacts=["601"], companies=smit, stage="contractsent")
    malformed = {k: v for k, v in hubspot_event("9900000006", "closedwon", 7006).items() if k != "objectId"}
    batch = [
        hubspot_event("9900000001", "closedwon", 7001),
        hubspot_event("9900000005", "contractsent", 7005),  # another stage: not a won deal
        hubspot_event("9900000404", "closedwon", 7404),  # a deal the API does not know
        malformed,
        hubspot_event("9900000002", "closedwon", 7002),
    ]
    sent = time.monotonic()
    answer = site.post_hubspot(batch)
    assert answer.status_code == 202, answer.text
    assert time.monotonic() - sent < 10
    body = answer.json()
    assert sorted(s["deal"] for s in body["stored"]) == ["9900000001", "9900000002", "9900000404"]
    assert body["ignored"] == 1 and [r["event"] for r in body["refused"]] == [3]

    _, anna = site.wait_started("9900000001", "anna@example.nl")
    rcpt, piet = site.wait_started("9900000002", "piet@example.nl")
    assert rcpt == ["piet@example.nl"] and piet["To"] == "Piet Smit <piet@example.nl>"
    assert anna["To"] == "Anna de Boer <anna@example.nl>" and anna["Subject"] == "Welkom Anna"
    assert "Hallo Anna van Koffiebranderij Smit" in anna.get_body(("html",)).get_content()
    assert anna["From"] == "Sanne de Vries <onboarding@example.nl>"  # the deal owner, read from /crm/v3/owners
    assert not site.mail_to("joost@example.nl")
    for deal in ("9900000001", "9900000002"):
        assert [(j.journey_id, j.state) for j in site.journeys_of(deal)] == [("first-100-days", "active")]

    def dead_404():
        rows = site.intakes_of("9900000404")
        return rows[0] if rows and rows[0].state == "dead" else None

    dead = site.wait(dead_404, "the unknown deal's dead letter")
    assert "GET /crm/v3/objects/deals/9900000404" in dead.reason and "404" in dead.reason, dead.reason
    assert f"hundred intake replay {dead.intake_id}" in dead.reason
    assert not site.journeys_of("9900000404") and not site.journeys_of("9900000005")
    assert deals_read(site, "9900000005") == 0  # a stage that is not won costs no API call
    refused = [r for r in site.ledger.intakes(states=["dead"], limit=1000) if r.kind == "hubspot" and not r.deal_id]
    assert len(refused) == 1 and "objectId is missing" in refused[0].reason, [r.reason for r in refused]

    for deal in ("9900000001", "9900000002"):
        site.wait(lambda deal=deal: site.queued_letter(deal), f"deal {deal}'s letter in the print room")
        address = site.queued_letter(deal).address
        assert (address["company"], address["street"], address["postcode"], address["city"], address["country"]) == (
            "Koffiebranderij Smit",  # the primary company, not the holding associated first
            "Stationsweg 3",
            "3811 MA",
            "Amersfoort",
            "NL",  # HubSpot said "Netherlands"
        )
    labels = site.label_text()
    blocks = [
        [" ".join(line.split()) for line in part.splitlines()[:4]] for part in labels.split("Koffiebranderij Smit")[1:]
    ]
    assert sorted(blocks) == [  # pdftotext keeps one of the two spaces after a Dutch postcode
        ["", "Anna de Boer", "Stationsweg 3", "3811 MA AMERSFOORT"],
        ["", "Piet Smit", "Stationsweg 3", "3811 MA AMERSFOORT"],
    ]
    assert labels.count("Koffiebranderij Smit") == 2 and "Holding Jansen" not in labels
    assert {s.headers.get("authorization") for s in site.hubspot.seen} == {f"Bearer {HUBSPOT_TOKEN}"}
    assert_no_token(site, TOKENS, must_find="anna@example.nl")


def test_duplicate_and_concurrent_deliveries_of_a_batch_start_one_journey_per_deal(site, crm_accounts, smit):
    crm_accounts.contact("611", firstname="Lotte", lastname="Bakker", email="lotte@example.nl")
    crm_accounts.contact("612", firstname="Sem", lastname="Mulder", email="sem@example.nl")
    crm_accounts.won_hubspot("9900000011", contacts=["611"], companies=smit)
    crm_accounts.won_hubspot("9900000012", contacts=["612"], companies=smit)
    batch = [hubspot_event("9900000011", "closedwon", 7011), hubspot_event("9900000012", "closedwon", 7012)]
    answers = site.at_once(lambda: site.post_hubspot(batch), 4)
    assert [a.status_code for a in answers] == [202] * 4, [a.text for a in answers]
    intakes = {s["deal"]: s["intake"] for a in answers for s in a.json()["stored"]}
    assert len(intakes) == 2 and len({s["intake"] for a in answers for s in a.json()["stored"]}) == 2
    site.wait_started("9900000011", "lotte@example.nl")
    site.wait_started("9900000012", "sem@example.nl")

    # HubSpot delivers the batch again (attemptNumber 1), and one of its events in a later batch
    retry = [{**e, "attemptNumber": 1} for e in batch]
    again = site.post_hubspot(retry)
    assert again.status_code == 202 and all(s.get("duplicate") for s in again.json()["stored"]), again.text
    assert site.post_hubspot([hubspot_event("9900000012", "closedwon", 7112)]).status_code == 202

    site.wait(lambda: site.queued_letter("9900000011") and site.queued_letter("9900000012"), "both letters")
    time.sleep(6)  # a second journey, had one started, would have mailed by now (2 s moments)
    for deal, address in (("9900000011", "lotte@example.nl"), ("9900000012", "sem@example.nl")):
        assert len(site.mail_to(address)) == 1, deal
        assert len(site.journeys_of(deal)) == 1 and len(site.intakes_of(deal)) == 1
        assert deals_read(site, deal) == 1  # read from HubSpot once
        assert len([letter for letter in site.ledger.letters() if letter.deal_id == deal]) == 1
    assert_no_token(site, TOKENS, must_find="lotte@example.nl")
