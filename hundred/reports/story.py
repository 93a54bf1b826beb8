"""A simulation's story in people's words: `hundred simulate`'s text and the studio's "play".

The simulation (hundred/service/simulate.py) records its events with English details for `--json`
and, beside them, the message id and values of each detail; this module says them in the journey's
language (the `simulate` catalog), a condition's verdict through the timeline's words. One home for
these words, so the terminal and the studio tell the same story.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hundred.rendering.i18n import Words, words
from hundred.reports.timeline.words import SHORT, verdict_text

# The events whose detail the story shows (a delivery needs none).
EXPLAINED = ("waiting", "skipped", "expired", "failed", "scheduled")


@dataclass(frozen=True)
class StoryLine:
    """One event as people read it; `event` stays the English name (for styling and tests)."""

    when: str
    phase: str
    touch: str
    event: str
    state: str
    detail: str


def state_word(w: Words, state: str) -> str:
    """A touch's state or event as `simulate` prints it (the JSON keeps the English names)."""
    return {
        "scheduled": w("scheduled"),
        "waiting": w("waiting"),
        "delivered": w("delivered"),
        "posted": w("posted"),
        "done": w("done"),
        "skipped": w("skipped"),
        "expired": w("expired"),
        "failed": w("failed"),
        "running": w("running"),
        "planned": w("planned"),
        "cancelled": w("cancelled"),
    }.get(state, state)


def event_detail(w: Words, e: Any, moment: Callable[[datetime], str], verdict: Callable[[str], str]) -> str:
    """An event's detail in `w`'s words: the simulation's own notes by their message id, the
    engine's reasons (a condition's verdict) through the timeline's words, anything else as is."""
    if e.note == "waits for the affirm phase: {blockers}":
        blockers = ", ".join(f"{tid} ({state_word(w, state)})" for tid, state in e.values["blockers"])
        return w("waits for the affirm phase: {blockers}", blockers=blockers)
    if e.note == "still {state} when the journey ends":
        return w("still {state} when the journey ends", state=state_word(w, e.values["state"]))
    if e.note == "runs {when}, to print":
        return w("runs {when}, to print", when=moment(e.values["when"]))
    if e.note == "runs {when}":
        return w("runs {when}", when=moment(e.values["when"]))
    if e.note == "waits for the affirm phase":
        return w("waits for the affirm phase")
    if e.note == "held: never completes":
        return w("held: never completes")
    return verdict(e.detail) if e.detail else ""


def story(journey: Any, deal: Any, events: Sequence[Any], lang: str | None = None) -> tuple[str, list[StoryLine]]:
    """The heading ("<name> · deal <id> · closed <when> · times in <zone>") and one line per event,
    every time in the journey's time zone, in the journey's language (or `lang`)."""
    w = words(lang or journey.locale, "simulate")
    verdict_words = words(w.locale.language, "timeline")
    zone = ZoneInfo(journey.timezone)
    labels = {b.phase: b.title for b in journey.phases}

    def moment(at: datetime) -> str:
        local = at.astimezone(zone)
        return f"{w.date(local, SHORT)} {w.time(local)}"

    closed = deal.closed_at.astimezone(zone)
    heading = w(
        "{name} · deal {deal} · closed {date}, {time} · times in {zone}",
        name=journey.name,
        deal=deal.id,
        date=w.date(closed, SHORT + " y"),
        time=w.time(closed),
        zone=journey.timezone,
    )
    lines = []
    for e in events:
        detail = event_detail(w, e, moment, lambda note: verdict_text(verdict_words, note))
        lines.append(
            StoryLine(
                when=moment(e.at),
                phase=labels.get(e.phase, e.phase),
                touch=e.touch,
                event=e.event,
                state=state_word(w, e.event),
                detail=detail if e.event in EXPLAINED else "",
            )
        )
    return heading, lines


__all__ = ["StoryLine", "story", "state_word", "event_detail", "EXPLAINED"]
