"""An upgrade of journeys in flight (hundred/planning/upgrade.py) said in people's words, per deal.

`hundred journeys upgrade` prints these lines (its dry run too) and the studio shows them under each
version in flight; the words are the `changes` catalog's, in the journey's language, and every time
is in the journey's time zone. `--json` stays the English contract (`TouchEdit.to_json`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hundred.planning.upgrade import TouchEdit
from hundred.rendering.i18n import Words, words
from hundred.reports.story import state_word
from hundred.reports.timeline.words import SHORT

LABELS = {
    "added": "added",
    "restored": "back",
    "cancelled": "cancelled",
    "retimed": "re-timed",
    "held": "held",
    "released": "released",
    "expired": "expired",
    "updated": "updated",
    "reworded": "new words",
    "kept": "stays",
    "gate": "gate",
}


@dataclass(frozen=True)
class UpgradeLine:
    kind: str  # TouchEdit.kind, or "gate"
    label: str
    touch: str | None
    text: str


class _Said:
    def __init__(self, w: Words, zone: str):
        self.w, self.zone = w, ZoneInfo(zone)
        self.states = words(str(w.locale), "simulate")

    def when(self, at: datetime | None) -> str:
        if at is None:
            return "—"
        local = at.astimezone(self.zone)
        return f"{self.w.date(local, SHORT)} {self.w.time(local)}"

    def edit(self, e: TouchEdit) -> str:
        w, touch = self.w, e.touch
        at_once = e.due is not None and e.planned is not None and e.due > e.planned
        if e.kind in ("added", "restored", "released", "retimed") and e.after == "waiting":
            return w("{touch}: waits for the affirm phase", touch=touch)
        if e.kind == "expired":
            return w(
                "{touch}: its moment ({when}) has passed: expired, not sent late",
                touch=touch,
                when=self.when(e.planned),
            )
        if e.kind == "cancelled":
            if e.was_due is not None:
                return w("{touch}: removed in the new version (was due {when})", touch=touch, when=self.when(e.was_due))
            return w("{touch}: removed in the new version", touch=touch)
        if e.kind == "held":
            return w("{touch}: now waits for the affirm phase", touch=touch)
        if e.kind == "updated":
            return f"{touch}: {e.detail}"
        if e.kind == "reworded":
            return w("{touch}: goes out with the new words", touch=touch)
        if e.kind == "kept":
            return w(
                "{touch}: removed in the new version; stays {state}",
                touch=touch,
                state=state_word(self.states, e.after),
            )
        when = w("at once (its moment, {when}, has passed)", when=self.when(e.planned)) if at_once else self.when(e.due)
        if e.kind == "retimed":
            return w("{touch}: {before} → {after}", touch=touch, before=self.when(e.was_due), after=when)
        if e.kind == "released":
            return w("{touch}: no longer waits for the affirm phase: {when}", touch=touch, when=when)
        return f"{touch}: {when}"

    def gate(self, gate: str) -> str:
        if gate == "closes":
            return self.w("the affirm gate closes again until the new version's affirm touches are complete")
        return self.w("the affirm gate opens: the new version's affirm touches are complete")


def edit_lines(w: Words, zone: str, edits: Sequence[TouchEdit], gate: str | None) -> list[UpgradeLine]:
    """One line per touch that changes (or is said), then the gate's."""
    said = _Said(w, zone)
    out = [UpgradeLine(e.kind, w(LABELS.get(e.kind, e.kind)), e.touch, said.edit(e)) for e in edits]
    if gate:
        out.append(UpgradeLine("gate", w(LABELS["gate"]), None, said.gate(gate)))
    return out


def deal_heading(w: Words, result: Any) -> str:
    """`deal D-1 (day 12): would be upgraded` — `result` is a service DealResult."""
    deal = (
        w("deal {deal} (day {day})", deal=result.deal, day=result.day)
        if result.day is not None
        else w("deal {deal}", deal=result.deal)
    )
    busy = ", ".join(result.upgrade.busy) if result.upgrade else ""
    outcome = {
        "upgraded": w("upgraded"),
        "would upgrade": w("would be upgraded"),
        "busy": w("busy: a run is delivering {touches}; run the upgrade again", touches=busy)
        if busy
        else w("busy: {why}; run the upgrade again", why=result.detail),
        "moved on": w("not upgraded: {why}", why=result.detail),
        "unreadable": w("not upgraded: its stored deal cannot be read: {why}", why=result.detail),
    }[result.outcome]
    if result.outcome in ("upgraded", "would upgrade") and result.upgrade and not result.upgrade.edits:
        outcome += " — " + w("no touch changes, only its version")
    return f"{deal}: {outcome}"


def report_lines(w: Words, report: Any, zone: str) -> list[str]:
    """Every deal of `report` (a service UpgradeReport) with its changes, then the summary: what
    `hundred journeys upgrade` prints under its first line, and the studio shows."""
    out: list[str] = []
    if report.before == report.after:
        return [w("{version} is the file's version: there is nothing to move.", version=report.after)]
    if not report.deals:
        out.append(w("No journeys are in flight on version {version}.", version=report.before))
    for deal in report.deals:
        out += ["", deal_heading(w, deal)]
        lines = edit_lines(w, zone, deal.upgrade.edits, deal.upgrade.gate) if deal.upgrade else []
        width = max((len(line.label) for line in lines), default=0)
        out += [f"  {line.label:<{width}}  {line.text}" for line in lines]
    return [*out, "", *summary(w, report)]


def summary(w: Words, report: Any) -> list[str]:
    """The closing lines of `report` (a service UpgradeReport)."""
    lines = []
    if report.dry_run:
        n = report.count("would upgrade")
        lines.append(
            w.plural(
                "{n} deal would be upgraded to version {version}; nothing was changed (dry run).",
                "{n} deals would be upgraded to version {version}; nothing was changed (dry run).",
                n,
                version=report.after,
            )
        )
    else:
        n = report.count("upgraded")
        lines.append(
            w.plural(
                "{n} deal upgraded to version {version}.",
                "{n} deals upgraded to version {version}.",
                n,
                version=report.after,
            )
        )
    busy = report.count("busy")
    if busy:
        lines.append(
            w.plural(
                "{n} deal stays on version {version} for now: run the upgrade again.",
                "{n} deals stay on version {version} for now: run the upgrade again.",
                busy,
                version=report.before,
            )
        )
    waiting = sum(d.waiting_runs for d in report.deals)
    if waiting:
        lines.append(
            w.plural(
                "{n} touch waits for its deliver run (Prefect did not answer): hundred makes it when it runs.",
                "{n} touches wait for their deliver runs (Prefect did not answer): hundred makes them when it runs.",
                waiting,
            )
        )
    return lines


__all__ = ["UpgradeLine", "edit_lines", "deal_heading", "report_lines", "summary", "LABELS"]
