"""Every state a journey, touch, delivery and intake can be in, and the one table of moves per kind.

A state is a `StrEnum`, so the ledger stores and `--json` prints the same plain words as always
("scheduled", "delivered"). A change of state is a named move: the table below says from which
states it may happen and what it leads to, and the ledger turns it into one compare-and-set UPDATE
(`... WHERE state IN (<from>)`). Only the caller whose UPDATE changed the row acts on it, so racing
workers, retried runs and a cancel that comes mid-delivery leave one outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class JourneyState(StrEnum):
    ACTIVE = "active"
    EXITED = "exited"
    COMPLETED = "completed"


class TouchState(StrEnum):
    """In the order a touch usually moves through them (`hundred status --json`)."""

    PLANNED = "planned"  # has its due moment; its moment's run may not exist yet
    WAITING = "waiting"  # held by the affirm gate
    SCHEDULED = "scheduled"  # its moment's run exists in Prefect
    RUNNING = "running"  # being delivered; or a letter in the print room, a task with its owner
    DELIVERED = "delivered"
    DONE = "done"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DeliveryState(StrEnum):
    """One channel delivery: pending before anything leaves, sending just before, sent after."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class LetterState(StrEnum):
    """A letter in the print room: queued → batched → printed → posted; a cancelled journey's
    letter is withdrawn (never batched or posted). A damaged copy is not a state: it goes back to
    queued, and its batch keeps the spoiled entry."""

    QUEUED = "queued"
    BATCHED = "batched"
    PRINTED = "printed"
    POSTED = "posted"
    WITHDRAWN = "withdrawn"


class BatchState(StrEnum):
    """A print batch: made, then printed, then posted (stamped when every letter of it is posted)."""

    MADE = "made"
    PRINTED = "printed"
    POSTED = "posted"


class IntakeState(StrEnum):
    """What the CRM sent: stored, then started (a journey), applied (an update or cancel), held
    (a cancel waiting for its deal) or dead (refused; the reason says why)."""

    PENDING = "pending"
    SUBMITTED = "submitted"  # kept for rows written before deal-closed runs claimed from the ledger
    STARTED = "started"
    APPLIED = "applied"
    HELD = "held"
    DEAD = "dead"


T = TouchState
COMPLETE = frozenset({T.DELIVERED, T.DONE, T.SKIPPED, T.EXPIRED})  # counts for the affirm gate
FINAL = COMPLETE | {T.CANCELLED}  # nothing more will happen
NOT_STARTED = frozenset({T.PLANNED, T.WAITING, T.SCHEDULED})  # what exiting a journey cancels
DUE = frozenset({T.PLANNED, T.SCHEDULED})  # a deliver run may claim these once due


@dataclass(frozen=True)
class Move:
    """A named change of a touch's state: allowed from `sources`, leading to `target`."""

    name: str
    sources: frozenset[TouchState]
    target: TouchState

    def __str__(self) -> str:
        return self.name


class Moves:
    """The touch's transition table: every state change in hundred is one of these."""

    SCHEDULE = Move("schedule", frozenset({T.PLANNED}), T.SCHEDULED)  # its moment's run exists
    RELEASE = Move("release", frozenset({T.WAITING}), T.PLANNED)  # the affirm phase is complete
    START = Move("start", frozenset({T.PLANNED, T.SCHEDULED, T.FAILED}), T.RUNNING)  # a run delivers it
    DELIVER = Move("deliver", frozenset({T.RUNNING, T.FAILED, T.CANCELLED}), T.DELIVERED)  # it reached them
    FINISH = Move("finish", frozenset({T.RUNNING, T.FAILED, T.CANCELLED}), T.DONE)  # a task sent, no confirm
    DONE_BY_OWNER = Move("done", frozenset({T.PLANNED, T.SCHEDULED, T.RUNNING, T.FAILED}), T.DONE)
    POSTED = Move("posted", frozenset({T.RUNNING, T.FAILED}), T.DELIVERED)  # print staff posted it
    SKIP = Move("skip", frozenset({T.PLANNED, T.SCHEDULED, T.RUNNING, T.FAILED}), T.SKIPPED)
    EXPIRE = Move("expire", frozenset({T.PLANNED, T.SCHEDULED, T.RUNNING, T.FAILED}), T.EXPIRED)
    FAIL = Move("fail", frozenset({T.PLANNED, T.SCHEDULED, T.RUNNING}), T.FAILED)
    CANCEL = Move("cancel", frozenset({T.PLANNED, T.WAITING, T.SCHEDULED, T.RUNNING, T.FAILED}), T.CANCELLED)
    RETRY = Move("retry", frozenset({T.FAILED}), T.SCHEDULED)  # an operator runs a failed touch again

    @classmethod
    def all(cls) -> list[Move]:
        return [v for v in vars(cls).values() if isinstance(v, Move)]


def check(value: str, kind: type[StrEnum]) -> StrEnum:
    """`value` as a state of `kind`, or a ValueError naming the allowed ones."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(s.value for s in kind)
        raise ValueError(
            f"unknown {kind.__name__.removesuffix('State').lower()} state {value!r}; one of {allowed}"
        ) from None
