"""The ledger: hundred's record of what happened (journeys, touches, deliveries, letters, events).

SQLite file under HUNDRED_HOME by default, PostgreSQL by HUNDRED_DATABASE_URL; migrated with
Alembic on open. Imports only the core and SQLAlchemy/Alembic (never Prefect or the web app).
"""

from hundred.adapters.ledger.batches import BatchEntry, BatchRow
from hundred.adapters.ledger.db import HEAD, LedgerError
from hundred.adapters.ledger.store import Ledger, default_url
from hundred.service.records import (
    COMPLETE_TOUCH_STATES,
    DELIVERY_STATES,
    INTAKE_STATES,
    JOURNEY_STATES,
    LETTER_STATES,
    PENDING_TOUCH_STATES,
    TOUCH_STATES,
    DeliveryRow,
    EventRow,
    IntakeRow,
    JourneyRow,
    LetterRow,
    NewTouch,
    TouchRow,
)

__all__ = [
    "BatchEntry",
    "BatchRow",
    "COMPLETE_TOUCH_STATES",
    "DELIVERY_STATES",
    "HEAD",
    "INTAKE_STATES",
    "IntakeRow",
    "JOURNEY_STATES",
    "LETTER_STATES",
    "PENDING_TOUCH_STATES",
    "TOUCH_STATES",
    "DeliveryRow",
    "EventRow",
    "JourneyRow",
    "Ledger",
    "LedgerError",
    "LetterRow",
    "NewTouch",
    "TouchRow",
    "default_url",
]
