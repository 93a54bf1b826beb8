"""One customer's 100-day plan as a self-contained HTML page (PRODUCT.md §3).

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
import hashlib
import math
import re
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

import jinja2

from .timeline_marks import warning_marks

__all__ = ["render_timeline_html", "PHASES", "PHASE_COLOURS", "CHANNELS"]

PHASES = ("assess", "admit", "affirm", "activate", "acclimate", "accomplish", "adopt", "advocate")
# Calm, distinguishable colours in Coleman's order; bands use a pale tint of each.
PHASE_COLOURS = dict(zip(PHASES, (
    "#5b7fb0", "#3f9a9c", "#5f9f68", "#a3a43f", "#c99236", "#cf7257", "#a56b95", "#7069b8",
)))
OTHER_COLOUR = "#8a94a3"
# channel -> (label, marker colour); each channel also has its own SVG shape in the template.
CHANNELS = {
    "letter": ("Letter", "#a0522d"),
    "email": ("Email", "#2068a8"),
    "task": ("Task", "#2e7a4c"),
    "webhook": ("Webhook", "#5b4a9c"),
}
OTHER_CHANNEL = ("Other", "#5f6b7a")

ROW_PX = 32  # vertical distance between stacked markers
LANE_PAD = 8  # space above and below the markers of a lane
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
_SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*:")

_env: jinja2.Environment | None = None


def _template() -> jinja2.Template:
    global _env
    if _env is None:
        _env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                                  undefined=jinja2.StrictUndefined)
        _env.filters["csp_hash"] = lambda s: base64.b64encode(
            hashlib.sha256(str(s).encode()).digest()).decode()
    text = resources.files("hundred").joinpath("timeline.html.j2").read_text(encoding="utf-8")
    return _env.from_string(text)


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


def _short(d: date) -> str:  # "Mon 23 Nov"
    return f"{d:%a} {d.day} {d:%b}"


def _long(d: date) -> str:  # "Mon 23 Nov 2026"
    return f"{d:%a} {d.day} {d:%b} {d.year}"


def _tint(hex_colour: str, keep: float) -> str:
    """Mix a #rrggbb colour with white; `keep` is the share of the colour kept."""
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * keep):02x}" for c in rgb)


def _safe_href(href: Any) -> str | None:
    """Relative hrefs only: no scheme (javascript:, http:, data: ...) and no protocol-relative //."""
    if not isinstance(href, str) or not href.strip():
        return None
    href = href.strip()
    if _SCHEME.match(href) or href.startswith(("//", "\\\\", "/\\", "\\/")):
        return None
    return href


def _pct(offset: float, span: int) -> float:
    return round(offset / span * 100, 3)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ------------------------------------------------------------------------------------------ model
def _touches(plan: dict, start: date, links: dict) -> list[dict]:
    out = []
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
        notes = [str(n) for n in (t.get("notes") or []) if n is not None and str(n).strip()
                 and not (when_expr and str(n).startswith("only if "))]  # shown as "Only if"
        met = t.get("condition_met")
        gated = t.get("gated_by")
        if gated and not any("wait" in n for n in notes):
            notes.append(f"waits for {gated}")
        print_by = _date(t.get("print_by"))
        if print_by and not any("print by" in n for n in notes):
            notes.append(f"print by {_short(print_by)}")
        utc = _dt(t.get("due_utc"))
        item_links = []
        for label, href in (links.get(tid) or []):
            item_links.append({"label": str(label), "href": _safe_href(href)})
        out.append({
            "i": i, "id": tid, "phase": phase, "channel": channel, "channel_label": ch_label,
            "channel_colour": ch_colour, "shape": channel if channel in CHANNELS else "other",
            "title": str(t.get("title") or tid), "description": t.get("description") or "",
            "when": when_expr, "skipped": met is False,
            "verdict": "" if met is None else ("true for this deal" if met else "false: skipped"),
            "gated_by": str(gated) if gated else "",
            "planned": planned, "offset": offset, "date": when, "date_short": _short(when),
            "date_long": _long(when), "time": f"{due:%H:%M}" if due else "",
            "utc_time": f"{utc:%H:%M}" if utc else "", "notes": notes, "links": item_links,
            "moved": planned is not None and planned != offset,
            "sort": (offset, due.timestamp() if due else 0.0, i),
        })
    out.sort(key=lambda t: t["sort"])
    for n, t in enumerate(out):
        t["order"] = n
    return out


def _lanes(plan: dict, touches: list[dict], span: int, empty: tuple[str, ...] = ()) -> tuple[list[dict], int]:
    info = {str(p.get("phase")): p for p in plan.get("phases") or [] if p.get("phase")}
    names = [p for p in PHASES if p in info or p in empty or any(t["phase"] == p for t in touches)]
    names += [p for p in dict.fromkeys(list(info) + [t["phase"] for t in touches]) if p not in names]
    gap = max(1, math.ceil(span * 0.028))  # days between markers sharing a row
    lanes, top = [], 0
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
        days += [d for d in (_int(p.get("first_day")),
                                                          _int(p.get("last_day"))) if d is not None]
        lane = {"phase": name, "label": str(p.get("label") or name.capitalize() or "Other"),
                "colour": colour, "tint": _tint(colour, 0.22), "edge": _tint(colour, 0.55),
                "count": len(mine), "top": top, "height": height, "mid": top + height / 2,
                "band": None}
        if mine and days:
            lo, hi = min(days), max(days)
            lane["band"] = {"left": _pct(lo, span), "width": _pct(hi - lo + 1, span),
                            "first": lo, "last": hi}
        for t in mine:
            t["x"] = _pct(t["offset"] + 0.5, span)
            t["y"] = top + LANE_PAD + t["row"] * ROW_PX + ROW_PX / 2
            t["phase_label"], t["phase_colour"] = lane["label"], colour
            if t["moved"]:
                t["ghost_x"] = _pct(t["planned"] + 0.5, span)
        lanes.append(lane)
        top += height
    return lanes, top


def _gates(lanes: list[dict], touches: list[dict], span: int) -> list[dict]:
    by_phase = {lane["phase"]: lane for lane in lanes}
    gates = []
    for lane in lanes:
        gated = [t for t in touches if t["phase"] == lane["phase"] and t["gated_by"]]
        if not gated:
            continue
        first = min(gated, key=lambda t: t["offset"])
        src = by_phase.get(first["gated_by"])
        src_band = src["band"] if src else None
        x0 = _pct(src_band["last"] + 1, span) if src_band else 0.0
        # a post where the gate phase ends, in the gated lane, and a dashed line to the first touch
        gates.append({"x": x0, "y0": lane["top"] + 6, "y1": lane["top"] + lane["height"] - 6,
                      "y": first["y"], "x1": max(x0, first["x"] - 1.2),
                      "label": f"waits for {src['label'] if src else first['gated_by']}"})
    return gates


def _calendar(plan: dict, start: date, span: int, length: int) -> dict:
    closed = {}
    for c in plan.get("closed_days") or []:
        d = _date(c.get("date")) if isinstance(c, dict) else _date(c)
        if d:
            closed[d] = str(c.get("reason") or "closed") if isinstance(c, dict) else "closed"
    weekends, holidays = [], []
    for off in range(span):
        d = start + timedelta(days=off)
        if d in closed:
            holidays.append({"left": _pct(off, span), "width": _pct(1, span),
                             "label": f"{_long(d)}: {closed[d]}"})
        elif d.weekday() >= 5:
            if weekends and weekends[-1]["end"] == off:
                weekends[-1]["end"] = off + 1
            else:
                weekends.append({"start": off, "end": off + 1})
    for w in weekends:
        w["left"], w["width"] = _pct(w["start"], span), _pct(w["end"] - w["start"], span)
    months = []
    for off in range(span):
        d = start + timedelta(days=off)
        if off == 0 or d.day == 1:
            months.append({"left": _pct(off, span), "off": off, "date": f"{d.day} {d:%b}",
                           "name": MONTHS[d.month - 1], "year": d.year, "first": off == 0})
    for m, nxt in zip(months, months[1:] + [None]):
        m["days"] = (nxt["off"] if nxt else span) - m["off"]
        m["width"] = _pct(m["days"], span)
    last_tick = max(length, span - 1)
    ticks = [{"x": _pct(n + 0.5, span), "day": n, "date": _short(start + timedelta(days=n))[4:]}
             for n in range(0, last_tick + 1, 10)]
    weeks = [_pct(n + 0.5, span) for n in range(7, last_tick + 1, 7)]
    listed = [{"date": _long(d), "reason": r} for d, r in sorted(closed.items())]
    return {"weekends": weekends, "holidays": holidays, "months": months, "ticks": ticks,
            "weeks": weeks, "closed": listed}


# ------------------------------------------------------------------------------------------- main
def render_timeline_html(plan: dict, *, title: str | None = None,
                         links: dict[str, list[tuple[str, str]]] | None = None,
                         warnings: list[dict] | None = None) -> str:
    """Return a self-contained HTML page showing `plan` (the `hundred plan --json` dict).

    `links` maps a touch id to (label, relative href) pairs, shown in the details and the table;
    hrefs with a scheme (http:, javascript: ...) are shown as plain text, never as links.
    `warnings` are the Coleman linter's (`validate --json`'s warnings): listed above the chart and
    marked on it (timeline_marks.py).
    """
    touches_in = plan.get("touches") or []
    start = (_date(plan.get("start_date")) or _date(plan.get("closed_at"))
             or min((d for d in (_date(t.get("due")) for t in touches_in) if d), default=None))
    if start is None:
        raise ValueError("plan has no start_date, closed_at or touch due date to anchor the timeline")
    length = _int(plan.get("length")) or 100
    touches = _touches(plan, start, links or {})
    span = max([length] + [t["offset"] for t in touches]) + 1
    empty = tuple(str(w["mark"].get("phase")) for w in warnings or []
                  if isinstance(w, dict) and isinstance(w.get("mark"), dict) and w["mark"].get("kind") == "phase")
    lanes, height = _lanes(plan, touches, span, empty)
    gates = _gates(lanes, touches, span)
    wmarks, warns = warning_marks(warnings, touches, lanes, span, length)
    for w in wmarks:
        for t in touches:
            if w["kind"] == "flag" and t["id"] == w["touch"]:
                t.setdefault("warns", []).append(w)
    cal = _calendar(plan, start, span, length)
    closed_at = _dt(plan.get("closed_at"))
    counts = {}
    for t in touches:
        counts[t["shape"]] = counts.get(t["shape"], 0) + 1
    legend = [{"shape": k, "label": v[0], "colour": v[1], "count": counts[k]}
              for k, v in CHANNELS.items() if counts.get(k)]
    if counts.get("other"):
        legend.append({"shape": "other", "label": OTHER_CHANNEL[0], "colour": OTHER_CHANNEL[1],
                       "count": counts["other"]})
    heading = title or plan.get("name") or plan.get("journey") or "Onboarding journey"
    return _template().render(
        title=str(heading), plan=plan, journey=str(plan.get("journey") or ""),
        customer=str(plan.get("customer") or ""), deal=str(plan.get("deal") or ""),
        timezone=str(plan.get("timezone") or ""), locale=str(plan.get("locale") or ""),
        start=_long(start), end=_long(start + timedelta(days=length)), length=length,
        closed_at=f"{_long(closed_at.date())}, {closed_at:%H:%M}" if closed_at else "",
        touches=touches, lanes=lanes, gates=gates, cal=cal, height=height, legend=legend,
        any_moved=any(t["moved"] for t in touches), wmarks=wmarks, warns=warns,
        any_gated=bool(gates),
    )
