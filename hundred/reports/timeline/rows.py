"""The rows the timeline page's template draws: one shape per kind of thing on the page.

layout.py builds them in steps (a touch gets its lane row and position once the lanes are laid out),
so the keys filled in later are NotRequired; marks.py reads touches and lanes and adds warnings.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NotRequired, TypedDict


class NoteRow(TypedDict):
    text: str
    cls: str  # CSS class: "wait", "" ...


class LinkRow(TypedDict):
    label: str
    href: str | None  # None: shown as text (not a relative link)


class WarningItem(TypedDict):
    """A linter warning as listed above the chart; `n` is its place in the list."""

    n: int
    rule: str
    message: str
    hint: str
    line: int | None
    drawn: bool


# A warning drawn on the chart: a band over days ("from" and "to" journey days: the template's
# names, hence the functional form) or a flag beside a touch or in a phase's lane.
WarningMark = TypedDict(
    "WarningMark",
    {
        "n": int,
        "rule": str,
        "message": str,
        "hint": str,
        "line": int | None,
        "drawn": bool,
        "kind": str,  # "band" | "flag"
        "left": float,
        "label": str,
        "width": NotRequired[float],  # a band's
        "days": NotRequired[int],
        "from": NotRequired[int],
        "to": NotRequired[int],
        "row": NotRequired[int],
        "end": NotRequired[bool],  # its label opens leftwards
        "top": NotRequired[float],  # a flag's
        "touch": NotRequired[str],
    },
)


class TouchRow(TypedDict):
    i: int
    id: str
    phase: str
    channel: str
    channel_label: str
    channel_colour: str
    shape: str
    title: str
    description: Any  # as the plan JSON holds it
    when: str
    skipped: bool
    verdict: str
    gated_by: str
    planned: int | None
    offset: int
    date: date
    date_short: str
    date_long: str
    time: str
    zone: str
    utc_time: str
    notes: list[NoteRow]
    links: list[LinkRow]
    moved: bool
    sort: tuple[int, float, int]
    order: NotRequired[int]
    row: NotRequired[int]  # filled in by the lanes
    x: NotRequired[float]
    y: NotRequired[float]
    phase_label: NotRequired[str]
    phase_colour: NotRequired[str]
    ghost_x: NotRequired[float]
    warns: NotRequired[list[WarningMark]]


class LaneBand(TypedDict):
    left: float
    width: float
    first: int
    last: int


class Lane(TypedDict):
    phase: str
    label: str
    colour: str
    tint: str
    edge: str
    count: int
    top: float
    height: int
    mid: float
    band: LaneBand | None


class Gate(TypedDict):
    x: float
    y0: float
    y1: float
    y: float
    x1: float
    label: str


class ActualMark(TypedDict):
    kind: str
    text: str
    x: float | None  # None: it has not happened yet
    y: NotRequired[float]
    from_x: NotRequired[float]
    width: NotRequired[float]
