"""The runtime: the engine's decisions acted out on the ledger, a scheduler and the channels.

Prefect owns time, the ledger owns truth. `Runtime` imports no adapter: it is handed a
`Scheduler`, a `Ledger` and the channels' `Deliver` (see `hundred.service.ports`; `hundred.bootstrap`
builds the real ones, `simulate.py` virtual ones), so the flows
and `hundred simulate` run the very same code. Every step is safe to repeat: the ledger's unique
keys and compare-and-set transitions decide who acts, so a duplicated or retried run, two
workers, or a crash halfway leave one outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hundred.deals.model import Deal, DealError, parse_deal
from hundred.journeys.catalog import JourneyNotFound, find_journey
from hundred.journeys.model import Journey
from hundred.journeys.problems import Invalid
from hundred.planning import engine
from hundred.planning.conditions import judge
from hundred.planning.engine import Clock
from hundred.planning.identity import TouchKey
from hundred.planning.planner import Facts, Plan, PlannedTouch, plan
from hundred.rendering.content import Rendered
from hundred.rendering.touch import render_touch
from hundred.service.guard import UnlessCancelled, Withdrawn
from hundred.service.outcomes import ClosedResult, Report, TouchOutcome, iso_utc
from hundred.service.ports import Deliver, DeliveryResult, Ledger, Scheduler
from hundred.service.records import JourneyRow, NewTouch, TouchRow
from hundred.service.settings import Settings
from hundred.templating.sandbox import TemplateProblem
from hundred.validation.validate import load_journey

HORIZON_FLOOR = timedelta(hours=1)  # the reconcile flow runs every 15 minutes: at least four passes ahead


def utcnow() -> datetime:
    return datetime.now(UTC)


class IntakeError(ValueError):
    """A deal that cannot start a journey: bad payload, unknown or invalid journey."""


@dataclass
class _Context:
    """A deal's journey as the ledger knows it, loaded once per call."""

    row: JourneyRow
    journey: Journey
    deal: Deal
    clock: Clock

    def key(self, touch_id: str) -> TouchKey:
        return TouchKey(self.row.deal_id, self.row.journey_id, self.row.version, touch_id)


class Runtime:
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

    # -- deal closed ---------------------------------------------------------------------------

    def deal_closed(
        self,
        payload: dict[str, Any] | Deal,
        *,
        received_at: datetime | None = None,
        journey: tuple[Journey, Path] | None = None,
    ) -> ClosedResult:
        """Record the deal's journey and schedule every ungated touch; a repeat schedules nothing new
        (and repairs a first attempt that died between the ledger and the scheduler). `journey`
        (model, templates folder) skips the lookup of the deal's journey in the journeys folder."""
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
                    item.touch, item.phase, item.channel, planned_due=when, gated=gated, due=None if gated else when
                )
            )
        created = self.ledger.start_journey(
            deal, journey_model, str(templates_dir), new, received_at=received, day_seconds=self.settings.day_seconds
        )
        row = self.ledger.journey(deal.id)
        assert row is not None
        self._schedule_planned(row)
        return ClosedResult(deal.id, row.journey_id, row.version, created, self.ledger.touches(deal.id))

    def _journey_for(self, deal: Deal) -> tuple[Journey, Path]:
        name = deal.journey or self.settings.default_journey
        try:
            path = find_journey(name, self.settings.journeys_dir)
            return load_journey(path, self.settings.templates_dir if self.settings.templates_dir.is_dir() else None)
        except JourneyNotFound as exc:
            raise IntakeError(f"deal {deal.id}: {exc}") from None
        except Invalid as exc:
            raise IntakeError(f"deal {deal.id}: journey '{name}' has problems:\n{exc}") from None

    def _schedule_planned(self, row: JourneyRow) -> list[str]:
        """Give every `planned` touch due within the schedule horizon its run; a later one stays
        planned until a reconcile pass (every 15 minutes) finds it within the horizon. So Prefect
        holds the next days' runs, not every journey's next 100 days (bench/soak.py: reconcile
        reads every scheduled run's state, and a journey's cancel scans them). Safe to repeat: the
        run is found by its key."""
        done = []
        until = self._horizon_end(row)
        for t in self.ledger.touches(row.deal_id, states=["planned"]):
            key = TouchKey(row.deal_id, row.journey_id, row.version, t.touch_id)
            due = t.due or t.planned_due
            if until is not None and due > until:
                continue
            run_id = self.scheduler.schedule(key, due, t.phase, t.channel)
            if self.ledger.transition(
                row.deal_id, t.touch_id, "scheduled", from_states=["planned"], flow_run_id=run_id, due=due
            ):
                done.append(t.touch_id)
        return done

    def _horizon_end(self, row: JourneyRow) -> datetime | None:
        """The latest due time to schedule now: `schedule_horizon_days` journey days ahead (shorter
        in wall time with compressed days), but never under HORIZON_FLOOR, four reconcile passes."""
        days = self.settings.schedule_horizon_days
        if days is None:
            return None
        span = Clock(row.received_at, row.received_at, row.day_seconds).scale(timedelta(days=days))
        return self.now() + max(span, HORIZON_FLOOR)

    # -- one touch -----------------------------------------------------------------------------

    def _context(self, deal_id: str) -> _Context | None:
        row = self.ledger.journey(deal_id)
        payload = self.ledger.deal_payload(deal_id)
        if row is None or payload is None:
            return None
        deal = self._deal(deal_id, payload, row.received_at)
        return _Context(row, row.journey_model(), deal, Clock(deal.closed_at, row.received_at, row.day_seconds))

    def _deal(self, deal_id: str, payload: dict[str, Any], received_at: datetime) -> Deal:
        """The stored deal, validated as it was when received; parsed again only when it changed."""
        cached = self._deals.get(deal_id)
        if cached is None or cached[0] != payload:
            cached = (payload, parse_deal(payload, source=f"deal {deal_id}", now=received_at))
            self._deals[deal_id] = cached
        return cached[1]

    def _plan(self, ctx: _Context) -> Plan:
        """The plan with what has happened so far: real affirm completions and gate-open time."""
        done = {
            t.touch_id: ctx.clock.to_journey(t.completed_at)
            for t in self.ledger.touches(ctx.row.deal_id)
            if t.completed_at and t.state in engine.COMPLETE
        }
        opened = ctx.clock.to_journey(ctx.row.gate_opened_at) if ctx.row.gate_opened_at else None
        return plan(ctx.journey, ctx.deal, Facts(completed=done, gate_opened_at=opened), titles=False)

    def run_touch(self, deal_id: str, touch_id: str, *, flow_run_id: str | None = None) -> TouchOutcome:
        """Re-check, then deliver one touch. Called when its run starts; safe to call again."""
        ctx = self._context(deal_id)
        row = self.ledger.touch(deal_id, touch_id)
        if ctx is None or row is None:
            return TouchOutcome(deal_id, touch_id, "failed", f"the ledger has no touch {touch_id} for deal {deal_id}")
        block, touch = next((b, t) for b, t in ctx.journey.touches() if t.id == touch_id)
        item = next(i for i in self._plan(ctx).touches if i.touch == touch_id)
        verdict = judge(ctx.journey, ctx.deal, touch, block.phase, item.due.date())
        if verdict.error:
            return self._fail(deal_id, touch_id, verdict.error)
        condition, note = verdict.value, verdict.note
        decision = engine.decide(
            journey_state=ctx.row.state,
            touch_state=row.state,
            condition=condition,
            condition_note=note,
            due=row.due or row.planned_due,
            now=self.now(),
            expires_after=touch.expires_after_delta,
            clock=ctx.clock,
            planned=ctx.clock.to_wall(item.due),
            received_at=ctx.row.received_at,
            backfill_grace=timedelta(days=self.settings.backfill_grace_days),
        )
        if decision.action == "noop":
            return TouchOutcome(deal_id, touch_id, row.state, decision.reason)
        if decision.action == "cancel":
            self.ledger.transition(deal_id, touch_id, "cancelled", from_states=engine.STOPPABLE, detail=decision.reason)
            return self._outcome(deal_id, touch_id, decision.reason)
        if decision.action in ("skip", "expire"):
            state = "skipped" if decision.action == "skip" else "expired"
            if self.ledger.transition(
                deal_id, touch_id, state, from_states=engine.STOPPABLE - {"waiting"}, outcome=decision.reason
            ):
                self.after_complete(deal_id)
            return self._outcome(deal_id, touch_id, decision.reason)
        return self._deliver_touch(ctx, item, touch, flow_run_id)

    def _deliver_touch(self, ctx: _Context, item: PlannedTouch, touch: Any, flow_run_id: str | None) -> TouchOutcome:
        deal_id, touch_id = ctx.row.deal_id, item.touch
        claimed = self.ledger.transition(
            deal_id,
            touch_id,
            "running",
            from_states=["planned", "scheduled", "failed"],
            count_attempt=True,
            flow_run_id=flow_run_id,
            error=None,
        )
        if not claimed:  # a retry of a run that died mid-delivery: the delivery row decides below
            self.ledger.update_touch(deal_id, touch_id, in_states=["running"], count_attempt=True)
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
            return self._fail(deal_id, touch_id, result.detail)
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
        if after != "running":
            # "cancelled" too: it left just as the journey was cancelled, and the ledger says it went
            if self.ledger.transition(
                deal_id, touch_id, after, from_states=["running", "failed", "cancelled"], outcome=result.detail
            ):
                self.after_complete(deal_id)
        else:
            self.ledger.update_touch(
                deal_id, touch_id, in_states=["running", "failed"], outcome=result.detail, error=None
            )
            self.ledger.transition(deal_id, touch_id, "running", from_states=["failed"])
        return self._outcome(deal_id, touch_id, result.detail)

    def _fail(self, deal_id: str, touch_id: str, error: str) -> TouchOutcome:
        self.ledger.transition(
            deal_id, touch_id, "failed", from_states=["running", "scheduled", "planned"], error=error
        )
        return self._outcome(deal_id, touch_id, error)

    def _outcome(self, deal_id: str, touch_id: str, detail: str) -> TouchOutcome:
        row = self.ledger.touch(deal_id, touch_id)
        return TouchOutcome(deal_id, touch_id, row.state if row else "failed", detail)

    def _deliver(self, content: Rendered) -> DeliveryResult:
        """Hand the touch to its channel, which records in the ledger behind the cancel guard."""
        if self._channels is None:
            raise RuntimeError("this runtime was built without channels (hundred.bootstrap wires them)")
        return self._channels(content, UnlessCancelled(self.ledger, content.key.deal, content.key.touch))

    # -- completions and the gate --------------------------------------------------------------

    def task_done(self, deal_id: str, touch_id: str) -> TouchOutcome:
        """The owner did the task (before or after its reminder went out)."""
        row = self.ledger.touch(deal_id, touch_id)
        if row is None:
            raise LookupError(f"deal {deal_id} has no touch '{touch_id}'")
        if row.channel != "task":
            raise ValueError(f"'{touch_id}' is a {row.channel}, not a task")
        if self.ledger.transition(
            deal_id,
            touch_id,
            "done",
            from_states=["scheduled", "running", "failed"],
            outcome="marked done by its owner",
        ):
            self.after_complete(deal_id)
        return self._outcome(deal_id, touch_id, "done")

    def retry(self, deal_id: str, touch_id: str) -> TouchOutcome:
        """Run a failed touch again now (after its template or the mail server was fixed): the same
        run, so its idempotency key, name and history stay one; the delivery rules still hold."""
        row = self.ledger.touch(deal_id, touch_id)
        if row is None:
            raise LookupError(f"deal {deal_id} has no touch '{touch_id}'")
        if row.state != "failed":
            raise ValueError(f"'{touch_id}' is {row.state}; only a failed touch is run again")
        if row.flow_run_id and self.scheduler.run_state(row.flow_run_id) is not None:
            self.scheduler.retry(row.flow_run_id, self.now())
        else:  # its run is gone: a new one
            self.ledger.transition(deal_id, touch_id, "planned", from_states=["failed"], flow_run_id=None)
            journey = self.ledger.journey(deal_id)
            assert journey is not None
            self._schedule_planned(journey)
        self.ledger.record_event(deal_id, "run.retried", touch_id, "run again by an operator")
        return self._outcome(deal_id, touch_id, "run again")

    def letter_posted(self, letter_id: str) -> TouchOutcome:
        """Print staff posted the letter: its touch is delivered, which may open the gate."""
        letter = self.ledger.letter(letter_id)
        if letter is None:
            raise LookupError(f"no letter {letter_id} in the print queue")
        self.ledger.set_letter_state(letter_id, "posted", ["queued", "batched", "printed"])
        if self.ledger.transition(
            letter.deal_id, letter.touch_id, "delivered", from_states=["running", "failed"], outcome="posted"
        ):
            self.after_complete(letter.deal_id)
        return self._outcome(letter.deal_id, letter.touch_id, "posted")

    def after_complete(self, deal_id: str) -> list[str]:
        """Open the gate once every affirm touch is complete (exactly once, however many
        completions race: the ledger's compare-and-set picks one opener), schedule what waited on
        it, and close the journey when nothing is left to happen."""
        ctx = self._context(deal_id)
        if ctx is None or ctx.row.state != "active":
            return []
        states = {t.touch_id: t.state for t in self.ledger.touches(deal_id)}
        scheduled: list[str] = []
        if engine.gate_is_open(ctx.journey, states):
            if ctx.row.gate_opened_at is None:
                self.ledger.set_gate_opened(deal_id, self.now())
            if any(s == "waiting" for s in states.values()):
                scheduled = self._release_gated(deal_id)
        if not scheduled and engine.journey_finished(states):
            self.ledger.complete_journey(deal_id)
        return scheduled

    def _release_gated(self, deal_id: str) -> list[str]:
        ctx = self._context(deal_id)
        assert ctx is not None and ctx.row.gate_opened_at is not None
        now = self.now()
        for item in self._plan(ctx).touches:
            if item.gated_by is None:
                continue
            when = max(ctx.clock.to_wall(engine.run_at(item, ctx.journey)), now)
            self.ledger.transition(
                deal_id,
                item.touch,
                "planned",
                from_states=["waiting"],
                due=when,
                event="gate.released",
                detail="the affirm phase is complete",
            )
        return self._schedule_planned(ctx.row)

    # -- cancel and reconcile ------------------------------------------------------------------

    def cancel(self, deal_id: str, reason: str) -> Report:
        """Exit the journey: nothing more is sent; queued letters are taken out of the print queue."""
        report = Report(f"cancel {deal_id}")
        row = self.ledger.journey(deal_id)
        if row is None:
            raise LookupError(f"no journey for deal {deal_id}")
        if self.ledger.exit_journey(deal_id, reason):
            report.add("exited", f"journey exited: {reason}")
        for t in self.ledger.touches(deal_id, states=["running", "failed"]):
            if self.ledger.transition(
                deal_id, t.touch_id, "cancelled", from_states=["running", "failed"], detail=reason
            ):
                report.add("cancelled", f"{t.touch_id}: cancelled")
        for letter in self.ledger.letters(deal_id=deal_id):
            if self.ledger.set_letter_state(letter.letter_id, "withdrawn", ["queued"]):
                report.add("letters", f"letter {letter.letter_id} taken out of the print queue")
        n = self.scheduler.cancel_deal(deal_id, reason)
        if n:
            report.add("runs", f"{n} scheduled runs cancelled")
        return report

    @property
    def _lease(self) -> timedelta:
        """How long a run may hold a touch (or be taken without starting it) before it counts as dead."""
        return timedelta(seconds=self.settings.run_lease_seconds)

    def _stalled(self, row: JourneyRow, t: TouchRow, now: datetime) -> bool:
        """A touch whose run died between claiming it and handing it over: nothing to show for it
        (no sent email, no queued letter) and its run crashed, or has held it longer than a run
        may take (a killed worker's run can look alive to Prefect for a while)."""
        key = TouchKey(row.deal_id, row.journey_id, row.version, t.touch_id)
        if t.channel == "letter":
            if self.ledger.letter(key.reference) is not None:
                return False
        else:
            delivery = self.ledger.delivery(key.delivery_key(t.channel))
            if delivery is not None and delivery.state == "sent":
                return False
        if now - t.updated_at >= self._lease:
            return True
        return t.flow_run_id is not None and self.scheduler.run_state(t.flow_run_id) in (None, "CRASHED", "FAILED")

    def reconcile(self) -> Report:
        """Repair what a crash or an outside hand left: runs the ledger expects but the scheduler
        lacks, gates whose completion was missed, finished journeys not closed; report overdue."""
        report = Report("reconcile")
        now = self.now()
        active = [
            (row, self.ledger.touches(row.deal_id, states=["scheduled"]))
            for row in self.ledger.journeys(state="active")
        ]
        # one read per 200 runs, not one per run: the cost of a pass must not grow with every
        # future touch of every journey in flight (bench/soak.py)
        states = self.scheduler.run_states([t.flow_run_id for _, ts in active for t in ts if t.flow_run_id])
        for row, scheduled in active:
            for t in scheduled:
                state = states.get(t.flow_run_id) if t.flow_run_id else None
                if state is None:
                    self.ledger.transition(
                        row.deal_id,
                        t.touch_id,
                        "planned",
                        from_states=["scheduled"],
                        flow_run_id=None,
                        event="run.missing",
                        detail="its run was gone; re-created",
                    )
                    report.add("recreated", f"{row.deal_id} · {t.touch_id}: run was missing, re-created")
                elif state in ("FAILED", "CRASHED"):
                    # its run ended before it could claim the touch (e.g. the ledger was unreachable
                    # through all its retries): nothing was sent, so the same run goes again now
                    self.scheduler.retry(t.flow_run_id, now)
                    self.ledger.record_event(
                        row.deal_id, "run.retried", t.touch_id, f"its run ended {state.lower()} before it ran the touch"
                    )
                    report.add(
                        "retried",
                        f"{row.deal_id} · {t.touch_id}: its run ended {state.lower()} "
                        "before it ran the touch; run again",
                    )
                elif state in ("PENDING", "RUNNING") and t.due and now - t.due >= self._lease:
                    # a worker took its run and died before the run claimed the touch: Prefect shows it
                    # taken for ever and no worker fetches it again; the claim before sending keeps a
                    # run that was only slow from sending twice
                    self.scheduler.retry(t.flow_run_id, now)
                    self.ledger.record_event(
                        row.deal_id,
                        "run.retried",
                        t.touch_id,
                        f"its run stayed {state.lower()} past its lease without running the touch",
                    )
                    report.add(
                        "retried",
                        f"{row.deal_id} · {t.touch_id}: its run stayed {state.lower()} "
                        "without running the touch; run again",
                    )
                elif state in ("SCHEDULED", "PENDING") and t.due and t.due < now and t.outcome != "overdue":
                    self.ledger.update_touch(row.deal_id, t.touch_id, in_states=["scheduled"], outcome="overdue")
                    self.ledger.record_event(row.deal_id, "overdue", t.touch_id, f"due {iso_utc(t.due)}")
                    report.add("overdue", f"{row.deal_id} · {t.touch_id}: overdue since {iso_utc(t.due)}")
            for t in self.ledger.touches(row.deal_id, states=["running"]):
                if t.flow_run_id and self._stalled(row, t, now):
                    self.scheduler.retry(t.flow_run_id, now)
                    self.ledger.record_event(row.deal_id, "run.retried", t.touch_id, "its run stopped mid-delivery")
                    report.add("retried", f"{row.deal_id} · {t.touch_id}: its run stopped mid-delivery; run again")
            for touch_id in self._schedule_planned(row):
                report.add("scheduled", f"{row.deal_id} · {touch_id}: scheduled")
            for touch_id in self.after_complete(row.deal_id):
                report.add("gate", f"{row.deal_id} · {touch_id}: scheduled after the affirm phase")
        return report
