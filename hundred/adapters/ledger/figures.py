"""How each journey is doing, counted by SQL in the ledger: the `FigureSource` port.

Every figure is a GROUP BY over the ledger's tables, answered for all journeys (or one) at once:
the database counts, Python only reads the buckets (hundred/reports/figures/compute.py). No
query is made per journey or per customer; a page costs the same dozen queries with 20 or 2,000
journeys in the ledger. The customers are counted in two halves side by side, on two
connections that see one snapshot (paired_reads.py), and the halves' counts added. Each half
reads its touches once, into a temporary table that its queries share (figures_rows.py), and
the covering indexes of migration 0008_figspeed answer the reads without visiting the tables.
What is counted per customer first (funnel, silences) is figures_customers.py's; one customer's
story is deal_facts.py's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Table, and_, case, cast, func, literal, not_, null, or_, select, union_all
from sqlalchemy.engine import Connection

from hundred.adapters.ledger.deal_facts import deal_facts
from hundred.adapters.ledger.figures_customers import customer_days
from hundred.adapters.ledger.figures_rows import (
    COHORT,
    REACHED,
    TOUCHES,
    UNPOSTED,
    Share,
    Versions,
    cohort_rows,
    journey_day,
    moment,
    temporary,
    touch_rows,
)
from hundred.adapters.ledger.models import (
    BatchLetterRecord,
    BatchRecord,
    DealRecord,
    DeliveryRecord,
    JourneyRecord,
    LetterRecord,
    TouchRecord,
)
from hundred.adapters.ledger.paired_reads import side_by_side
from hundred.adapters.ledger.sqldays import days, floor
from hundred.adapters.ledger.store import Ledger
from hundred.reports.figures.facts import (
    Attention,
    DayCount,
    DealFacts,
    DeliveryCount,
    ErrorCount,
    FigureFacts,
    JourneyCount,
    LetterCount,
    Period,
    ReferralCount,
    TaskCount,
    TouchCount,
    VersionInfo,
)

ATTENTION_PER_KIND = 10
J, T, D = JourneyRecord.__table__, TouchRecord.__table__, DealRecord.__table__
L, DL = LetterRecord.__table__, DeliveryRecord.__table__
B, BL = BatchRecord.__table__, BatchLetterRecord.__table__


class LedgerFigures:
    """The `FigureSource` port on a SQL ledger: read-only, one short read transaction per call."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger

    # -- the figures -----------------------------------------------------------------------------

    def figure_facts(self, period: Period, journey: str | None, now: datetime) -> FigureFacts:
        """The customers in two halves (odd and even journey rows), counted side by side on two
        connections that see one snapshot (paired_reads.py); every figure is a sum of counts,
        so the halves' buckets are simply put together."""

        def half(k: int) -> Callable[[Connection], FigureFacts]:
            return lambda conn: self._count(conn, FigureFacts(now=now, period=period), journey, Share(k, 2))

        return _together(*side_by_side(self.ledger, half(0), half(1)))

    def _count(self, conn: Connection, facts: FigureFacts, journey: str | None, share: Share) -> FigureFacts:
        facts.versions = self._versions(conn, journey)
        versions = Versions(facts.versions)
        rows = cohort_rows(facts.period, journey, facts.now, versions, share)
        with temporary(conn, COHORT, rows) as cohort:
            facts.journeys = self._journeys(conn, cohort)
            if not facts.journeys:
                return facts
            with temporary(conn, TOUCHES, touch_rows(cohort)) as touches:
                facts.touches, facts.days, facts.tasks = self._touch_buckets(conn, touches, versions)
                phases, facts.silences, facts.affirm_late = customer_days(conn, cohort, touches, versions)
                facts.days += phases
            facts.errors = self._errors(conn, cohort)
            facts.letters = self._letters(conn, cohort)
            facts.deliveries = self._deliveries(conn, cohort)
            facts.referrals = self._referrals(conn, cohort, versions.referral_touches())
            facts.attention = self._attention(conn, cohort)
        return facts

    def _versions(self, conn: Connection, journey: str | None) -> list[VersionInfo]:
        first = (
            select(
                func.min(J.c.id).label("first_id"),
                func.sum(case((J.c.state == "active", 1), else_=0)).label("active"),
                func.min(J.c.received_at).label("first_received"),
            )
            .where(*([J.c.journey_id == journey] if journey is not None else []))
            .group_by(J.c.journey_id, J.c.version)
            .subquery()
        )
        rows = conn.execute(
            select(J.c.journey_id, J.c.version, J.c.snapshot, first.c.active, first.c.first_received)
            .join_from(first, J, J.c.id == first.c.first_id)
            .order_by(J.c.journey_id, first.c.first_received)
        ).all()
        received = J.c.received_at.type
        return [
            VersionInfo(jid, ver, snapshot or {}, int(active or 0), moment(at, received, conn))
            for jid, ver, snapshot, active, at in rows
        ]

    def _journeys(self, conn: Connection, cohort: Table) -> list[JourneyCount]:
        stmt = select(cohort.c.jid, cohort.c.ver, cohort.c.state, cohort.c.exit_reason, func.count()).group_by(
            cohort.c.jid, cohort.c.ver, cohort.c.state, cohort.c.exit_reason
        )
        return [JourneyCount(*row) for row in conn.execute(stmt)]

    def _touch_buckets(
        self, conn: Connection, touches: Table, versions: Versions
    ) -> tuple[list[TouchCount], list[DayCount], list[TaskCount]]:
        """Per touch its states, the day each one that reached the customer did so, and its tasks
        by owner, state and lateness: one GROUP BY over the cohort's touches into buckets, which
        the three answers then add up (a few hundred rows, not one per touch)."""
        f = touches.c
        keys = (f.v, f.touch, f.state, f.day, f.owner, f.late)
        buckets = select(*keys, func.count().label("n")).group_by(*keys).cte("buckets")
        b = buckets.c
        none_text, none_int = cast(null(), String), cast(null(), Integer)
        per_state = select(
            literal("state", String), b.v, b.touch, b.state, none_int, none_text, none_int, func.sum(b.n)
        ).group_by(b.v, b.touch, b.state)
        per_day = (
            select(literal("day", String), b.v, b.touch, none_text, b.day, none_text, none_int, func.sum(b.n))
            .where(b.day.is_not(None))
            .group_by(b.v, b.touch, b.day)
        )
        tasks = (
            select(literal("task", String), b.v, b.touch, b.state, none_int, b.owner, b.late, func.sum(b.n))
            .where(b.late.is_not(None))  # set on the tasks only
            .group_by(b.v, b.touch, b.owner, b.state, b.late)
        )
        per_touch: list[TouchCount] = []
        days_: list[DayCount] = []
        tasks_: list[TaskCount] = []
        for kind, v, touch, state, day, owner, late, n in conn.execute(union_all(per_state, per_day, tasks)):
            key = versions.key(v)
            if key is None:
                continue
            if kind == "state":
                per_touch.append(TouchCount(*key, touch, state, int(n)))
            elif kind == "day":
                days_.append(DayCount(*key, "touch", touch, int(day), int(n)))
            else:
                tasks_.append(TaskCount(*key, touch, str(owner), state, bool(late), int(n)))
        return per_touch, days_, tasks_

    def _errors(self, conn: Connection, cohort: Table) -> list[ErrorCount]:
        stmt = (
            select(cohort.c.jid, cohort.c.ver, T.c.touch_id, func.coalesce(T.c.error, ""), func.count())
            .join_from(T, cohort, T.c.deal_id == cohort.c.deal)
            .where(T.c.state == "failed")
            .group_by(cohort.c.jid, cohort.c.ver, T.c.touch_id, T.c.error)
        )
        return [ErrorCount(*row) for row in conn.execute(stmt)]

    def _letters(self, conn: Connection, cohort: Table) -> list[LetterCount]:
        print_by_day = floor(days(L.c.print_by) - cohort.c.c)
        delay = case(
            (
                and_(L.c.state == "posted", L.c.posted_at.is_not(None), L.c.print_by.is_not(None)),
                journey_day(cohort, L.c.posted_at) - print_by_day,
            ),
            else_=null(),
        )
        overdue = case(
            (
                and_(L.c.state.in_(UNPOSTED), L.c.print_by.is_not(None), cohort.c.now_day > print_by_day),
                1,
            ),
            else_=0,
        )
        stmt = (
            select(cohort.c.jid, cohort.c.ver, L.c.touch_id, L.c.state, delay, overdue, func.count())
            .join_from(L, cohort, L.c.deal_id == cohort.c.deal)
            .group_by(cohort.c.jid, cohort.c.ver, L.c.touch_id, L.c.state, delay, overdue)
        )
        return [
            LetterCount(jid, ver, touch, state, None if d is None else int(d), bool(o), n)
            for jid, ver, touch, state, d, o, n in conn.execute(stmt)
        ]

    def _deliveries(self, conn: Connection, cohort: Table) -> list[DeliveryCount]:
        outbox = or_(DL.c.detail.like("written to %"), DL.c.detail.like("already in the outbox%"))
        smtp = case((and_(DL.c.detail.is_not(None), not_(outbox)), 1), else_=0)
        bounced = case(
            (and_(DL.c.state == "failed", DL.c.detail.like("% refused: 5%")), 1),
            (and_(DL.c.state == "failed", DL.c.detail.like("message refused after DATA: 5%")), 1),
            else_=0,
        )
        stmt = (
            select(cohort.c.jid, cohort.c.ver, DL.c.touch_id, DL.c.channel, DL.c.state, smtp, bounced, func.count())
            .join_from(DL, cohort, DL.c.deal_id == cohort.c.deal)
            .where(DL.c.channel.in_(("email", "webhook")))  # a task's mail to its owner is the task's
            .group_by(cohort.c.jid, cohort.c.ver, DL.c.touch_id, DL.c.channel, DL.c.state, smtp, bounced)
        )
        return [
            DeliveryCount(jid, ver, touch, channel, state, bool(sm), bool(bo), n)
            for jid, ver, touch, channel, state, sm, bo, n in conn.execute(stmt)
        ]

    def _referrals(self, conn: Connection, cohort: Table, referral_touches: list[str]) -> list[ReferralCount]:
        """New deals naming a customer of the cohort in `referred_by`, by the referral touch that
        customer got last before the new deal was received."""
        new = J.alias("new_journey")
        referred_by = D.c.payload["referred_by"].as_string()
        ask: Any
        if referral_touches:
            ask = (
                select(T.c.touch_id)
                .where(
                    T.c.deal_id == cohort.c.deal,
                    T.c.touch_id.in_(referral_touches),
                    T.c.state.in_(REACHED),
                    T.c.completed_at <= new.c.received_at,
                )
                .order_by(T.c.completed_at.desc())
                .limit(1)
                .scalar_subquery()
            )
        else:
            ask = cast(null(), String)
        rows = (
            select(cohort.c.jid.label("jid"), cohort.c.ver.label("ver"), ask.label("touch"))
            .join_from(D, new, new.c.deal_id == D.c.deal_id)
            .join(cohort, cohort.c.deal == referred_by)
            .where(D.c.deal_id != cohort.c.deal)
            .subquery("referred")
        )
        stmt = select(rows.c.jid, rows.c.ver, rows.c.touch, func.count()).group_by(rows.c.jid, rows.c.ver, rows.c.touch)
        return [ReferralCount(*row) for row in conn.execute(stmt)]

    def _attention(self, conn: Connection, cohort: Table) -> list[Attention]:
        """The newest few of each kind per journey: failed touches, tasks open past their day,
        letters not posted by their print-by day."""
        due_day = journey_day(cohort, func.coalesce(T.c.due, T.c.planned_due))
        print_by_day = floor(days(L.c.print_by) - cohort.c.c)
        failed = (
            select(
                cohort.c.jid.label("jid"),
                cohort.c.ver.label("ver"),
                T.c.deal_id.label("deal"),
                T.c.touch_id.label("touch"),
                literal("failed", String).label("why"),
                T.c.updated_at.label("since"),
                T.c.error.label("detail"),
            )
            .join_from(T, cohort, T.c.deal_id == cohort.c.deal)
            .where(T.c.state == "failed")
        )
        tasks = (
            select(
                cohort.c.jid,
                cohort.c.ver,
                T.c.deal_id,
                T.c.touch_id,
                literal("task-overdue", String),
                func.coalesce(T.c.due, T.c.planned_due),
                cast(due_day, String),
            )
            .join_from(T, cohort, T.c.deal_id == cohort.c.deal)
            .where(
                T.c.channel == "task",
                T.c.state == "running",
                cohort.c.state == "active",
                cohort.c.now_day > due_day,
            )
        )
        letters = (
            select(
                cohort.c.jid,
                cohort.c.ver,
                L.c.deal_id,
                L.c.touch_id,
                literal("letter-overdue", String),
                L.c.queued_at,
                cast(L.c.print_by, String),
            )
            .join_from(L, cohort, L.c.deal_id == cohort.c.deal)
            .where(L.c.state.in_(UNPOSTED), L.c.print_by.is_not(None), cohort.c.now_day > print_by_day)
        )
        every = union_all(failed, tasks, letters).subquery("every")
        ranked = select(
            every,
            func.row_number()
            .over(partition_by=(every.c.jid, every.c.why), order_by=(every.c.since.desc(), every.c.deal))
            .label("rank"),
        ).subquery("ranked")
        stmt = (
            select(
                ranked.c.jid,
                ranked.c.ver,
                ranked.c.deal,
                ranked.c.touch,
                ranked.c.why,
                ranked.c.since,
                ranked.c.detail,
            )
            .where(ranked.c.rank <= ATTENTION_PER_KIND)
            .order_by(ranked.c.jid, ranked.c.why, ranked.c.since.desc())
        )
        since_type = T.c.updated_at.type
        return [
            Attention(jid, ver, deal, touch, why, moment(since, since_type, conn), detail)
            for jid, ver, deal, touch, why, since, detail in conn.execute(stmt)
        ]

    def deal_facts(self, deal_id: str, now: datetime) -> DealFacts | None:
        return deal_facts(self.ledger, deal_id, now)


def _together(first: FigureFacts, second: FigureFacts) -> FigureFacts:
    """Two halves' facts as one. The versions are the same (one snapshot). The counted buckets
    are put side by side: a key that both halves counted comes twice, and compute.py adds the
    two. Of what needs attention, the newest few of each kind per journey are kept, as one
    query over all customers would keep them."""
    together = FigureFacts(now=first.now, period=first.period, versions=first.versions)
    for name in FigureFacts.COUNTED:
        setattr(together, name, getattr(first, name) + getattr(second, name))
    newest_first = sorted(
        first.attention + second.attention,
        key=lambda a: (a.journey, a.why, -(a.since.timestamp() if a.since else float("-inf")), a.deal),
    )
    kept: dict[tuple[str, str], int] = {}
    for a in newest_first:
        n = kept[(a.journey, a.why)] = kept.get((a.journey, a.why), 0) + 1
        if n <= ATTENTION_PER_KIND:
            together.attention.append(a)
    return together


__all__ = ["LedgerFigures"]
