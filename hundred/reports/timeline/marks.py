"""The Coleman linter's warnings as marks on the timeline page (hundred/reports/timeline/page.py).

A warning (`validate --json`'s shape, with its `mark`) becomes a shaded band over a stretch of days
(`silence`, `condition-gap`, `mail`), a flag beside a touch (`referral-late`, `affirm-early`) or a
flag in an empty phase's lane (`phases`). A band spans the real markers of the touches around it on
this customer's plan when they are there, else the journey days the linter measured on the typical
deal. Every mark is focusable and carries its message and hint as text: no colour alone.
"""

from __future__ import annotations

from typing import Any

from hundred.rendering.i18n import Words, words
from hundred.reports.timeline.rows import Lane, TouchRow, WarningItem, WarningMark


def _band_label(w: Words, rule: str, days: int) -> str:
    """ "12 days silent" / "12 dagen stil", per rule (the linter's rule names stay as they are)."""
    if rule == "silence":
        return w.plural("{n} day silent", "{n} days silent", days)
    if rule == "condition-gap":
        return w.plural("{n} day silent if skipped", "{n} days silent if skipped", days)
    if rule == "mail":
        return w.plural("{n} day without a letter", "{n} days without a letter", days)
    return w.plural("{n} day: warning", "{n} days: warning", days)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pct(offset: float, span: int) -> float:
    return round(offset / span * 100, 3)


def _drawn(item: WarningItem, kind: str, left: float, label: str) -> WarningMark:
    """A copy of the listed warning (its `drawn` as it is now) with what to draw, and where."""
    return {
        "n": item["n"],
        "rule": item["rule"],
        "message": item["message"],
        "hint": item["hint"],
        "line": item["line"],
        "drawn": item["drawn"],
        "kind": kind,
        "left": left,
        "label": label,
    }


def warning_marks(
    warnings: list[dict[str, Any]] | None,
    touches: list[TouchRow],
    lanes: list[Lane],
    span: int,
    length: int,
    w: Words | None = None,
) -> tuple[list[WarningMark], list[WarningItem]]:
    """(marks to draw, every warning as a listed item); marks refer to listed items by `n`.
    `w`: the page's words (English when not given); the linter's own messages stay as written."""
    w = w or words(None, "timeline")
    by_id = {t["id"]: t for t in touches}
    lane_of = {lane["phase"]: lane for lane in lanes}
    marks: list[WarningMark] = []
    listed: list[WarningItem] = []
    for n, warning in enumerate(warnings or []):
        if not isinstance(warning, dict):
            continue
        rule = str(warning.get("rule") or "")
        mark: dict[str, Any] = warning["mark"] if isinstance(warning.get("mark"), dict) else {}
        item: WarningItem = {
            "n": n,
            "rule": rule,
            "message": str(warning.get("message") or ""),
            "hint": str(warning.get("hint") or ""),
            "line": _int(warning.get("line")),
            "drawn": False,
        }
        listed.append(item)
        kind = mark.get("kind")
        if kind == "band":
            lo = by_id[mark["from_touch"]]["offset"] if mark.get("from_touch") in by_id else _int(mark.get("from_day"))
            hi = by_id[mark["to_touch"]]["offset"] if mark.get("to_touch") in by_id else _int(mark.get("to_day"))
            if lo is None or hi is None:
                continue
            hi = min(hi, span - 1)
            if hi <= lo:
                continue
            days = hi - lo
            band = _drawn(item, "band", _pct(lo + 0.5, span), _band_label(w, rule, days))
            band.update({"width": _pct(days, span), "days": days, "from": lo, "to": hi})
            marks.append(band)
        elif kind == "flag" and mark.get("touch") in by_id:
            t = by_id[mark["touch"]]
            flag = _drawn(item, "flag", t["x"], f"{rule}: {t['title']}")
            flag.update({"top": t["y"], "touch": t["id"]})
            marks.append(flag)
        elif kind == "phase" and mark.get("phase") in lane_of:
            lane = lane_of[mark["phase"]]
            flag = _drawn(item, "flag", 0.6, w("{rule}: {phase} has no touch", rule=rule, phase=lane["label"]))
            flag.update({"top": lane["mid"], "touch": ""})
            marks.append(flag)
        else:
            continue
        item["drawn"] = True
    bands = [m for m in marks if m["kind"] == "band"]
    for k, band in enumerate(bands):  # labels of overlapping bands stack instead of covering each other
        taken = {other["row"] for other in bands[:k] if other["from"] < band["to"] and band["from"] < other["to"]}
        band["row"] = next(row for row in range(len(bands)) if row not in taken)  # the lowest free row
        band["end"] = band["left"] > 45 or band["left"] + band["width"] > 70  # label and hint open leftwards
    return marks, listed
