"""The service's ports: what the runtime, the intake and the print room need from the world.

The service never imports an adapter. It is handed objects that fit these protocols, built by
`hundred.bootstrap` (the SQL ledger, the channels, Prefect as scheduler, the print files) or by
`hundred simulate` (an in-memory ledger, a virtual scheduler, a delivery that only records).
mypy checks each adapter against its port where bootstrap hands it over.

Over 400 lines on purpose: the ports are the one contract an adapter is written against (the
`Ledger` protocol alone is half of it), so an adapter's author finds all of it in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from hundred.deals.model import Deal
from hundred.journeys.model import Journey
from hundred.planning.states import Move
from hundred.planning.upgrade import DealUpgrade
from hundred.rendering.content import Rendered
from hundred.reports.figures.facts import DealFacts, FigureFacts, Period
from hundred.service.records import (
    BatchEntry,
    BatchResult,
    BatchRow,
    DealView,
    DeliveryRow,
    EventRow,
    IntakeRow,
    JourneyRow,
    LetterRow,
    NewTouch,
    TouchRow,
)

# -- time: who runs the work ---------------------------------------------------------------------


@dataclass(frozen=True)
class StaleRun:
    """A run of hundred's that a runner took and that has not finished: `claimed` (taken, never
    started) or `running`, since `since`. When its process is known to be dead, it is taken over."""

    run_id: str
    flow: str  # "deliver", "deal-closed", "reconcile", "print-batch", "cancel-journey"
    phase: Literal["claimed", "running"]
    since: datetime


@dataclass(frozen=True)
class Schedules:
    """When Prefect's own schedules run the periodic flows (hundred/service/schedules.py)."""

    reconcile_seconds: float
    print_batch_cron: str
    print_batch_timezone: str  # the default journey's zone: the figures' morning is in it too
    figures_cron: str = "0 7 * * *"  # every morning, before the working day: how each journey is doing


def utcnow() -> datetime:
    """The real clock: what every clock parameter defaults to (`hundred simulate` and the tests
    pass their own)."""
    return datetime.now(UTC)


class Scheduler(Protocol):
    """What the runtime needs from whoever owns time: Prefect, or the simulator's virtual clock.

    The ledger is the calendar; the scheduler only makes sure a run exists at each moment that
    has work (one `deliver` run per moment, a few for a big one, one `deal-closed` run for the
    deals stored in a moment) and takes over runs whose process died. It speaks hundred's words:
    Prefect's state names stay inside its adapter."""

    def ensure_moment(self, moment: datetime, *, touches: int, shards: int = 1) -> list[str]:
        """Make sure `shards` deliver runs exist for `moment` (idempotent per moment and shard);
        when the moment's run has already started or ended, a fresh run takes what it missed.
        The run ids."""
        ...

    def ensure_deal_closed(self, moment: datetime) -> str:
        """Make sure a deal-closed run will start the deals stored by now (one per moment); the
        run id."""
        ...

    def stale_runs(self, since_before: datetime) -> list[StaleRun]:
        """hundred's runs claimed or running since before `since_before`."""
        ...

    def take_over(self, run: StaleRun, reason: str) -> None:
        """Run it again now: its process is gone (a killed `up`, a dead worker)."""
        ...

    def ended(self, run_ids: Collection[str]) -> set[str]:
        """Which of these runs have ended (finished, failed, crashed, cancelled) or are gone."""
        ...

    def retire_touch_runs(self) -> int:
        """Cancel the per-touch runs made before the ledger became the calendar; how many."""
        ...

    def forget(self) -> None:
        """Drop what this process remembers of the runs it made (a burst asks once per moment):
        reconcile repairs from what the scheduler says now, e.g. of a run deleted in the UI."""
        ...

    def keep_schedules(self, schedules: Schedules) -> list[str]:
        """Make the periodic deployments' schedules these (a worker pool deployed from prefect.yaml
        follows hundred's settings); what changed."""
        ...


# -- the channels: a rendered touch out to the world ---------------------------------------------

ResultState = Literal["sent", "already-sent", "failed", "uncertain"]


class DeliveryRowLike(Protocol):
    @property
    def state(self) -> str: ...


class DeliveryLog(Protocol):
    """The part of the ledger a channel records in (the ledger, or a guard around it)."""

    def begin_delivery(
        self, key: str, deal_id: str, touch_id: str, channel: str, message_id: str | None
    ) -> DeliveryRowLike:
        """Insert the row as `pending`, or return the existing one (whatever its state)."""
        ...

    def mark_delivery(
        self, key: str, state: str, detail: str | None = None, from_states: Collection[str] | None = None
    ) -> bool:
        """Set the state (only when the row is in one of `from_states`); True if it moved."""
        ...


@dataclass(frozen=True)
class QueuedLetter:
    """What the print queue keeps to re-render a letter in a batch."""

    letter_id: str  # TouchKey.reference
    text: str
    seed: str
    hand: str
    layout: dict[str, Any]  # paper, envelope, ink, return_address, sender_country, humanise, locale
    address: dict[str, Any]  # PostalAddress fields
    signer: str
    signer_title: str | None
    print_by: date | None
    pdf_path: Path
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliveryResult:
    """What a delivery attempt came to.

    sent: it left now (or the letter was rendered for the print queue, see `letter`).
    already-sent: an earlier run delivered it; nothing left now.
    failed: nothing was delivered; retrying is safe.
    uncertain: an earlier or this run may have delivered it; not retried (see `detail`).
    """

    state: ResultState
    detail: str
    message_id: str | None = None
    letter: QueuedLetter | None = None

    @property
    def delivered(self) -> bool:
        return self.state in ("sent", "already-sent")


Deliver = Callable[[Rendered, DeliveryLog], DeliveryResult]
"""Deliver one rendered touch, recording in the log; the channels, configured by bootstrap."""


# -- the print room's files ------------------------------------------------------------------------


class BatchPlace(Protocol):
    """What the print files need of the print room: its ledger, its day's zone, where files go."""

    ledger: Ledger
    tz: ZoneInfo

    def batch_path(self, batch_id: str, kind: str) -> Path: ...


class PrintFiles(Protocol):
    """Writes a batch's PDF, manifest and labels (hundred.adapters.printfiles)."""

    def __call__(
        self, room: BatchPlace, batch: BatchRow, entries: list[tuple[BatchEntry, LetterRow]], *, labels: bool
    ) -> BatchResult: ...


# -- the ledger ------------------------------------------------------------------------------------

Order = Callable[[list[LetterRow]], list[LetterRow]]


class Ledger(Protocol):
    """hundred's record of what happened; the SQL ledger (hundred.adapters.ledger) implements it.

    Every change is a compare-and-set: a method that changes something answers whether this call
    changed it, so racing workers and retried runs leave one outcome.
    """

    clock: Callable[[], datetime]

    def close(self) -> None: ...

    # journeys and deals
    def start_journey(
        self,
        deal: Deal,
        journey: Journey,
        templates_dir: str,
        touches: list[NewTouch],
        received_at: datetime,
        day_seconds: float | None = None,
    ) -> bool: ...
    def journey(self, deal_id: str) -> JourneyRow | None: ...
    def journeys(self, state: str | None = None) -> list[JourneyRow]: ...
    def deal_payload(self, deal_id: str) -> dict[str, Any] | None: ...
    def deal_view(self, deal_id: str, *, payload: bool = True) -> DealView | None:
        """The journey, its touches and (unless `payload=False`) the stored deal, in one read."""
        ...

    def update_deal(self, deal_id: str, payload: Mapping[str, Any] | Deal) -> None: ...
    def exit_journey(self, deal_id: str, reason: str) -> bool: ...
    def complete_journey(self, deal_id: str) -> bool: ...
    def set_gate_opened(self, deal_id: str, at: datetime) -> bool: ...
    def upgrade_journey(self, upgrade: DealUpgrade, journey: Journey, templates_dir: str, now: datetime) -> bool:
        """Move a journey in flight to `journey` with every edit of `upgrade`, all or nothing;
        False when anything moved since the decision (decide again from fresh rows)."""
        ...

    # touches and events
    def touches(
        self,
        deal_id: str | None = None,
        *,
        states: Collection[str] | None = None,
        due_before: datetime | None = None,
        moment: datetime | None = None,
    ) -> list[TouchRow]: ...
    def touch_counts(self) -> dict[str, dict[str, int]]:
        """Per deal, how many of its touches are in each state (one query, for `status`)."""
        ...

    def touch(self, deal_id: str, touch_id: str) -> TouchRow | None: ...
    def update_touch(
        self,
        deal_id: str,
        touch_id: str,
        *,
        in_states: Collection[str] | None = None,
        count_attempt: bool = False,
        **fields: Any,
    ) -> bool: ...
    def move(
        self,
        deal_id: str,
        touch_id: str,
        move: Move,
        *,
        count_attempt: bool = False,
        event: str | None = None,
        detail: str | None = None,
        **fields: Any,
    ) -> bool: ...
    def record_event(
        self, deal_id: str, event: str, touch_id: str | None = None, detail: str | None = None
    ) -> None: ...
    def events(self, after_id: int = 0, deal_id: str | None = None, limit: int = 1000) -> list[EventRow]: ...
    def counts(self) -> dict[str, int]: ...

    # the calendar: moments, claims, repairs
    def claim_due(
        self, *, holder: str, now: datetime, lease: timedelta, limit: int, shard: int = 0, shards: int = 1
    ) -> list[TouchRow]: ...
    def release_claims(self, holders: Collection[str]) -> int: ...
    def claim_holders(self, now: datetime) -> set[str]: ...
    def due_moments(
        self, *, until: datetime | None = None, states: Collection[str] = ...
    ) -> list[tuple[datetime, int]]: ...
    def moment_counts(self, moments: Collection[datetime]) -> dict[datetime, int]: ...
    def overdue(self, *, now: datetime, grace: timedelta, limit: int = 1000) -> list[TouchRow]: ...
    def journeys_to_repair(self) -> list[str]: ...
    def claim_intakes(
        self, *, holder: str, now: datetime, lease: timedelta, limit: int, kinds: Collection[str]
    ) -> list[IntakeRow]: ...
    def waiting_intakes(self, *, before: datetime, kinds: Collection[str], limit: int = 1000) -> list[IntakeRow]: ...
    def release_intake_claims(self, holders: Collection[str]) -> int: ...

    # deliveries (the channels' log) and the print queue
    def begin_delivery(
        self, key: str, deal_id: str, touch_id: str, channel: str, message_id: str | None = None
    ) -> DeliveryRow: ...
    def mark_delivery(
        self, key: str, state: str, detail: str | None = None, from_states: Collection[str] | None = None
    ) -> bool: ...
    def start_sending(
        self,
        key: str,
        deal_id: str,
        touch_id: str,
        detail: str | None = None,
        from_states: Collection[str] | None = None,
    ) -> bool | None: ...
    def delivery(self, key: str) -> DeliveryRow | None: ...
    def touch_deliveries(self, deal_id: str, touch_id: str) -> list[DeliveryRow]: ...
    def queue_letter(
        self,
        *,
        letter_id: str,
        deal_id: str,
        touch_id: str,
        text: str,
        seed: str,
        hand: str,
        layout: Mapping[str, Any],
        address: Mapping[str, Any],
        signer: str,
        signer_title: str | None = None,
        print_by: date | None = None,
        pdf_path: str | None = None,
    ) -> tuple[LetterRow, bool]: ...
    def letter(self, letter_id: str) -> LetterRow | None: ...
    def letters(
        self, state: str | None = None, deal_id: str | None = None, print_by_until: date | None = None
    ) -> list[LetterRow]: ...
    def set_letter_state(
        self, letter_id: str, to_state: str, from_states: Collection[str] | None, **fields: Any
    ) -> bool: ...
    def spoil_letter(self, letter_id: str, reason: str) -> str | None: ...

    # print batches
    def claim_batch(
        self,
        batch_id: str,
        letter_ids: Sequence[str],
        *,
        until: date,
        duplex: bool,
        labels: bool,
        order: Order,
        notes: Sequence[str] = (),
    ) -> list[LetterRow]: ...
    def finish_batch(
        self, batch_id: str, pages: int, placed: dict[str, tuple[int, int]], warnings: Sequence[str] = ()
    ) -> None: ...
    def batch_row(self, batch_id: str) -> BatchRow | None: ...
    def batch_rows(self, limit: int = 200) -> list[BatchRow]: ...
    def batch_entries(self, batch_id: str) -> list[tuple[BatchEntry, LetterRow]]: ...
    def batch_letter_states(self, batch_id: str) -> dict[str, int]: ...
    def set_batch_letters(self, batch_id: str, from_state: str, to_state: str) -> list[str]: ...
    def mark_batch(self, batch_id: str, field: str) -> bool: ...
    def release_batch(self, batch_id: str, reason: str) -> int: ...

    # the CRM's intake
    def add_intake(
        self,
        *,
        kind: str,
        source: str,
        state: str,
        deal_id: str | None = None,
        key: str | None = None,
        payload: dict[str, Any] | None = None,
        raw: bytes | str | None = None,
        headers: dict[str, Any] | None = None,
        reason: str | None = None,
        received_at: datetime | None = None,
    ) -> tuple[IntakeRow, bool]: ...
    def intake(self, intake_id: str) -> IntakeRow | None: ...
    def intake_by_key(self, key: str) -> IntakeRow | None: ...
    def intakes(
        self,
        *,
        states: Collection[str] | None = None,
        deal_id: str | None = None,
        kinds: Collection[str] | None = None,
        limit: int = 1000,
    ) -> list[IntakeRow]: ...
    def unstarted_intakes(self, limit: int = 1000) -> list[IntakeRow]: ...
    def set_intake(
        self,
        intake_id: str,
        state: str | None = None,
        *,
        from_states: Collection[str] | None = None,
        count_attempt: bool = False,
        **fields: Any,
    ) -> bool: ...
    def update_intake(
        self,
        intake_id: str,
        state: str | None = None,
        *,
        from_states: Collection[str] | None = None,
        count_attempt: bool = False,
        **fields: Any,
    ) -> IntakeRow | None: ...


# -- the figures: how each journey is doing ---------------------------------------------


class FigureSource(Protocol):
    """Counted buckets for the figures, and one customer's whole record (the SQL ledger:
    hundred.adapters.ledger.figures). Counting happens where the rows are; no caller loops over
    customers."""

    def figure_facts(self, period: Period, journey: str | None, now: datetime) -> FigureFacts:
        """Every journey's (or one journey's) counts for the journeys received in `period`."""
        ...

    def deal_facts(self, deal_id: str, now: datetime) -> DealFacts | None:
        """One deal's journey, touches, events, letters and deliveries; None when it has none."""
        ...
