"""Where each touch, lane, gate and actual happening goes on the timeline's track.

The plan's JSON (or a hand-made dict) is read leniently: a missing or malformed day, date or link
is drawn without, never fatal. Positions are percentages of the track, so the page is as wide as
its reader's window; lanes stack markers into rows so that touches days apart never overlap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hundred.journeys.model import PHASES
from hundred.planning.notes import ONLY_IF, PRINT_KINDS, WAIT_KINDS, Note
from hundred.rendering.i18n import Words
from hundred.reports.timeline.legend import CHANNELS, N_, OTHER_CHANNEL, OTHER_COLOUR, PHASE_COLOURS
from hundred.reports.timeline.rows import ActualMark, Gate, Lane, LinkRow, NoteRow, TouchRow
from hundred.reports.timeline.words import LONG, SHORT, note_class, note_text

ROW_PX = 32  # vertical distance between stacked markers
LANE_PAD = 8  # space above and below the markers of a lane
_SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*:")


# ---------------------------------------------------------------------------------------- helpers
def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_date(value: Any) -> date | None:
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


def plain_int(value: Any) -> int | None:
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


def touch_rows(
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
        planned = plain_int(t.get("day"))
        due = parse_datetime(t.get("due"))
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
        print_by = parse_date(t.get("print_by"))
        notes: list[NoteRow] = [{"text": note_text(n, w), "cls": note_class(n)} for n in raw]
        said = {n["text"] for n in notes}  # a plain plan dict's notes may say these already, as written
        if gated and not kinds & WAIT_KINDS and w("waits for {what}", what=str(gated)) not in said:
            notes.append({"text": w("waits for {what}", what=str(gated)), "cls": "wait"})
        if print_by and not kinds & PRINT_KINDS and w("print by {day}", day=w.date(print_by, SHORT)) not in said:
            notes.append({"text": w("print by {day}", day=w.date(print_by, SHORT)), "cls": ""})
        utc = parse_datetime(t.get("due_utc"))
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


def lane_rows(
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
        days += [d for d in (plain_int(p.get("first_day")), plain_int(p.get("last_day"))) if d is not None]
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


def gate_rows(lanes: list[Lane], touches: list[TouchRow], span: int, w: Words) -> list[Gate]:
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


def actual_marks(actual: Mapping[str, Mapping[str, Any]], touches: list[TouchRow], span: int) -> dict[str, ActualMark]:
    """Where what really happened goes on the track: on the journey day it happened, in the
    planned marker's row, joined to it by a line."""
    out: dict[str, ActualMark] = {}
    for t in touches:
        a = actual.get(t["id"])
        if a is None:
            continue
        kind = str(a.get("kind") or "open")
        day = plain_int(a.get("day"))
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
