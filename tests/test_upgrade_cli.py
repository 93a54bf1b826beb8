"""`hundred journeys upgrade` as an operator runs it, over a real ledger holding journeys in flight on
two versions of the shipped journey (tests/studio_site.py: the old one had delivery-check on day 10,
another one-month-email subject, an extra call on day 20 and no small-gift). No Prefect runs here:
the upgrade leaves the new moments `planned` and says that hundred makes their runs when it runs."""

from __future__ import annotations

import json
import subprocess

import pytest
from studio_site import OLD_DEALS, build_studio, journeys_cli

from hundred import bootstrap


def run(studio, *args: str) -> subprocess.CompletedProcess:
    return journeys_cli(studio, "upgrade", *args, PREFECT_API_URL="")


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """Read-only: only dry runs and refusals run against it."""
    return build_studio(tmp_path_factory.mktemp("upgrade"))


def ledger_state(studio) -> tuple:
    ledger = bootstrap.ledger(studio.settings)
    return (
        sorted((j.deal_id, j.version) for j in ledger.journeys()),
        sorted((t.deal_id, t.touch_id, t.state, t.due) for t in ledger.touches()),
        len(ledger.events(limit=100_000)),
    )


def test_the_dry_run_lists_per_deal_what_would_change_and_changes_nothing(studio):
    before = ledger_state(studio)
    done = run(studio, "first-100-days", "--from", studio.old_version[:6], "--dry-run", "--lang", "en")
    assert done.returncode == 0, done.stderr
    blocks = done.stdout.strip().split("\n\n")
    assert blocks[0] == (
        f"first-100-days (De eerste 100 dagen): version {studio.old_version} → {studio.new_version} "
        "(journeys/first-100-days.yaml)"
    )
    deals = {block.splitlines()[0].split()[1]: block.splitlines() for block in blocks[1:-1]}
    assert set(deals) == set(OLD_DEALS)
    for deal, lines in deals.items():
        assert lines[0].startswith(f"deal {deal} (day ") and lines[0].endswith("): would be upgraded")
        said = {line.split()[0]: line for line in lines[1:]}
        assert said["cancelled"].split()[1:6] == ["extra-call:", "removed", "in", "the", "new"]
        assert said["added"].split()[1] == "small-gift:"
        assert "one-month-email: goes out with the new words" in said["new"]
    # delivery-check moved from day 10 to 12: re-timed only where it is still ahead
    retimed = [deal for deal, lines in deals.items() if any("re-timed   delivery-check:" in line for line in lines)]
    assert retimed == ["D-OLD-1"]
    assert blocks[-1] == (f"3 deals would be upgraded to version {studio.new_version}; nothing was changed (dry run).")
    assert ledger_state(studio) == before


def test_the_dry_run_speaks_the_journeys_language_and_json(studio):
    dutch = run(studio, "first-100-days", "--from", studio.old_version, "--dry-run")
    assert "zou naar de nieuwe versie gaan" in dutch.stdout and "geannuleerd" in dutch.stdout
    data = json.loads(
        run(studio, "journeys/first-100-days.yaml", "--from", studio.old_version, "--dry-run", "--json").stdout
    )
    assert (data["from"], data["to"], data["dry_run"], data["would_upgrade"]) == (
        studio.old_version,
        studio.new_version,
        True,
        3,
    )
    first = next(d for d in data["deals"] if d["deal"] == "D-OLD-1")
    assert first["outcome"] == "would upgrade"
    changes = {c["touch"]: c for c in first["changes"]}
    assert changes["extra-call"]["kind"] == "cancelled" and changes["extra-call"]["after"] == "cancelled"
    assert changes["small-gift"]["kind"] == "added" and changes["small-gift"]["before"] is None
    assert (
        changes["delivery-check"]["kind"] == "retimed"
        and changes["delivery-check"]["due"] > changes["delivery-check"]["was_due"]
    )


@pytest.mark.parametrize(
    "args, code, says",
    [
        (["first-100-days", "--from", "ffffff"], 1, "--from ffffff: no journey of 'first-100-days' is on that version"),
        (["no-such-journey", "--from", "abc"], 1, "no-such-journey"),
        (["first-100-days"], 2, "--from"),
        (["first-100-days", "--from", "abc", "--wait", "-1"], 2, "--wait"),
    ],
)
def test_a_mistake_is_one_clear_line_and_its_exit_code(studio, args, code, says):
    done = run(studio, *args)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert says in done.stderr and "Traceback" not in done.stderr


def test_the_upgrade_moves_every_deal_and_the_ledger_records_it(tmp_path):
    studio = build_studio(tmp_path)
    done = run(studio, "first-100-days", "--from", studio.old_version, "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert f"3 deals upgraded to version {studio.new_version}." in done.stdout
    assert "wait for their deliver runs (Prefect did not answer)" in done.stdout
    ledger = bootstrap.ledger(studio.settings)
    assert {j.version for j in ledger.journeys()} == {studio.new_version}
    for deal in OLD_DEALS:
        assert ledger.touch(deal, "extra-call").state == "cancelled"
        assert ledger.touch(deal, "small-gift").state == "planned"
        upgraded = [e for e in ledger.events(deal_id=deal) if e.event == "journey.upgraded"]
        assert [e.detail.split(":")[0] for e in upgraded] == [
            f"first-100-days@{studio.old_version} → {studio.new_version}"
        ]
    again = run(studio, "first-100-days", "--from", studio.old_version)
    assert again.returncode == 1 and f"deals are on: {studio.new_version}" in again.stderr


def test_a_deal_being_delivered_stays_behind_and_the_exit_code_says_so(tmp_path):
    from datetime import UTC, datetime, timedelta

    studio = build_studio(tmp_path)
    ledger = bootstrap.ledger(studio.settings)
    touch = next(t for t in ledger.touches("D-OLD-1") if t.state == "planned")
    now = datetime.now(UTC)
    assert ledger.update_touch("D-OLD-1", touch.touch_id, claimed_by="run-x", lease_until=now + timedelta(hours=1))
    done = run(studio, "first-100-days", "--from", studio.old_version, "--wait", "0", "--lang", "en")
    assert done.returncode == 1, done.stderr
    assert f"deal D-OLD-1 (day 2): busy: a run is delivering {touch.touch_id}; run the upgrade again" in done.stdout
    assert f"1 deal stays on version {studio.old_version} for now: run the upgrade again." in done.stdout
    assert ledger.journey("D-OLD-1").version == studio.old_version
    assert {ledger.journey(d).version for d in OLD_DEALS[1:]} == {studio.new_version}


def test_the_studio_shows_the_dry_run_under_a_version_in_flight_and_changes_nothing(studio):
    from fastapi.testclient import TestClient
    from studio_site import JOURNEY, TOKEN, api, enter, page_config

    from hundred.web.studio.local import create_local_app

    before = ledger_state(studio)
    with TestClient(create_local_app(studio.settings.model_copy(), TOKEN), base_url="http://testserver") as client:
        assert enter(client).status_code == 200
        csrf = page_config(client)["csrf"]
        text = (studio.root / JOURNEY).read_text(encoding="utf-8")
        html = api(client, "flight", {"file": JOURNEY, "text": text}, csrf).json()["html"]
    old_block = html.split(f'id="v-{studio.old_version}"', 1)[1].split('<section class="version"', 1)[0]
    assert '<details class="dry-run">' in old_block
    assert f"hundred journeys upgrade first-100-days --from {studio.old_version} --dry-run" in old_block
    shown = old_block.split("<pre", 1)[1].split("</pre>", 1)[0]
    assert "deal D-OLD-1 (dag 2): zou naar de nieuwe versie gaan" in shown  # in the journey's language
    assert "geannuleerd" in shown and "extra-call: verwijderd in de nieuwe versie" in shown
    assert "3 deals zouden naar versie" in shown and "(proefrun)" in shown
    current = html.split(f'id="v-{studio.new_version}"', 1)[1].split('<section class="version"', 1)[0]
    assert "dry-run" not in current  # the text is this version: nothing to upgrade
    assert ledger_state(studio) == before


def _ids(path):
    """The message ids `path` uses through w(…), sw(…), cw(…) and their plurals."""
    from babel.messages.extract import extract
    from jinja2.ext import babel_extract

    method = babel_extract if path.suffix == ".j2" else "python"
    keywords = {"w": None, "sw": None, "cw": None, "plural": (1, 2)}
    with path.open("rb") as fh:
        for _, message, _, _ in extract(method, fh, keywords=keywords):
            yield message[0] if isinstance(message, tuple) else message


@pytest.mark.parametrize(
    "domain, files, at_least",
    [
        ("changes", ["hundred/reports/upgrade.py", "hundred/reports/changes.py", "hundred/cli/versions.py"], 60),
        ("studio", ["hundred/web/studio/templates/fragments/flight.html.j2"], 10),
    ],
)
def test_every_word_of_an_upgrade_has_its_dutch(domain, files, at_least):
    from conftest import REPO

    from hundred.rendering.i18n import _catalog
    from hundred.reports.upgrade import LABELS

    singular, plural, _ = _catalog("nl", domain)
    used = {m for f in files for m in _ids(REPO / f)} | (set(LABELS.values()) if domain == "changes" else set())
    assert len(used) >= at_least, sorted(used)
    missing = sorted(m for m in used if m not in singular and m not in plural)
    assert not missing, f"add these to hundred/rendering/locales/nl/LC_MESSAGES/{domain}.po: {missing}"
