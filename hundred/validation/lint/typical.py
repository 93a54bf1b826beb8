"""The typical deal: the one synthetic customer the Coleman linter measures a journey on.

A deal closed on a Tuesday late in the morning (after the letters' 10:00 batch), by a contact in the
journey's own time zone and country, with no conditions: every `when:` is taken as true, so each
touch happens. One place builds it, so `validate`, the timeline marks and the tests agree on the
dates a warning names. Cheap on purpose: no deal validation, no titles rendered, no conditions judged,
and no public holidays: the journey's workdays and `closed:` days count, but a holiday would only
move a touch a day in one year, and loading the holidays package would double validate's time.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from hundred.deals.model import Contact, Deal, Owner
from hundred.journeys.model import Journey
from hundred.planning.planner import Plan, plan

# A Tuesday (1 September 2026) with no holiday in most calendars in the 100 days after it, so
# what the linter says depends on the journey, not on where Easter falls.
TYPICAL_CLOSE_DAY = datetime(2026, 9, 1).date()
TYPICAL_CLOSE_TIME = time(11, 0)


def typical_deal(journey: Journey) -> Deal:
    """The synthetic deal: closed Tue 1 Sep 2026 11:00 in the journey's zone; no address (domestic post)."""
    closed = datetime.combine(TYPICAL_CLOSE_DAY, TYPICAL_CLOSE_TIME, ZoneInfo(journey.timezone))
    return Deal.model_construct(
        id="typical",
        closed_at=closed,
        journey=journey.journey,
        currency="EUR",
        amount=Decimal("0"),
        product="",
        segment=None,
        owner=Owner.model_construct(name="Owner", email=None, title=None, phone=None),
        contact=Contact.model_construct(
            first_name="Customer", last_name="", email=None, phone=None, locale=None, timezone=None
        ),
        company=None,
        address=None,
        fields={},
    )


def typical_plan(journey: Journey, without: str | None = None) -> Plan:
    """The plan for the typical deal, every condition true; `without` leaves one touch out (the
    plan a segment gets when that touch's `when:` is false for it)."""
    blocks = []
    for block in journey.phases:
        touches = [t.model_copy(update={"when": None}) for t in block.touches if t.id != without]
        blocks.append(block.model_copy(update={"touches": touches}))
    calendar = journey.calendar.model_copy(update={"holidays": None})
    unconditional = journey.model_copy(update={"phases": blocks, "calendar": calendar})
    return plan(unconditional, typical_deal(journey), titles=False)
