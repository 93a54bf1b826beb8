"""What the ledger's SQL hands the figures: counted buckets, never one row per customer.

The ledger adapter (hundred/adapters/ledger/figures.py) groups and counts in the database; these
are the shapes of its answers. Each bucket names its journey and version, so one query serves
every journey at once, and the figures of a journey are its versions' buckets added up
(`compute.py`). A count per journey day (`DayCount`) is a histogram: medians are read from it,
and histograms add up across versions where medians would not.

A customer's own story (one deal) is small and read whole: `DealFacts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

Key = tuple[str, str]  # (journey id, version)


@dataclass(frozen=True)
class Period:
    """Journeys that entered (were received) in [since, until); None: unbounded."""

    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class VersionInfo:
    """A journey version in the ledger: its snapshot (the journey as customers got it) and how
    many journeys of it are active now (a version is "in use" while any is)."""

    journey: str
    version: str
    snapshot: dict[str, Any]
    active: int
    first_received: datetime | None


@dataclass(frozen=True)
class JourneyCount:
    journey: str
    version: str
    state: str  # active | completed | exited
    exit_reason: str | None
    n: int


@dataclass(frozen=True)
class TouchCount:
    journey: str
    version: str
    touch: str
    state: str
    n: int


@dataclass(frozen=True)
class DayCount:
    """`n` customers for whom `what` first happened on journey day `day`.

    kind "phase": the first touch of phase `what` delivered or done (the funnel);
    kind "touch": touch `what` delivered or done."""

    journey: str
    version: str
    kind: str
    what: str
    day: int
    n: int


@dataclass(frozen=True)
class ErrorCount:
    journey: str
    version: str
    touch: str
    error: str
    n: int


@dataclass(frozen=True)
class LetterCount:
    """Letters of a touch by state; posted ones by their delay past the print-by day (0: on
    time), unposted ones by whether their print-by day has passed."""

    journey: str
    version: str
    touch: str
    state: str
    delay: int | None  # posted: journey days after print-by (<= 0 on time); else None
    overdue: bool  # not posted and its print-by day is over
    n: int


@dataclass(frozen=True)
class TaskCount:
    """Tasks of a touch by owner and state; `late`: done after its day, or still open past it."""

    journey: str
    version: str
    touch: str
    owner: str
    state: str
    late: bool
    n: int


@dataclass(frozen=True)
class DeliveryCount:
    """The channels' log (emails, webhooks, task mails): `bounced` when the SMTP server refused
    the address (5xx); `smtp` when it went to an SMTP server (not the outbox folder)."""

    journey: str
    version: str
    touch: str
    channel: str
    state: str
    smtp: bool
    bounced: bool
    n: int


@dataclass(frozen=True)
class SilenceCount:
    """`n` customers whose longest stretch without a customer-facing touch was `days` long."""

    journey: str
    version: str
    days: int
    n: int


@dataclass(frozen=True)
class AffirmLate:
    """Customers not yet affirmed (no affirm touch reached them) whose journey is now past day
    `day` (counted up to the journey's end or exit)."""

    journey: str
    version: str
    day: int
    n: int


@dataclass(frozen=True)
class ReferralCount:
    """New deals that name a customer of this journey in `referred_by`; `touch`: the referral
    touch that customer got last before the new deal came (None: none had asked yet)."""

    journey: str
    version: str
    touch: str | None
    n: int


@dataclass(frozen=True)
class Attention:
    """One customer to look at: a failed touch, an overdue task, an overdue or late letter."""

    journey: str
    version: str
    deal: str
    touch: str
    why: str  # failed | task-overdue | letter-overdue
    since: datetime | None  # when it failed; when the task was due; when the letter was queued
    detail: str | None  # the error; the task's due journey day; the letter's print-by date


@dataclass
class FigureFacts:
    """What the ledger counted for a period. The lists named in `COUNTED` are buckets of counts:
    two with the same key add up (compute.py adds them, so facts counted in parts can simply
    be put together). `attention` is a list of customers, not of counts."""

    COUNTED: ClassVar[tuple[str, ...]] = (
        "journeys",
        "touches",
        "days",
        "errors",
        "letters",
        "tasks",
        "deliveries",
        "silences",
        "affirm_late",
        "referrals",
    )
    now: datetime
    period: Period
    versions: list[VersionInfo] = field(default_factory=list)
    journeys: list[JourneyCount] = field(default_factory=list)
    touches: list[TouchCount] = field(default_factory=list)
    days: list[DayCount] = field(default_factory=list)
    errors: list[ErrorCount] = field(default_factory=list)
    letters: list[LetterCount] = field(default_factory=list)
    tasks: list[TaskCount] = field(default_factory=list)
    deliveries: list[DeliveryCount] = field(default_factory=list)
    silences: list[SilenceCount] = field(default_factory=list)
    affirm_late: list[AffirmLate] = field(default_factory=list)
    referrals: list[ReferralCount] = field(default_factory=list)
    attention: list[Attention] = field(default_factory=list)


# -- one customer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoryTouch:
    touch: str
    phase: str
    channel: str
    state: str
    planned_due: datetime
    due: datetime | None
    completed_at: datetime | None
    attempts: int
    outcome: str | None
    error: str | None
    updated_at: datetime


@dataclass(frozen=True)
class StoryEvent:
    at: datetime
    touch: str | None
    event: str
    detail: str | None


@dataclass(frozen=True)
class StoryLetter:
    letter: str
    touch: str
    state: str
    print_by: date | None
    queued_at: datetime
    batch: str | None
    printed_at: datetime | None
    posted_at: datetime | None


@dataclass(frozen=True)
class StoryDelivery:
    touch: str
    channel: str
    state: str
    detail: str | None
    finished_at: datetime | None


@dataclass(frozen=True)
class DealFacts:
    """Everything the ledger knows about one customer's journey, read in one transaction."""

    deal: str
    journey: str
    version: str
    state: str
    exit_reason: str | None
    snapshot: dict[str, Any]
    payload: dict[str, Any]
    received_at: datetime
    day_seconds: float | None
    gate_opened_at: datetime | None
    closed_on: date | None
    day_zero: datetime | None
    updated_at: datetime
    touches: list[StoryTouch]
    events: list[StoryEvent]
    letters: list[StoryLetter]
    deliveries: list[StoryDelivery]
    referred: list[str]  # deals that name this one in `referred_by`
    now: datetime
