"""The CRMs' APIs failing under a running `hundred up`, end to end:

- an outage during enrichment (Pipedrive answering 500, HubSpot not answering within the timeout)
  loses nothing: the webhooks are answered 202 at once, the deals wait stored, and once the APIs
  are back (the lease runs out, reconcile makes a deal-closed run) each starts one journey;
- a refused token (401) makes a dead letter naming the call and the setting to fix, sends nothing;
  the operator sets the new token, restarts `up`, `hundred intake replay` → the journey starts;
- no token, the refused ones included, appears in any log, dead letter, artifact or error text.
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
    pipedrive_v1,
    running,
    stand_ins,  # noqa: F401  (fixture)
)
from crm_standins import HUBSPOT_TOKEN, PIPEDRIVE_TOKEN

pytestmark = [pytest.mark.prefect, pytest.mark.slow]  # `hundred up`: a Prefect server and its runs

NEW_PIPEDRIVE_TOKEN = "pd-token-regenerated-77aa01bb23cc45dd67ee89ff"
NEW_HUBSPOT_TOKEN = "pat-eu1-rotated-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
TOKENS = [PIPEDRIVE_TOKEN, HUBSPOT_TOKEN, NEW_PIPEDRIVE_TOKEN, NEW_HUBSPOT_TOKEN]
OUTAGE_TIMEOUT = 300.0  # the CRM retry lease (60 s) + a reconcile interval + runs on a loaded box


@pytest.fixture(scope="module")
def site(tmp_path_factory, stand_ins, mailbox):
    env = {
        "HUNDRED_CRM_TIMEOUT": "1",  # a call that takes longer has timed out
        "HUNDRED_CRM_ATTEMPTS": "2",  # and is tried once more within the run
        "HUNDRED_RECONCILE_SECONDS": "20",  # reconcile finds the deals left waiting
    }
    with running(CrmSite(tmp_path_factory.mktemp("crm-e2e-faults"), mailbox, *stand_ins, **env)) as s:
        yield s


@pytest.fixture(autouse=True)
def apis_answer_again(site):
    """Whatever a test did to the APIs, the next one starts with them answering."""
    yield
    site.pipedrive.unscript()
    site.pipedrive.down, site.hubspot.delay = False, 0.0


def waiting_for_the_crm(site: CrmSite, deal_id: str, attempts: int = 1):
    rows = site.intakes_of(deal_id)
    row = rows[0] if len(rows) == 1 else None
    ok = row and row.state == "pending" and row.attempts >= attempts and "waiting for the CRM" in (row.reason or "")
    return row if ok else None


def test_an_api_outage_during_enrichment_loses_nothing_the_deals_start_once_the_apis_are_back(site, crm_accounts):
    crm_accounts.person_at_work(91, "Fenna", "Kok", "fenna@example.nl")
    crm_accounts.won_pipedrive(6101, person_id=91, org_id=21)
    crm_accounts.contact("621", firstname="Daan", lastname="Vos", email="daan@example.nl")
    crm_accounts.won_hubspot("9900000101", contacts=["621"], companies=[("777", "deal_to_company")])
    site.pipedrive.script("GET", "/api/v2/persons/91", *[(500, {})] * 1000)  # the deal reads, its person fails
    site.hubspot.delay = 3.0  # HubSpot answers nothing within the 1 s timeout

    sent = time.monotonic()
    assert site.post_pipedrive(pipedrive_v1(6101)).status_code == 202
    assert site.post_hubspot([hubspot_event("9900000101", "closedwon", 7101)]).status_code == 202
    assert time.monotonic() - sent < 10  # answered at once: the CRM never retries its webhook

    pd_row = site.wait(lambda: waiting_for_the_crm(site, "6101"), "Pipedrive's deal waiting for its API")
    hs_row = site.wait(lambda: waiting_for_the_crm(site, "9900000101"), "HubSpot's deal waiting for its API")
    assert "GET /api/v2/persons/91: answered 500" in pd_row.reason, pd_row.reason
    assert "GET /crm/v3/objects/deals/9900000101: no answer within 1 s" in hs_row.reason, hs_row.reason
    # still down a while later: tried again (by reconcile's run), still waiting, nothing lost, nothing sent
    site.wait(lambda: waiting_for_the_crm(site, "6101", attempts=2), "a second try at Pipedrive", OUTAGE_TIMEOUT)
    site.wait(lambda: waiting_for_the_crm(site, "9900000101", attempts=2), "a second try at HubSpot", OUTAGE_TIMEOUT)
    assert not site.journeys_of("6101") and not site.journeys_of("9900000101")
    assert not site.mail_to("fenna@example.nl") and not site.mail_to("daan@example.nl")
    assert site.pipedrive.calls("GET", "/api/v2/persons/91") >= 4  # 2 tries × 2 attempts

    back = time.monotonic()
    site.pipedrive.unscript()
    site.hubspot.delay = 0.0
    site.wait(lambda: site.mail_to("fenna@example.nl"), "Pipedrive's deal, once its API is back", OUTAGE_TIMEOUT)
    site.wait(lambda: site.mail_to("daan@example.nl"), "HubSpot's deal, once its API is back", OUTAGE_TIMEOUT)
    print(f"both deals started {time.monotonic() - back:.0f} s after the APIs came back")
    for deal, address in (("6101", "fenna@example.nl"), ("9900000101", "daan@example.nl")):
        row = started_row(site, deal)
        assert row.reason is None and row.attempts >= 3, row
        assert len(site.journeys_of(deal)) == 1 and len(site.mail_to(address)) == 1
    assert_no_token(site, TOKENS, must_find="fenna@example.nl")


def test_a_refused_token_is_a_dead_letter_naming_the_call_and_a_replay_after_the_fix_starts_the_journey(
    site, crm_accounts
):
    crm_accounts.person_at_work(92, "Gijs", "Meijer", "gijs@example.nl")
    crm_accounts.won_pipedrive(6201, person_id=92, org_id=21)
    crm_accounts.contact("631", firstname="Noor", lastname="Hendriks", email="noor@example.nl")
    crm_accounts.won_hubspot("9900000201", contacts=["631"], companies=[("777", "deal_to_company")])
    # both tokens were regenerated in the CRMs: the ones hundred has are refused (401)
    site.pipedrive.token, site.hubspot.token = NEW_PIPEDRIVE_TOKEN, NEW_HUBSPOT_TOKEN

    assert site.post_pipedrive(pipedrive_v1(6201)).status_code == 202
    assert site.post_hubspot([hubspot_event("9900000201", "closedwon", 7201)]).status_code == 202

    def dead(deal_id: str):
        rows = site.intakes_of(deal_id)
        return rows[0] if rows and rows[0].state == "dead" else None

    pd_dead = site.wait(lambda: dead("6201"), "Pipedrive's 401 as a dead letter")
    hs_dead = site.wait(lambda: dead("9900000201"), "HubSpot's 401 as a dead letter")
    assert "GET /api/v2/deals/6201: answered 401" in pd_dead.reason, pd_dead.reason
    assert "set HUNDRED_PIPEDRIVE_API_TOKEN to a valid token" in pd_dead.reason
    assert "GET /crm/v3/objects/deals/9900000201: answered 401" in hs_dead.reason, hs_dead.reason
    assert "set HUNDRED_HUBSPOT_TOKEN to a valid token" in hs_dead.reason
    assert site.pipedrive.calls("GET", "/api/v2/deals/6201") == 1  # a refused token is not tried again
    listed = site.cli("intake", "list", "--state", "dead").stdout
    assert pd_dead.intake_id in listed and "answered 401" in listed
    assert not site.journeys_of("6201") and not site.mail_to("gijs@example.nl")
    assert_no_token(site, TOKENS, must_find="answered 401")

    # the operator sets the new tokens, restarts hundred, and replays the dead letters
    took = site.restart(HUNDRED_PIPEDRIVE_API_TOKEN=NEW_PIPEDRIVE_TOKEN, HUNDRED_HUBSPOT_TOKEN=NEW_HUBSPOT_TOKEN)
    print(f"hundred up healthy again in {took:.1f} s")
    for row in (pd_dead, hs_dead):
        replayed = site.cli("intake", "replay", row.intake_id).stdout
        assert f"{row.intake_id}: pending (deal {row.deal_id}), run " in replayed, replayed
    _, gijs = site.wait_started("6201", "gijs@example.nl")
    site.wait_started("9900000201", "noor@example.nl")
    assert gijs["To"] == "Gijs Meijer <gijs@example.nl>"
    for deal in ("6201", "9900000201"):
        started_row(site, deal)
        assert len(site.journeys_of(deal)) == 1
    assert {s.headers.get("x-api-token") for s in site.pipedrive.seen if s.path == "/api/v2/persons/92"} == {
        NEW_PIPEDRIVE_TOKEN
    }
    assert_no_token(site, TOKENS, must_find="gijs@example.nl")


def started_row(site, deal_id: str):
    """The deal's one intake row, once it is marked started. The journey starts, and its first
    email may leave, a moment before the row is marked, so this waits for it with a deadline."""
    site.wait(lambda: [r.state for r in site.intakes_of(deal_id)] == ["started"], f"deal {deal_id}'s intake started")
    (row,) = site.intakes_of(deal_id)
    return row
