"""The figures for programs and spreadsheets: JSON, CSV, and the daily Prefect artifact (markdown).

Stable contracts (README: "How each journey is doing"): the JSON is `Figures.to_json()` per
journey under `{"generated_at", "period", "journeys"}`; the CSV is one figure per row,
`journey,version,section,item,figure,value`, in a fixed order, so a spreadsheet can pivot it and
a new figure is a new row, never a moved column. An unknown figure is an empty cell (JSON null).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from hundred.reports.figures.facts import Period
from hundred.reports.figures.model import TOUCH_STATES, Figures

CSV_COLUMNS = ("journey", "version", "section", "item", "figure", "value")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def period_json(period: Period) -> dict[str, str | None]:
    """The period as dates: `until` is the last day included."""
    return {
        "since": period.since.date().isoformat() if period.since else None,
        "until": (period.until - timedelta(days=1)).date().isoformat() if period.until else None,
    }


def report_json(journeys: list[Figures], now: datetime, period: Period) -> dict[str, Any]:
    return {"generated_at": _iso(now), "period": period_json(period), "journeys": [f.to_json() for f in journeys]}


def _rows(f: Figures) -> Iterator[tuple[str, str, str, Any]]:
    """(section, item, figure, value) of one journey's (or version's) figures."""
    for name in ("entered", "active", "completed", "exited"):
        yield "journey", "", name, f.entered if name == "entered" else f.state(name)
    for reason, n in sorted(f.exit_reasons.items()):
        yield "exit", reason, "count", n
    for p in f.funnel:
        yield "phase", p.phase, "touches", p.touches
        yield "phase", p.phase, "reached", p.reached if p.touches else None
        yield "phase", p.phase, "median_day", p.median_day
    for t in f.touches:
        yield "touch", t.touch, "planned_day", t.planned_day
        for state in TOUCH_STATES:
            yield "touch", t.touch, state, t.count(state)
        yield "touch", t.touch, "reached", t.reached
        yield "touch", t.touch, "median_day", t.median_day
        if t.letters is not None:
            for key, value in t.letters.to_json().items():
                yield "letters", t.touch, key, value
        if t.tasks is not None:
            total = t.tasks.total
            for key in ("done", "done_late", "open", "overdue"):
                yield "tasks", t.touch, key, getattr(total, key)
        if t.emails is not None:
            for key, value in t.emails.to_json().items():
                yield "emails", t.touch, key, value
        if t.webhooks is not None:
            for key, value in t.webhooks.to_json().items():
                yield "webhooks", t.touch, key, value
    for o in f.owners:
        for key in ("done", "done_late", "open", "overdue"):
            yield "owner", o.owner, key, getattr(o, key)
    if f.coleman is not None:
        c = f.coleman
        yield "coleman", "silence", "limit_days", c.silence.limit_days
        yield "coleman", "silence", "over", c.silence.over
        yield "coleman", "silence", "median_longest_days", c.silence.longest.median()
        for key, value in c.affirm.to_json().items():
            yield "coleman", "affirm", key, value
        yield "coleman", "referrals", "asked", c.referrals.asked
        yield "coleman", "referrals", "median_day", c.referrals.days.median()
        yield "coleman", "referrals", "received", c.referrals.received_total
        yield "coleman", "referrals", "unprompted", c.referrals.unprompted
        for touch, n in sorted(c.referrals.received.items()):
            yield "referrals", touch, "received", n


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def report_csv(journeys: list[Figures]) -> str:
    """Every figure of every journey, then of each of its versions, one per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for f in journeys:
        for fig, version in [(f, ""), *((v, v.version or "") for v in f.versions)]:
            for section, item, figure, value in _rows(fig):
                writer.writerow((f.journey, version, section, item, figure, _cell(value)))
    return out.getvalue()


def _md(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|")


def journey_markdown(f: Figures, now: datetime, period: Period) -> str:
    """One journey's figures as the daily Prefect artifact shows them (English: it is for operators)."""
    when = period_json(period)
    span = f"received {when['since'] or 'any time'} to {when['until'] or 'now'}"
    lines = [
        f"# {f.name} ({f.journey})",
        "",
        f"_{span}, as of {_iso(now)}; versions: {', '.join(v.version or '' for v in f.versions) or '–'}_",
        "",
        "| entered | active | completed | exited |",
        "|---:|---:|---:|---:|",
        f"| {f.entered} | {f.state('active')} | {f.state('completed')} | {f.state('exited')} |",
    ]
    if f.exit_reasons:
        lines += ["", "Exited: " + "; ".join(f"{r or 'no reason'}: {n}" for r, n in sorted(f.exit_reasons.items()))]
    lines += ["", "## Phases", "", "| phase | touches | reached | median day |", "|---|---:|---:|---:|"]
    for p in f.funnel:
        lines.append(f"| {_md(p.label)} | {p.touches} | {p.reached if p.touches else '–'} | {_md(p.median_day)} |")
    lines += [
        "",
        "## Touches",
        "",
        "| touch | channel | day | done | in progress | to come | waiting | skipped | expired | failed | cancelled | median day |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in f.touches:
        lines.append(
            f"| {t.touch} | {t.channel} | {_md(t.planned_day)} | {t.reached} | {t.count('running')} | {t.to_come} | "
            f"{t.count('waiting')} | {t.count('skipped')} | {t.count('expired')} | {t.count('failed')} | "
            f"{t.count('cancelled')} | {_md(t.median_day)} |"
        )
    letters = [t for t in f.touches if t.letters is not None]
    if letters:
        lines += ["", "| letter | posted | on time | late | median delay | overdue |", "|---|---:|---:|---:|---:|---:|"]
        for t in letters:
            assert t.letters is not None
            lines.append(
                f"| {t.touch} | {t.letters.states.get('posted', 0)} | {t.letters.on_time} | {t.letters.late} | "
                f"{_md(t.letters.median_delay)} | {t.letters.overdue} |"
            )
    owners = f.owners
    if owners:
        lines += ["", "| owner | tasks done | done late | open | overdue |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {_md(o.owner)} | {o.done} | {o.done_late} | {o.open} | {o.overdue} |" for o in owners]
    if f.coleman is not None:
        c = f.coleman
        lines += [
            "",
            "## Coleman's checks",
            "",
            f"- longest silence over {c.silence.limit_days} days: {c.silence.over} "
            f"(median longest {_md(c.silence.longest.median())} days)",
            f"- affirm reached after day {c.affirm.limit_days}: {c.affirm.late}, not yet and past it: "
            f"{c.affirm.not_yet_late} (median day {_md(c.affirm.days.median())})",
            f"- referral asks: {c.referrals.asked} (median day {_md(c.referrals.days.median())}); "
            f"referrals received: {c.referrals.received_total}",
        ]
    if f.attention:
        kinds: dict[str, int] = {}
        for a in f.attention:
            kinds[a.why] = kinds.get(a.why, 0) + 1
        lines += ["", "To look at (newest few of each): " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))]
    return "\n".join(lines) + "\n"
