"""The ledger's tables as typed SQLAlchemy 2 ORM models.

These models are the schema that `Ledger.memory()` creates directly and that the Alembic
migrations in `migrations/versions/` build step by step; `tests/test_ledger.py` checks the two
agree. Change a model only together with a new migration.

Times: every datetime column is a `UTCDateTime`: callers pass timezone-aware datetimes, the
column stores UTC (SQLite has no time zones, so it stores naive UTC text) and always returns an
aware UTC datetime, whichever database is behind it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from hundred.service.ports import utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Aware in, aware UTC out; a naive datetime is refused rather than guessed at."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the ledger stores only timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), date: Date()}


class JourneyRecord(Base):
    """One customer's journey: the version and snapshot it started with, never re-read from YAML."""

    __tablename__ = "journeys"
    __table_args__ = (
        # the figures' (migration 0008_figspeed): every column they read, so no read walks the snapshot
        Index(
            "ix_journeys_figures",
            "journey_id",
            "version",
            "received_at",
            "state",
            "deal_id",
            "exit_reason",
            "updated_at",
            "day_zero",
            "day_seconds",
            "closed_on",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deal_id: Mapped[str] = mapped_column(String(200), unique=True)
    journey_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict[str, Any]]
    templates_dir: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="active", index=True)
    exit_reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    day_seconds: Mapped[float | None] = mapped_column(Float)
    gate_opened_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # journey days (hundred/planning/days.py): day 0's date in the journey's zone, and the wall
    # moment it began on this journey's clock, so the figures' SQL counts days without time zones
    closed_on: Mapped[date | None]
    day_zero: Mapped[datetime | None]


class DealRecord(Base):
    """The deal payload as the CRM sent it (JSON), kept and updatable: `when:` reads it at run time."""

    __tablename__ = "deals"

    deal_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    payload: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TouchRecord(Base):
    """One touch of one journey; `state` moves only by compare-and-set (see Ledger.move).

    The ledger is the calendar: `due` is when it should run, `moment` the flow run that delivers it
    (`due` rounded up; one Prefect run per moment), and a deliver run claims it by setting
    `claimed_by` (its flow run id) and `lease_until`; a claim whose holder died is taken over
    after its lease. `shard_key` (a hash of the deal id) lets the runs of one big moment share it
    by deal."""

    __tablename__ = "touches"
    __table_args__ = (
        UniqueConstraint("deal_id", "touch_id"),
        Index("ix_touches_state_due", "state", "due"),
        Index("ix_touches_state_moment", "state", "moment"),
        Index("ix_touches_claimed_by", "claimed_by"),
        Index("ix_touches_channel_state", "channel", "state"),  # the figures: per channel
        # the figures' one pass over a period's touches, read from the index alone (0008_figspeed)
        Index(
            "ix_touches_figures",
            "deal_id",
            "touch_id",
            "state",
            "channel",
            "phase",
            "completed_at",
            "due",
            "planned_due",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deal_id: Mapped[str] = mapped_column(String(200), ForeignKey("journeys.deal_id"))
    touch_id: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    gated: Mapped[bool] = mapped_column(Boolean, default=False)
    planned_due: Mapped[datetime]
    due: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    moment: Mapped[datetime | None]
    shard_key: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]


class EventRecord(Base):
    """Append-only log of every transition, read by `status`, `simulate` and the live demo view."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    deal_id: Mapped[str] = mapped_column(String(200), index=True)
    touch_id: Mapped[str | None] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class DeliveryRecord(Base):
    """One attempt to deliver a touch on a channel, keyed `<idempotency_key>#<channel>`:
    pending is written before anything leaves, sending just before, sent after."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_channel_state", "channel", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    deal_id: Mapped[str] = mapped_column(String(200), index=True)
    touch_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    message_id: Mapped[str | None] = mapped_column(String(400))
    detail: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LetterRecord(Base):
    """The print queue: a letter's rendering inputs (not the PDF), so a reprint is identical."""

    __tablename__ = "letters"
    # the figures' letters per deal, read from the index alone (0008_figspeed)
    __table_args__ = (Index("ix_letters_figures", "deal_id", "touch_id", "state", "print_by", "posted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(String(300), unique=True)
    deal_id: Mapped[str] = mapped_column(String(200), index=True)
    touch_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    seed: Mapped[str] = mapped_column(String(300))
    hand: Mapped[str] = mapped_column(String(32))
    layout: Mapped[dict[str, Any]]
    address: Mapped[dict[str, Any]]
    signer: Mapped[str] = mapped_column(Text)
    signer_title: Mapped[str | None] = mapped_column(Text)
    print_by: Mapped[date | None]
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    batch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    pdf_path: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BatchRecord(Base):
    """A print batch: its options, so the batch PDF can be rendered again byte-identical."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    until: Mapped[date]
    duplex: Mapped[bool] = mapped_column(Boolean, default=False)
    labels: Mapped[bool] = mapped_column(Boolean, default=False)
    letters: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[Any]] = mapped_column(JSON, default=list)
    printed_at: Mapped[datetime | None]
    posted_at: Mapped[datetime | None]
    warnings: Mapped[list[Any] | None] = mapped_column(JSON)  # what the cover lists (the page shows it)


class BatchLetterRecord(Base):
    """Which letters a batch printed, in print order; a spoiled copy stays on its batch's record."""

    __tablename__ = "batch_letters"
    __table_args__ = (UniqueConstraint("batch_id", "letter_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(String(64), ForeignKey("batches.batch_id"), index=True)
    letter_id: Mapped[str] = mapped_column(String(300), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    first_page: Mapped[int | None] = mapped_column(Integer)
    last_page: Mapped[int | None] = mapped_column(Integer)
    spoiled_at: Mapped[datetime | None]
    spoil_reason: Mapped[str | None] = mapped_column(Text)


class IntakeRecord(Base):
    """One delivery from the CRM (webhook, adapter, import row): kept before it is answered.

    `key` is the deal-closed run's idempotency key for an accepted deal-closed (unique: the same
    delivery twice, or concurrently, is one row); NULL for everything else. States: pending
    (stored, not yet submitted) → submitted (a deal-closed run exists) | applied (an update or
    cancel done) | held (a cancel waiting for its deal-closed) | dead (refused: `reason` says why).
    """

    __tablename__ = "intake"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    intake_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    deal_id: Mapped[str | None] = mapped_column(String(200), index=True)
    key: Mapped[str | None] = mapped_column(String(300), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    raw: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
