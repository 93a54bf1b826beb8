"""The planner's notes ("print by Mon 23 Nov (domestic: 2 business days)") in the reader's language.

The planner writes its notes in English, because `hundred plan --json` carries them and that
output is a contract for programs. The timeline page and the plan table are for people, so each
note the planner can make is recognised here by its English shape and said again through the
`timeline` catalog, with its dates in the locale's own words ("ma 23 nov"). A note of a shape not
listed here (a preview's "problem: …", a future planner note) is shown as written, never dropped;
`tests/test_timeline_i18n.py` plans the shipped journeys and fails when a planner note is not
recognised, so a reworded note in the planner is noticed at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from .i18n import Words

SHORT = "EEE d MMM"  # the notes' day format: "Mon 23 Nov" / "ma 23 nov"

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAY = rf"(?:{'|'.join(_WEEKDAYS)}) \d{{1,2}} (?:{'|'.join(_MONTHS)})"
_TRANSIT = r"(?P<kind>[^:()]+): (?P<n>\d+) business days?"


def english_day(text: str, near: date) -> date | None:
    """"Mon 23 Nov" → the date with that weekday, day and month closest to `near` (the planner's
    short form carries no year; a journey spans at most two, and the weekday settles which)."""
    match = re.fullmatch(rf"({'|'.join(_WEEKDAYS)}) (\d{{1,2}}) ({'|'.join(_MONTHS)})", text.strip())
    if not match:
        return None
    weekday, day, month = _WEEKDAYS.index(match[1]), int(match[2]), _MONTHS.index(match[3]) + 1
    found = []
    for year in range(near.year - 1, near.year + 3):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate.weekday() == weekday:
            found.append(candidate)
    return min(found, key=lambda d: abs((d - near).days), default=None)


def transit_text(w: Words, kind: str, n: int) -> str:
    """"domestic: 2 business days" → "binnenland: 2 werkdagen"; a country code becomes its name."""
    kind = kind.strip()
    if kind == "domestic":
        where = w("domestic")
    elif kind == "abroad":
        where = w("abroad")
    else:
        where = w.locale.territories.get(kind.upper(), kind)
    return w.plural("{where}: {n} business day", "{where}: {n} business days", n, where=where)


def reason_text(w: Words, reason: str) -> str:
    """Why a day is closed: the calendar's fixed words translated; a holiday's name as it is."""
    fixed = {"weekend": w("weekend"), "closed": w("closed"), "no workday": w("no workday")}
    return fixed.get(reason, reason)


def verdict_text(w: Words, note: str) -> str:
    """conditions.judge's verdict notes."""
    if note == "true for this deal":
        return w("true for this deal")
    if note in ("false for this deal: skipped", "false: skipped"):
        return w("false for this deal: skipped")
    if note.startswith("cannot be judged yet: "):
        return w("cannot be judged yet: {why}", why=note.removeprefix("cannot be judged yet: "))
    match = re.fullmatch(r"(?P<fields>.+) (?:is|are) not set for this deal: (?P<out>true|false: skipped) "
                         r"unless it is set before the touch runs", note)
    if match:
        if match["out"] == "true":
            return w("{fields} not set for this deal: true unless set before the touch runs", fields=match["fields"])
        return w("{fields} not set for this deal: skipped unless set before the touch runs", fields=match["fields"])
    return note


def _rules(w: Words, day: Callable[[str], str]) -> list[tuple[str, Callable[[re.Match], str]]]:
    return [
        (rf"moved from (?P<d>{_DAY}) \((?P<why>.+)\)",
         lambda m: w("moved from {day} ({why})", day=day(m["d"]), why=reason_text(w, m["why"]))),
        (r"at once \(inside the send window\)", lambda m: w("at once (inside the send window)")),
        (rf"after hours: first thing (?P<d>{_DAY})", lambda m: w("after hours: first thing {day}", day=day(m["d"]))),
        (rf"late: arrives (?P<d>{_DAY}) \(the deal closed after the (?P<t>\d\d:\d\d) batch of (?P<c>{_DAY})\)",
         lambda m: w("late: arrives {day} (the deal closed after the {time} batch of {closed})",
                     day=day(m["d"]), time=m["t"], closed=day(m["c"]))),
        (rf"late: arrives (?P<d>{_DAY}) \(the first batch it can make is (?P<f>{_DAY})\)",
         lambda m: w("late: arrives {day} (the first batch it can make is {first})", day=day(m["d"]), first=day(m["f"]))),
        (rf"print by (?P<d>{_DAY}) \({_TRANSIT}\)",
         lambda m: w("print by {day} ({transit})", day=day(m["d"]), transit=transit_text(w, m["kind"], int(m["n"])))),
        (rf"print by (?P<d>{_DAY})", lambda m: w("print by {day}", day=day(m["d"]))),
        (rf"waits for affirm: print by (?P<d>{_DAY}), arrives (?P<a>{_DAY}) \({_TRANSIT}\)",
         lambda m: w("waits for affirm: print by {day}, arrives {arrives} ({transit})", day=day(m["d"]),
                     arrives=day(m["a"]), transit=transit_text(w, m["kind"], int(m["n"])))),
        (rf"waits for affirm: moved to (?P<d>{_DAY})", lambda m: w("waits for affirm: moved to {day}", day=day(m["d"]))),
        (r"waits for affirm", lambda m: w("waits for affirm")),
        (r"waits for (?P<what>.+)", lambda m: w("waits for {what}", what=m["what"])),
        (r"only if (?P<when>.+) \((?P<note>[^()]+(?:\([^()]*\)[^()]*)*)\)",
         lambda m: w("only if {when} ({verdict})", when=m["when"], verdict=verdict_text(w, m["note"]))),
        (r"problem: (?P<what>.+)", lambda m: w("problem: {what}", what=m["what"])),
    ]


def note_text(note: str, w: Words, near: date) -> tuple[str, bool]:
    """(the note in `w`'s language, whether its shape was recognised). `near` is a date close to
    the note's dates (the touch's due date), to give the planner's short days their year."""
    def day(text: str) -> str:
        found = english_day(text, near)
        return w.date(found, SHORT) if found else text

    for pattern, say in _rules(w, day):
        match = re.fullmatch(pattern, note, re.DOTALL)
        if match:
            return say(match), True
    return note, False
