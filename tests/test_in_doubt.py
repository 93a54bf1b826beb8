"""An email in doubt: a run died after claiming it, and the mail server may or may not have it.

hundred never guesses: the touch fails naming the Message-ID, a plain retry refuses and says what
to do, and the operator's reading of the mail server's log settles it (`--delivered`: recorded as
sent, nothing goes out; `--not-delivered`: sent now, once). Real ledger, real SMTP server
(aiosmtpd). The shape a user runs is the hard-kill test in test_up_runs_right.py.
"""

from __future__ import annotations

import pytest
from conftest import deal_payload, email, journey_yaml, phase
from moments import ClockWorld
from smtp_inbox import Inbox, smtp  # noqa: F401  (fixture)

from hundred import bootstrap
from hundred.planning.identity import TouchKey
from hundred.planning.states import Moves
from hundred.service.in_doubt import Checked, in_doubt

JOURNEY = journey_yaml(
    phase("affirm", email("check-in", 1)),
    phase("advocate", email("referral", 3, "referral: true\n")),
)


class World(ClockWorld):
    inbox: Inbox

    def sent(self) -> list[str]:
        return self.inbox.message_ids()


@pytest.fixture
def world(make_journey, tmp_path, smtp) -> World:
    """The check-in email as a run killed just after its claim leaves it: the delivery row
    `sending`, nothing at the server; the run that takes over fails the touch, in doubt."""
    make_journey(JOURNEY)
    inbox, port = smtp()
    w = World(tmp_path)
    w.inbox = inbox
    w.settings = w.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}?starttls=false"})
    w.runtime = bootstrap.runtime(w.settings, ledger_=w.ledger, scheduler_=w.scheduler, clock=lambda: w.now)
    w.runtime.deal_closed(deal_payload())
    row, journey = w.ledger.touch("D-1", "check-in"), w.ledger.journey("D-1")
    key = TouchKey("D-1", journey.journey_id, journey.version, "check-in")
    dkey = key.delivery_key("email")
    w.ledger.begin_delivery(dkey, "D-1", "check-in", "email", key.message_id("acme.nl"))
    assert w.ledger.mark_delivery(dkey, "sending")  # the dead run's claim
    w.run_until(row.due)
    assert w.state("check-in") == "failed"
    assert "may already have been delivered" in w.ledger.touch("D-1", "check-in").error
    assert w.sent() == []
    return w


def test_the_failed_touch_says_which_message_to_look_up_and_the_command_that_settles_it(world):
    error = world.ledger.touch("D-1", "check-in").error
    assert "check the mail server's log" in error
    assert "`hundred retry D-1 check-in --delivered` if it is there" in error and "`--not-delivered`" in error


def test_running_it_again_finds_it_in_doubt_again_and_says_so(world):
    """What tells Prefect not to retry it (flows/journey.py): only the operator settles it."""
    outcome = world.runtime.run_touch("D-1", "check-in")
    assert outcome.failed and outcome.in_doubt
    assert "may already have been delivered" in outcome.detail and world.sent() == []


def test_a_plain_retry_of_an_email_in_doubt_is_refused_and_sends_nothing(world):
    with pytest.raises(ValueError, match="may already have been delivered") as refused:
        world.runtime.retry("D-1", "check-in")
    assert "--delivered" in str(refused.value) and "--not-delivered" in str(refused.value)
    world.run_until(world.now)
    assert world.state("check-in") == "failed" and world.sent() == []


def test_not_in_the_mail_log_sends_it_once_and_the_journey_goes_on(world):
    world.runtime.retry("D-1", "check-in", Checked.NOT_DELIVERED)
    world.run_until(world.now)
    assert world.state("check-in") == "delivered"
    assert len(world.sent()) == 1
    assert world.state("referral") != "waiting"  # the affirm phase is complete: the gate opened
    with pytest.raises(ValueError, match="only a failed touch is run again"):  # and not a second time
        world.runtime.retry("D-1", "check-in", Checked.NOT_DELIVERED)
    assert len(world.sent()) == 1


def test_found_in_the_mail_log_is_recorded_as_sent_and_nothing_goes_out(world):
    world.runtime.retry("D-1", "check-in", Checked.DELIVERED)
    world.run_until(world.now)
    assert world.state("check-in") == "delivered"
    assert world.sent() == []
    (delivery,) = world.ledger.touch_deliveries("D-1", "check-in")
    assert delivery.state == "sent" and "an operator found it in the mail server's log" in delivery.detail
    assert world.state("referral") != "waiting"


def test_a_finding_for_a_touch_with_nothing_in_doubt_is_refused(world):
    world.runtime.retry("D-1", "check-in", Checked.NOT_DELIVERED)
    world.run_until(world.now)
    world.runtime.deal_closed(deal_payload(id="D-2"))
    with pytest.raises(ValueError, match="only a failed touch"):
        world.runtime.retry("D-2", "check-in", Checked.DELIVERED)
    world.ledger.move("D-2", "check-in", Moves.FAIL, error="the template broke")
    with pytest.raises(ValueError, match="nothing of D-2 · check-in is in doubt"):
        world.runtime.retry("D-2", "check-in", Checked.DELIVERED)
    assert world.state("check-in", "D-2") == "failed"


def test_only_an_email_can_be_in_doubt_a_webhook_left_sending_is_simply_sent_again(world):
    """A webhook's receiver dedupes on its Idempotency-Key, so its channel sends a `sending` row
    again: nothing for the operator to look up, and no finding is asked for."""
    journey = world.ledger.journey("D-1")
    hook = TouchKey("D-1", journey.journey_id, journey.version, "check-in").delivery_key("webhook")
    world.ledger.begin_delivery(hook, "D-1", "check-in", "webhook", "idem-1")
    assert world.ledger.mark_delivery(hook, "sending")
    assert [d.channel for d in in_doubt(world.ledger, "D-1", "check-in")] == ["email"]
