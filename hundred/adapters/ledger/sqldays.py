"""Journey days in SQL, on SQLite and PostgreSQL alike (the rule is hundred/planning/days.py).

`days(x)` is a moment or a date as days since 1970-01-01 (UTC), a float: SQLite's `julianday`
shifted to the Unix epoch, PostgreSQL's `date_part('epoch', …) / 86400`: a double, where
`extract` gives a numeric since PostgreSQL 14, whose arithmetic made the figures' read of every
touch twice as slow. A journey day is then `floor((days(moment) - days(day_zero)) * 86400 / day_seconds)`.

Journey days are never negative: every moment the ledger records comes after its journey's day 0
began (day zero is the close date's midnight, and nothing happens before the close or before the
deal is received). So on SQLite `floor` is `CAST(max(x, 0) AS INTEGER)`: the value computed once,
and no need for the math functions a SQLite may be built without.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Float, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

JULIAN_EPOCH = 2440587.5  # julianday('1970-01-01')


class days(FunctionElement[float]):
    """A datetime or date column as days since the Unix epoch (float)."""

    type = Float()
    inherit_cache = True
    name = "days"


class floor(FunctionElement[int]):
    """The largest integer not above the value."""

    type = Integer()
    inherit_cache = True
    name = "floor"


# Each function's SQL on each dialect; `{x}` stands for its argument.
_SQL: dict[type[FunctionElement[Any]], dict[str, str]] = {
    days: {"sqlite": f"(julianday({{x}}) - {JULIAN_EPOCH})", "postgresql": "(date_part('epoch', {x}) / 86400.0)"},
    floor: {"sqlite": "CAST(max({x}, 0) AS INTEGER)", "postgresql": "CAST(floor(greatest({x}, 0)) AS INTEGER)"},
}


def _compiler(template: str) -> Callable[..., str]:
    def compile_(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
        return template.format(x=compiler.process(element.clauses, **kw))

    return compile_


for _function, _dialects in _SQL.items():
    for _dialect, _template in _dialects.items():
        compiles(_function, _dialect)(_compiler(_template))
