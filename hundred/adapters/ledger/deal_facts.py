"""One customer's 100 days as the ledger holds them: `/journeys/<journey>/deals/<deal>` and
`hundred status DEAL` tell them (hundred/reports/figures/story.py). A handful of indexed reads by
deal id, so a page costs the same with 20 or 2,000 journeys in the ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from hundred.adapters.ledger.figures_rows import moment
from hundred.adapters.ledger.models import (
    BatchLetterRecord,
    BatchRecord,
    DealRecord,
    DeliveryRecord,
    EventRecord,
    JourneyRecord,
    LetterRecord,
    TouchRecord,
)
from hundred.adapters.ledger.store import Ledger
from hundred.reports.figures.facts import DealFacts, StoryDelivery, StoryEvent, StoryLetter, StoryTouch

EVENTS_MAX = 2000


def deal_facts(ledger: Ledger, deal_id: str, now: datetime) -> DealFacts | None:
    """One customer's journey as the ledger holds it: the touches, events, letters (with the
    day their batch was printed), deliveries and the deals that name them as referrer; the
    story itself is told by hundred/reports/figures/story.py."""
    with ledger._read() as session:
        journey = session.scalar(select(JourneyRecord).where(JourneyRecord.deal_id == deal_id))
        if journey is None:
            return None
        payload = session.scalar(select(DealRecord.payload).where(DealRecord.deal_id == deal_id)) or {}
        touches = session.scalars(
            select(TouchRecord).where(TouchRecord.deal_id == deal_id).order_by(TouchRecord.planned_due, TouchRecord.id)
        ).all()
        events = session.scalars(
            select(EventRecord).where(EventRecord.deal_id == deal_id).order_by(EventRecord.id).limit(EVENTS_MAX)
        ).all()
        printed = (
            select(func.max(BatchRecord.printed_at))
            .join(BatchLetterRecord, BatchLetterRecord.batch_id == BatchRecord.batch_id)
            .where(BatchLetterRecord.letter_id == LetterRecord.letter_id, BatchRecord.printed_at.is_not(None))
            .scalar_subquery()
        )
        letters = session.execute(
            select(LetterRecord, printed).where(LetterRecord.deal_id == deal_id).order_by(LetterRecord.id)
        ).all()
        deliveries = session.scalars(
            select(DeliveryRecord).where(DeliveryRecord.deal_id == deal_id).order_by(DeliveryRecord.id)
        ).all()
        referred = session.scalars(
            select(DealRecord.deal_id)
            .where(DealRecord.payload["referred_by"].as_string() == deal_id, DealRecord.deal_id != deal_id)
            .order_by(DealRecord.deal_id)
        ).all()
        printed_type = BatchRecord.__table__.c.printed_at.type
        conn = session.connection()
        return DealFacts(
            deal=journey.deal_id,
            journey=journey.journey_id,
            version=journey.version,
            state=journey.state,
            exit_reason=journey.exit_reason,
            snapshot=journey.snapshot,
            payload=payload,
            received_at=journey.received_at,
            day_seconds=journey.day_seconds,
            gate_opened_at=journey.gate_opened_at,
            closed_on=journey.closed_on,
            day_zero=journey.day_zero,
            updated_at=journey.updated_at,
            touches=[
                StoryTouch(
                    t.touch_id,
                    t.phase,
                    t.channel,
                    t.state,
                    t.planned_due,
                    t.due,
                    t.completed_at,
                    t.attempts,
                    t.outcome,
                    t.error,
                    t.updated_at,
                )
                for t in touches
            ],
            events=[StoryEvent(e.at, e.touch_id, e.event, e.detail) for e in events],
            letters=[
                StoryLetter(
                    letter.letter_id,
                    letter.touch_id,
                    letter.state,
                    letter.print_by,
                    letter.queued_at,
                    letter.batch_id,
                    moment(at, printed_type, conn),
                    letter.posted_at,
                )
                for letter, at in letters
            ],
            deliveries=[StoryDelivery(d.touch_id, d.channel, d.state, d.detail, d.finished_at) for d in deliveries],
            referred=list(referred),
            now=now,
        )


__all__ = ["deal_facts"]
