"""Journey + Deal → Plan: when each touch happens for one customer. A pure function of its inputs.

The timing rules, in the order they apply (the README's `hundred plan` shows them at work):
1. Day 0 is the close date in the recipient's zone (the contact's for emails, letters and
   webhooks; the journey's for tasks, which follow the owner's working day).
2. A touch's day is a calendar day; a closed day (weekend, holiday, `closed:`) moves it to the
   next open day.
3. It goes out at the start of the send window, or at `at:`; on day 0 at once when the deal closed
   inside the window, else at the next window start.
4. A letter's day is its arrival day; it is printed and posted by the n-th open day before, n
   being the transit of its destination (the deal's address country; none: domestic):
   `lead_days_by_country`, else `lead_days` at home and `abroad_lead_days` abroad. Batches are
   made on open mornings at `batch_at` (journey zone): a deal that closes after the cut-off
   misses that morning's batch. When the print-by day is before the first batch the letter can
   make, it prints in that batch and, if that is too late, the plan says when it arrives.
5. The advocate phase and every referral touch wait for affirm: they run no earlier than one open
   day after the last affirm touch completes (a touch whose `when:` is false for this deal never
   happens, so the gate does not wait for it). Before the journey runs that moment is estimated;
   at run time the engine passes `Facts` (what the ledger says has happened) and the planner uses
   the real completions and the real gate-open time instead: one set of timing rules for both.
Local times are turned into instants per day, so the UTC offset is the one in force on that date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hundred.deals.model import Deal
from hundred.journeys.model import GATE_PHASE, Journey
from hundred.planning import notes as pn
from hundred.planning.conditions import judge
from hundred.planning.notes import Note, transit_english
from hundred.planning.workdays import BusinessCalendar
from hundred.templating import sandbox as templating
from hundred.templating.context import merge_context


@dataclass(frozen=True)
class Transit:
    """How long the post takes to a letter's destination: `days` business days, chosen as `kind`
    ("domestic", "abroad", or the country code of a `lead_days_by_country` entry)."""

    days: int
    kind: str
    country: str

    def __str__(self) -> str:
        return transit_english(self.kind, self.days)

    def said(self) -> tuple[str, int]:
        """(kind, days): the transit as a note carries it."""
        return (self.kind, self.days)

    def to_json(self) -> dict[str, Any]:
        return {"lead_days": self.days, "kind": self.kind, "country": self.country}


def transit(journey: Journey, deal: Deal) -> Transit:
    home = journey.home_country()
    country = deal.address.country.upper() if deal.address is not None and deal.address.country else home
    days, kind = journey.letters.transit(country, home)
    return Transit(days, kind, country)


def first_batch(journey: Journey, calendar: BusinessCalendar, closed_at: datetime) -> tuple[date, bool]:
    """The first morning batch a letter of this deal can be in (journey zone), and whether the
    deal closed after that day's cut-off (so it missed the close day's batch)."""
    closed = closed_at.astimezone(ZoneInfo(journey.timezone))
    first = calendar.next_open(closed.date())
    if first == closed.date() and closed.time().replace(tzinfo=None) >= journey.letters.batch_time:
        return calendar.next_open(first + timedelta(days=1)), True
    return first, False


@dataclass
class PlannedTouch:
    touch: str
    phase: str
    channel: str
    day: int
    due: datetime
    print_by: date | None = None
    gated_by: str | None = None
    shifted_from: date | None = None
    title: str = ""
    description: str | None = None
    when: str | None = None
    condition_met: bool | None = None
    notes: list[Note] = field(default_factory=list)  # as data (plan_notes.py); `--json` says them in English
    order: int = 0
    transit: Transit | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "touch": self.touch,
            "phase": self.phase,
            "channel": self.channel,
            "day": self.day,
            "due": self.due.isoformat(),
            "due_utc": self.due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "print_by": self.print_by.isoformat() if self.print_by else None,
            "gated_by": self.gated_by,
            "shifted_from": self.shifted_from.isoformat() if self.shifted_from else None,
            "title": self.title,
            "description": self.description,
            "when": self.when,
            "condition_met": self.condition_met,
            "notes": [str(n) for n in self.notes],
            "transit": self.transit.to_json() if self.transit else None,
        }


@dataclass(frozen=True)
class Facts:
    """What has already happened to this customer's journey, as the ledger records it."""

    completed: Mapping[str, datetime] = field(default_factory=dict)  # affirm touch → when it completed
    gate_opened_at: datetime | None = None


@dataclass
class Plan:
    journey: Journey
    deal: Deal
    start_date: date
    touches: list[PlannedTouch]
    closed_days: list[tuple[date, str]]

    def to_json(self) -> dict[str, Any]:
        j, d = self.journey, self.deal
        phases = []
        for block in j.phases:
            mine = [t for t in self.touches if t.phase == block.phase]
            days = [(t.due.date() - self.start_date).days for t in mine]
            phases.append(
                {
                    "phase": block.phase,
                    "label": block.title,
                    "first_day": min(days) if days else None,
                    "last_day": max(days) if days else None,
                    "touches": len(mine),
                }
            )
        customer = " · ".join(
            x
            for x in (f"{d.contact.first_name} {d.contact.last_name}".strip(), d.company.name if d.company else "")
            if x
        )
        return {
            "journey": j.journey,
            "deal": d.id,
            "name": j.name,
            "version": j.version(),
            "locale": j.locale,
            "timezone": j.timezone,
            "length": j.length,
            "closed_at": d.closed_at.isoformat(),
            "start_date": self.start_date.isoformat(),
            "customer": customer,
            "phases": phases,
            "closed_days": [{"date": day.isoformat(), "reason": why} for day, why in self.closed_days],
            "touches": [t.to_json() for t in self.touches],
        }


def local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time on a date, as an aware datetime; a time skipped by DST moves forward."""
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone)


def plan(journey: Journey, deal: Deal, facts: Facts | None = None, *, titles: bool = True) -> Plan:
    """The plan; `titles=False` leaves each touch's rendered title out (the runtime needs only the
    timing, and rendering every title for every run is most of a plan's cost)."""
    calendar = BusinessCalendar.from_journey(journey.calendar, journey.locale)
    home = ZoneInfo(journey.timezone)
    contact_zone = ZoneInfo(deal.contact.timezone) if deal.contact.timezone else home
    start, end = journey.window
    start_date = deal.closed_at.astimezone(home).date()
    planned: list[PlannedTouch] = []
    post = transit(journey, deal)

    for order, (block, touch) in enumerate(journey.touches()):
        zone = home if touch.channel == "task" else contact_zone
        closed_local = deal.closed_at.astimezone(zone)
        day0 = closed_local.date()
        target = day0 + timedelta(days=touch.day)
        on = calendar.next_open(target)
        item = PlannedTouch(
            touch.id,
            block.phase,
            touch.channel,
            touch.day,
            due=closed_local,
            order=order,
            description=touch.description,
            when=touch.when,
        )
        if on != target:
            item.shifted_from = target
            item.notes.append(Note(pn.MOVED, {"day": target, "why": calendar.closed_reason(target)}))
        clock = touch.at_time or start
        item.due = local_instant(on, clock, zone)
        if touch.day == 0 and on == day0 and item.due <= closed_local:
            if start <= closed_local.time() < end:
                item.due = closed_local
                item.notes.append(Note(pn.AT_ONCE))
            else:
                nxt = calendar.next_open(day0 + timedelta(days=1))
                item.due = local_instant(nxt, start, zone)
                item.shifted_from = day0
                item.notes.append(Note(pn.AFTER_HOURS, {"day": nxt}))
        if touch.channel == "letter":
            _schedule_letter(item, journey, calendar, zone, deal.closed_at, post)
        if journey.is_gated(block, touch):
            item.gated_by = GATE_PHASE
        planned.append(item)

    for item, (_block, touch) in zip(planned, journey.touches(), strict=True):
        _describe(item, journey, deal, touch, titles)
    _apply_gate(planned, journey, calendar, facts or Facts())
    planned.sort(key=lambda t: (t.due, t.order))
    last = max([t.due.date() for t in planned] + [start_date + timedelta(days=journey.length)])
    return Plan(journey, deal, start_date, planned, calendar.closed_days(start_date, last))


def _schedule_letter(
    item: PlannedTouch, journey: Journey, calendar: BusinessCalendar, zone: ZoneInfo, closed_at: datetime, post: Transit
) -> None:
    """Arrival on the touch's day; printing `post.days` open days earlier, in a batch the letter
    can still make: never before the close, nor in a batch made before the deal closed."""
    arrival = item.due.date()
    print_by = calendar.open_days_before(arrival, post.days)
    first, missed = first_batch(journey, calendar, closed_at)
    if print_by < first:
        print_by = first
        late = calendar.open_days_after(first, post.days)
        if late > arrival:
            closed = closed_at.astimezone(ZoneInfo(journey.timezone)).date()
            day0 = closed_at.astimezone(zone).date()
            item.shifted_from = item.shifted_from or day0 + timedelta(days=item.day)
            item.notes.append(
                Note(pn.LATE_CUTOFF, {"day": late, "time": f"{journey.letters.batch_time:%H:%M}", "closed": closed})
                if missed
                else Note(pn.LATE_FIRST, {"day": late, "first": first})
            )
            item.due = local_instant(late, item.due.timetz().replace(tzinfo=None), zone)
    item.print_by = print_by
    item.transit = post
    item.notes.append(Note(pn.PRINT_BY, {"day": print_by, "transit": post.said()}))


def _completes(item: PlannedTouch, facts: Facts) -> date:
    """When an affirm touch counts as complete: the ledger's word once it has happened, else the
    estimate (a letter once it is posted on its print-by day, anything else on its due day)."""
    done = facts.completed.get(item.touch)
    if done is not None:
        return done.astimezone(item.due.tzinfo).date()
    return item.print_by if item.print_by else item.due.date()


def gate_opens(planned: list[PlannedTouch], facts: Facts, zone: ZoneInfo) -> date | None:
    """The day the affirm phase completes: the real one when the gate has opened, else the latest
    completion of the affirm touches that will happen (a touch whose condition is false for this
    deal never happens, so it cannot hold the gate). None when no affirm touch will happen."""
    if facts.gate_opened_at is not None:
        return facts.gate_opened_at.astimezone(zone).date()
    affirm = [t for t in planned if t.phase == GATE_PHASE and t.condition_met is not False]
    return max((_completes(t, facts) for t in affirm), default=None)


def _apply_gate(planned: list[PlannedTouch], journey: Journey, calendar: BusinessCalendar, facts: Facts) -> None:
    if not any(t.phase == GATE_PHASE for t in planned):
        return
    opens = gate_opens(planned, facts, ZoneInfo(journey.timezone))
    if opens is None:  # every affirm touch is skipped for this deal: the gate opens at the close
        opens = min(t.due.date() for t in planned)
    earliest = calendar.open_days_after(opens, 1)
    for item in planned:
        if item.gated_by != GATE_PHASE:
            continue
        if item.print_by is not None:  # a letter "runs" when it is printed: that is what waits
            if item.print_by < earliest:
                post = item.transit or Transit(journey.letters.lead_days, "domestic", "")
                arrival = calendar.open_days_after(earliest, post.days)
                item.notes = [n for n in item.notes if n.kind != pn.PRINT_BY]
                item.notes.append(Note(pn.WAIT_PRINT, {"day": earliest, "arrives": arrival, "transit": post.said()}))
                item.shifted_from = item.shifted_from or item.due.date()
                item.print_by = earliest
                item.due = local_instant(arrival, item.due.timetz().replace(tzinfo=None), item.due.tzinfo)  # type: ignore[arg-type]
            else:
                item.notes.append(Note(pn.WAITS))
            continue
        if item.due.date() < earliest:
            item.shifted_from = item.shifted_from or item.due.date()
            item.due = local_instant(earliest, item.due.timetz().replace(tzinfo=None), item.due.tzinfo)  # type: ignore[arg-type]
            item.notes.append(Note(pn.WAIT_MOVED, {"day": earliest}))
        else:
            item.notes.append(Note(pn.WAITS))


def humanise(touch_id: str) -> str:
    """ "thank-you-letter" → "Thank you letter": a touch id read as words, for a title nobody wrote."""
    words = " ".join(touch_id.replace("_", "-").split("-")).strip()
    return words[:1].upper() + words[1:]


def _describe(item: PlannedTouch, journey: Journey, deal: Deal, touch: Any, titles: bool = True) -> None:
    """Title and condition as this customer would get them; a broken template shows its source."""
    source = getattr(touch, "title", None) or getattr(touch, "subject", None)
    if titles and source:
        ctx = merge_context(journey, deal, touch, item.phase, item.due.date())
        try:
            item.title = templating.render(source, ctx, f"{touch.id}.title", journey.locale)
        except templating.TemplateProblem:
            item.title = source
    elif (
        titles
    ):  # a letter without `title:`: its id in words ("thank-you-letter" → "Thank you letter"), never a file path
        item.title = (
            humanise(touch.id) if touch.channel == "letter" else getattr(touch, "url", "") or humanise(touch.id)
        )
    if touch.when:
        verdict = judge(journey, deal, touch, item.phase, item.due.date())
        item.condition_met = verdict.value
        item.notes.append(Note(pn.ONLY_IF, {"when": touch.when, "verdict": verdict.reason}))
