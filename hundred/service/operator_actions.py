"""What people do to a journey in flight: an account manager marks a task done, print staff post a
letter, an operator runs a failed touch again or cancels a deal.

Mixed into `hundred.service.runtime.Runtime`, which runs touches; these are the moves that come
from outside a run. Each is a named ledger move (planning/states.py), so a command repeated, or
racing a run, changes the touch once; a completion goes through `after_complete`, where the gate
is opened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from hundred.journeys.schema_errors import did_you_mean
from hundred.planning.engine import Clock
from hundred.planning.states import Moves, TouchState
from hundred.service import in_doubt
from hundred.service.in_doubt import Checked
from hundred.service.outcomes import Report, TouchOutcome
from hundred.service.ports import Ledger
from hundred.service.records import TouchRow

log = logging.getLogger("hundred.runtime")
T = TouchState


class OperatorActions:
    """Mixed into `Runtime`, which provides the ledger, the clock, moments and the gate."""

    ledger: Ledger
    now: Callable[[], datetime]
    moment: Callable[[datetime, Clock], datetime]
    ensure_moment: Callable[[datetime, int], list[str]]
    after_complete: Callable[[str], list[str]]
    _outcome: Callable[..., TouchOutcome]
    _clock: Callable[[str], Clock | None]

    def task_done(self, deal_id: str, touch_id: str) -> TouchOutcome:
        """The owner did the task (before or after its reminder went out)."""
        row = self._touch(deal_id, touch_id)
        if row.channel != "task":
            article = "an" if row.channel[:1] in ("a", "e", "i", "o", "u") else "a"
            raise ValueError(f"'{touch_id}' is {article} {row.channel} touch, not a task")
        if self.ledger.move(deal_id, touch_id, Moves.DONE_BY_OWNER, outcome="marked done by its owner"):
            self.after_complete(deal_id)
        return self._outcome(deal_id, touch_id, "done")

    def retry(self, deal_id: str, touch_id: str, checked: Checked | None = None) -> TouchOutcome:
        """Run a failed touch again now (after its template or the mail server was fixed); the
        delivery rules still hold, so an email that may have gone is not sent twice. An email in
        doubt runs again only with `checked`, the operator's reading of the mail server's log."""
        row = self._touch(deal_id, touch_id)
        if row.state != T.FAILED:
            raise ValueError(f"'{touch_id}' is {row.state}; only a failed touch is run again")
        for line in in_doubt.settle(self.ledger, deal_id, touch_id, checked):
            log.info("%s · %s: %s", deal_id, touch_id, line)
        now = self.now()
        moment = self.moment(now, self._clock(deal_id) or Clock(now, now))
        self.ledger.move(
            deal_id,
            touch_id,
            Moves.RETRY,
            due=now,
            moment=moment,
            event="run.retried",
            detail="run again by an operator",
        )
        self.ensure_moment(moment, self.ledger.moment_counts([moment]).get(moment, 1))
        return self._outcome(deal_id, touch_id, "run again")

    def letter_posted(self, letter_id: str) -> TouchOutcome:
        """Print staff posted the letter: its touch is delivered, which may open the gate."""
        letter = self.ledger.letter(letter_id)
        if letter is None:
            raise LookupError(f"no letter {letter_id} in the print queue")
        self.ledger.set_letter_state(letter_id, "posted", ["queued", "batched", "printed"])
        if self.ledger.move(letter.deal_id, letter.touch_id, Moves.POSTED, outcome="posted"):
            self.after_complete(letter.deal_id)
        return self._outcome(letter.deal_id, letter.touch_id, "posted")

    def cancel(self, deal_id: str, reason: str) -> Report:
        """Exit the journey: nothing more is sent; queued letters are taken out of the print queue.
        A ledger change only: a run that later finds the touch cancelled sends nothing."""
        report = Report(f"cancel {deal_id}")
        if self.ledger.journey(deal_id) is None:
            raise LookupError(f"no journey for deal {deal_id}")
        if self.ledger.exit_journey(deal_id, reason):
            report.add("exited", f"journey exited: {reason}")
        for t in self.ledger.touches(deal_id, states=[T.RUNNING, T.FAILED]):
            if self.ledger.move(deal_id, t.touch_id, Moves.CANCEL, detail=reason):
                report.add("cancelled", f"{t.touch_id}: cancelled")
        for letter in self.ledger.letters(deal_id=deal_id):
            if self.ledger.set_letter_state(letter.letter_id, "withdrawn", ["queued"]):
                report.add("letters", f"letter {letter.letter_id} taken out of the print queue")
        return report

    def _touch(self, deal_id: str, touch_id: str) -> TouchRow:
        """The touch, or a LookupError that names the ids the deal does have."""
        row = self.ledger.touch(deal_id, touch_id)
        if row is None:
            journey = self.ledger.journey(deal_id)
            known = [t.touch_id for t in self.ledger.touches(deal_id)] if journey else []
            raise LookupError(_no_touch(deal_id, touch_id, known, journey is not None))
        return row


def _no_touch(deal_id: str, touch_id: str, known: list[str], has_journey: bool) -> str:
    """'no touch …' with the ids it does have, and the nearest one when it looks like a typo."""
    if not has_journey:
        return f"no journey for deal {deal_id}; `hundred status` lists them"
    guess = did_you_mean(touch_id, known)
    hint = f"; {guess}" if guess else (f"; its touches: {', '.join(known)}" if known else "")
    return f"deal {deal_id} has no touch '{touch_id}'{hint}"
