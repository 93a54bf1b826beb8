"""The timeline's calendar: weekends, closed days, the month row and the day axis, for any length.

A 30-day journey and a 365-day one share a page of the same width, so the axis picks its label
step from the length (at most about ten labels, on round days), and each month label carries its
full and its short name: the page's CSS shows whichever fits the month's own width (a container
query per month), so a name is shown whole or not at all, never clipped, in every language.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NotRequired, TypedDict

from hundred.rendering.i18n import Words
from hundred.reports.timeline.words import SHORT, reason_text

MAX_LABELS = 10
STEPS = (1, 2, 5, 10, 20, 30, 50, 100)


class Weekend(TypedDict):
    """A run of weekend days: `start`/`end` in journey days, then `left`/`width` in % of the track."""

    start: int
    end: int
    left: NotRequired[float]
    width: NotRequired[float]


class Month(TypedDict):
    """One month on the month row; `days` and `width` are filled in once the next month is known."""

    left: float
    off: int
    first: bool
    full: str
    abbr: str
    year: str
    detail: str
    days: NotRequired[int]
    width: NotRequired[float]


def _pct(offset: float, span: int) -> float:
    return round(offset / span * 100, 3)


def label_step(length: int) -> int:
    """Days between labelled ticks: 10 for 100 days (as before), 5 for 30, 20 for 200, 50 for 365."""
    return next((s for s in STEPS if length / s <= MAX_LABELS), STEPS[-1])


def calendar(
    plan: dict[str, Any], start: date, span: int, length: int, w: Words, closed_in: dict[date, str]
) -> dict[str, Any]:
    """Everything the page draws behind and under the touches, in `w`'s language."""
    closed = {d: reason_text(w, r) for d, r in closed_in.items()}
    weekends: list[Weekend] = []
    holidays: list[dict[str, Any]] = []
    for off in range(span):
        d = start + timedelta(days=off)
        if d in closed:
            holidays.append(
                {"left": _pct(off, span), "width": _pct(1, span), "label": f"{w.date(d, SHORT + ' y')}: {closed[d]}"}
            )
        elif d.weekday() >= 5:
            if weekends and weekends[-1]["end"] == off:
                weekends[-1]["end"] = off + 1
            else:
                weekends.append({"start": off, "end": off + 1})
    for we in weekends:
        we["left"], we["width"] = _pct(we["start"], span), _pct(we["end"] - we["start"], span)
    months: list[Month] = []
    for off in range(span):
        d = start + timedelta(days=off)
        if off == 0 or d.day == 1:
            months.append(
                {
                    "left": _pct(off, span),
                    "off": off,
                    "first": off == 0,
                    "full": w.date(d, "LLLL"),
                    "abbr": w.date(d, "LLL"),
                    "year": w.date(d, "y") if off == 0 or d.month == 1 else "",
                    "detail": w("{date} · day {n}", date=w.date(d, "d MMM"), n=w.number(off)),
                }
            )
    for m, nxt in zip(months, months[1:] + [None], strict=False):
        m["days"] = (nxt["off"] if nxt else span) - m["off"]
        m["width"] = _pct(m["days"], span)
    if len(months) > 1 and months[0]["days"] < 15 and not months[1]["year"]:  # too short to show its label
        months[1]["year"] = w.date(start + timedelta(days=months[1]["off"]), "y")
    step = label_step(length)
    last_tick = max(length, span - 1)
    ticks = [
        {"x": _pct(n + 0.5, span), "day": w.number(n), "date": w.date(start + timedelta(days=n), "d MMM")}
        for n in range(0, last_tick + 1, step)
    ]
    grid = [_pct(n + 0.5, span) for n in range(0, last_tick + 1, step)]
    weeks = [_pct(n + 0.5, span) for n in range(7, last_tick + 1, 7)]
    listed = [{"date": w.date(d, SHORT + " y"), "reason": r} for d, r in sorted(closed.items())]
    return {
        "weekends": weekends,
        "holidays": holidays,
        "months": months,
        "ticks": ticks,
        "grid": grid,
        "weeks": weeks,
        "closed": listed,
        "step": step,
        "full_names_from": full_names_from(months, span),
    }


def full_names_from(months: list[Month], span: int) -> int:
    """The month row's width (px) below which every month takes its short name, so that one
    month squeezed to "sep" does not sit beside a spelled-out "augustus". Estimated from the
    names' lengths (bold 13.4 px: up to 9.1 px a letter, measured in Chromium, plus padding);
    whole months only: a partial first or last month decides by its own container query."""
    widest = [(len(m["full"]) * 9.2 + 10) * span / m["days"] for m in months if m["days"] >= 28]
    return round(max(widest, default=0))
