"""`hundred crm check pipedrive|hubspot [--deal ID]` as a marketer runs it (a subprocess), against
the stand-ins of both APIs: the deal hundred would build, a bad token in one clear line, a mapping
that points at nothing (Pipedrive's field lists read page by page), HubSpot's won stages."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import hundred_process
from crm_standins import HUBSPOT_TOKEN, JOURNEY_KEY, PIPEDRIVE_TOKEN, stand_ins  # noqa: F401 (stand_ins: a fixture)

REPO = Path(__file__).resolve().parent.parent
SHIPPED = json.loads((REPO / "hundred" / "deals" / "crm_mapping.json").read_text(encoding="utf-8"))


def crm_check(tmp_path: Path, stand_ins, *args: str, **env: str) -> subprocess.CompletedProcess:
    pipedrive, hubspot = stand_ins
    values = {
        "HUNDRED_HOME": str(tmp_path / "home"),
        "HUNDRED_JOURNEYS_DIR": str(REPO / "journeys"),
        "HUNDRED_PIPEDRIVE_API_TOKEN": PIPEDRIVE_TOKEN,
        "HUNDRED_PIPEDRIVE_API_URL": pipedrive.url,
        "HUNDRED_HUBSPOT_TOKEN": HUBSPOT_TOKEN,
        "HUNDRED_HUBSPOT_API_URL": hubspot.url,
        **env,
    }
    full = {k: v for k, v in {**os.environ, **values}.items() if v is not None}
    return hundred_process("crm", "check", *args, env=full)


def test_pipedrive_check_prints_the_deal_hundred_would_build(tmp_path, stand_ins):
    done = crm_check(tmp_path, stand_ins, "pipedrive", "--deal", "4711")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "✓ token: Pipedrive: Sanne de Vries <sanne@example.nl> in Bakkerij Jansen B.V."
    assert lines[1].startswith("✓ mapping: ") and "crm_mapping.json: 17 fields" in lines[1]
    assert lines[2].startswith("✓ deal: deal 4711 (the deal asked for): fetched with GET /api/v2/deals/4711")
    assert lines[3] == "the deal hundred would build:"
    deal = json.loads("\n".join(lines[4:]))
    assert deal["contact"]["email"] == "ilse@example.nl" and deal["address"]["street"] == "Dorpsstraat 12"
    assert PIPEDRIVE_TOKEN not in done.stdout + done.stderr


def test_without_a_deal_id_the_latest_won_deal_is_tried_and_json_says_it_all(tmp_path, stand_ins):
    done = crm_check(tmp_path, stand_ins, "pipedrive", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["deal_id"] == "4712" and report["problems"] == []
    assert report["deal"]["address"]["country"] == "DE" and [c["check"] for c in report["checks"]] == [
        "token",
        "mapping",
        "deal",
    ]


def test_a_bad_token_is_one_clear_line_without_the_token(tmp_path, stand_ins):
    done = crm_check(tmp_path, stand_ins, "pipedrive", HUNDRED_PIPEDRIVE_API_TOKEN="not-the-token-42")
    assert done.returncode == 1
    assert done.stdout.strip() == (
        "✗ token: GET /api/v1/users/me: answered 401 Unauthorized: the token was refused: set "
        "HUNDRED_PIPEDRIVE_API_TOKEN to a valid token (unauthorized access)"
    )
    assert "not-the-token-42" not in done.stdout + done.stderr
    missing = crm_check(tmp_path, stand_ins, "hubspot", HUNDRED_HUBSPOT_TOKEN="")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip().startswith("HUNDRED_HUBSPOT_TOKEN is not set")
    no_url = crm_check(tmp_path, stand_ins, "pipedrive", HUNDRED_PIPEDRIVE_API_URL="acme.pipedrive.com")
    assert no_url.returncode == 1
    assert no_url.stderr.strip() == (
        "HUNDRED_PIPEDRIVE_API_URL 'acme.pipedrive.com' is not a URL: write it like https://acme.pipedrive.com"
    )


def test_a_mapping_that_points_at_nothing_says_what_and_where(tmp_path, stand_ins):
    mapping = json.loads(json.dumps(SHIPPED))
    mapping["pipedrive"]["fields"]["journey"] = {"from": f"deal.custom_fields.{'0' * 40}", "map": {"1": "x"}}
    mapping["pipedrive"]["fields"]["fields.source"] = f"deal.custom_fields.{JOURNEY_KEY[:-1]}7"
    mapping["pipedrive"]["fields"]["contact.last_name"] = "persn.last_name"
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")
    stand_ins[0].seen.clear()
    done = crm_check(tmp_path, stand_ins, "pipedrive", "--deal", "4711", HUNDRED_CRM_MAPPING=str(path))
    assert done.returncode == 1, done.stdout
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("✗ mapping: ")]
    assert f"journey: 'deal.custom_fields.{'0' * 40}': '{'0' * 40}' is not a custom field of Pipedrive deals" in line
    assert f"it has: Journey ({JOURNEY_KEY})" in line  # found on the second page of the field list
    assert f"did you mean '{JOURNEY_KEY}'?" in line
    assert "contact.last_name: 'persn.last_name' reads 'persn', which is not an object hundred fetches" in line
    assert str(path) in line
    starts = [s.query["start"][0] for s in stand_ins[0].seen if s.path == "/api/v1/dealFields"]
    assert starts == ["0", "2", "4"]  # every page, two fields a page
    assert "the deal as built so far:" in done.stdout  # an optional field read from nothing is left empty


def test_hubspot_check_names_the_won_stages_and_a_property_typo(tmp_path, stand_ins):
    done = crm_check(tmp_path, stand_ins, "hubspot")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ won stages: closedwon = Closed Won in Sales Pipeline" in done.stdout
    assert "✓ deal: deal 9823471102 (the latest won deal)" in done.stdout
    mapping = json.loads(json.dumps(SHIPPED))
    mapping["hubspot"]["fields"]["segment"] = "deal.hundred_segmnt"
    path = tmp_path / "hubspot.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")
    bad = crm_check(
        tmp_path,
        stand_ins,
        "hubspot",
        "--deal",
        "9823471103",
        HUNDRED_CRM_MAPPING=str(path),
        HUNDRED_HUBSPOT_WON_STAGES="closedwon,closed-won",
    )
    assert bad.returncode == 1
    assert (
        "segment: 'deal.hundred_segmnt': 'hundred_segmnt' is not a HubSpot deal property in this account; did you mean 'hundred_segment'?"
        in bad.stdout
    )
    assert "✗ won stages: HUNDRED_HUBSPOT_WON_STAGES: 'closed-won' is not a deal stage in this account" in bad.stdout
    assert "1234567 (Renewed in Renewals)" in bad.stdout
    assert "note: the deal has no postal address: its journey's letters cannot be sent" in bad.stdout


def test_an_unknown_crm_is_a_usage_error(tmp_path, stand_ins):
    done = crm_check(tmp_path, stand_ins, "salesforce")
    assert done.returncode == 2 and "pipedrive or hubspot" in done.stderr


def test_intake_retry_fetches_stored_won_deals_and_replay_retries_an_enrichment_dead_letter(tmp_path, stand_ins):
    """The CLI's own wiring (bootstrap.intake hands the intake its CRM APIs), no Prefect running:
    a stored Pipedrive webhook is fetched by `intake retry`; a dead letter from a revoked token
    starts once the token is fixed and `intake replay` is run."""
    from intake_site import make_home

    from hundred import bootstrap
    from hundred.service.no_prefect import NoPrefect

    settings = make_home(tmp_path / "crm-cli")
    intake = bootstrap.intake(settings, scheduler_=NoPrefect())
    body = json.loads((REPO / "examples" / "crm" / "pipedrive-deal-won.json").read_text(encoding="utf-8"))
    first = intake.crm_webhook("pipedrive", json.dumps(body).encode()).body["intake"]
    body["current"]["id"] = body["meta"]["id"] = 4712
    second = intake.crm_webhook("pipedrive", json.dumps(body).encode()).body["intake"]

    def hundred(*args: str, **env: str) -> subprocess.CompletedProcess:
        values = {
            "HUNDRED_HOME": str(settings.home),
            "HUNDRED_JOURNEYS_DIR": str(settings.journeys_dir),
            "HUNDRED_TEMPLATES_DIR": str(settings.templates_dir),
            "HUNDRED_PIPEDRIVE_API_TOKEN": PIPEDRIVE_TOKEN,
            "HUNDRED_PIPEDRIVE_API_URL": stand_ins[0].url,
            **env,
        }
        full = {k: v for k, v in {**os.environ, **values}.items() if k != "PREFECT_API_URL"}
        return hundred_process(*args, env=full)

    revoked = hundred("intake", "retry", HUNDRED_PIPEDRIVE_API_TOKEN="revoked-token-1")
    assert revoked.returncode == 0, revoked.stderr
    assert f"{first}  dead" in revoked.stdout and "401 Unauthorized" in revoked.stdout
    assert "revoked-token-1" not in revoked.stdout + revoked.stderr
    replayed = hundred("intake", "replay", second)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert (
        replayed.stdout.startswith(f"{second}: pending (deal 4712)")
        and "not started yet: no Prefect API answers" in replayed.stdout
    )
    row = bootstrap.ledger(settings).intake(second)
    assert row.payload["address"]["country"] == "DE" and row.state == "pending"
    listed = json.loads(hundred("intake", "list", "--state", "dead", "--json").stdout)
    assert [r["intake"] for r in listed] == [first]
    assert listed[0]["reason"].startswith("enrichment failed: GET /api/v2/deals/4711: answered 401 Unauthorized")
