"""What the ledger hands back: plain frozen dataclasses, never ORM objects.

A caller holding a row holds no session and no connection, so a flow can keep a row across a
slow delivery without pinning a database transaction (or a SQLite write lock) open.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hundred.journeys.model import Journey
from hundred.planning.states import (
    COMPLETE,
    NOT_STARTED,
    DeliveryState,
    IntakeState,
    JourneyState,
    LetterState,
    TouchState,
)

# The states are defined once (planning/states.py); these tuples are their words, in order.
JOURNEY_STATES: tuple[str, ...] = tuple(s.value for s in JourneyState)
TOUCH_STATES: tuple[str, ...] = tuple(s.value for s in TouchState)
COMPLETE_TOUCH_STATES: tuple[str, ...] = tuple(s.value for s in TouchState if s in COMPLETE)
PENDING_TOUCH_STATES: tuple[str, ...] = tuple(s.value for s in TouchState if s in NOT_STARTED)
DELIVERY_STATES: tuple[str, ...] = tuple(s.value for s in DeliveryState)
# A letter of a cancelled journey is `withdrawn` (never batched or posted); a damaged copy is not
# a state: it goes back to `queued` (its batch keeps the spoiled entry).
LETTER_STATES: tuple[str, ...] = tuple(s.value for s in LetterState)
INTAKE_STATES: tuple[str, ...] = tuple(s.value for s in IntakeState)


def check_state(value: str, allowed: Collection[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} state {value!r}; one of {', '.join(allowed)}")


@dataclass(frozen=True)
class NewTouch:
    """A touch as the planner hands it to `Ledger.start_journey`.

    `due` is when it should run now (None while a gated touch waits for its gate) and `moment` the
    deliver run it belongs to; `state` defaults to `waiting` for a gated touch and `planned` (its
    moment's run not yet made) for the others.
    """

    touch_id: str
    phase: str
    channel: str
    planned_due: datetime
    gated: bool = False
    due: datetime | None = None
    state: str | None = None
    moment: datetime | None = None

    @property
    def initial_state(self) -> str:
        state = self.state or ("waiting" if self.gated else "planned")
        check_state(state, TOUCH_STATES, "touch")
        return state


def _from_record(cls: type, record: Any) -> Any:
    return cls(**{f.name: getattr(record, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class JourneyRow:
    deal_id: str
    journey_id: str
    version: str
    snapshot: dict[str, Any]
    templates_dir: str
    state: str
    exit_reason: str | None
    received_at: datetime
    day_seconds: float | None
    gate_opened_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def journey_model(self) -> Journey:
        """The journey exactly as it was when this deal's journey started (the YAML may be gone)."""
        return Journey.model_validate(self.snapshot)


@dataclass(frozen=True)
class TouchRow:
    deal_id: str
    touch_id: str
    phase: str
    channel: str
    gated: bool
    planned_due: datetime
    due: datetime | None
    state: str
    flow_run_id: str | None
    attempts: int
    outcome: str | None
    error: str | None
    completed_at: datetime | None
    updated_at: datetime
    moment: datetime | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None

    @property
    def complete(self) -> bool:
        return self.state in COMPLETE_TOUCH_STATES


@dataclass(frozen=True)
class DealView:
    """A deal's journey, its touches (in plan order) and, when asked for, its stored payload,
    read in one transaction: what delivering one touch needs to know, for the price of one read."""

    journey: JourneyRow
    touches: list[TouchRow]
    payload: dict[str, Any] | None = None

    def touch(self, touch_id: str) -> TouchRow | None:
        return next((t for t in self.touches if t.touch_id == touch_id), None)


@dataclass(frozen=True)
class DeliveryRow:
    key: str
    deal_id: str
    touch_id: str
    channel: str
    state: str
    message_id: str | None
    detail: str | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class LetterRow:
    letter_id: str
    deal_id: str
    touch_id: str
    text: str
    seed: str
    hand: str
    layout: dict[str, Any]
    address: dict[str, Any]
    signer: str
    signer_title: str | None
    print_by: date | None
    state: str
    batch_id: str | None
    pdf_path: str | None
    queued_at: datetime
    posted_at: datetime | None


@dataclass(frozen=True)
class EventRow:
    id: int
    at: datetime
    deal_id: str
    touch_id: str | None
    event: str
    detail: str | None


@dataclass(frozen=True)
class BatchRow:
    batch_id: str
    created_at: datetime
    until: date
    duplex: bool
    labels: bool
    letters: int
    pages: int
    problems: list[Any]  # notes made when the batch was made (letters left out, and why)
    printed_at: datetime | None
    posted_at: datetime | None
    warnings: list[Any] | None = None  # everything its cover sheet lists, once its files are written

    @property
    def state(self) -> str:
        """made → printed → posted (stamped when every letter of it has been posted)."""
        return "posted" if self.posted_at else "printed" if self.printed_at else "made"


@dataclass(frozen=True)
class BatchEntry:
    """One letter's place in a batch (a manifest row's ledger half)."""

    batch_id: str
    letter_id: str
    seq: int
    first_page: int | None
    last_page: int | None
    spoiled_at: datetime | None
    spoil_reason: str | None


@dataclass(frozen=True)
class IntakeRow:
    intake_id: str
    kind: str
    source: str
    deal_id: str | None
    key: str | None
    state: str
    payload: dict[str, Any] | None
    raw: str | None
    headers: dict[str, Any]
    reason: str | None
    run_id: str | None
    attempts: int
    received_at: datetime
    updated_at: datetime
    claimed_by: str | None = None
    lease_until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "intake": self.intake_id,
            "kind": self.kind,
            "source": self.source,
            "deal": self.deal_id,
            "state": self.state,
            "reason": self.reason,
            "run": self.run_id,
            "attempts": self.attempts,
            "received_at": self.received_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "headers": self.headers,
            "key": self.key,
        }


@dataclass
class BatchResult:
    batch_id: str | None
    letters: int
    pages: int
    pdf: Path | None
    manifest: Path | None
    labels: Path | None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "letters": self.letters,
            "pages": self.pages,
            "pdf": str(self.pdf) if self.pdf else None,
            "manifest": str(self.manifest) if self.manifest else None,
            "labels": str(self.labels) if self.labels else None,
        }
