"""The runtime: the engine's decisions acted out on the ledger, a scheduler and the channels.

The ledger is the calendar; Prefect runs the work. A closed deal's touches are written with their
due time and their *moment* (the due time rounded up: one flow run delivers every touch of a
moment); the scheduler only makes sure each moment has its run. That run claims the touches due
by then (a lease, so a dead run's claim is taken over) and delivers each one as a task.

`Runtime` imports no adapter: it is handed a `Scheduler`, a `Ledger` and the channels' `Deliver`
(see `hundred.service.ports`; `hundred.bootstrap` builds the real ones, `simulate.py` virtual ones),
so the flows and `hundred simulate` run the very same code. Every step is safe to repeat: the
ledger's unique keys and compare-and-set moves decide who acts, so a duplicated or retried run,
two workers, or a crash halfway leave one outcome.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hundred.deals.model import Deal, DealError, parse_deal
from hundred.journeys.catalog import JourneyNotFound, find_journey
from hundred.journeys.model import Journey
from hundred.journeys.problems import Invalid
from hundred.planning import engine
from hundred.planning.conditions import judge
from hundred.planning.engine import Clock, moment_of
from hundred.planning.planner import Facts, Plan, PlannedTouch, plan
from hundred.planning.states import COMPLETE, Moves, TouchState
from hundred.rendering.content import Rendered
from hundred.rendering.touch import render_touch
from hundred.service.guard import UnlessCancelled, Withdrawn
from hundred.service.operator_actions import OperatorActions
from hundred.service.outcomes import ClosedResult, TouchOutcome
from hundred.service.ports import Deliver, DeliveryResult, Ledger, Scheduler, utcnow
from hundred.service.records import JourneyRow, NewTouch, TouchRow
from hundred.service.settings import Settings
from hundred.templating.sandbox import TemplateProblem
from hundred.validation.loaded import LoadedJourneys

log = logging.getLogger("hundred.runtime")
T = TouchState


class IntakeError(ValueError):
    """A deal that cannot start a journey: bad payload, unknown or invalid journey."""


@dataclass
class _Context:
    """A deal's journey as the ledger knows it, loaded once per call."""

    row: JourneyRow
    journey: Journey
    deal: Deal
    clock: Clock
    touches: list[TouchRow]  # read with the journey: its touches as they were then


class Runtime(OperatorActions):
    """Runs touches; what people do to a journey in flight (a task done, a letter posted, a retry,
    a cancel) is mixed in from operator_actions.py."""

    def __init__(
        self,
        ledger: Ledger,
        scheduler: Scheduler,
        settings: Settings | None = None,
        clock: Callable[[], datetime] = utcnow,
        deliver: Deliver | None = None,
    ):
        self.ledger, self.scheduler = ledger, scheduler
        self.settings = settings or Settings()
        self.now = clock
        self._channels = deliver
        self._deals: dict[str, tuple[dict[str, Any], Deal]] = {}
        self._journeys = LoadedJourneys()  # each journey checked once while its files are unchanged

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.run_lease_seconds)

    # -- deal closed ---------------------------------------------------------------------------

    def deal_closed(
        self,
        payload: dict[str, Any] | Deal,
        *,
        received_at: datetime | None = None,
        journey: tuple[Journey, Path] | None = None,
    ) -> ClosedResult:
        """Record the deal's journey with every touch's due time and moment, and make sure each
        moment has its run; a repeat records nothing new (and repairs a first attempt that died
        between the ledger and the scheduler). `journey` (model, templates folder) skips the lookup
        of the deal's journey in the journeys folder."""
        try:
            deal = payload if isinstance(payload, Deal) else parse_deal(payload)
        except DealError as exc:
            raise IntakeError(str(exc)) from None
        journey_model, templates_dir = journey or self._journey_for(deal)
        received = received_at or self.now()
        clock = Clock(deal.closed_at, received, self.settings.day_seconds)
        new = []
        for item in plan(journey_model, deal, titles=False).touches:
            when = max(clock.to_wall(engine.run_at(item, journey_model)), received)  # a past moment: at once
            gated = item.gated_by is not None
            new.append(
                NewTouch(
                    item.touch,
                    item.phase,
                    item.channel,
                    planned_due=when,
                    gated=gated,
                    due=None if gated else when,
                    moment=None if gated else self.moment(when, clock),
                )
            )
        created = self.ledger.start_journey(
            deal, journey_model, str(templates_dir), new, received_at=received, day_seconds=self.settings.day_seconds
        )
        row = self.ledger.journey(deal.id)
        assert row is not None
        self.schedule(deal.id)
        return ClosedResult(deal.id, row.journey_id, row.version, created, self.ledger.touches(deal.id))

    def _journey_for(self, deal: Deal) -> tuple[Journey, Path]:
        name = deal.journey or self.settings.default_journey
        try:
            path = find_journey(name, self.settings.journeys_dir)
            return self._journeys.load(
                path, self.settings.templates_dir if self.settings.templates_dir.is_dir() else None
            )
        except JourneyNotFound as exc:
            raise IntakeError(f"deal {deal.id}: {exc}") from None
        except Invalid as exc:
            raise IntakeError(f"deal {deal.id}: journey '{name}' has problems:\n{exc}") from None

    # -- moments -------------------------------------------------------------------------------

    def moment(self, due: datetime, clock: Clock) -> datetime:
        """The moment (deliver run) a touch due at `due` belongs to."""
        seconds = self.settings.moment_seconds or clock.moment_seconds()
        return moment_of(due, seconds)

    def schedule(self, deal_id: str) -> list[str]:
        """Make sure every moment of the deal's planned touches has its deliver run, then mark
        those touches scheduled. Best effort: when Prefect does not answer, the touches stay
        planned (a deliver run still claims them when due) and reconcile makes the runs later."""
        by_moment: dict[datetime, list[TouchRow]] = defaultdict(list)
        for t in self.ledger.touches(deal_id, states=[T.PLANNED]):
            if t.moment is not None:
                by_moment[t.moment].append(t)
        done: list[str] = []
        counts = self.ledger.moment_counts(list(by_moment))
        for moment, touches in sorted(by_moment.items()):
            try:
                runs = self.ensure_moment(moment, counts.get(moment, len(touches)))
            except Exception as exc:  # Prefect unreachable: the touches wait planned; reconcile retries
                log.warning("deal %s: no run for the moment %s yet: %s", deal_id, moment.isoformat(), exc)
                return done
            for t in touches:
                if self.ledger.move(deal_id, t.touch_id, Moves.SCHEDULE, flow_run_id=runs[0] if runs else None):
                    done.append(t.touch_id)
        return done

    def ensure_moment(self, moment: datetime, touches: int) -> list[str]:
        shards = max(1, math.ceil(touches / self.settings.shard_size))
        return self.scheduler.ensure_moment(moment, touches=touches, shards=shards)

    # -- one touch -----------------------------------------------------------------------------

    def claim_due(self, holder: str, *, shard: int = 0, shards: int = 1, limit: int = 32) -> list[TouchRow]:
        """Claim up to `limit` touches due now for the run `holder` (its own shard's deals first)."""
        return self.ledger.claim_due(
            holder=holder, now=self.now(), lease=self.lease, limit=limit, shard=shard, shards=shards
        )

    def _context(self, deal_id: str) -> _Context | None:
        view = self.ledger.deal_view(deal_id)
        if view is None or view.payload is None:
            return None
        row = view.journey
        deal = self._deal(deal_id, view.payload, row.received_at)
        clock = Clock(deal.closed_at, row.received_at, row.day_seconds)
        return _Context(row, row.journey_model(), deal, clock, view.touches)

    def _deal(self, deal_id: str, payload: dict[str, Any], received_at: datetime) -> Deal:
        """The stored deal, validated as it was when received; parsed again only when it changed."""
        cached = self._deals.get(deal_id)
        if cached is None or cached[0] != payload:
            cached = (payload, parse_deal(payload, source=f"deal {deal_id}", now=received_at))
            self._deals[deal_id] = cached
        return cached[1]

    def _clock(self, deal_id: str) -> Clock | None:
        ctx = self._context(deal_id)
        return ctx.clock if ctx else None

    def _plan(self, ctx: _Context) -> Plan:
        """The plan with what has happened so far: real affirm completions and gate-open time."""
        done = {
            t.touch_id: ctx.clock.to_journey(t.completed_at)
            for t in ctx.touches
            if t.completed_at and t.state in COMPLETE
        }
        opened = ctx.clock.to_journey(ctx.row.gate_opened_at) if ctx.row.gate_opened_at else None
        return plan(ctx.journey, ctx.deal, Facts(completed=done, gate_opened_at=opened), titles=False)

    def run_touch(self, deal_id: str, touch_id: str, *, holder: str | None = None) -> TouchOutcome:
        """Re-check, then deliver one touch. Called by the run that claimed it; safe to call again."""
        ctx = self._context(deal_id)
        row = next((t for t in ctx.touches if t.touch_id == touch_id), None) if ctx else None
        if ctx is None or row is None:
            return TouchOutcome(deal_id, touch_id, "failed", f"the ledger has no touch {touch_id} for deal {deal_id}")
        block, touch = next((b, t) for b, t in ctx.journey.touches() if t.id == touch_id)
        item = next(i for i in self._plan(ctx).touches if i.touch == touch_id)
        verdict = judge(ctx.journey, ctx.deal, touch, block.phase, item.due.date())
        if verdict.error:
            return self._fail(deal_id, touch_id, verdict.error)
        late = engine.too_late(
            due=row.due or row.planned_due,
            now=self.now(),
            expires_after=touch.expires_after_delta,
            clock=ctx.clock,
            planned=ctx.clock.to_wall(item.due),
            received_at=ctx.row.received_at,
            backfill_grace=timedelta(days=self.settings.backfill_grace_days),
        )
        decision = engine.decide(
            journey_state=ctx.row.state,
            touch_state=row.state,
            condition=verdict.value,
            condition_note=verdict.note,
            late=late,
        )
        if decision.action == "noop":
            return TouchOutcome(deal_id, touch_id, row.state, decision.reason)
        if decision.action == "cancel":
            self.ledger.move(deal_id, touch_id, Moves.CANCEL, detail=decision.reason)
            return self._outcome(deal_id, touch_id, decision.reason)
        if decision.action in ("skip", "expire"):
            move = Moves.SKIP if decision.action == "skip" else Moves.EXPIRE
            if self.ledger.move(deal_id, touch_id, move, outcome=decision.reason):
                self.after_complete(deal_id)
            return self._outcome(deal_id, touch_id, decision.reason)
        return self._deliver_touch(ctx, item, touch, holder)

    def _deliver_touch(self, ctx: _Context, item: PlannedTouch, touch: Any, holder: str | None) -> TouchOutcome:
        deal_id, touch_id = ctx.row.deal_id, item.touch
        if not self.ledger.move(deal_id, touch_id, Moves.START, count_attempt=True, flow_run_id=holder, error=None):
            # a run that died mid-delivery, taken over: the delivery row decides what may leave
            self.ledger.update_touch(deal_id, touch_id, in_states=[T.RUNNING], count_attempt=True)
        try:
            content = render_touch(
                ctx.journey,
                ctx.deal,
                touch_id,
                item.due,
                Path(ctx.row.templates_dir),
                print_by=item.print_by,
                made_at=self.now(),
            )
        except TemplateProblem as exc:
            return self._fail(deal_id, touch_id, f"cannot render: {exc}" + (f" ({exc.hint})" if exc.hint else ""))
        except ValueError as exc:
            return self._fail(deal_id, touch_id, f"cannot render: {exc}")
        try:
            result = self._deliver(content)
        except Withdrawn as exc:
            return self._outcome(deal_id, touch_id, f"cancelled while it was being delivered: {exc}")
        if not result.delivered:
            return self._fail(deal_id, touch_id, result.detail, in_doubt=result.state == "uncertain")
        if result.letter is not None:
            q = result.letter
            self.ledger.queue_letter(
                letter_id=q.letter_id,
                deal_id=deal_id,
                touch_id=touch_id,
                text=q.text,
                seed=q.seed,
                hand=q.hand,
                layout=q.layout,
                address=q.address,
                signer=q.signer,
                signer_title=q.signer_title,
                print_by=q.print_by,
                pdf_path=str(q.pdf_path),
            )
        after = engine.state_after_handover(item.channel, getattr(touch, "confirm", True))
        if after == T.RUNNING:  # a letter in the print room, a task with its owner: no lease any more
            self.ledger.update_touch(
                deal_id, touch_id, in_states=[T.RUNNING], outcome=result.detail, error=None, lease_until=None
            )
        else:
            # "cancelled" too: it left just as the journey was cancelled, and the ledger says it went
            move = Moves.DELIVER if after == T.DELIVERED else Moves.FINISH
            if self.ledger.move(deal_id, touch_id, move, outcome=result.detail):
                self.after_complete(deal_id)
                return TouchOutcome(deal_id, touch_id, move.target.value, result.detail)  # the move said it
        return self._outcome(deal_id, touch_id, result.detail)

    def _deliver(self, content: Rendered) -> DeliveryResult:
        """Hand the touch to its channel, which records in the ledger behind the cancel guard."""
        if self._channels is None:
            raise RuntimeError("this runtime was built without channels (hundred.bootstrap wires them)")
        return self._channels(content, UnlessCancelled(self.ledger, content.key.deal, content.key.touch))

    def _fail(self, deal_id: str, touch_id: str, error: str, *, in_doubt: bool = False) -> TouchOutcome:
        self.ledger.move(deal_id, touch_id, Moves.FAIL, error=error)
        return self._outcome(deal_id, touch_id, error, in_doubt=in_doubt)

    def _outcome(self, deal_id: str, touch_id: str, detail: str, *, in_doubt: bool = False) -> TouchOutcome:
        """The touch as the ledger has it now (another run or a cancel may have moved it)."""
        row = self.ledger.touch(deal_id, touch_id)
        state = row.state if row else "failed"
        return TouchOutcome(deal_id, touch_id, state, detail, in_doubt=in_doubt and state == "failed")

    # -- completions and the gate (people's completions: operator_actions.py) ------------------

    def after_complete(self, deal_id: str) -> list[str]:
        """Open the gate once every affirm touch is complete (exactly once, however many
        completions race: the ledger's compare-and-set picks one opener), schedule what waited on
        it, and close the journey when nothing is left to happen. It reads the touches after the
        completing move has committed, not inside that move's transaction: of two completions
        that race, the later reader then sees both, where two reads inside the two transactions
        could each miss the other's and leave the journey open for ever."""
        view = self.ledger.deal_view(deal_id, payload=False)  # the deal plays no part in the gate
        if view is None or view.journey.state != "active":
            return []
        row, states = view.journey, {t.touch_id: t.state for t in view.touches}
        released: list[str] = []
        if engine.gate_is_open(row.journey_model(), states):
            if row.gate_opened_at is None:
                self.ledger.set_gate_opened(deal_id, self.now())
            if any(s == T.WAITING for s in states.values()):
                released = self._release_gated(deal_id)
        if not released and engine.journey_finished(states):
            self.ledger.complete_journey(deal_id)
        return released

    def _release_gated(self, deal_id: str) -> list[str]:
        ctx = self._context(deal_id)
        assert ctx is not None and ctx.row.gate_opened_at is not None
        if not engine.gate_is_open(ctx.journey, {t.touch_id: t.state for t in ctx.touches}):
            return []  # an upgrade gave the journey an affirm touch since the gate was judged open
        now = self.now()
        released = []
        for item in self._plan(ctx).touches:
            if item.gated_by is None:
                continue
            when = max(ctx.clock.to_wall(engine.run_at(item, ctx.journey)), now)
            if self.ledger.move(
                deal_id,
                item.touch,
                Moves.RELEASE,
                due=when,
                moment=self.moment(when, ctx.clock),
                event="gate.released",
                detail="the affirm phase is complete",
            ):
                released.append(item.touch)
        self.schedule(deal_id)
        return released
