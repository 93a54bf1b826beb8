"""A task's calendar invite (`.ics`): one VEVENT in the journey's time zone, with its VTIMEZONE.

One home for what every invite carries, whether `preview` writes it or the task email sends it:
- DTSTART/DTEND with a TZID and the matching VTIMEZONE (built by icalendar from the tz database),
  so the owner's calendar shows the time it was planned for, also across a DST change;
- DTSTAMP: the moment the invite was made, in UTC (RFC 5545 §3.8.7.2);
- DESCRIPTION: the brief as plain text. Calendars show DESCRIPTION as is, so Markdown's `**`,
  `##` and `*` would be noise there; the structure (headings, list items, line breaks) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hundred.planning.identity import TouchKey
from hundred.rendering.content import single_line

if TYPE_CHECKING:  # markdown-it loads lazily: `hundred validate` never needs it
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

PRODID = "-//hundred//onboarding journeys//EN"
INVITE_LENGTH = timedelta(minutes=30)
TZ_YEARS = 2  # the VTIMEZONE covers the event's year around it, not 1970-2038 (a few hundred bytes)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import (
        MarkdownIt,  # lazy: markdown-it loads only when a brief is rendered; loaded on the first invite: validate never needs it
    )

    return MarkdownIt("commonmark")


def plain_text(markdown: str) -> str:
    """The Markdown brief as text a person reads in a calendar: markers gone, lines kept."""
    out: list[str] = []
    bullets: list[int | None] = []  # per open list: None for bullets, else the next number
    prefix = ""
    for tok in _parser().parse(markdown):
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            bullets.append(None if tok.type == "bullet_list_open" else int(tok.attrs.get("start", 1) or 1))
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            bullets.pop()
            out.append("")
        elif tok.type == "list_item_open":
            number = bullets[-1]
            prefix = "  " * (len(bullets) - 1) + ("- " if number is None else f"{number}. ")
            if number is not None:
                bullets[-1] = number + 1
        elif tok.type == "inline":
            text = "".join(_inline(c) for c in tok.children or [])
            out.append(prefix + text)
            prefix = ""
        elif tok.type in ("fence", "code_block"):
            out.append(tok.content.rstrip("\n"))
        elif tok.type == "paragraph_close" and not bullets:  # a heading stays on top of its text
            out.append("")
        elif tok.type == "hr":
            out.append("")
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def _inline(tok: Token) -> str:
    if tok.type in ("softbreak", "hardbreak"):
        return "\n"
    if tok.type in ("text", "code_inline", "html_inline"):
        return tok.content
    if tok.type == "image":
        return tok.content
    return ""  # strong/em/link open and close: the markers themselves


def add_timezones(cal: Any, around: date) -> None:
    """A VTIMEZONE for every TZID the calendar uses, covering the years around the event (what
    icalendar's `add_missing_timezones` adds, in the same place: before the events; a TZID the tz
    database does not know gets none)."""
    place = len(cal.timezones)
    for tzid in cal.get_missing_tzids():
        vtimezone = _vtimezone(tzid, around.year)
        if vtimezone is not None:
            cal.subcomponents.insert(place, vtimezone)
            place += 1


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, year: int) -> Any:
    """Built once per zone and year: building it from the tz database is a third of an invite's
    cost, and a simulation or a batch of task emails makes many invites in one zone. The component
    is shared between calendars that are only serialised, never changed after it is added."""
    from icalendar import Timezone  # lazy: icalendar loads only when an invite is built

    try:
        return Timezone.from_tzid(tzid, first_date=date(year - 1, 1, 1), last_date=date(year + TZ_YEARS, 1, 1))
    except ValueError:
        return None


def in_zone(moment: datetime, zone: str) -> datetime:
    """`moment` in a tz-database zone (a TZID a VTIMEZONE can be built for)."""

    return moment.astimezone(ZoneInfo(zone))


def calendar(
    key: TouchKey,
    *,
    title: str,
    brief: str,
    start: datetime,
    made_at: datetime,
    length: timedelta = INVITE_LENGTH,
    categories: Iterable[str] = (),
    organizer: Any = None,
    attendee: Any = None,
) -> bytes:
    """A VCALENDAR (METHOD:REQUEST) with one VEVENT: UID = key.ics_uid, `start` in its own zone
    (a ZoneInfo-aware datetime) with the VTIMEZONE, DTSTAMP = `made_at` in UTC, the brief
    (Markdown) as a plain-text DESCRIPTION."""
    from icalendar import Calendar, Event  # lazy: icalendar loads only when an invite is built

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", key.ics_uid)
    event.add("dtstamp", made_at.astimezone(UTC))
    event.add("sequence", 0)
    event.add("summary", single_line(title, "task title"))
    event.add("dtstart", start)
    event.add("dtend", start + length)
    event.add("description", plain_text(brief))
    cats = list(categories)
    if cats:
        event.add("categories", cats)
    if organizer is not None:
        event.add("organizer", organizer)
    if attendee is not None:
        event.add("attendee", attendee)
    cal.add_component(event)
    add_timezones(cal, start.date())
    ical: bytes = cal.to_ical()  # icalendar is untyped
    return ical
