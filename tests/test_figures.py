"""How each journey is doing, counted by SQL in a ledger the runtime built (tests/figures_world.py),
on SQLite and on PostgreSQL: every figure of the story's five customers as worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from figures_world import EXPECTED, iter_world

from hundred import bootstrap
from hundred.reports.figures.model import Histogram
from hundred.service.figures import period_of


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])]
)
def world(request, tmp_path_factory):
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_cluster").create_database(f"figures_{request.node.name[-8:].strip('[]')}")
    yield from iter_world(tmp_path_factory.mktemp(f"figures-{request.param}"), url)


@pytest.fixture(scope="module")
def figures(world):
    service = bootstrap.figures(world.settings, ledger_=world.ledger, clock=lambda: world.now)
    report = service.report()
    assert [f.journey for f in report.journeys] == ["figures"]
    return report.journeys[0]


def test_who_entered_and_where_they_are(figures):
    assert figures.entered == EXPECTED["entered"]
    for state in ("active", "completed", "exited"):
        assert figures.state(state) == EXPECTED[state], state
    assert figures.exit_reasons == EXPECTED["exit_reasons"]
    assert len(figures.versions) == 1 and figures.versions[0].in_use


def test_the_funnel_by_coleman_s_eight_phases(figures):
    assert [p.phase for p in figures.funnel] == [
        "assess",
        "admit",
        "affirm",
        "activate",
        "acclimate",
        "accomplish",
        "adopt",
        "advocate",
    ]
    for p in figures.funnel:
        if p.phase in EXPECTED["funnel"]:
            reached, median = EXPECTED["funnel"][p.phase]
            assert (p.reached, p.median_day) == (reached, median), p.phase
        else:
            assert p.touches == 0 and p.reached == 0


def test_what_happened_to_every_touch(figures):
    by_id = {t.touch: t for t in figures.touches}
    assert list(by_id) == ["welcome-call", "check-in", "thanks", "crm-note", "result-call", "referral"]
    for touch, states in EXPECTED["touches"].items():
        got = {s: n for s, n in by_id[touch].states.items() if n}
        assert got == states, touch
    assert by_id["check-in"].when == "deal.segment != 'C'"
    assert by_id["crm-note"].errors and "422" in next(iter(by_id["crm-note"].errors))


def test_letters_late_and_on_time_tasks_overdue_by_owner(figures):
    letters = {t.touch: t.letters for t in figures.touches if t.letters}["thanks"]
    want = EXPECTED["letters"]
    assert letters.states["posted"] == want["posted"] and letters.states["withdrawn"] == want["withdrawn"]
    assert (letters.on_time, letters.late, letters.overdue) == (want["on_time"], want["late"], want["overdue"])
    assert letters.median_delay == want["median_delay_days"]
    call = {t.touch: t.tasks for t in figures.touches if t.tasks}["result-call"].total
    assert {k: getattr(call, k) for k in ("done", "done_late", "open", "overdue")} == EXPECTED["tasks"]["result-call"]
    owners = {o.owner: o for o in figures.owners}
    for name, want_owner in EXPECTED["owners"].items():
        for key, n in want_owner.items():
            assert getattr(owners[name], key) == n, (name, key)


def test_emails_bounced_where_the_smtp_server_said_so_and_webhooks(figures):
    by_id = {t.touch: t for t in figures.touches}
    for touch, want in EXPECTED["emails"].items():
        assert by_id[touch].emails.to_json() == want, touch
    for touch, want in EXPECTED["webhooks"].items():
        assert by_id[touch].webhooks.to_json() == want, touch
    assert by_id["thanks"].emails is None and by_id["thanks"].webhooks is None  # a letter reports neither


def test_coleman_s_checks_on_real_data(figures):
    c = figures.coleman
    want = EXPECTED["silence"]
    assert (c.silence.limit_days, c.silence.over) == (want["limit_days"], want["over"])
    assert dict(c.silence.longest) == want["longest"]
    assert c.affirm.to_json() == {**EXPECTED["affirm"], "median_day": EXPECTED["affirm"]["median_day"]}
    r = EXPECTED["referrals"]
    assert (c.referrals.asked, c.referrals.days.median()) == (r["asked"], r["median_day"])
    assert c.referrals.received_total == r["received"] and c.referrals.received == r["by_touch"]


def test_who_to_look_at(figures):
    assert {(a.deal, a.touch, a.why) for a in figures.attention} == EXPECTED["attention"]


def test_the_period_selects_journeys_by_when_they_were_received(world):
    service = bootstrap.figures(world.settings, ledger_=world.ledger, clock=lambda: world.now)
    ref_day = world.day(10).date()
    late = service.report(period_of(ref_day, None)).journeys[0]
    assert late.entered == 1 and late.state("completed") == 1  # D-REF alone
    early = service.report(period_of(None, ref_day - timedelta(days=1))).journeys[0]
    assert early.entered == 4
    assert early.coleman.referrals.received_total == 1  # D-ON's referral, received later, still counts for D-ON
    none = service.report(period_of(date(2001, 1, 1), date(2001, 1, 2))).journeys[0]
    assert none.entered == 0 and all(t.total == 0 for t in none.touches)


def test_one_customer_s_story_planned_against_what_happened(world):
    service = bootstrap.figures(world.settings, ledger_=world.ledger, clock=lambda: world.now)
    story = service.story("D-LATE")
    thanks, check_in = story.touch("thanks"), story.touch("check-in")
    assert (thanks.planned_day, thanks.actual_day, thanks.late_days) == (2, 4, 3)
    assert thanks.letter is not None and thanks.letter.posted_at is not None
    assert check_in.state == "skipped" and check_in.detail == "false for this deal: skipped"
    waiting = {w.touch: w for w in story.waiting}
    assert waiting["result-call"].on == "owner" and waiting["result-call"].overdue
    assert waiting["result-call"].detail == "Piet Bakker"
    assert story.today == 20
    assert service.story("D-ON").facts.referred == ["D-REF"]
    gate = {w.touch: w for w in service.story("D-FAIL").waiting}["referral"]
    assert gate.on == "gate" and ("check-in", "failed") in gate.blockers
    assert service.story("D-NOBODY") is None


def test_a_histogram_s_median():
    h = Histogram()
    assert h.median() is None
    for day, n in ((1, 1), (12, 1), (15, 1), (22, 2)):
        h.add(day, n)
    assert h.median() == 15 and h.count_over(10) == 4
    h.add(30, 1)
    assert h.median() == 18.5
