"""The planner's notes in the reader's language: each kind of note (plan_notes.py) said through the
`timeline` catalog, its dates in the locale's own words ("ma 23 nov").

The planner records a note as data (`Note(kind, values)`); its English wording lives in
plan_notes.py for `hundred plan --json`, and this module says the same note for people: the timeline
page, the plan table and the preview index. Nothing here reads English back. A plain string (a
note in a hand-made plan dict) is shown as written, never dropped. `tests/test_timeline_i18n.py`
checks that every kind of note has its Dutch words here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hundred.planning import notes as pn
from hundred.planning.notes import Note
from hundred.rendering.i18n import Words

SHORT = "EEE d MMM"  # the notes' day format: "Mon 23 Nov" / "ma 23 nov"
LONG = SHORT + " y"  # "Fri 20 Nov 2026" / "vr 20 nov 2026"


def transit_text(w: Words, kind: str, n: int) -> str:
    """("domestic", 2) → "binnenland: 2 werkdagen"; a country code becomes its name."""
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


def _not_set(w: Words, v: Mapping[str, Any]) -> str:
    fields = ", ".join(v["fields"])
    if v["value"]:
        return w("{fields} not set for this deal: true unless set before the touch runs", fields=fields)
    return w("{fields} not set for this deal: skipped unless set before the touch runs", fields=fields)


def _sayings(w: Words) -> dict[str, Callable[[Mapping[str, Any]], str]]:
    def day(value: Any) -> str:
        return w.date(value, SHORT)

    return {
        pn.MOVED: lambda v: w("moved from {day} ({why})", day=day(v["day"]), why=reason_text(w, v["why"])),
        pn.AT_ONCE: lambda v: w("at once (inside the send window)"),
        pn.AFTER_HOURS: lambda v: w("after hours: first thing {day}", day=day(v["day"])),
        pn.LATE_CUTOFF: lambda v: w(
            "late: arrives {day} (the deal closed after the {time} batch of {closed})",
            day=day(v["day"]),
            time=v["time"],
            closed=day(v["closed"]),
        ),
        pn.LATE_FIRST: lambda v: w(
            "late: arrives {day} (the first batch it can make is {first})", day=day(v["day"]), first=day(v["first"])
        ),
        pn.PRINT_BY: lambda v: w(
            "print by {day} ({transit})", day=day(v["day"]), transit=transit_text(w, *v["transit"])
        ),
        pn.WAIT_PRINT: lambda v: w(
            "waits for affirm: print by {day}, arrives {arrives} ({transit})",
            day=day(v["day"]),
            arrives=day(v["arrives"]),
            transit=transit_text(w, *v["transit"]),
        ),
        pn.WAIT_MOVED: lambda v: w("waits for affirm: moved to {day}", day=day(v["day"])),
        pn.WAITS: lambda v: w("waits for affirm"),
        pn.ONLY_IF: lambda v: w("only if {when} ({verdict})", when=v["when"], verdict=note_text(v["verdict"], w)),
        pn.PROBLEM: lambda v: w("problem: {what}", what=v["what"]),
        pn.TRUE: lambda v: w("true for this deal"),
        pn.FALSE: lambda v: w("false for this deal: skipped"),
        pn.UNJUDGED: lambda v: w("cannot be judged yet: {why}", why=v["why"]),
        pn.NOT_SET: lambda v: _not_set(w, v),
    }


def said_kinds(w: Words) -> frozenset[str]:
    """The kinds of note this module can say (the test holds it to plan_notes.KINDS)."""
    return frozenset(_sayings(w))


def note_text(note: Note | str | None, w: Words) -> str:
    """A note in `w`'s language; a plain string as written; a kind not known here in English."""
    if note is None:
        return ""
    if not isinstance(note, Note):
        return str(note)
    say = _sayings(w).get(note.kind)
    return say(note.values) if say else str(note)


def note_class(note: Note | str) -> str:
    """How the page styles a note: "wait" for the affirm gate, "warn" for a late letter, else ""."""
    kind = note.kind if isinstance(note, Note) else ""
    return "wait" if kind in pn.WAIT_KINDS else "warn" if kind in pn.LATE_KINDS else ""


def verdict_text(w: Words, verdict: Note | str) -> str:
    """A `when:` verdict (conditions.judge's `reason`) in `w`'s language.

    The ledger stores a skipped touch's verdict as its English (`Verdict.note`, the event's
    detail), and `simulate` tells the story from the ledger, so it passes that string: the one place
    a verdict is read back, kept to the shapes conditions.py makes; anything else is shown as written."""
    if isinstance(verdict, Note):
        return note_text(verdict, w)
    if verdict in (str(Note(pn.TRUE)), str(Note(pn.FALSE)), "false: skipped"):
        return note_text(Note(pn.TRUE if verdict == str(Note(pn.TRUE)) else pn.FALSE), w)
    if verdict.startswith("cannot be judged yet: "):
        return note_text(Note(pn.UNJUDGED, {"why": verdict.removeprefix("cannot be judged yet: ")}), w)
    for verb in (" is", " are"):
        for value in (True, False):
            tail = str(Note(pn.NOT_SET, {"fields": ("",), "value": value})).removeprefix(" is")
            if verdict.endswith(verb + tail):
                fields = verdict.removesuffix(verb + tail)
                return note_text(Note(pn.NOT_SET, {"fields": (fields,), "value": value}), w)
    return verdict
