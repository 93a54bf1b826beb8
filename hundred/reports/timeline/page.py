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
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from markupsafe import Markup

from hundred.journeys.model import PHASES
from hundred.planning.notes import ONLY_IF, PRINT_KINDS, WAIT_KINDS, Note
from hundred.rendering.i18n import Words, words
from hundred.reports.timeline.axis import calendar
from hundred.reports.timeline.marks import warning_marks
from hundred.reports.timeline.rows import ActualMark, Gate, Lane, LinkRow, NoteRow, TouchRow
from hundred.reports.timeline.words import SHORT, note_class, note_text

__all__ = ["render_timeline_html", "plan_zones", "PHASES", "PHASE_COLOURS", "CHANNELS"]

LONG = SHORT + " y"  # "Fri 20 Nov 2026" / "vr 20 nov 2026"

# Calm, distinguishable colours in Coleman's order; bands use a pale tint of each.
PHASE_COLOURS = dict(
    zip(
        PHASES,
        (
            "#5b7fb0",
            "#3f9a9c",
            "#5f9f68",
            "#a3a43f",
            "#c99236",
            "#cf7257",
            "#a56b95",
            "#7069b8",
        ),
        strict=False,
    )
)
OTHER_COLOUR = "#8a94a3"


def N_(text: str) -> str:
    """Marks a word for the catalog whose translation is looked up later (`w(label)`)."""
    return text


# channel -> (label, marker colour); each channel also has its own SVG shape in the template.
CHANNELS = {
    "letter": (N_("Letter"), "#a0522d"),
    "email": (N_("Email"), "#2068a8"),
    "task": (N_("Task"), "#2e7a4c"),
    "webhook": (N_("Webhook"), "#5b4a9c"),
}
OTHER_CHANNEL = (N_("Other"), "#5f6b7a")

ROW_PX = 32  # vertical distance between stacked markers
LANE_PAD = 8  # space above and below the markers of a lane
_SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*:")


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


# ---------------------------------------------------------------------------------------- helpers
def _dt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _date(value: Any) -> date | None:
    if isinstance(value, str) and len(value.strip()) >= 10:
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _tint(hex_colour: str, keep: float) -> str:
    """Mix a #rrggbb colour with white; `keep` is the share of the colour kept."""
    rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * keep):02x}" for c in rgb)


def _safe_href(href: Any) -> str | None:
    """Relative hrefs only: no scheme (javascript:, http:, data: ...) and no protocol-relative //."""
    if not isinstance(href, str):
        return None
    text = href.strip()
    if not text:
        return None
    if _SCHEME.match(text) or text.startswith(("//", "\\\\", "/\\", "\\/")):
        return None
    return text


def _pct(offset: float, span: int) -> float:
    return round(offset / span * 100, 3)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ------------------------------------------------------------------------------------------ model
def zone_label(w: Words, zone: str | None, due: datetime | None, journey_zone: str, contact_zone: str) -> str:
    """Which time zone a touch's time is in: the zone the planner planned it in ("Europe/Amsterdam"),
    marked as the contact's or the journey's when those differ; without that, its UTC offset."""
    if not zone:
        offset = due.utcoffset() if due else None
        if offset is None:
            return ""
        minutes = int(offset.total_seconds() // 60)
        return f"UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if contact_zone and journey_zone and contact_zone != journey_zone:
        if zone == contact_zone:
            return w("{zone} (contact)", zone=zone)
        if zone == journey_zone:
            return w("{zone} (journey)", zone=zone)
    return zone


def _touches(
    plan: dict[str, Any],
    start: date,
    links: Mapping[str, list[tuple[str, str]]],
    w: Words,
    zones: Mapping[str, str],
    contact_zone: str,
    given: Mapping[str, Sequence[Note | str]],
) -> list[TouchRow]:
    out: list[TouchRow] = []
    for i, t in enumerate(plan.get("touches") or []):
        tid = str(t.get("touch") or f"touch-{i + 1}")
        planned = _int(t.get("day"))
        due = _dt(t.get("due"))
        when = (due.date() if due else None) or start + timedelta(days=planned or 0)
        offset = (when - start).days
        channel = str(t.get("channel") or "")
        ch_label, ch_colour = CHANNELS.get(channel, OTHER_CHANNEL)
        phase = str(t.get("phase") or "")
        when_expr = str(t.get("when") or "")
        raw = [
            n
            for n in (given[tid] if tid in given else t.get("notes") or [])
            if n is not None and str(n).strip() and not (when_expr and isinstance(n, Note) and n.kind == ONLY_IF)
        ]  # shown as "Only if"
        kinds = {n.kind for n in raw if isinstance(n, Note)}
        met = t.get("condition_met")
        gated = t.get("gated_by")
        print_by = _date(t.get("print_by"))
        notes: list[NoteRow] = [{"text": note_text(n, w), "cls": note_class(n)} for n in raw]
        said = {n["text"] for n in notes}  # a plain plan dict's notes may say these already, as written
        if gated and not kinds & WAIT_KINDS and w("waits for {what}", what=str(gated)) not in said:
            notes.append({"text": w("waits for {what}", what=str(gated)), "cls": "wait"})
        if print_by and not kinds & PRINT_KINDS and w("print by {day}", day=w.date(print_by, SHORT)) not in said:
            notes.append({"text": w("print by {day}", day=w.date(print_by, SHORT)), "cls": ""})
        utc = _dt(t.get("due_utc"))
        item_links: list[LinkRow] = []
        for label, href in links.get(tid) or []:
            item_links.append({"label": str(label), "href": _safe_href(href)})
        out.append(
            {
                "i": i,
                "id": tid,
                "phase": phase,
                "channel": channel,
                "channel_label": w(ch_label),
                "channel_colour": ch_colour,
                "shape": channel if channel in CHANNELS else "other",
                "title": str(t.get("title") or tid),
                "description": t.get("description") or "",
                "when": when_expr,
                "skipped": met is False,
                "verdict": "" if met is None else (w("true for this deal") if met else w("false: skipped")),
                "gated_by": str(gated) if gated else "",
                "planned": planned,
                "offset": offset,
                "date": when,
                "date_short": w.date(when, SHORT),
                "date_long": w.date(when, LONG),
                "time": w.time(due) if due else "",
                "zone": zone_label(w, zones.get(tid), due, str(plan.get("timezone") or ""), contact_zone),
                "utc_time": w.time(utc, tzinfo=UTC) if utc else "",
                "notes": notes,
                "links": item_links,
                "moved": planned is not None and planned != offset,
                "sort": (offset, due.timestamp() if due else 0.0, i),
            }
        )
    out.sort(key=lambda t: t["sort"])
    for n, t in enumerate(out):
        t["order"] = n
    return out


def _lanes(
    plan: dict[str, Any], touches: list[TouchRow], span: int, w: Words, empty: tuple[str, ...] = ()
) -> tuple[list[Lane], int]:
    info = {str(p.get("phase")): p for p in plan.get("phases") or [] if p.get("phase")}
    names = [p for p in PHASES if p in info or p in empty or any(t["phase"] == p for t in touches)]
    names += [p for p in dict.fromkeys(list(info) + [t["phase"] for t in touches]) if p not in names]
    gap = max(1, math.ceil(span * 0.05))  # days between markers sharing a row: 24 px apart on a 480 px track
    lanes: list[Lane] = []
    top = 0
    for name in names:
        p = info.get(name, {})
        mine = [t for t in touches if t["phase"] == name]
        rows: list[int] = []
        for t in mine:
            for r, last in enumerate(rows):
                if t["offset"] - last >= gap:
                    rows[r] = t["offset"]
                    t["row"] = r
                    break
            else:
                rows.append(t["offset"])
                t["row"] = len(rows) - 1
        height = LANE_PAD * 2 + max(1, len(rows)) * ROW_PX
        colour = PHASE_COLOURS.get(name, OTHER_COLOUR)
        days = [t["offset"] for t in mine] + [t["planned"] for t in mine if t["planned"] is not None]
        days += [d for d in (_int(p.get("first_day")), _int(p.get("last_day"))) if d is not None]
        lane: Lane = {
            "phase": name,
            "label": str(p.get("label") or name.capitalize() or w("Other")),
            "colour": colour,
            "tint": _tint(colour, 0.22),
            "edge": _tint(colour, 0.55),
            "count": len(mine),
            "top": top,
            "height": height,
            "mid": top + height / 2,
            "band": None,
        }
        if mine and days:
            lo, hi = min(days), max(days)
            lane["band"] = {"left": _pct(lo, span), "width": _pct(hi - lo + 1, span), "first": lo, "last": hi}
        for t in mine:
            t["x"] = _pct(t["offset"] + 0.5, span)
            t["y"] = top + LANE_PAD + t["row"] * ROW_PX + ROW_PX / 2
            t["phase_label"], t["phase_colour"] = lane["label"], colour
            if t["moved"] and t["planned"] is not None:  # moved: planned for another day
                t["ghost_x"] = _pct(t["planned"] + 0.5, span)
        lanes.append(lane)
        top += height
    return lanes, top


def _gates(lanes: list[Lane], touches: list[TouchRow], span: int, w: Words) -> list[Gate]:
    by_phase = {lane["phase"]: lane for lane in lanes}
    gates: list[Gate] = []
    for lane in lanes:
        gated = [t for t in touches if t["phase"] == lane["phase"] and t["gated_by"]]
        if not gated:
            continue
        first = min(gated, key=lambda t: t["offset"])
        src = by_phase.get(first["gated_by"])
        src_band = src["band"] if src else None
        x0 = _pct(src_band["last"] + 1, span) if src_band else 0.0
        # a post where the gate phase ends, in the gated lane, and a dashed line to the first touch
        gates.append(
            {
                "x": x0,
                "y0": lane["top"] + 6,
                "y1": lane["top"] + lane["height"] - 6,
                "y": first["y"],
                "x1": max(x0, first["x"] - 1.2),
                "label": w("waits for {what}", what=src["label"] if src else first["gated_by"]),
            }
        )
    return gates


ACT_KINDS = ("on-time", "late", "failed", "skipped", "cancelled", "open")
ACT_WORDS = {
    "on-time": N_("happened on time"),
    "late": N_("happened late"),
    "failed": N_("failed"),
    "skipped": N_("skipped or expired"),
    "cancelled": N_("cancelled"),
    "open": N_("under way"),
}


def _actual_marks(actual: Mapping[str, Mapping[str, Any]], touches: list[TouchRow], span: int) -> dict[str, ActualMark]:
    """Where what really happened goes on the track: on the journey day it happened, in the
    planned marker's row, joined to it by a line."""
    out: dict[str, ActualMark] = {}
    for t in touches:
        a = actual.get(t["id"])
        if a is None:
            continue
        kind = str(a.get("kind") or "open")
        day = _int(a.get("day"))
        mark: ActualMark = {
            "kind": kind if kind in ACT_KINDS else "open",
            "text": str(a.get("text") or ""),
            "x": None,
        }
        if day is not None and "y" in t:
            x = _pct(min(max(day, 0), span - 1) + 0.5, span)
            mark.update({"x": x, "y": t["y"] + 13, "from_x": min(x, t["x"]), "width": abs(x - t["x"])})
        out[t["id"]] = mark
    return out


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
        d = _date(c.get("date")) if isinstance(c, dict) else _date(c)
        if d:
            closed[d] = str(c.get("reason") or "closed") if isinstance(c, dict) else "closed"
    return closed


def _closed_at(plan: dict[str, Any], w: Words) -> str:
    """The close, in the journey's zone, saying which: "vr 20 nov 2026, 14:03 (Europe/Amsterdam)"."""
    closed_at = _dt(plan.get("closed_at"))
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
        _date(plan.get("start_date"))
        or _date(plan.get("closed_at"))
        or min((d for d in (_date(t.get("due")) for t in touches_in) if d), default=None)
    )
    if start is None:
        raise ValueError("plan has no start_date, closed_at or touch due date to anchor the timeline")
    length = _int(plan.get("length")) or 100
    contact_zone = str(contact_timezone or "")
    touches = _touches(plan, start, links or {}, w, zones or {}, contact_zone, notes or {})
    span = max([length] + [t["offset"] for t in touches]) + 1
    empty = tuple(
        str(x["mark"].get("phase"))
        for x in warnings or []
        if isinstance(x, dict) and isinstance(x.get("mark"), dict) and x["mark"].get("kind") == "phase"
    )
    lanes, height = _lanes(plan, touches, span, w, empty)
    gates = _gates(lanes, touches, span, w)
    acts = _actual_marks(actual or {}, touches, span)
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
