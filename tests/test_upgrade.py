"""`hundred journeys upgrade` in the service: journeys in flight moved to a new version.

The runtime here is the real one on a real ledger with the real channels (emails land in the
outbox); the scheduler is the simulator's, so each test decides when each moment's run starts
(tests/moments.py `run_until`). Each kind of change is played through: what was delivered stays
delivered and is never sent again, what is still ahead follows the new version, the affirm gate is
judged again, and the ledger records the upgrade.
"""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from conftest import deal_payload, email as email_touch, journey_yaml, phase, task
from moments import CLOSED, ClockWorld

from hundred import bootstrap
from hundred.adapters.ledger import Ledger
from hundred.deals.model import parse_deal
from hundred.journeys.model import Journey
from hundred.planning.engine import Clock
from hundred.planning.planner import plan
from hundred.planning.states import Moves
from hundred.planning.upgrade import chain, plan_upgrade
from hundred.service.upgrade import UpgradeError, Upgrader
from hundred.validation.validate import check_text


class World(ClockWorld):
    """A runtime whose clock the test moves, on a journey file the test rewrites."""

    def journey(self, text: str) -> Journey:
        """Write the journey file (as a marketer saves it) and load it as the upgrade does."""
        path = self.root / "journeys" / "x.yaml"
        path.write_text(text, encoding="utf-8")
        checked = check_text(text, path, self.root / "templates", lint=False)
        assert checked.ok, checked.problems
        assert checked.journey is not None
        return checked.journey

    def upgrade(self, journey: Journey, version: str, *, dry_run: bool = False, wait: float = 0.0):
        return Upgrader(self.runtime).run(journey, self.root / "templates", version, dry_run=dry_run, wait=wait)

    def upgrade_events(self) -> list[str]:
        return [e.event for e in self.ledger.events() if e.event.startswith(("upgrade.", "journey.upgraded"))]

    def states(self, deal: str = "D-1") -> dict[str, str]:
        return {t.touch_id: t.state for t in self.ledger.touches(deal)}

    def sent(self) -> list[email.message.EmailMessage]:
        """The emails the customer got (not the owner's task mails)."""
        outbox = (self.settings.home / "outbox").glob("*.eml")
        mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox]
        return [m for m in mails if "ilse@example.nl" in str(m["to"])]

    def subjects(self) -> list[str]:
        """Their subjects, sorted (the ledger says when each went: `completed_at`)."""
        return sorted(str(m["subject"]) for m in self.sent())


def day(n: int, hour: int = 12) -> datetime:
    """Noon (UTC) on journey day n of the deal that closed on CLOSED."""
    return (CLOSED + timedelta(days=n)).replace(hour=hour, minute=0)


def mail(tid: str, n: int, subject: str | None = None, extra: str = "") -> str:
    text = email_touch(tid, n, extra)
    return text.replace("subject: Hallo", f"subject: {subject or tid}")


def due_on(journey: Journey, touch: str) -> datetime:
    """When the planner puts `touch` for the test deal: the one timing rule the upgrade must use."""
    deal = parse_deal(deal_payload())
    return next(t.due for t in plan(journey, deal, titles=False).touches if t.touch == touch)


@pytest.fixture
def world(make_journey, tmp_path) -> World:
    make_journey(journey_yaml(phase("admit", email_touch("placeholder", 1))))
    return World(tmp_path)


V1 = journey_yaml(
    phase("adopt", mail("hello", 1), mail("later", 20), mail("gone", 25), mail("words", 30, "Hoe gaat het?")),
)
V2 = journey_yaml(
    phase(
        "adopt",
        mail("hello", 3),  # moved, but already delivered: stays delivered
        mail("early", 2),  # added, past (Mon 23 Nov) by 9 days at the upgrade: expired by the backfill rule
        mail("recent", 8),  # added, 4 days past: within the grace, at once
        mail("later", 22),  # moved ahead: re-timed
        mail("words", 30, "Een maand samen!"),  # reworded: goes out with the new words
        mail("new", 40),  # added ahead: planned from the journey's start
    ),  # gone: removed, cancelled
)


def test_each_kind_of_change_follows_the_new_version_and_nothing_delivered_is_sent_again(world):
    old = world.journey(V1)
    world.runtime.deal_closed(deal_payload())
    world.run_until(day(12))
    assert world.subjects() == ["hello"]
    new = world.journey(V2)
    report = world.upgrade(new, old.version()[:6])
    [deal] = report.deals
    assert deal.outcome == "upgraded" and report.complete and deal.day == 12
    kinds = {(e.touch, e.kind) for e in deal.upgrade.edits}
    assert kinds == {
        ("early", "expired"),
        ("recent", "added"),
        ("later", "retimed"),
        ("gone", "cancelled"),
        ("words", "reworded"),
        ("new", "added"),
    }
    states = world.states()
    assert states["hello"] == "delivered"  # never unsent, never re-planned
    assert states["gone"] == "cancelled" and states["early"] == "expired"
    assert world.ledger.touch("D-1", "later").due == due_on(new, "later")
    assert world.ledger.touch("D-1", "new").due == due_on(new, "new")
    assert world.ledger.touch("D-1", "recent").due <= world.now + timedelta(minutes=1)  # at once
    row = world.ledger.journey("D-1")
    assert row.version == new.version() and row.journey_model() == new
    events = {(e.touch_id, e.event): e.detail for e in world.ledger.events(deal_id="D-1")}
    assert "removed in the new version" in events[("gone", "upgrade.cancelled")]
    assert "backfill: due 9 days before the upgrade" in events[("early", "upgrade.expired")]
    assert events[(None, "journey.upgraded")].startswith(f"x@{old.version()} → {new.version()}: ")
    # every moment that has work has its deliver run, and the rest of the journey plays out
    assert {t.state for t in world.ledger.touches("D-1") if t.touch_id in ("recent", "later", "new")} == {"scheduled"}
    world.run_until(day(60))
    assert world.subjects() == sorted(["hello", "recent", "later", "Een maand samen!", "new"])
    assert world.states()["gone"] == "cancelled" and world.ledger.journey("D-1").state == "completed"


def test_a_dry_run_says_the_same_and_changes_nothing(world):
    old = world.journey(V1)
    world.runtime.deal_closed(deal_payload())
    world.run_until(day(12))
    before = (world.states(), len(world.ledger.events()), dict(world.scheduler.runs))
    new = world.journey(V2)
    dry = world.upgrade(new, old.version(), dry_run=True)
    assert [d.outcome for d in dry.deals] == ["would upgrade"]
    assert (world.states(), len(world.ledger.events()), dict(world.scheduler.runs)) == before
    assert world.ledger.journey("D-1").version == old.version()
    real = world.upgrade(new, old.version())
    said = [(e.touch, e.kind, e.after) for e in dry.deals[0].upgrade.edits]
    assert said == [(e.touch, e.kind, e.after) for e in real.deals[0].upgrade.edits]


def test_an_upgrade_done_leaves_nothing_to_do_and_an_unknown_version_is_an_error(world):
    old = world.journey(V1)
    world.runtime.deal_closed(deal_payload())
    new = world.journey(V2)
    assert world.upgrade(new, old.version()).count("upgraded") == 1
    assert world.upgrade(new, new.version()[:8]).deals == []  # the file's own version: nothing to move
    with pytest.raises(
        UpgradeError, match=f"no journey of 'x' is on that version in this ledger; deals are on: {new.version()}"
    ):
        world.upgrade(new, old.version())  # nobody is on it any more


def test_a_touch_moved_into_the_past_runs_at_once_or_expires(world):
    old = world.journey(
        journey_yaml(phase("adopt", mail("a", 20), mail("b", 20), mail("c", 20, extra="expires_after: 2d\n")))
    )
    world.runtime.deal_closed(deal_payload())
    world.run_until(day(12))
    new = world.journey(
        journey_yaml(phase("adopt", mail("a", 10), mail("b", 2), mail("c", 9, extra="expires_after: 2d\n")))
    )
    [deal] = world.upgrade(new, old.version()).deals
    assert {e.touch: e.kind for e in deal.upgrade.edits} == {"a": "retimed", "b": "expired", "c": "expired"}
    assert world.states() == {"a": "scheduled", "b": "expired", "c": "expired"}
    assert "expires after 2 days" in world.ledger.touch("D-1", "c").outcome
    world.run_until(day(13))
    assert world.subjects() == ["a"]  # at once, not on its (past) day


def test_in_compressed_time_the_upgrade_keeps_the_journeys_clock(make_journey, tmp_path):
    make_journey(journey_yaml(phase("admit", email_touch("placeholder", 1))))
    world = World(tmp_path)
    world.settings = world.settings.model_copy(update={"day_seconds": 10.0})  # a journey day lasts 10 s
    world.runtime = bootstrap.runtime(
        world.settings, ledger_=world.ledger, scheduler_=world.scheduler, clock=lambda: world.now
    )
    old = world.journey(journey_yaml(phase("adopt", mail("a", 20), mail("b", 25))))
    world.runtime.deal_closed(deal_payload())
    world.now = CLOSED + timedelta(seconds=12 * 10)  # journey day 12
    new = world.journey(journey_yaml(phase("adopt", mail("c", 2), mail("d", 8), mail("a", 22))))
    [deal] = world.upgrade(new, old.version()).deals
    assert {e.touch: e.kind for e in deal.upgrade.edits} == {
        "c": "expired",
        "d": "added",
        "a": "retimed",
        "b": "cancelled",
    }
    clock = Clock(parse_deal(deal_payload()).closed_at, CLOSED, 10.0)
    assert world.ledger.touch("D-1", "a").due == clock.to_wall(due_on(new, "a"))  # about 3.7 minutes from the close
    assert world.ledger.touch("D-1", "d").due == world.now  # 4 journey days late: within the grace, at once
    world.run_until(CLOSED + timedelta(minutes=10))
    assert world.subjects() == ["a", "d"]


# -- the affirm gate -------------------------------------------------------------------------------


def gated(*affirm: str) -> str:
    return journey_yaml(
        phase("admit", task("welcome", 0, "confirm: false\n")),
        phase("affirm", *affirm),
        phase("advocate", mail("referral", 6, extra="referral: true\n")),
    )


def test_an_added_affirm_touch_closes_an_open_gate_and_the_referral_waits_for_it(world):
    old = world.journey(gated(mail("check-in", 2)))
    world.runtime.deal_closed(deal_payload())
    world.run_until(day(4))
    assert world.states()["referral"] == "scheduled"  # check-in went out: the gate opened
    new = world.journey(gated(mail("check-in", 2), mail("survey", 9)))
    [deal] = world.upgrade(new, old.version()).deals
    assert deal.upgrade.gate == "closes"
    assert {e.touch: e.kind for e in deal.upgrade.edits} == {"survey": "added", "referral": "held"}
    assert world.states()["referral"] == "waiting" and world.ledger.journey("D-1").gate_opened_at is None
    world.run_until(day(8))
    assert "referral" not in world.subjects()  # its old day passed: it waits for the survey
    world.run_until(day(20))
    assert world.subjects() == ["check-in", "referral", "survey"]
    survey, referral = world.ledger.touch("D-1", "survey"), world.ledger.touch("D-1", "referral")
    assert referral.completed_at > survey.completed_at + timedelta(hours=12)  # not before the affirm phase is complete


def test_removing_the_affirm_touch_that_holds_the_gate_opens_it(world):
    old = world.journey(gated(mail("check-in", 2), task("call", 3)))
    world.runtime.deal_closed(deal_payload())
    world.run_until(day(10))
    assert world.states() == {"welcome": "done", "check-in": "delivered", "call": "running", "referral": "waiting"}
    new = world.journey(gated(mail("check-in", 2)))
    [deal] = world.upgrade(new, old.version()).deals
    assert deal.upgrade.gate == "opens"
    assert {e.touch: (e.kind, e.after) for e in deal.upgrade.edits} == {"call": ("kept", "running")}
    assert world.states()["call"] == "running"  # with its owner: an upgrade does not take it back
    assert world.states()["referral"] == "scheduled" and world.ledger.journey("D-1").gate_opened_at == world.now
    world.run_until(day(14))
    assert world.subjects() == ["check-in", "referral"]


def test_a_touch_that_now_waits_is_held_and_one_that_no_longer_waits_is_released(world):
    text = journey_yaml(
        phase("affirm", task("call", 5)),
        phase("adopt", mail("tip", 3)),
        phase("advocate", mail("referral", 4, extra="referral: true\n")),
    )
    old = world.journey(text)
    world.runtime.deal_closed(deal_payload())
    world.run_until(day(2))
    new = world.journey(
        journey_yaml(
            phase("affirm", task("call", 5)),
            phase("adopt", mail("referral", 4)),
            phase("advocate", mail("tip", 3)),
        )
    )
    [deal] = world.upgrade(new, old.version()).deals
    assert {e.touch: e.kind for e in deal.upgrade.edits} == {"tip": "held", "referral": "released"}
    assert world.states() == {"call": "scheduled", "tip": "waiting", "referral": "scheduled"}
    tip, referral = world.ledger.touch("D-1", "tip"), world.ledger.touch("D-1", "referral")
    assert tip.gated and tip.phase == "advocate" and tip.due is None
    assert not referral.gated and referral.phase == "adopt" and referral.due == due_on(new, "referral")
    world.run_until(day(8))
    assert world.subjects() == ["referral"]  # the tip waits for the call


def test_an_upgrade_whose_process_died_before_the_gate_was_judged_is_repaired_by_reconcile(world):
    from hundred.service.reconcile import reconcile

    old = world.journey(gated(mail("check-in", 2), task("call", 12)))
    world.runtime.deal_closed(deal_payload())
    world.run_until(day(4))
    new = world.journey(gated(mail("check-in", 2)))
    [decided] = world.upgrade(new, old.version(), dry_run=True).deals
    assert decided.upgrade.gate == "opens"
    assert world.ledger.upgrade_journey(decided.upgrade, new, str(world.root / "templates"), world.now)
    assert world.states()["call"] == "cancelled" and world.states()["referral"] == "waiting"  # then it died
    reconcile(world.runtime)
    assert world.states()["referral"] == "scheduled"


def test_a_completion_judged_on_the_old_version_does_not_release_the_referral_an_upgrade_holds(world):
    old = world.journey(gated(mail("check-in", 2), task("call", 3)))
    world.runtime.deal_closed(deal_payload())
    world.run_until(day(5))
    assert world.states()["call"] == "running"
    new = world.journey(gated(mail("check-in", 2), task("call", 3), mail("survey", 9)))
    opening = world.ledger.set_gate_opened

    def upgraded_meanwhile(deal_id, at):  # the owner's "done" judged the gate open on the old version ...
        report = world.upgrade(new, old.version())  # ... and the upgrade landed just before it opened it
        assert [d.outcome for d in report.deals] == ["upgraded"]
        return opening(deal_id, at)

    world.ledger.set_gate_opened = upgraded_meanwhile
    world.runtime.task_done("D-1", "call")
    world.ledger.set_gate_opened = opening
    assert world.states()["referral"] == "waiting" and world.states()["survey"] == "scheduled"
    world.run_until(day(30))
    survey, referral = world.ledger.touch("D-1", "survey"), world.ledger.touch("D-1", "referral")
    assert referral.state == "delivered" and referral.completed_at >= survey.completed_at


# -- an upgrade and a delivery, two upgrades: one outcome ---------------------------------------------

RACE_V1 = journey_yaml(phase("adopt", mail("hello", 1), mail("gone", 5), mail("later", 20)))
RACE_V2 = journey_yaml(phase("adopt", mail("hello", 2), mail("later", 22), mail("new", 30)))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        (tmp_path / "db").mkdir()
        return f"sqlite:///{tmp_path / 'db' / 'ledger.db'}"
    return request.getfixturevalue("pg_database")("upgrade")


def test_an_upgrade_waits_for_a_touch_being_delivered_and_it_goes_out_once(world):
    old = world.journey(RACE_V1)
    world.runtime.deal_closed(deal_payload())
    world.now = world.ledger.touch("D-1", "hello").due
    [claimed] = world.runtime.claim_due("run-a", limit=10)  # a deliver run holds hello, not yet sent
    new = world.journey(RACE_V2)
    busy = world.upgrade(new, old.version(), wait=0)
    assert [(d.outcome, d.upgrade.busy) for d in busy.deals] == [("busy", ["hello"])] and not busy.complete
    assert world.ledger.journey("D-1").version == old.version() and world.upgrade_events() == []

    def the_run_finishes(seconds: float) -> None:  # while the upgrade waits, the run delivers hello
        world.runtime.run_touch("D-1", claimed.touch_id, holder="run-a")

    report = Upgrader(world.runtime, sleep=the_run_finishes).run(
        new, world.root / "templates", old.version(), dry_run=False, wait=60
    )
    assert [d.outcome for d in report.deals] == ["upgraded"] and report.complete
    assert world.states() == {"hello": "delivered", "gone": "cancelled", "later": "scheduled", "new": "scheduled"}
    world.run_until(day(60))
    assert world.subjects() == ["hello", "later", "new"]  # each once: hello was not sent again


def test_a_decision_is_applied_only_if_nothing_moved_since(world):
    old = world.journey(RACE_V1)
    world.runtime.deal_closed(deal_payload())
    world.now = world.ledger.touch("D-1", "hello").due
    new = world.journey(RACE_V2)
    [decided] = world.upgrade(new, old.version(), dry_run=True).deals
    claimed = world.runtime.claim_due("run-a", limit=10)  # a run claims hello after the decision
    templates = str(world.root / "templates")
    assert not world.ledger.upgrade_journey(decided.upgrade, new, templates, world.now)
    world.runtime.run_touch("D-1", claimed[0].touch_id, holder="run-a")
    assert not world.ledger.upgrade_journey(decided.upgrade, new, templates, world.now)  # hello moved on
    assert world.upgrade_events() == [] and world.ledger.journey("D-1").version == old.version()
    [fresh] = world.upgrade(new, old.version(), dry_run=True).deals
    assert world.ledger.upgrade_journey(fresh.upgrade, new, templates, world.now)
    assert not world.ledger.upgrade_journey(fresh.upgrade, new, templates, world.now)  # once
    assert world.states() == {"hello": "delivered", "gone": "cancelled", "later": "planned", "new": "planned"}


def test_two_upgrades_at_once_move_each_deal_once(make_journey, tmp_path, db_url):
    make_journey(RACE_V1)
    first = World(tmp_path, Ledger.open(db_url))
    old = first.journey(RACE_V1)
    deals = [f"D-{n}" for n in range(1, 13)]
    for deal_id in deals:
        first.runtime.deal_closed(deal_payload(id=deal_id))
    new = first.journey(RACE_V2)
    second = World(tmp_path, Ledger.open(db_url))
    barrier = threading.Barrier(2)
    reports: list = []

    def upgrade(world: World) -> None:
        barrier.wait()
        try:
            reports.append(world.upgrade(new, old.version()))
        except UpgradeError:  # the other one moved every deal before this one looked
            reports.append(None)

    threads = [threading.Thread(target=upgrade, args=(w,)) for w in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    upgraded = [d.deal for r in reports if r for d in r.deals if d.outcome == "upgraded"]
    assert sorted(upgraded) == sorted(deals)  # each deal once, by one of the two
    others = [d for r in reports if r for d in r.deals if d.outcome != "upgraded"]
    assert all(d.outcome == "moved on" and new.version() in d.detail for d in others)
    for deal_id in deals:
        events = [(e.touch_id, e.event) for e in first.ledger.events(deal_id=deal_id)]
        assert events.count((None, "journey.upgraded")) == 1
        assert events.count(("new", "upgrade.added")) == 1 and events.count(("gone", "upgrade.cancelled")) == 1
        states = {"hello": "scheduled", "gone": "cancelled", "later": "scheduled", "new": "scheduled"}
        assert first.states(deal_id) == states
        assert first.ledger.journey(deal_id).version == new.version()
    first.ledger.close()
    second.ledger.close()


# -- the decision alone (hundred/planning/upgrade.py) ----------------------------------------------


@dataclass(frozen=True)
class Row:
    touch_id: str
    state: str
    phase: str = "adopt"
    channel: str = "email"
    gated: bool = False
    due: datetime | None = None
    planned_due: datetime = CLOSED
    completed_at: datetime | None = None
    lease_until: datetime | None = None


def decide(old: Journey, new: Journey, rows: list[Row], now: datetime, **kw):
    deal = parse_deal(deal_payload())
    return plan_upgrade(
        old,
        new,
        deal,
        rows,
        gate_opened_at=kw.get("gate_opened_at"),
        clock=Clock(deal.closed_at, deal.closed_at),
        now=now,
        grace=timedelta(days=7),
        moment=lambda due: due,
    )


def test_what_has_not_gone_out_follows_and_what_has_stays(world):
    old = world.journey(journey_yaml(phase("adopt", mail("a", 5), mail("b", 6), task("c", 7), mail("d", 8))))
    new = world.journey(journey_yaml(phase("adopt", mail("a", 5), mail("e", 30))))
    rows = [Row("a", "failed"), Row("b", "failed"), Row("c", "running", channel="task"), Row("d", "delivered")]
    decided = decide(old, new, rows, day(10))
    said = {e.touch: (e.kind, e.before, e.after) for e in decided.edits}
    assert said == {
        "b": ("cancelled", "failed", "cancelled"),  # never went out: removed with its version
        "c": ("kept", "running", "running"),  # with its owner: not taken back
        "d": ("kept", "delivered", "delivered"),  # never unsent
        "e": ("added", None, "planned"),
    }  # a (failed, unchanged) waits for an operator's retry, then goes out as the new version says
    assert [e.touch for e in decided.writes] == ["b", "e"]


def test_a_touch_an_earlier_upgrade_removed_comes_back_and_a_run_that_holds_one_makes_the_deal_busy(world):
    old = world.journey(journey_yaml(phase("adopt", mail("a", 5))))
    new = world.journey(journey_yaml(phase("adopt", mail("a", 5), mail("b", 20))))
    back = decide(old, new, [Row("a", "scheduled"), Row("b", "cancelled")], day(10))
    assert [(e.touch, e.kind, e.before, e.after) for e in back.edits] == [("b", "restored", "cancelled", "planned")]
    held = Row("a", "scheduled", lease_until=day(10) + timedelta(minutes=5))
    busy = decide(old, new, [held], day(10))
    assert busy.busy == ["a"] and busy.edits == []
    dying = Row("a", "running", lease_until=day(9))  # its run died mid-delivery: the next one decides
    assert decide(old, new, [dying], day(10)).busy == ["a"]


def test_every_change_of_state_is_a_move_of_the_table():
    assert chain("scheduled", Moves.RETIME) == "planned"
    assert chain("cancelled", Moves.RESTORE, Moves.HOLD) == "waiting"
    assert chain("waiting", Moves.RELEASE, Moves.EXPIRE) == "expired"
    with pytest.raises(ValueError, match="the move 'cancel' is not allowed from delivered"):
        chain("delivered", Moves.CANCEL)
