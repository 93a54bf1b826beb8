"""One customer's 100 days: the plan the marketer knows, and what really happened on it.

`DealStory.of(facts)` sets the ledger's record of one journey (facts.DealFacts) beside the plan of
its own journey version for its own deal (planning.planner.plan, as `hundred plan` makes it):
per touch the planned day and what happened (when, on which journey day, how late), the letters
with their print and post dates, the events, and what is waiting on what. The deal page draws it
over the plan's timeline (page.py); `hundred status DEAL` prints it (cli).

Days are journey days (planning/days.py): with `--day-seconds` a journey's whole 100 days pass in
minutes, and the story still speaks of "day 3, Mon 23 Nov".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hundred.deals.model import Deal, DealError, parse_deal
from hundred.journeys.model import Journey
from hundred.planning.days import JourneyDays
from hundred.planning.engine import gate_blockers
from hundred.planning.planner import Plan, PlannedTouch, plan
from hundred.planning.states import COMPLETE
from hundred.reports.figures.compute import journey_of
from hundred.reports.figures.facts import DealFacts, StoryLetter, StoryTouch, VersionInfo

REACHED = ("delivered", "done")


@dataclass
class Waiting:
    """Something that has not happened yet, and who or what it waits on.

    on: "gate" (the affirm phase: `blockers` names its open touches), "print-room" (a letter in
    the queue), "owner" (a task with its account manager), "day" (its planned moment), "operator"
    (a failed touch: fixed and retried by a person)."""

    touch: str
    on: str
    day: int | None = None
    date: date | None = None
    overdue: bool = False
    detail: str | None = None
    blockers: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "touch": self.touch,
            "on": self.on,
            "day": self.day,
            "date": self.date.isoformat() if self.date else None,
            "overdue": self.overdue,
            "detail": self.detail,
            "blockers": [{"touch": t, "state": s} for t, s in self.blockers],
        }


@dataclass
class TouchStory:
    touch: str
    phase: str
    channel: str
    title: str
    state: str
    planned_day: int  # the plan's day (a letter's arrival day)
    planned_date: date
    print_by: date | None  # a letter's planned print-by day
    actual_day: int | None = None  # the journey day it happened (a letter: posted)
    actual_date: date | None = None
    at: datetime | None = None  # the wall moment it happened
    late_days: int | None = None  # reached after its planned day (a letter: posted after print-by)
    detail: str | None = None  # the outcome, the error, the skip's reason
    letter: StoryLetter | None = None

    @property
    def reached(self) -> bool:
        return self.state in REACHED

    @property
    def arrives_day(self) -> int | None:
        """A posted letter's estimated arrival day: its posting day plus the plan's time in the post."""
        if self.channel != "letter" or self.actual_day is None or self.print_by is None:
            return self.actual_day
        return self.actual_day + (self.planned_date - self.print_by).days

    def to_json(self) -> dict[str, Any]:
        return {
            "planned_day": self.planned_day,
            "planned_date": self.planned_date.isoformat(),
            "print_by": self.print_by.isoformat() if self.print_by else None,
            "actual_day": self.actual_day,
            "actual_date": self.actual_date.isoformat() if self.actual_date else None,
            "happened_at": self.at.isoformat() if self.at else None,
            "late_days": self.late_days,
            "outcome": self.detail,
        }


@dataclass
class DealStory:
    facts: DealFacts
    journey: Journey
    deal: Deal | None
    days: JourneyDays
    plan: Plan | None
    touches: list[TouchStory]
    waiting: list[Waiting]
    today: int  # the journey day it is now (capped at nothing: a finished journey goes on counting)

    @property
    def start_date(self) -> date:
        return self.days.closed_on

    def touch(self, touch_id: str) -> TouchStory | None:
        return next((t for t in self.touches if t.touch == touch_id), None)

    def event_day(self, at: datetime) -> int:
        return self.days.day(at)

    def to_json(self) -> dict[str, Any]:
        """What `hundred status DEAL --json` adds to its stable keys."""
        f = self.facts
        return {
            "exit_reason": f.exit_reason,
            "received_at": f.received_at.isoformat(),
            "closed_on": self.days.closed_on.isoformat(),
            "day": self.today,
            "referred_by": (f.payload or {}).get("referred_by"),
            "referred": list(f.referred),
            "letters": [
                {
                    "letter": letter.letter,
                    "touch": letter.touch,
                    "state": letter.state,
                    "print_by": letter.print_by.isoformat() if letter.print_by else None,
                    "queued_at": letter.queued_at.isoformat(),
                    "batch": letter.batch,
                    "printed_at": letter.printed_at.isoformat() if letter.printed_at else None,
                    "posted_at": letter.posted_at.isoformat() if letter.posted_at else None,
                }
                for letter in f.letters
            ],
            "waiting": [w.to_json() for w in self.waiting],
            "events": [
                {
                    "at": e.at.isoformat(),
                    "day": self.days.day(e.at),
                    "touch": e.touch,
                    "event": e.event,
                    "detail": e.detail,
                }
                for e in f.events
            ],
        }

    @classmethod
    def of(cls, facts: DealFacts) -> DealStory:
        journey = journey_of(VersionInfo(facts.journey, facts.version, facts.snapshot, 0, None))
        deal = _deal(facts)
        if facts.closed_on is not None and facts.day_zero is not None:
            days = JourneyDays(facts.closed_on, facts.day_zero, float(facts.day_seconds or 86400.0))
        else:
            closed_at = deal.closed_at if deal else facts.received_at
            days = JourneyDays.of(closed_at, journey.timezone, facts.received_at, facts.day_seconds)
        the_plan = plan(journey, deal) if deal is not None else None
        planned = {p.touch: p for p in the_plan.touches} if the_plan else {}
        letters = {letter.touch: letter for letter in facts.letters}
        today = days.day(facts.now)
        touches = [_touch(t, planned.get(t.touch), letters.get(t.touch), days) for t in facts.touches]
        order = {p.touch: i for i, p in enumerate(the_plan.touches)} if the_plan else {}
        touches.sort(key=lambda t: (t.planned_day, order.get(t.touch, 0)))
        story = cls(facts, journey, deal, days, the_plan, touches, [], today)
        story.waiting = _waiting(story)
        return story


def _deal(facts: DealFacts) -> Deal | None:
    try:
        return parse_deal(facts.payload, source=f"deal {facts.deal}", now=facts.received_at)
    except DealError:  # a payload this hundred no longer accepts: the story is told without the plan
        return None


def _touch(t: StoryTouch, p: PlannedTouch | None, letter: StoryLetter | None, days: JourneyDays) -> TouchStory:
    if p is not None:
        planned_date = p.due.date()
        print_by = p.print_by
        title = p.title or t.touch
    else:
        planned_date = days.date_of(t.planned_due)
        print_by, title = None, t.touch
    story = TouchStory(
        t.touch,
        t.phase,
        t.channel,
        title,
        t.state,
        planned_day=(planned_date - days.closed_on).days,
        planned_date=planned_date,
        print_by=letter.print_by if letter and letter.print_by else print_by,
        letter=letter,
    )
    if t.state in COMPLETE or t.state in ("failed", "cancelled"):
        story.at = t.completed_at or t.updated_at
        story.detail = t.error if t.state == "failed" else t.outcome
    if t.channel == "letter" and letter is not None and letter.posted_at is not None:
        story.at = letter.posted_at
    if story.at is not None:
        story.actual_day = days.day(story.at)
        story.actual_date = days.date_of(story.at)
    if story.reached and story.actual_day is not None:
        due_day = days.day_of_date(story.print_by) if t.channel == "letter" and story.print_by else story.planned_day
        story.late_days = max(0, story.actual_day - due_day)
    return story


def _waiting(story: DealStory) -> list[Waiting]:
    f, days = story.facts, story.days
    if f.state != "active":
        return []
    states = {t.touch: t.state for t in story.touches}
    blockers = gate_blockers(story.journey, states)
    out: list[Waiting] = []
    for t in story.touches:
        if t.state == "waiting":
            out.append(Waiting(t.touch, "gate", blockers=list(blockers)))
        elif t.state == "running" and t.channel == "letter":
            letter = t.letter
            print_by = letter.print_by if letter else t.print_by
            day = days.day_of_date(print_by) if print_by else None
            out.append(
                Waiting(
                    t.touch,
                    "print-room",
                    day=day,
                    date=print_by,
                    overdue=day is not None and story.today > day,
                    detail=letter.state if letter else None,
                )
            )
        elif t.state == "running" and t.channel == "task":
            out.append(
                Waiting(
                    t.touch,
                    "owner",
                    day=t.planned_day,
                    date=t.planned_date,
                    overdue=story.today > t.planned_day,
                    detail=(story.deal.owner.name if story.deal else None),
                )
            )
        elif t.state in ("planned", "scheduled"):
            due = next((x.due or x.planned_due for x in f.touches if x.touch == t.touch), None)
            day = days.day(due) if due else t.planned_day
            when = days.date_of(due) if due else t.planned_date
            out.append(Waiting(t.touch, "day", day=day, date=when, overdue=story.today > day))
        elif t.state == "failed":
            out.append(Waiting(t.touch, "operator", detail=t.detail))
    return out
