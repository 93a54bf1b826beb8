"""What is counted per customer before it is counted per journey: the day each phase first
reached them (the funnel), their longest silence, and whether affirm has reached them yet.

Apart from the per-journey counts (figures.py) because these first group each customer's touches
(for the silences, a window over them in day order) and only then count the customers per journey.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Table, and_, case, cast, func, literal, literal_column, null, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import Select

from hundred.adapters.ledger.figures_rows import CUSTOMER_FACING, Versions, greatest
from hundred.reports.figures.facts import AffirmLate, DayCount, SilenceCount


def customer_days(
    conn: Connection, cohort: Table, touches: Table, versions: Versions
) -> tuple[list[DayCount], list[SilenceCount], list[AffirmLate]]:
    """What is counted per customer before it is counted per journey, in one statement: the
    day each phase's first touch reached them (the funnel), their longest silence
    (`_silences`), and, when a journey has an affirm phase, those it has not reached yet with
    their journey day."""
    f, c = touches.c, cohort.c
    silent = _silences(touches).subquery("silent")
    s = silent.c
    # a customer no customer-facing touch reached: silent from day 0 to the story's end
    longest = case((s.gap.is_(None), c.end_day), else_=greatest(s.gap, c.end_day - s.last))
    firsts = (
        select(f.deal, f.v, f.phase, func.min(f.day).label("day"))
        .where(f.day.is_not(None))
        .group_by(f.deal, f.v, f.phase)
        .subquery("firsts")
    )
    arms: list[Select[Any]] = [
        select(literal("silence", String), c.v, cast(null(), String), longest, func.count())
        .select_from(cohort.outerjoin(silent, s.deal == c.deal))
        .group_by(c.v, longest),
        select(literal("phase", String), firsts.c.v, firsts.c.phase, firsts.c.day, func.count()).group_by(
            firsts.c.v, firsts.c.phase, firsts.c.day
        ),
    ]
    if versions.affirm_touches():
        affirmed = select(f.deal).where(f.phase == "affirm", f.day.is_not(None))
        arms.append(
            select(literal("affirm", String), c.v, cast(null(), String), c.end_day, func.count())
            .where(c.deal.not_in(affirmed))
            .group_by(c.v, c.end_day)
        )
    phases: list[DayCount] = []
    silences: list[SilenceCount] = []
    late: list[AffirmLate] = []
    for kind, v, what, day, n in conn.execute(union_all(*arms)):
        key = versions.key(v)
        if key is None:
            continue
        if kind == "phase":
            phases.append(DayCount(*key, "phase", what, int(day), n))
        elif kind == "silence":
            silences.append(SilenceCount(*key, int(day), n))
        else:
            late.append(AffirmLate(*key, int(day), n))
    return phases, silences, late


def _silences(touches: Table) -> Select[Any]:
    """Per customer reached by a customer-facing touch, what their longest silence is made of,
    as the linter measures a plan: the longest gap between the sorted days 0, each
    customer-facing touch that reached them, and the end of their story `E` (today for one in
    flight, the exit for one that left, else the journey's last day).

    One window over those touches in day order gives each the day of the one before it
    (`prev`, 0 for the first; of two on one day either may come first: the gaps are that
    day's, then 0). Its gap is `day - prev`, or, where `E` falls between the two, the larger
    of the two parts `E` cuts it into. `gap` is the largest of these and `last` the last
    day; with the gap after the last touch (`E - last`, negative and so ignored when `E` came
    earlier) that is every gap of the sorted days, counted without sorting `E` in."""
    f = touches.c
    before = func.lag(f.day, literal_column("1"), literal_column("0")).over(partition_by=f.deal, order_by=f.day)
    ordered = (
        select(f.deal, f.day, f.end_day, before.label("prev"))
        .where(f.day.is_not(None), f.channel.in_(CUSTOMER_FACING))
        .subquery("ordered")
    )
    o = ordered.c
    cut = and_(o.end_day > o.prev, o.end_day < o.day)
    gap = case((cut, greatest(o.end_day - o.prev, o.day - o.end_day)), else_=o.day - o.prev)
    return select(o.deal, func.max(gap).label("gap"), func.max(o.day).label("last")).group_by(o.deal)
