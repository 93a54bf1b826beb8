"""The figures' charts: SVG drawn on the server, readable without a script.

Each chart is a picture of a table that stands beside it on the page (the numbers are always
there as text); the SVG is `role="img"` with a title that says what it shows. Shapes carry their
colours as presentation attributes (no inline styles, so the page's Content-Security-Policy
needs no 'unsafe-inline'); text is dark on white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from hundred.rendering.i18n import Words
from hundred.reports.figures.model import Histogram, PhaseFigure, TouchFigure
from hundred.reports.timeline.legend import OTHER_COLOUR, PHASE_COLOURS

INK, MUTED, GRID, LIMIT = "#1d2733", "#4f5b68", "#d3d8de", "#a3001b"
WIDTH = 640


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    colour: str


def N_(text: str) -> str:
    """Marks a word for the `figures` catalog (said later through `w(...)`)."""
    return text


# What happened to a touch, in the order the bars stack them (the page's legend and table agree).
SEGMENTS = (
    Segment("reached", N_("delivered or done"), "#2e7d4f"),
    Segment("running", N_("in progress"), "#2f6fb0"),
    Segment("to_come", N_("to come"), "#9fb7d3"),
    Segment("waiting", N_("waiting for affirm"), "#8a7fc4"),
    Segment("skipped", N_("skipped"), "#9aa3ad"),
    Segment("expired", N_("expired"), "#c98a1b"),
    Segment("failed", N_("failed"), "#c62f3e"),
    Segment("cancelled", N_("cancelled"), "#5b6470"),
)


def segment_counts(t: TouchFigure) -> dict[str, int]:
    return {
        "reached": t.reached,
        "running": t.count("running"),
        "to_come": t.to_come,
        "waiting": t.count("waiting"),
        "skipped": t.count("skipped"),
        "expired": t.count("expired"),
        "failed": t.count("failed"),
        "cancelled": t.count("cancelled"),
    }


def _svg(chart_id: str, title: str, height: int, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{chart_id}-t" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", weight: str = "400", fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-weight="{weight}" fill="{fill}" '
        f'font-size="13">{escape(text)}</text>'
    )


def funnel(chart_id: str, w: Words, title: str, phases: Sequence[PhaseFigure], entered: int) -> Markup:
    """One bar per phase, Coleman's order: how many customers one of its touches reached, as a
    share of those who entered; the median day beside it."""
    label_w, bar_x, bar_w, row = 150, 156, 300, 30
    height = 18 + row * len(phases)
    body = [
        _text(bar_x, 12, w("customers reached"), fill=MUTED),
        _text(WIDTH - 4, 12, w("median day"), anchor="end", fill=MUTED),
    ]
    for i, p in enumerate(phases):
        y = 18 + i * row
        colour = PHASE_COLOURS.get(p.phase, OTHER_COLOUR)
        body.append(_text(label_w - 6, y + 19, p.label, anchor="end"))
        body.append(f'<rect x="{bar_x}" y="{y + 6}" width="{bar_w}" height="18" fill="#eef1f4"/>')
        if p.touches == 0:
            body.append(_text(bar_x + 8, y + 19, w("no touches in this phase"), fill=MUTED))
            continue
        share = p.reached / entered if entered else 0.0
        width = round(bar_w * share, 1)
        if width > 0:
            body.append(f'<rect x="{bar_x}" y="{y + 6}" width="{width}" height="18" fill="{colour}"/>')
        body.append(_text(bar_x + bar_w + 8, y + 19, f"{w.number(p.reached)} ({w.number(round(share * 100))} %)"))
        median = p.median_day
        body.append(
            _text(WIDTH - 4, y + 19, w("day {n}", n=w.number(median)) if median is not None else "–", anchor="end")
        )
    return _svg(chart_id, title, height, body)


def touch_outcomes(chart_id: str, w: Words, title: str, touches: Sequence[TouchFigure]) -> Markup:
    """One stacked bar per touch: what happened to it for every customer it was planned for."""
    label_w, bar_x, bar_w, row = 190, 196, 400, 26
    height = 8 + row * len(touches)
    body = []
    most = max((t.total for t in touches), default=0) or 1
    for i, t in enumerate(touches):
        y = 8 + i * row
        body.append(_text(label_w - 6, y + 15, t.touch, anchor="end"))
        counts = segment_counts(t)
        x = float(bar_x)
        for seg in SEGMENTS:
            n = counts[seg.key]
            if not n:
                continue
            width = bar_w * n / most
            body.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{max(width, 1.5):.1f}" height="16" fill="{seg.colour}">'
                f"<title>{escape(t.touch)}: {escape(w(seg.label))} {escape(w.number(n))}</title></rect>"
            )
            x += width
        body.append(_text(x + 6, y + 15, w.number(t.total), fill=MUTED))
    return _svg(chart_id, title, height, body)


def silence_rows(longest: Histogram, limit: int, width: int = 7) -> list[tuple[int, int | None, int, bool]]:
    """The table beside the silence chart: (from day, to day, customers, over the limit): one row
    for everything within the limit, then a row per `width` days beyond it."""
    if not longest:
        return []
    rows: list[tuple[int, int | None, int, bool]] = [
        (0, limit, sum(n for d, n in longest.items() if d <= limit), False)
    ]
    top = max(longest)
    start = limit + 1
    while start <= top:
        end = start + width - 1
        rows.append((start, end, sum(n for d, n in longest.items() if start <= d <= end), True))
        start = end + 1
    return rows


def silences(chart_id: str, w: Words, title: str, longest: Histogram, limit: int) -> Markup:
    """Customers by their longest silence, one bar per number of days, the linter's limit as a
    dashed line; bars beyond it are red."""
    left, base, plot_h, right = 40, 150, 120, 10
    height = base + 40
    top = max([*longest, limit + 7, 28])
    step = (WIDTH - left - right) / (top + 1)
    most = max(longest.values(), default=0) or 1
    body = [f'<line x1="{left}" y1="{base}" x2="{WIDTH - right}" y2="{base}" stroke="{GRID}"/>']
    for day, n in sorted(longest.items()):
        h = max(plot_h * n / most, 1.5)
        colour = "#c62f3e" if day > limit else "#2f6fb0"
        body.append(
            f'<rect x="{left + day * step:.1f}" y="{base - h:.1f}" width="{max(step - 1, 1.5):.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{escape(w.plural("{n} day", "{n} days", day))}: '
            f"{escape(w.number(n))}</title></rect>"
        )
    tick = 10 if top <= 120 else 30
    for day in range(0, top + 1, tick):
        x = left + day * step
        body.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="{MUTED}"/>')
        body.append(_text(x, base + 17, w.number(day), anchor="middle", fill=MUTED))
    body.append(_text(left - 6, base - plot_h + 4, w.number(most), anchor="end", fill=MUTED))
    limit_x = left + (limit + 1) * step
    body.append(
        f'<line x1="{limit_x:.1f}" y1="18" x2="{limit_x:.1f}" y2="{base}" stroke="{LIMIT}" stroke-width="2" '
        f'stroke-dasharray="5 3"/>'
    )
    body.append(_text(limit_x + 4, 14, w("limit: {n} days", n=w.number(limit)), fill=LIMIT))
    body.append(_text(left, base + 35, w("longest silence, in days"), fill=MUTED))
    return _svg(chart_id, title, height, body)
