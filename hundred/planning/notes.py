"""The planner's notes as data: what kind of note, and its values (dates as dates, transit as numbers).

A note is made once, where the planner decides (planner.py, conditions.py for a `when:` verdict,
preview.py for a preview's problem), and said in two places: here in English, the one wording
`hundred plan --json` carries (a stable contract for programs, so these sentences do not change),
and in timeline_notes.py in the reader's language, by `kind`, for the timeline page, the plan table
and the preview index. Nobody reads a note's English back: a page that needs the date of a
"print by" note takes `values["day"]`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The kinds of note, with the values each carries.
MOVED = "moved"  # day: date (the planned, closed day), why: str (calendar.closed_reason)
AT_ONCE = "at once"  # —
AFTER_HOURS = "after hours"  # day: date (the first open day after the close)
LATE_CUTOFF = "late: cut-off"  # day: date (arrival), time: str ("10:00", the batch), closed: date
LATE_FIRST = "late: first batch"  # day: date (arrival), first: date (the first batch it can make)
PRINT_BY = "print by"  # day: date, transit: (kind, n)
WAIT_PRINT = "waits: print by"  # day: date (print by), arrives: date, transit: (kind, n)
WAIT_MOVED = "waits: moved"  # day: date (the first day the gate allows)
WAITS = "waits"  # —
ONLY_IF = "only if"  # when: str (the expression), verdict: Note (one of the verdict kinds)
PROBLEM = "problem"  # what: str (a preview's problem with the touch)
# verdicts of a `when:` (conditions.judge)
TRUE = "true"  # —
FALSE = "false"  # —
UNJUDGED = "cannot be judged"  # why: str
NOT_SET = "not set"  # fields: tuple[str, ...], value: bool (what it is without them)

WAIT_KINDS = frozenset({WAIT_PRINT, WAIT_MOVED, WAITS})
LATE_KINDS = frozenset({LATE_CUTOFF, LATE_FIRST})
PRINT_KINDS = frozenset({PRINT_BY, WAIT_PRINT})


@dataclass(frozen=True)
class Note:
    """One note on a planned touch; `str(note)` is its English, as `hundred plan --json` says it."""

    kind: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return english(self)


def short_day(day: date) -> str:
    """`Sat 25 Apr`: the form notes use, independent of the process locale (babel's English
    `EEE d MMM`, without loading its locale data: `validate` plans the typical deal, and fast)."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"


def transit_english(kind: str, n: int) -> str:
    """ "domestic: 2 business days": how long the post takes, as notes and `Transit` say it."""
    return f"{kind}: {n} business day{'' if n == 1 else 's'}"


def _not_set(v: Mapping[str, Any]) -> str:
    fields = v["fields"]
    verb = "is" if len(fields) == 1 else "are"
    outcome = "true" if v["value"] else "false: skipped"
    return f"{', '.join(fields)} {verb} not set for this deal: {outcome} unless it is set before the touch runs"


_ENGLISH: dict[str, Callable[[Mapping[str, Any]], str]] = {
    MOVED: lambda v: f"moved from {short_day(v['day'])} ({v['why']})",
    AT_ONCE: lambda v: "at once (inside the send window)",
    AFTER_HOURS: lambda v: f"after hours: first thing {short_day(v['day'])}",
    LATE_CUTOFF: lambda v: (
        f"late: arrives {short_day(v['day'])} (the deal closed after the {v['time']} batch of {short_day(v['closed'])})"
    ),
    LATE_FIRST: lambda v: (
        f"late: arrives {short_day(v['day'])} (the first batch it can make is {short_day(v['first'])})"
    ),
    PRINT_BY: lambda v: f"print by {short_day(v['day'])} ({transit_english(*v['transit'])})",
    WAIT_PRINT: lambda v: (
        f"waits for affirm: print by {short_day(v['day'])}, arrives {short_day(v['arrives'])} "
        f"({transit_english(*v['transit'])})"
    ),
    WAIT_MOVED: lambda v: f"waits for affirm: moved to {short_day(v['day'])}",
    WAITS: lambda v: "waits for affirm",
    ONLY_IF: lambda v: f"only if {v['when']} ({v['verdict']})",
    PROBLEM: lambda v: f"problem: {v['what']}",
    TRUE: lambda v: "true for this deal",
    FALSE: lambda v: "false for this deal: skipped",
    UNJUDGED: lambda v: f"cannot be judged yet: {v['why']}",
    NOT_SET: _not_set,
}

KINDS = frozenset(_ENGLISH)  # every kind of note there is; timeline_notes.py says each in Dutch too


def english(note: Note) -> str:
    """The note's one English wording (`--json`, lint messages, anything that wants a string)."""
    return _ENGLISH[note.kind](note.values)
