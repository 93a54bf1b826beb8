"""The figures and one customer's story as terminal text (`hundred report`, `hundred status DEAL`),
in the journey's language (the `figures` catalog), in plain aligned columns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from hundred.rendering.i18n import Words, words
from hundred.reports.figures.charts import N_
from hundred.reports.figures.model import Figures
from hundred.reports.figures.page import CHANNEL_WORDS, DOMAIN, happened, waiting_text
from hundred.reports.figures.story import DealStory
from hundred.reports.timeline.words import SHORT


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    """Columns as wide as their widest cell; the columns in `right` aligned right (numbers)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).rjust(widths[i]) if i in right else str(c).ljust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _day(w: Words, value: float | None) -> str:
    return w.number(value) if value is not None else "–"


def figures_text(fig: Figures, lang: str | None = None) -> str:
    """One journey's figures: the counts, the phases, the touches, the checks."""
    w = words(lang or fig.locale, DOMAIN)
    c = fig.coleman
    assert c is not None
    counts = w(
        "entered {entered}, active {active}, completed {completed}, exited {exited}",
        entered=w.number(fig.entered),
        active=w.number(fig.state("active")),
        completed=w.number(fig.state("completed")),
        exited=w.number(fig.state("exited")),
    )
    version = " · " + w("version {version}", version=fig.version) if fig.version else ""
    lines = [f"{fig.name} ({fig.journey}){version}: {counts}"]
    if fig.exit_reasons:
        lines.append(
            w("Why they exited:")
            + " "
            + "; ".join(f"{r or w('no reason given')}: {w.number(n)}" for r, n in sorted(fig.exit_reasons.items()))
        )
    lines += [
        "",
        *table(
            [w("Phase"), w("Touches"), w("Reached"), w("Median day")],
            [
                [p.label, w.number(p.touches), w.number(p.reached) if p.touches else "–", _day(w, p.median_day)]
                for p in fig.funnel
            ],
            right=(1, 2, 3),
        ),
    ]
    rows = []
    for t in fig.touches:
        rows.append(
            [
                t.touch,
                w(CHANNEL_WORDS.get(t.channel, t.channel)),
                _day(w, t.planned_day),
                w.number(t.reached),
                _day(w, t.median_day),
                w.number(t.count("running")),
                w.number(t.to_come + t.count("waiting")),
                w.number(t.count("skipped")),
                w.number(t.count("expired")),
                w.number(t.count("failed")),
                w.number(t.count("cancelled")),
                _extra(w, t),
            ]
        )
    lines += [
        "",
        *table(
            [
                w("Touch"),
                w("Channel"),
                w("Planned day"),
                w("Delivered or done"),
                w("Median day"),
                w("In progress"),
                w("To come"),
                w("Skipped"),
                w("Expired"),
                w("Failed"),
                w("Cancelled"),
                w("Notes"),
            ],
            rows,
            right=tuple(range(2, 11)),
        ),
    ]
    lines += [
        "",
        w("Coleman's checks on what really happened"),
        "  "
        + w.plural(
            "{n} customer went more than {days} days without hearing from you",
            "{n} customers went more than {days} days without hearing from you",
            c.silence.over,
            days=w.number(c.silence.limit_days),
        ),
        "  "
        + w(
            "{n} reached affirm later than day {days} ({late} late, {open} not yet)",
            n=w.number(c.affirm.late + c.affirm.not_yet_late),
            days=w.number(c.affirm.limit_days),
            late=w.number(c.affirm.late),
            open=w.number(c.affirm.not_yet_late),
        ),
        "  "
        + w(
            "{n} referral asks made, median day {median}; {received} referrals received",
            n=w.number(c.referrals.asked),
            median=_day(w, c.referrals.days.median()),
            received=w.number(c.referrals.received_total),
        ),
    ]
    owners = fig.owners
    if owners:
        lines += [
            "",
            *table(
                [w("Owner"), w("Done"), w("Done late"), w("Open"), w("Overdue")],
                [
                    [o.owner, w.number(o.done), w.number(o.done_late), w.number(o.open), w.number(o.overdue)]
                    for o in owners
                ],
                right=(1, 2, 3, 4),
            ),
        ]
    return "\n".join(lines)


def _extra(w: Words, t: object) -> str:
    """The channel's own figures in a few words: late letters, overdue tasks, bounces, 2xx."""
    parts = []
    letters = getattr(t, "letters", None)
    tasks = getattr(t, "tasks", None)
    emails = getattr(t, "emails", None)
    hooks = getattr(t, "webhooks", None)
    if letters is not None:
        parts.append(w("{n} posted", n=w.number(letters.states.get("posted", 0))))
        if letters.late:
            parts.append(w("{n} late", n=w.number(letters.late)))
        if letters.overdue:
            parts.append(w("{n} overdue", n=w.number(letters.overdue)))
    if tasks is not None:
        total = tasks.total
        if total.overdue:
            parts.append(w("{n} overdue", n=w.number(total.overdue)))
        if total.done_late:
            parts.append(w("{n} done late", n=w.number(total.done_late)))
    if emails is not None:
        bounced = emails.known_bounced
        parts.append(w("{n} bounced", n=w.number(bounced)) if bounced is not None else w("bounces unknown"))
    if hooks is not None:
        parts.append(w("{ok} 2xx, {failed} failed", ok=w.number(hooks.ok), failed=w.number(hooks.failed)))
    return ", ".join(parts)


def story_text(story: DealStory, lang: str | None = None) -> str:
    """One customer's 100 days: planned against what happened, what waits, the letters."""
    w = words(lang or story.journey.locale, DOMAIN)
    f = story.facts
    zone = ZoneInfo(story.journey.timezone)
    head = w(
        "deal {deal}: {journey} (version {version}), {state}",
        deal=f.deal,
        journey=f.journey,
        version=f.version,
        state=w(f.state),
    ) + (f": {f.exit_reason}" if f.exit_reason else "")
    lines = [head, w("day {n}; day 0 was {date}", n=story.today, date=w.date(story.start_date, SHORT + " y")), ""]
    rows = []
    labels: dict[str, str] = {str(b.phase): b.title for b in story.journey.phases}
    for t in story.touches:
        what = happened(story, t, w)
        rows.append(
            [
                t.touch,
                labels.get(t.phase, t.phase),
                w(CHANNEL_WORDS.get(t.channel, t.channel)),
                w.number(t.planned_day),
                w.date(t.planned_date, SHORT),
                w(t.state),
                what["text"],
            ]
        )
    lines += table(
        [w("Touch"), w("Phase"), w("Channel"), w("Day"), w("Planned"), w("State"), w("What happened")],
        rows,
        right=(3,),
    )
    if story.waiting:
        lines += ["", w("What is waiting, and on what")]
        lines += [f"  {x.touch}: {waiting_text(x, w)}" for x in story.waiting]
    if f.letters:
        lines += [
            "",
            *table(
                [w("Letter"), w("State"), w("Print by"), w("Printed"), w("Posted")],
                [
                    [
                        x.touch,
                        w(x.state),
                        w.date(x.print_by, SHORT) if x.print_by else "–",
                        w.date(story.days.date_of(x.printed_at), SHORT) if x.printed_at else "–",
                        w.date(story.days.date_of(x.posted_at), SHORT) if x.posted_at else "–",
                    ]
                    for x in f.letters
                ],
            ),
        ]
    lines += ["", w("Events")]
    for e in f.events:
        when = w.datetime(e.at, "short", tzinfo=zone)
        detail = f" · {e.detail}" if e.detail else ""
        lines.append(f"  {w('day {n}', n=story.days.day(e.at)):>8}  {when}  {e.touch or '':<22} {e.event}{detail}")
    return "\n".join(lines)


# Words said through `w(value)` with a value from the ledger: listed so the catalog check sees them.
STATE_WORDS = (
    N_("active"),
    N_("completed"),
    N_("exited"),
    N_("planned"),
    N_("waiting"),
    N_("scheduled"),
    N_("running"),
    N_("delivered"),
    N_("done"),
    N_("skipped"),
    N_("expired"),
    N_("failed"),
    N_("cancelled"),
    N_("queued"),
    N_("batched"),
    N_("printed"),
    N_("posted"),
    N_("withdrawn"),
)


def generated(now: datetime, w: Words) -> str:
    return w("as of {now}", now=w.datetime(now, "medium"))
