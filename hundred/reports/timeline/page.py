"""One customer's 100-day plan as a self-contained HTML page (README: `hundred plan --html`).

`render_timeline_html(plan)` takes the `--json` output of `hundred plan` and returns one HTML page
with a visual timeline (phases as bands, touches as channel markers with details on hover, focus or
click) and a printable table of every touch. The page loads nothing from the network: CSS, JS and
SVG are inline, and a Content-Security-Policy forbids anything else.

Everything that comes from the plan (journey, CRM and marketer text) is escaped by jinja2's
autoescape; the details shown by the script are server-rendered, escaped HTML that the script only
clones, so no plan data is ever interpolated into JavaScript.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from markupsafe import Markup

from hundred.planning.notes import Note
from hundred.rendering.i18n import Words, words
from hundred.reports.timeline.axis import calendar
from hundred.reports.timeline.layout import (
    ACT_KINDS,
    ACT_WORDS,
    actual_marks,
    gate_rows,
    lane_rows,
    parse_date,
    parse_datetime,
    plain_int,
    touch_rows,
    zone_label,
)
from hundred.reports.timeline.legend import CHANNELS, OTHER_CHANNEL
from hundred.reports.timeline.marks import warning_marks
from hundred.reports.timeline.words import LONG

__all__ = ["render_timeline_html", "plan_zones"]


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    """The page template, compiled once per process (compiling it is ~0.1 s, a page's render far less)."""
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["csp_hash"] = lambda s: base64.b64encode(hashlib.sha256(str(s).encode()).digest()).decode()
    text = resources.files("hundred.reports.timeline").joinpath("timeline.html.j2").read_text(encoding="utf-8")
    return env.from_string(text)


def _css() -> Markup:
    """The page's style sheet, inlined (the page loads nothing); ours, so not escaped."""
    return Markup(resources.files("hundred.reports.timeline").joinpath("timeline.css").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------- main
def plan_zones(the_plan: Any) -> dict[str, Any]:
    """What a `planner.Plan` knows beyond its JSON, for `render_timeline_html(..., **plan_zones(plan))`:
    the time zone of each touch (its due time carries the zone the planner chose for it, the
    contact's, or the journey's for tasks, so the page names it without a second copy of that rule),
    and each touch's notes as data (plan_notes.Note), said in the page's language by their kind."""
    return {
        "zones": {t.touch: str(getattr(t.due.tzinfo, "key", "") or "") for t in the_plan.touches},
        "contact_timezone": the_plan.deal.contact.timezone or the_plan.journey.timezone,
        "notes": {t.touch: list(t.notes) for t in the_plan.touches},
    }


def _closed_days(plan: dict[str, Any]) -> dict[date, str]:
    closed = {}
    for c in plan.get("closed_days") or []:
        d = parse_date(c.get("date")) if isinstance(c, dict) else parse_date(c)
        if d:
            closed[d] = str(c.get("reason") or "closed") if isinstance(c, dict) else "closed"
    return closed


def _closed_at(plan: dict[str, Any], w: Words) -> str:
    """The close, in the journey's zone, saying which: "vr 20 nov 2026, 14:03 (Europe/Amsterdam)"."""
    closed_at = parse_datetime(plan.get("closed_at"))
    if closed_at is None:
        return ""
    zone_name = str(plan.get("timezone") or "")
    try:
        local = closed_at.astimezone(ZoneInfo(zone_name)) if zone_name else closed_at
    except (ZoneInfoNotFoundError, ValueError):
        local, zone_name = closed_at, ""
    label = zone_name or zone_label(w, None, local, "", "")
    return w("{date}, {time} ({zone})", date=w.date(local, LONG), time=w.time(local), zone=label)


def render_timeline_html(
    plan: dict[str, Any],
    *,
    title: str | None = None,
    links: dict[str, list[tuple[str, str]]] | None = None,
    warnings: list[dict[str, Any]] | None = None,
    lang: str | None = None,
    zones: Mapping[str, str] | None = None,
    contact_timezone: str | None = None,
    notes: Mapping[str, Sequence[Note | str]] | None = None,
    actual: Mapping[str, Mapping[str, Any]] | None = None,
    nav: Markup | None = None,
    extra: Markup | None = None,
) -> str:
    """Return a self-contained HTML page showing `plan` (the `hundred plan --json` dict).

    `links` maps a touch id to (label, relative href) pairs, shown in the details and the table;
    hrefs with a scheme (http:, javascript: ...) are shown as plain text, never as links.
    `warnings` are the Coleman linter's (`validate --json`'s warnings): listed above the chart and
    marked on it (timeline_marks.py). `lang` overrides the plan's `locale` for the page's words,
    dates and numbers (`--lang`). `zones` (touch id → IANA zone) and `contact_timezone` come from
    `plan_zones(plan)`: each row names its zone; without them a row shows its UTC offset. So do
    `notes` (touch id → its notes as data, said in the page's language); a touch not in them shows
    the plan's own notes as written.

    `actual` draws what really happened over the plan (one customer's journey, the deal page):
    touch id → {"day": the journey day it happened (None: not yet), "kind": "on-time" | "late" |
    "failed" | "skipped" | "cancelled" | "open", "text": what happened, in words}; each such
    touch gets a mark on its day joined to its planned marker, and the table a column saying it.
    `nav` (links above the page) and `extra` (sections after the table) are ready HTML.
    """
    w = words(lang or plan.get("locale"), "timeline")
    touches_in = plan.get("touches") or []
    start = (
        parse_date(plan.get("start_date"))
        or parse_date(plan.get("closed_at"))
        or min((d for d in (parse_date(t.get("due")) for t in touches_in) if d), default=None)
    )
    if start is None:
        raise ValueError("plan has no start_date, closed_at or touch due date to anchor the timeline")
    length = plain_int(plan.get("length")) or 100
    contact_zone = str(contact_timezone or "")
    touches = touch_rows(plan, start, links or {}, w, zones or {}, contact_zone, notes or {})
    span = max([length] + [t["offset"] for t in touches]) + 1
    empty = tuple(
        str(x["mark"].get("phase"))
        for x in warnings or []
        if isinstance(x, dict) and isinstance(x.get("mark"), dict) and x["mark"].get("kind") == "phase"
    )
    lanes, height = lane_rows(plan, touches, span, w, empty)
    gates = gate_rows(lanes, touches, span, w)
    acts = actual_marks(actual or {}, touches, span)
    wmarks, warns = warning_marks(warnings, touches, lanes, span, length, w)
    for mark in wmarks:
        for t in touches:
            if mark["kind"] == "flag" and t["id"] == mark["touch"]:
                t.setdefault("warns", []).append(mark)
    cal = calendar(plan, start, span, length, w, _closed_days(plan))
    counts: dict[str, int] = {}
    for t in touches:
        counts[t["shape"]] = counts.get(t["shape"], 0) + 1
    legend = [
        {"shape": k, "label": w(v[0]), "colour": v[1], "count": w.number(counts[k])}
        for k, v in CHANNELS.items()
        if counts.get(k)
    ]
    if counts.get("other"):
        legend.append(
            {
                "shape": "other",
                "label": w(OTHER_CHANNEL[0]),
                "colour": OTHER_CHANNEL[1],
                "count": w.number(counts["other"]),
            }
        )
    heading = title or plan.get("name") or plan.get("journey") or w("Onboarding journey")
    journey_zone = str(plan.get("timezone") or "")
    return _template().render(
        css=_css(),
        w=w,
        wn=w.plural,
        title=str(heading),
        plan=plan,
        journey=str(plan.get("journey") or ""),
        customer=str(plan.get("customer") or ""),
        deal=str(plan.get("deal") or ""),
        timezone=journey_zone,
        contact_zone=contact_zone if contact_zone != journey_zone else "",
        start=w.date(start, LONG),
        end=w.date(start + timedelta(days=length), LONG),
        length=length,
        closed_at=_closed_at(plan, w),
        touches=touches,
        lanes=lanes,
        gates=gates,
        cal=cal,
        height=height,
        legend=legend,
        any_moved=any(t["moved"] for t in touches),
        wmarks=wmarks,
        warns=warns,
        any_gated=bool(gates),
        acts=acts,
        act_words=ACT_WORDS,
        act_kinds=sorted({a["kind"] for a in acts.values() if a.get("x") is not None}, key=ACT_KINDS.index),
        with_actual=actual is not None,
        nav=nav or "",
        extra=extra or "",
    )
