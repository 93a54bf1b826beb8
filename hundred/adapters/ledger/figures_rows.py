"""The rows every figure reads, worked out once per page: the period's journeys with
their journey days (the cohort), and every touch of theirs with the day it reached its customer.

Both are written into temporary tables of the page's one read transaction
(hundred/adapters/ledger/figures.py queries them), so the touches are read once, through the
covering index of migration 0008_figspeed, however many figures are made of them.

The cohort: journeys received in the period (`Period`), with their journey days (closed_on,
day_zero, day_seconds: hundred/planning/days.py). A moment's journey day is
`floor((moment - day_zero) / day_seconds)`, the same rule as `JourneyDays.day`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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
    null,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select

from hundred.adapters.ledger.models import DealRecord, JourneyRecord, TouchRecord, UTCDateTime
from hundred.adapters.ledger.sqldays import days, floor
from hundred.reports.figures.facts import Period, VersionInfo

REACHED = ("delivered", "done")  # the customer got it: sent, posted, or the owner did it
CUSTOMER_FACING = ("letter", "email", "task")  # the linter's (hundred/validation/lint/rules.py)
UNPOSTED = ("queued", "batched", "printed")
OPEN_TASK = ("planned", "scheduled", "running", "failed")
# The temporary tables a page's queries share (one connection's, for one page's queries).
_TEMPORARY = MetaData()
COHORT = Table(
    "figures_cohort",  # the journeys received in the period, with their days: see cohort_rows
    _TEMPORARY,
    Column("deal", String(200), primary_key=True),
    Column("jid", String(64)),
    Column("ver", String(64)),
    Column("v", Integer),  # the version's number in `Versions.rows`: a short sort key for jid and ver
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
)
TOUCHES = Table(
    "figures_touches",  # every touch of the cohort, its days worked out once: see touch_rows
    _TEMPORARY,
    Column("deal", String(200)),
    Column("v", Integer),  # the cohort's: its version's number in `Versions.rows`
    Column("touch", String(64)),
    Column("phase", String(16)),
    Column("channel", String(16)),
    Column("state", String(16)),
    Column("day", Integer),  # the journey day it reached the customer (delivered, posted, done); NULL if not
    Column("owner", Text),  # a task's: the deal's owner; NULL on the other channels
    Column("late", Integer),  # a task's: 1 if done after its day or still open past it, else 0; NULL on others
    Column("end_day", Integer),  # the cohort's: the day its journey's story ends (see cohort_rows)
    prefixes=["TEMPORARY"],
)
COHORT_COLUMNS = tuple(c.name for c in COHORT.columns)
J, T, D = JourneyRecord.__table__, TouchRecord.__table__, DealRecord.__table__


def least(a: Any, b: Any) -> ColumnElement[Any]:
    """The smaller of two values, in SQL both databases speak."""
    return case((a < b, a), else_=b)


def greatest(a: Any, b: Any) -> ColumnElement[Any]:
    """The larger of two values, in SQL both databases speak."""
    return case((a > b, a), else_=b)


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

    def number(self, cohort_jid: Any, cohort_ver: Any) -> ColumnElement[int]:
        """The version's index in `rows`: what the figures group by instead of the journey id and
        the version (two long strings that every comparison of a sort would read); NULL for a
        version not in `rows` (one begun after they were read), whose figures are not made."""
        whens = [(and_(cohort_jid == v.journey, cohort_ver == v.version), i) for i, v in enumerate(self.rows)]
        return case(*whens, else_=null()) if whens else cast(null(), Integer)

    def key(self, number: int | None) -> tuple[str, str] | None:
        """The (journey, version) of a number `number()` gave, or None."""
        if number is None:
            return None
        return self.rows[number].journey, self.rows[number].version

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


@dataclass(frozen=True)
class Share:
    """The journeys whose row number leaves `part` when divided by `parts`: a share of the
    customers that a connection of its own counts beside the others (figures.py)."""

    part: int
    parts: int


def cohort_rows(
    period: Period, journey: str | None, now: datetime, versions: Versions, share: Share | None = None
) -> Select[Any]:
    """The journeys received in the period with what every query needs of them: day zero `z`
    and the close date `c` as days since 1970, the length of a journey day `s` in seconds,
    the journey's length in days, its owner, its journey day now, and the day its story ends
    for the silence check (today, its exit, or its last day). With a `share`, only those of
    that share."""
    where = []
    if period.since is not None:
        where.append(J.c.received_at >= period.since)
    if period.until is not None:
        where.append(J.c.received_at < period.until)
    if journey is not None:
        where.append(J.c.journey_id == journey)
    if share is not None:
        where.append(J.c.id % share.parts == share.part)
    z = func.coalesce(days(J.c.day_zero), days(J.c.received_at))
    base = (
        select(
            J.c.deal_id.label("deal"),
            J.c.journey_id.label("jid"),
            J.c.version.label("ver"),
            versions.number(J.c.journey_id, J.c.version).label("v"),
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
        (clock.c.state == "active", least(clock.c.now_day, clock.c.length)),
        (clock.c.state == "exited", least(clock.c.exit_day, clock.c.length)),
        else_=clock.c.length,
    )
    return select(*(clock.c[name] for name in COHORT_COLUMNS if name != "end_day"), end_day.label("end_day"))


@contextlib.contextmanager
def temporary(conn: Connection, table: Table, rows: Select[Any]) -> Iterator[Table]:
    """`rows` written once into a temporary table of this connection, so the queries after it
    join a table instead of each computing the same values again; dropped after, and before in
    case a request died half-way on this connection. The tables are defined once (above), so
    every query on them is compiled once per process, not per page. (No `postgresql_on_commit`:
    a dialect option makes SQLAlchemy import its PostgreSQL dialect, ~40 ms, in every process
    that imports the ledger, SQLite ones too.)"""
    conn.exec_driver_sql(
        f"DROP TABLE IF EXISTS {table.name}"
    )  # left by a request that died half-way on this connection
    table.create(conn)
    try:
        conn.execute(insert(table).from_select([c.name for c in table.columns], rows))
        if table is COHORT:
            # its size for the planner (neither database gathers it for a temporary table by
            # itself): a period's few journeys then lead each join, their touches, letters and
            # deliveries looked up by deal, rather than every row of those scanned for its journey
            conn.exec_driver_sql(f"ANALYZE {table.name}")
        yield table
    finally:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")


def touch_rows(cohort: Table) -> Select[Any]:
    """Every touch of the cohort with what the figures ask of it, worked out in one pass over
    the touches (the covering index of migration 0008_figspeed, no table reads): the journey
    day it reached its customer (delivered, posted or done), and for a task its owner and
    whether it is late. The per-touch counts, the days, the tasks, the funnel, the silences and
    the affirm check all read this table instead of joining the touches again."""
    reached = and_(T.c.state.in_(REACHED), T.c.completed_at.is_not(None))
    due_day = journey_day(cohort, func.coalesce(T.c.due, T.c.planned_due))
    late = case(
        (T.c.state == "done", case((journey_day(cohort, T.c.completed_at) > due_day, 1), else_=0)),
        (and_(T.c.state.in_(OPEN_TASK), cohort.c.state == "active", cohort.c.now_day > due_day), 1),
        else_=0,
    )
    task = T.c.channel == "task"
    return select(
        T.c.deal_id,
        cohort.c.v,
        T.c.touch_id,
        T.c.phase,
        T.c.channel,
        T.c.state,
        case((reached, journey_day(cohort, T.c.completed_at)), else_=null()),
        case((task, cohort.c.owner), else_=null()),
        case((task, late), else_=null()),
        cohort.c.end_day,
    ).join_from(cohort, T, T.c.deal_id == cohort.c.deal)


def journey_day(cohort: Table, at: Any) -> ColumnElement[int]:
    """The journey day of the moment `at`, on each cohort journey's own clock."""
    return floor((days(at) - cohort.c.z) * 86400.0 / cohort.c.s)


def moment(value: Any, column_type: Any, conn: Connection) -> datetime | None:
    """A timestamp read through a union or an aggregate, where the column's type did not apply:
    an aware UTC datetime (SQLite hands back its naive text)."""
    if not isinstance(column_type, UTCDateTime):
        raise TypeError(f"not one of the ledger's timestamp columns: {column_type!r}")
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return column_type.process_result_value(value, conn.dialect)


__all__ = ["COHORT", "TOUCHES", "Share", "Versions", "cohort_rows", "journey_day", "moment", "temporary", "touch_rows"]
