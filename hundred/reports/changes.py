"""A journey diff (`hundred.journeys.diff`) said in people's words, in the journey's language.

`hundred journeys diff` prints these lines and the studio lists them per version in flight; the
`changes` catalog (hundred/rendering/locales/<lang>/LC_MESSAGES/changes.po) holds the words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hundred.journeys.diff import Change
from hundred.rendering.i18n import Words


@dataclass(frozen=True)
class ChangeLine:
    kind: str  # Change.kind, for styling
    label: str  # the kind in words: "moved", "verplaatst"
    touch: str | None
    text: str


def _value(w: Words, key: str, value: Any) -> str:
    if value is None:
        return w("(not set)")
    if key == "day":
        return w("day {n}", n=value)
    if isinstance(value, bool):
        return w("yes") if value else w("no")
    if isinstance(value, str):
        return f"“{value}”" if key in ("subject", "title", "when", "name") else value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or w("(none)")
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _arrow(w: Words, key: str, before: Any, after: Any) -> str:
    if key == "day":  # "day 10 → day 12" says its field already
        return w("{before} → {after}", before=_value(w, key, before), after=_value(w, key, after))
    return w("{field} {before} → {after}", field=key, before=_value(w, key, before), after=_value(w, key, after))


LABELS = {
    "added": "added",
    "removed": "removed",
    "moved": "moved",
    "reworded": "reworded",
    "channel": "channel",
    "changed": "changed",
    "gate": "gate",
    "settings": "settings",
}


def change_line(w: Words, c: Change) -> ChangeLine:
    label = w(LABELS.get(c.kind, c.kind))
    if c.kind in ("added", "removed"):
        fields = dict((k, a if c.kind == "added" else b) for k, b, a in c.fields)
        what = [str(fields.get("channel", ""))] + [
            _value(w, k, fields[k]) for k in ("subject", "title", "template") if fields.get(k)
        ]
        text = w("{touch} ({what}), day {day}", touch=c.touch, what=", ".join(x for x in what if x), day=c.day)
    elif c.kind == "gate" and c.touch is None:
        (_, before, after) = c.fields[0]
        text = w(
            "the affirm gate now waits for: {after} (was: {before})",
            after=_value(w, "", list(after)),
            before=_value(w, "", list(before)),
        )
    elif c.kind == "gate":
        key, before, after = c.fields[0]
        gated = after is True if key == "referral" else after == "advocate"
        text = (
            w("{touch} now waits for the affirm phase", touch=c.touch)
            if gated
            else w("{touch} no longer waits for the affirm phase", touch=c.touch)
        )
    elif c.kind == "settings":
        text = "; ".join(_arrow(w, k, b, a) for k, b, a in c.fields)
    else:
        text = f"{c.touch}: " + "; ".join(_arrow(w, k, b, a) for k, b, a in c.fields)
    return ChangeLine(c.kind, label, c.touch, text)


def ahead_text(w: Words, change: Change, ahead: int, deals: int) -> str:
    """How many customers on the version this change still reaches."""
    if change.kind == "settings" or (change.kind == "gate" and change.touch is None):
        return w.plural("{n} deal on this version", "{n} deals on this version", deals)
    if change.kind == "removed":
        return w.plural(
            "still ahead for {n} deal: an upgrade cancels it",
            "still ahead for {n} deals: an upgrade cancels it",
            ahead,
        )
    if change.kind == "added":
        return w.plural("its day is still ahead for {n} deal", "its day is still ahead for {n} deals", ahead)
    return w.plural("still ahead for {n} deal", "still ahead for {n} deals", ahead)


__all__ = ["ChangeLine", "change_line", "ahead_text"]
