"""The runtime on a real ledger and real channels (outbox, letter PDFs), with time in our hands.

The scheduler here is the simulator's in-memory one, so these tests decide exactly when each
moment's run starts (it claims the touches due and delivers each, as the `deliver` flow does);
the same Runtime on a real Prefect server is tested in test_e2e_prefect.py.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import deal_payload, email, journey_yaml, letter, phase, task
from moments import ClockWorld

from hundred.adapters.ledger import Ledger
from hundred.planning.states import Moves
from hundred.service.ports import StaleRun
from hundred.service.reconcile import reconcile
from hundred.service.runtime import IntakeError

AFFIRM = ("thanks", "check-in", "call")
JOURNEY = journey_yaml(
    phase("admit", task("welcome", 0, "confirm: false\n")),
    phase("affirm", letter("thanks", 1), email("check-in", 2), task("call", 2)),
    phase("advocate", email("referral", 4, "referral: true\n")),
)


class Harness(ClockWorld):
    """A Runtime whose clock the test moves, and what a person does in it."""

    def complete(self, touch: str, deal: str = "D-1") -> None:
        """What a person does: post the letter, finish the call."""
        if touch == "thanks":
            self.runtime.letter_posted(f"{deal}/thanks")
        elif touch == "call":
            self.runtime.task_done(deal, "call")


@pytest.fixture
def harness(make_journey, tmp_path) -> Harness:
    make_journey(JOURNEY)
    return Harness(tmp_path)


def outbox(h: Harness) -> list[Path]:
    return sorted((h.settings.home / "outbox").glob("*.eml"))


def test_deal_closed_schedules_ungated_touches_once(harness):
    first = harness.runtime.deal_closed(deal_payload())
    again = harness.runtime.deal_closed(deal_payload())
    assert first.created and not again.created
    states = {t.touch_id: t.state for t in again.touches}
    assert states == {
        "welcome": "scheduled",
        "thanks": "scheduled",
        "check-in": "scheduled",
        "call": "scheduled",
        "referral": "waiting",
    }
    # one run per moment (check-in and call share day 2's 09:00), whatever the repeats
    moments = {t.moment for t in again.touches if t.moment}
    by_touch = {t.touch_id: t.moment for t in again.touches}
    assert by_touch["check-in"] == by_touch["call"] and by_touch["welcome"] != by_touch["check-in"]
    assert len(harness.scheduler.runs) == len(moments)
    assert {t.flow_run_id for t in again.touches if t.moment} == set(harness.scheduler.runs)


def test_a_deal_for_an_unknown_journey_is_refused_with_its_name(harness):
    with pytest.raises(IntakeError, match="no journey with the id 'nope'"):
        harness.runtime.deal_closed(deal_payload(journey="nope"))
    assert harness.ledger.journeys() == []


@pytest.mark.parametrize("order", list(itertools.permutations(["thanks", "call"])))
def test_referral_waits_for_the_last_affirm_touch_whatever_the_order(harness, order):
    harness.runtime.deal_closed(deal_payload())
    harness.run_until(datetime(2026, 11, 26, tzinfo=UTC))  # everything ungated has run
    assert harness.state("check-in") == "delivered"
    assert harness.state("thanks") == "running" and harness.state("call") == "running"
    first, last = order
    harness.now = datetime(2026, 11, 30, 10, tzinfo=UTC)
    harness.complete(first)
    assert harness.state("referral") == "waiting"
    harness.now = datetime(2026, 12, 2, 10, tzinfo=UTC)  # a Wednesday
    harness.complete(last)
    referral = harness.ledger.touch("D-1", "referral")
    assert referral.state == "scheduled"
    # planned for day 4 (Tue 24 Nov); the gate opened Wed 2 Dec, so one business day later
    assert referral.due.astimezone(UTC).date().isoformat() == "2026-12-03"


def test_completions_racing_open_the_gate_once(make_journey, tmp_path):
    make_journey(JOURNEY)
    h = Harness(tmp_path, Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}"))
    h.runtime.deal_closed(deal_payload())
    for touch in AFFIRM:  # complete, but nobody has looked at the gate yet
        assert h.ledger.move("D-1", touch, Moves.START) and h.ledger.move("D-1", touch, Moves.DELIVER)
    lock = threading.Lock()
    calls: list[datetime] = []
    original = h.scheduler.ensure_moment

    def ensure_moment(moment, *, touches, shards=1):
        with lock:
            calls.append(moment)
            return original(moment, touches=touches, shards=shards)

    h.scheduler.ensure_moment = ensure_moment  # type: ignore[method-assign]
    threads = [threading.Thread(target=h.runtime.after_complete, args=("D-1",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = [e.event for e in h.ledger.events(deal_id="D-1")]
    assert events.count("gate.opened") == 1
    assert events.count("gate.released") == 1
    assert h.state("referral") == "scheduled"
    referral = h.ledger.touch("D-1", "referral")
    moments = {t.moment for t in h.ledger.touches("D-1") if t.moment}
    assert calls.count(referral.moment) >= 1 and len(h.scheduler.runs) == len(moments)


def test_an_affirm_touch_whose_condition_is_false_does_not_hold_the_gate(make_journey, tmp_path):
    make_journey(
        journey_yaml(
            phase("affirm", letter("thanks", 1), email("check-in", 2, "when: \"deal.segment == 'C'\"\n")),
            phase("advocate", email("referral", 4, "referral: true\n")),
        )
    )
    h = Harness(tmp_path)
    h.runtime.deal_closed(deal_payload(segment="A"))
    h.run_until(datetime(2026, 11, 26, tzinfo=UTC))
    assert h.state("check-in") == "skipped"
    h.complete("thanks")
    assert h.state("referral") == "scheduled"


def test_email_goes_out_once_however_often_its_run_repeats(harness):
    harness.runtime.deal_closed(deal_payload())
    harness.run_until(datetime(2026, 11, 26, tzinfo=UTC))
    for _ in range(3):
        outcome = harness.runtime.run_touch("D-1", "check-in")
        assert outcome.state == "delivered"
    names = [p.read_text(encoding="utf-8") for p in outbox(harness)]
    assert sum("To: Ilse Jansen <ilse@example.nl>" in n for n in names) == 1  # the welcome task goes to Sanne


def test_cancel_stops_what_has_not_happened_and_pulls_queued_letters(harness):
    # closed before the 10:00 batch, so the day-1 letter (arrives Mon 23 Nov) prints on day 0
    harness.runtime.deal_closed(deal_payload(closed_at="2026-11-20T09:30:00+01:00"))
    harness.run_until(datetime(2026, 11, 20, 23, tzinfo=UTC))  # the letter is queued on day 0
    assert [l.state for l in harness.ledger.letters(deal_id="D-1")] == ["queued"]
    report = harness.runtime.cancel("D-1", "deal churned")
    assert report.counts["exited"] == 1 and report.counts["letters"] == 1
    states = {t.touch_id: t.state for t in harness.ledger.touches("D-1")}
    assert states["welcome"] == "done"
    assert {states[t] for t in ("thanks", "check-in", "call", "referral")} == {"cancelled"}
    assert [l.state for l in harness.ledger.letters(deal_id="D-1")] == ["withdrawn"]
    outcome = harness.runtime.run_touch("D-1", "check-in")  # a run that slipped through
    assert outcome.state == "cancelled" and not outbox(harness)[1:]


def test_a_late_run_past_expires_after_expires_instead_of_sending(make_journey, tmp_path):
    make_journey(journey_yaml(phase("admit", email("hello", 1, "expires_after: 2d\n"))))
    h = Harness(tmp_path)
    h.runtime.deal_closed(deal_payload())
    h.now = datetime(2026, 12, 1, tzinfo=UTC)  # due Mon 23 Nov 09:00; the worker was down a week
    outcome = h.runtime.run_touch("D-1", "hello")
    assert outcome.state == "expired" and "expires after 2 days" in outcome.detail
    assert not outbox(h)


def test_a_broken_template_fails_the_touch_and_a_fixed_one_is_used_on_retry(harness, tmp_path):
    harness.runtime.deal_closed(deal_payload())
    template = tmp_path / "templates" / "emails" / "hello.html"
    template.write_text("<p>Hallo {{ contact.frist_name }}</p>\n", encoding="utf-8")
    harness.run_until(datetime(2026, 11, 26, tzinfo=UTC))
    row = harness.ledger.touch("D-1", "check-in")
    assert row.state == "failed" and "templates/emails/hello.html:1" in row.error and "frist_name" in row.error
    template.write_text("<p>Hallo {{ contact.first_name }}, opnieuw</p>\n", encoding="utf-8")
    assert harness.runtime.run_touch("D-1", "check-in").state == "delivered"
    assert any("opnieuw" in p.read_text(encoding="utf-8") for p in outbox(harness))


def test_a_journey_in_flight_keeps_its_version_when_the_yaml_changes_or_goes(harness, tmp_path):
    started = harness.runtime.deal_closed(deal_payload())
    (tmp_path / "journeys" / "x.yaml").unlink()
    harness.run_until(datetime(2026, 11, 26, tzinfo=UTC))
    assert harness.state("check-in") == "delivered"
    assert harness.ledger.journey("D-1").version == started.version


def test_reconcile_makes_a_missing_run_again_and_opens_a_missed_gate(harness):
    harness.runtime.deal_closed(deal_payload())
    lost = harness.ledger.touch("D-1", "check-in").flow_run_id
    harness.scheduler.delete(lost)  # someone deleted the run in the Prefect UI
    harness.now = harness.ledger.touch("D-1", "check-in").moment - timedelta(minutes=30)  # soon due
    for touch in ("thanks", "call"):
        assert harness.ledger.move("D-1", touch, Moves.START)
        assert harness.ledger.move("D-1", touch, Moves.FINISH if touch == "call" else Moves.DELIVER)
    reconcile(harness.runtime)
    moment = harness.ledger.touch("D-1", "check-in").moment
    assert harness.scheduler.moments[moment] != lost
    harness.run_until(moment + timedelta(minutes=1))
    assert harness.state("check-in") == "delivered"  # the run made again delivered it, and opened the gate
    assert harness.state("referral") == "scheduled"
    # a gate whose completion was missed (the completing process died before looking) opens too
    h2_report = reconcile(harness.runtime)
    assert "gate" not in h2_report.counts


def test_task_done_for_a_touch_that_is_not_a_task_is_refused(harness):
    harness.runtime.deal_closed(deal_payload())
    with pytest.raises(ValueError, match="'check-in' is an email touch, not a task"):
        harness.runtime.task_done("D-1", "check-in")


def test_a_touch_whose_run_died_mid_delivery_is_taken_by_the_next_run_after_its_lease(harness):
    harness.runtime.deal_closed(deal_payload())
    harness.now = harness.ledger.touch("D-1", "check-in").due
    claimed = harness.runtime.claim_due("run-a", limit=10)
    assert "check-in" in {t.touch_id for t in claimed}
    assert harness.ledger.move("D-1", "check-in", Moves.START, count_attempt=True)  # started, then the process died
    assert harness.runtime.claim_due("run-b", limit=10) == []  # a live run keeps its claim for its lease
    harness.now += timedelta(seconds=harness.settings.run_lease_seconds + 1)
    again = harness.runtime.claim_due("run-b", limit=10)
    assert {t.touch_id for t in again} >= {"check-in"}
    assert harness.runtime.run_touch("D-1", "check-in", holder="run-b").state == "delivered"
    assert sum("ilse@example.nl" in p.read_text(encoding="utf-8") for p in outbox(harness)) == 1


def test_a_failed_touch_is_run_again_on_request_and_only_when_failed(harness, tmp_path):
    harness.runtime.deal_closed(deal_payload())
    with pytest.raises(ValueError, match="only a failed touch is run again"):
        harness.runtime.retry("D-1", "check-in")
    template = tmp_path / "templates" / "emails" / "hello.html"
    template.write_text("<p>{{ contact.frist_name }}</p>\n", encoding="utf-8")
    harness.run_until(datetime(2026, 11, 26, tzinfo=UTC))
    assert harness.state("check-in") == "failed"
    template.write_text("<p>Hallo {{ contact.first_name }}</p>\n", encoding="utf-8")
    harness.runtime.retry("D-1", "check-in")
    harness.run_until(harness.now)
    assert harness.state("check-in") == "delivered"


def test_a_run_of_a_gated_touch_before_the_gate_opens_does_nothing(harness):
    harness.runtime.deal_closed(deal_payload())
    outcome = harness.runtime.run_touch("D-1", "referral")  # e.g. started by hand in the Prefect UI
    assert outcome.state == "waiting" and outcome.detail == "waits for the affirm phase"
    assert not [p for p in outbox(harness) if "Ilse" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("taken", ["claimed", "running"])
def test_reconcile_takes_over_a_run_a_dead_worker_took_and_lets_its_claims_go(harness, taken):
    """A worker killed after taking a run (Prefect: PENDING, or RUNNING without a process) leaves
    a run no worker fetches again, holding its claims: reconcile runs it again after its lease,
    and lets the claims go, so the touch goes out at once, once."""
    harness.runtime.deal_closed(deal_payload())
    row = harness.ledger.touch("D-1", "check-in")
    harness.now = row.due + timedelta(seconds=5)
    harness.scheduler.runs[row.flow_run_id] = "COMPLETED"  # a runner took it (not SCHEDULED any more)
    assert {t.touch_id for t in harness.runtime.claim_due(row.flow_run_id)} >= {"check-in"}
    harness.scheduler.stale = [StaleRun(row.flow_run_id, "deliver", taken, harness.now)]
    assert "taken over" not in reconcile(harness.runtime).counts  # a run that is only starting
    harness.now += timedelta(seconds=harness.settings.run_lease_seconds + 1)
    assert reconcile(harness.runtime).counts["taken over"] == 1
    assert harness.scheduler.taken_over == [row.flow_run_id]
    harness.run_until(harness.now)
    assert harness.state("check-in") == "delivered"
    assert sum("ilse@example.nl" in p.read_text(encoding="utf-8") for p in outbox(harness)) == 1


def test_a_touch_past_due_that_no_run_holds_gets_a_catch_up_run(harness):
    """Its moment's run ended without it (the ledger was down through the run's retries, say):
    reconcile finds it past due and unclaimed and makes a run now; it goes out once."""
    harness.runtime.deal_closed(deal_payload())
    row = harness.ledger.touch("D-1", "check-in")
    harness.scheduler.delete(row.flow_run_id)
    harness.now = row.due + timedelta(seconds=harness.settings.catch_up_seconds + 60)
    report = reconcile(harness.runtime)
    assert report.counts["caught up"] >= 1
    harness.run_until(harness.now + timedelta(minutes=2))
    assert harness.state("check-in") == "delivered"
    assert sum("ilse@example.nl" in p.read_text(encoding="utf-8") for p in outbox(harness)) == 1


def test_two_runs_claiming_at_once_never_take_the_same_touch(make_journey, tmp_path):
    make_journey(JOURNEY)
    h = Harness(tmp_path, Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}"))
    for n in range(20):
        h.runtime.deal_closed(deal_payload(id=f"D-{n}"))
    h.now = datetime(2026, 11, 26, tzinfo=UTC)
    taken: dict[str, list[tuple[str, str]]] = {}

    def claim(holder: str) -> None:
        mine = taken.setdefault(holder, [])
        while rows := h.runtime.claim_due(holder, limit=7):
            mine += [(t.deal_id, t.touch_id) for t in rows]

    threads = [threading.Thread(target=claim, args=(f"run-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [pair for pairs in taken.values() for pair in pairs]
    assert len(every) == len(set(every)) == 20 * 4  # welcome, thanks, check-in, call of each deal
