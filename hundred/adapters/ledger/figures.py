"""How each journey is doing, counted by SQL in the ledger (issue 20): the `FigureSource` port.

Every figure is a GROUP BY over the ledger's tables, answered for all journeys (or one) at once:
the database counts, Python only reads the buckets (hundred/reports/figures/compute.py). No
query is made per journey or per customer; a page costs the same dozen queries with 20 or 2,000
journeys in the ledger, and the indexes of migration 0007 keep their scans short.

The cohort: journeys received in the period (`Period`), with their journey days (closed_on,
day_zero, day_seconds: hundred/planning/days.py). A moment's journey day is
`floor((moment - day_zero) / day_seconds)`, the same rule as `JourneyDays.day`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

from hundred.adapters.ledger.models import (
    BatchLetterRecord,
    BatchRecord,
    DealRecord,
    DeliveryRecord,
    EventRecord,
    JourneyRecord,
    LetterRecord,
    TouchRecord,
    UTCDateTime,
)
from hundred.adapters.ledger.sqldays import days, floor
from hundred.adapters.ledger.store import Ledger
from hundred.reports.figures.facts import (
    AffirmLate,
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
    SilenceCount,
    StoryDelivery,
    StoryEvent,
    StoryLetter,
    StoryTouch,
    TaskCount,
    TouchCount,
    VersionInfo,
)

REACHED = ("delivered", "done")  # the customer got it: sent, posted, or the owner did it
CUSTOMER_FACING = ("letter", "email", "task")  # the linter's (hundred/validation/lint/rules.py)
UNPOSTED = ("queued", "batched", "printed")
OPEN_TASK = ("planned", "scheduled", "running", "failed")
ATTENTION_PER_KIND = 10
# The temporary tables a page's queries share (one connection's, for one page's queries).
_TEMPORARY = MetaData()
COHORT = Table(
    "figures_cohort",  # the journeys received in the period, with their days: see LedgerFigures._cohort
    _TEMPORARY,
    Column("deal", String(200), primary_key=True),
    Column("jid", String(64)),
    Column("ver", String(64)),
    Column("state", String(16)),
    Column("exit_reason", Text),
    Column("updated", Float),
    Column("z", Float),
    Column("s", Float),
    Column("c", Float),
    Column("length", Integer),
    Column("owner", Text),
    Column("now_day", Integer),
    Column("exit_day", Integer),
    Column("end_day", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
TOUCHES = Table(
    "figures_touches",  # every touch of the cohort, its days worked out once: see LedgerFigures._touch_rows
    _TEMPORARY,
    Column("deal", String(200)),
    Column("jid", String(64)),
    Column("ver", String(64)),
    Column("touch", String(64)),
    Column("phase", String(16)),
    Column("channel", String(16)),
    Column("state", String(16)),
    Column("day", Integer),  # the journey day it reached the customer (delivered, posted, done); NULL if not
    Column("owner", Text),  # a task's: the deal's owner; NULL on the other channels
    Column("late", Integer),  # a task's: 1 if done after its day or still open past it, else 0; NULL on others
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
COHORT_COLUMNS = tuple(c.name for c in COHORT.columns)
EVENTS_MAX = 2000

J, T, D = JourneyRecord.__table__, TouchRecord.__table__, DealRecord.__table__
L, DL, E = LetterRecord.__table__, DeliveryRecord.__table__, EventRecord.__table__
B, BL = BatchRecord.__table__, BatchLetterRecord.__table__


def _least(a: Any, b: Any) -> ColumnElement[Any]:
    return case((a < b, a), else_=b)


class Versions:
    """The journey versions in the ledger and the per-version numbers the SQL needs (length)."""

    def __init__(self, rows: Sequence[VersionInfo]):
        self.rows = list(rows)

    def length(self, cohort_jid: Any, cohort_ver: Any) -> ColumnElement[int]:
        whens = [
            (and_(cohort_jid == v.journey, cohort_ver == v.version), int(v.snapshot.get("length") or 100))
            for v in self.rows
        ]
        return case(*whens, else_=100) if whens else literal(100)

    def referral_touches(self) -> list[str]:
        ids = set()
        for v in self.rows:
            for block in v.snapshot.get("phases") or []:
                for t in block.get("touches") or []:
                    if t.get("referral"):
                        ids.add(str(t.get("id")))
        return sorted(ids)

    def affirm_touches(self) -> list[str]:
        return sorted(
            {
                str(t.get("id"))
                for v in self.rows
                for block in v.snapshot.get("phases") or []
                if block.get("phase") == "affirm"
                for t in block.get("touches") or []
            }
        )


class LedgerFigures:
    """The `FigureSource` port on a SQL ledger: read-only, one short read transaction per call."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger

    # -- the cohort ------------------------------------------------------------------------------

    def _cohort(self, period: Period, journey: str | None, now: datetime, versions: Versions) -> Select[Any]:
        """The journeys received in the period with what every query needs of them: day zero `z`
        and the close date `c` as days since 1970, the length of a journey day `s` in seconds,
        the journey's length in days, its owner, its journey day now, and the day its story ends
        for the silence check (today, its exit, or its last day)."""
        where = []
        if period.since is not None:
            where.append(J.c.received_at >= period.since)
        if period.until is not None:
            where.append(J.c.received_at < period.until)
        if journey is not None:
            where.append(J.c.journey_id == journey)
        z = func.coalesce(days(J.c.day_zero), days(J.c.received_at))
        base = (
            select(
                J.c.deal_id.label("deal"),
                J.c.journey_id.label("jid"),
                J.c.version.label("ver"),
                J.c.state.label("state"),
                J.c.exit_reason.label("exit_reason"),
                days(J.c.updated_at).label("updated"),
                z.label("z"),
                func.coalesce(J.c.day_seconds, 86400.0).label("s"),
                func.coalesce(days(J.c.closed_on), z).label("c"),
                versions.length(J.c.journey_id, J.c.version).label("length"),
                func.coalesce(D.c.payload[("owner", "name")].as_string(), "").label("owner"),
            )
            .select_from(J.outerjoin(D, D.c.deal_id == J.c.deal_id))
            .where(*where)
            .subquery("base")
        )
        now_days = literal(now.timestamp() / 86400.0, Float)
        clock = select(
            base,
            floor((now_days - base.c.z) * 86400.0 / base.c.s).label("now_day"),
            floor((base.c.updated - base.c.z) * 86400.0 / base.c.s).label("exit_day"),
        ).subquery("clock")
        end_day = case(
            (clock.c.state == "active", _least(clock.c.now_day, clock.c.length)),
            (clock.c.state == "exited", _least(clock.c.exit_day, clock.c.length)),
            else_=clock.c.length,
        )
        return select(*(clock.c[name] for name in COHORT_COLUMNS if name != "end_day"), end_day.label("end_day"))

    @contextlib.contextmanager
    def _temporary(self, conn: Connection, table: Table, rows: Select[Any]) -> Iterator[Table]:
        """`rows` written once into a temporary table of this connection, so the queries after it
        join a table instead of each computing the same values again; dropped after (PostgreSQL
        also drops it when the transaction ends). The tables are defined once (below), so every
        query on them is compiled once per process, not per page."""
        table.drop(conn, checkfirst=True)  # left by a request that died half-way on this connection
        table.create(conn)
        try:
            conn.execute(insert(table).from_select([c.name for c in table.columns], rows))
            yield table
        finally:
            table.drop(conn, checkfirst=True)

    def _touch_rows(self, cohort: Table) -> Select[Any]:
        """Every touch of the cohort with what the figures ask of it, worked out in one pass over
        the touches (the covering index of migration 0008_figspeed, no table reads): the journey
        day it reached its customer (delivered, posted or done), and for a task its owner and
        whether it is late. The per-touch counts, the days, the tasks, the funnel, the silences and
        the affirm check all read this table instead of joining the touches again."""
        reached = and_(T.c.state.in_(REACHED), T.c.completed_at.is_not(None))
        due_day = self._day(cohort, func.coalesce(T.c.due, T.c.planned_due))
        late = case(
            (T.c.state == "done", case((self._day(cohort, T.c.completed_at) > due_day, 1), else_=0)),
            (and_(T.c.state.in_(OPEN_TASK), cohort.c.state == "active", cohort.c.now_day > due_day), 1),
            else_=0,
        )
        task = T.c.channel == "task"
        return select(
            T.c.deal_id,
            cohort.c.jid,
            cohort.c.ver,
            T.c.touch_id,
            T.c.phase,
            T.c.channel,
            T.c.state,
            case((reached, self._day(cohort, T.c.completed_at)), else_=null()),
            case((task, cohort.c.owner), else_=null()),
            case((task, late), else_=null()),
        ).join_from(cohort, T, T.c.deal_id == cohort.c.deal)

    @staticmethod
    def _day(cohort: Table, moment: Any) -> ColumnElement[int]:
        return floor((days(moment) - cohort.c.z) * 86400.0 / cohort.c.s)

    # -- the figures -----------------------------------------------------------------------------

    def figure_facts(self, period: Period, journey: str | None, now: datetime) -> FigureFacts:
        facts = FigureFacts(now=now, period=period)
        with self.ledger._read() as session:
            conn = session.connection()
            facts.versions = self._versions(conn, journey)
            versions = Versions(facts.versions)
            with self._temporary(conn, COHORT, self._cohort(period, journey, now, versions)) as cohort:
                facts.journeys = self._journeys(conn, cohort)
                if not facts.journeys:
                    return facts
                with self._temporary(conn, TOUCHES, self._touch_rows(cohort)) as touches:
                    facts.touches, facts.days, facts.tasks = self._touch_buckets(conn, touches)
                    facts.days += self._phase_days(conn, touches)
                    facts.silences = self._silences(conn, cohort, touches)
                    facts.affirm_late = self._affirm_late(conn, cohort, touches, versions.affirm_touches())
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
            VersionInfo(jid, ver, snapshot or {}, int(active or 0), _moment(at, received, conn))
            for jid, ver, snapshot, active, at in rows
        ]

    def _journeys(self, conn: Connection, cohort: Table) -> list[JourneyCount]:
        stmt = select(cohort.c.jid, cohort.c.ver, cohort.c.state, cohort.c.exit_reason, func.count()).group_by(
            cohort.c.jid, cohort.c.ver, cohort.c.state, cohort.c.exit_reason
        )
        return [JourneyCount(*row) for row in conn.execute(stmt)]

    def _touch_buckets(
        self, conn: Connection, touches: Table
    ) -> tuple[list[TouchCount], list[DayCount], list[TaskCount]]:
        """Per touch its states, the day each one that reached the customer did so, and its tasks
        by owner, state and lateness: one GROUP BY over the cohort's touches into buckets, which
        the three answers then add up (a few hundred rows, not one per touch)."""
        f = touches.c
        keys = (f.jid, f.ver, f.touch, f.channel, f.state, f.day, f.owner, f.late)
        buckets = select(*keys, func.count().label("n")).group_by(*keys).cte("buckets")
        b = buckets.c
        none_text, none_int = cast(null(), String), cast(null(), Integer)
        per_state = select(
            literal("state", String), b.jid, b.ver, b.touch, b.state, none_int, none_text, none_int, func.sum(b.n)
        ).group_by(b.jid, b.ver, b.touch, b.state)
        per_day = (
            select(literal("day", String), b.jid, b.ver, b.touch, none_text, b.day, none_text, none_int, func.sum(b.n))
            .where(b.day.is_not(None))
            .group_by(b.jid, b.ver, b.touch, b.day)
        )
        tasks = (
            select(literal("task", String), b.jid, b.ver, b.touch, b.state, none_int, b.owner, b.late, func.sum(b.n))
            .where(b.channel == "task")
            .group_by(b.jid, b.ver, b.touch, b.owner, b.state, b.late)
        )
        per_touch: list[TouchCount] = []
        days_: list[DayCount] = []
        tasks_: list[TaskCount] = []
        for kind, jid, ver, touch, state, day, owner, late, n in conn.execute(union_all(per_state, per_day, tasks)):
            if kind == "state":
                per_touch.append(TouchCount(jid, ver, touch, state, int(n)))
            elif kind == "day":
                days_.append(DayCount(jid, ver, "touch", touch, int(day), int(n)))
            else:
                tasks_.append(TaskCount(jid, ver, touch, str(owner), state, bool(late), int(n)))
        return per_touch, days_, tasks_

    def _phase_days(self, conn: Connection, touches: Table) -> list[DayCount]:
        """Per phase the day its first touch reached each customer (the funnel)."""
        f = touches.c
        first = (
            select(f.jid, f.ver, f.phase, func.min(f.day).label("day"))
            .where(f.day.is_not(None))
            .group_by(f.deal, f.jid, f.ver, f.phase)
            .subquery("first")
        )
        stmt = select(first.c.jid, first.c.ver, first.c.phase, first.c.day, func.count()).group_by(
            first.c.jid, first.c.ver, first.c.phase, first.c.day
        )
        return [DayCount(jid, ver, "phase", phase, int(d), n) for jid, ver, phase, d, n in conn.execute(stmt)]

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
                self._day(cohort, L.c.posted_at) - print_by_day,
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

    def _silences(self, conn: Connection, cohort: Table, touches: Table) -> list[SilenceCount]:
        """Each customer's longest stretch without a customer-facing touch: from day 0 through
        every touch that reached them to the journey's end (today for one in flight, the exit for
        one that left), in whole journey days, as the linter measures a plan."""
        points = union_all(
            select(cohort.c.deal.label("deal"), literal(0).label("day")),
            select(touches.c.deal.label("deal"), touches.c.day.label("day")).where(
                touches.c.day.is_not(None), touches.c.channel.in_(CUSTOMER_FACING)
            ),
            select(cohort.c.deal.label("deal"), cohort.c.end_day.label("day")),
        ).subquery("points")
        gaps = select(
            points.c.deal,
            (points.c.day - func.lag(points.c.day).over(partition_by=points.c.deal, order_by=points.c.day)).label(
                "gap"
            ),
        ).subquery("gaps")
        longest = (
            select(gaps.c.deal, func.coalesce(func.max(gaps.c.gap), 0).label("days"))
            .group_by(gaps.c.deal)
            .subquery("longest")
        )
        stmt = (
            select(cohort.c.jid, cohort.c.ver, longest.c.days, func.count())
            .join_from(longest, cohort, longest.c.deal == cohort.c.deal)
            .group_by(cohort.c.jid, cohort.c.ver, longest.c.days)
        )
        return [SilenceCount(jid, ver, int(d), n) for jid, ver, d, n in conn.execute(stmt)]

    def _affirm_late(self, conn: Connection, cohort: Table, touches: Table, affirm: list[str]) -> list[AffirmLate]:
        if not affirm:
            return []
        got = select(touches.c.deal).where(touches.c.phase == "affirm", touches.c.day.is_not(None))
        stmt = (
            select(cohort.c.jid, cohort.c.ver, cohort.c.end_day, func.count())
            .where(cohort.c.deal.not_in(got))
            .group_by(cohort.c.jid, cohort.c.ver, cohort.c.end_day)
        )
        return [AffirmLate(jid, ver, int(d), n) for jid, ver, d, n in conn.execute(stmt)]

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
        due_day = self._day(cohort, func.coalesce(T.c.due, T.c.planned_due))
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
            Attention(jid, ver, deal, touch, why, _moment(since, since_type, conn), detail)
            for jid, ver, deal, touch, why, since, detail in conn.execute(stmt)
        ]

    # -- one customer ------------------------------------------------------------------------------

    def deal_facts(self, deal_id: str, now: datetime) -> DealFacts | None:
        with self.ledger._read() as session:
            journey = session.scalar(select(JourneyRecord).where(JourneyRecord.deal_id == deal_id))
            if journey is None:
                return None
            payload = session.scalar(select(DealRecord.payload).where(DealRecord.deal_id == deal_id)) or {}
            touches = session.scalars(
                select(TouchRecord)
                .where(TouchRecord.deal_id == deal_id)
                .order_by(TouchRecord.planned_due, TouchRecord.id)
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
                        _moment(at, printed_type, conn),
                        letter.posted_at,
                    )
                    for letter, at in letters
                ],
                deliveries=[StoryDelivery(d.touch_id, d.channel, d.state, d.detail, d.finished_at) for d in deliveries],
                referred=list(referred),
                now=now,
            )


def _moment(value: Any, column_type: Any, conn: Connection) -> datetime | None:
    """A timestamp read through a union or an aggregate, where the column's type did not apply:
    an aware UTC datetime (SQLite hands back its naive text)."""
    if not isinstance(column_type, UTCDateTime):
        raise TypeError(f"not one of the ledger's timestamp columns: {column_type!r}")
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return column_type.process_result_value(value, conn.dialect)


__all__ = ["LedgerFigures"]
