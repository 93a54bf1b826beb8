"""The Coleman linter: warnings where a valid journey neglects the customer.

`validate` says whether a journey works; these rules say whether it follows the method it claims:
every phase has a touch, the choice is affirmed right after the sale, the customer never goes long
without hearing from you, there is a letter early on, and the referral is asked late and only after
a result. Timing is measured on the plan for the typical deal (`typical.py`), so a letter counts on
its arrival day and a touch moved by a weekend counts where it lands.

Each rule has an id; a journey may silence one with a reason (`lint: {ignore: {silence: "…"}}`),
and the thresholds are set per journey under `lint:` (journey.LintSettings). A silenced rule is
still reported as silenced, with its reason and how many warnings it would have given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hundred.journeys.model import LINT_RULES, PHASES, Journey
from hundred.journeys.problems import Problem
from hundred.journeys.shorten import clip
from hundred.journeys.source import SourceMap
from hundred.planning.planner import Plan, PlannedTouch
from hundred.validation.lint.hints import missing_phase
from hundred.validation.lint.typical import typical_plan

CUSTOMER_FACING = ("letter", "email", "task")  # a task is the owner calling, visiting or sending; a webhook is a system
__all__ = ["LINT_RULES", "CUSTOMER_FACING", "Finding", "Linted", "lint", "silences"]


@dataclass
class Finding:
    """One warning before it is placed in the file: the rule, the words, where, and its timeline mark."""

    rule: str
    message: str
    hint: str
    loc: tuple[Any, ...]
    mark: dict[str, Any] = field(default_factory=dict)
    key: bool = False


@dataclass
class Linted:
    warnings: list[Problem] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)  # warning JSON + "mark", in the order of `warnings`
    silenced: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> list[dict[str, Any]]:
        return self.marks


@dataclass(frozen=True)
class Stretch:
    """Days `start`..`end` (journey days on the plan) with no customer-facing touch in between."""

    start: int
    end: int
    after: str | None  # the touch before the silence; None: the close
    before: str | None  # the touch after it; None: the end of the journey

    @property
    def days(self) -> int:
        return self.end - self.start


def _offset(plan: Plan, t: PlannedTouch) -> int:
    return (t.due.date() - plan.start_date).days


def _when(plan: Plan, day: int) -> str:
    d = plan.start_date + timedelta(days=day)
    return f"{d:%a} {d.day} {d:%b} {d.year}"


def silences(plan: Plan, limit: int) -> list[Stretch]:
    """Every stretch longer than `limit` days without a customer-facing touch, from the close (day 0)
    to the end of the journey (day `length`)."""
    points: list[tuple[int, str | None]] = [(0, None)]
    points += sorted((_offset(plan, t), t.touch) for t in plan.touches if t.channel in CUSTOMER_FACING)
    length = plan.journey.length
    if points[-1][0] < length:
        points.append((length, None))
    out = []
    for (a, after), (b, before) in zip(points, points[1:], strict=False):
        if b - a > limit:
            out.append(Stretch(a, b, after, before))
    return out


def _describe_stretch(plan: Plan, s: Stretch) -> str:
    start = f"day {s.start} ({_when(plan, s.start)}{', ' + repr(s.after) if s.after else ', the close'})"
    end = (
        f"day {s.end} ({_when(plan, s.end)}, {s.before!r})"
        if s.before
        else f"the end of the journey, day {s.end} ({_when(plan, s.end)})"
    )
    return f"{s.days} days without a customer-facing touch, from {start} to {end}"


class _Linter:
    def __init__(self, journey: Journey, data: dict[str, Any]):
        self.journey, self.data = journey, data
        self.settings = journey.lint
        self.plan = typical_plan(journey)
        self.locs: dict[str, tuple[Any, ...]] = {}
        for i, block in enumerate(data.get("phases") or []):
            for j, touch in enumerate((block or {}).get("touches") or [] if isinstance(block, dict) else []):
                if isinstance(touch, dict) and isinstance(touch.get("id"), str):
                    self.locs.setdefault(touch["id"], ("phases", i, "touches", j))
        self.by_id = {t.id: (b, t) for b, t in journey.touches()}
        self.findings: list[Finding] = []

    def add(
        self,
        rule: str,
        message: str,
        hint: str,
        loc: tuple[Any, ...],
        mark: dict[str, Any] | None = None,
        key: bool = False,
    ) -> None:
        self.findings.append(Finding(rule, message, hint, loc, mark or {}, key))

    def touch_loc(self, touch_id: str | None, key: str = "day") -> tuple[Any, ...]:
        base = self.locs.get(touch_id or "")
        return base + (key,) if base else ("phases",)

    def run(self) -> list[Finding]:
        self.phases()
        self.affirm_early()
        self.silence()
        self.mail()
        self.referral_late()
        self.condition_gap()
        return self.findings

    def phases(self) -> None:
        having = {block.phase for block, _ in self.journey.touches()}
        blocks = {b.get("phase"): i for i, b in enumerate(self.data.get("phases") or []) if isinstance(b, dict)}
        for phase in PHASES:
            if phase in having:
                continue
            message, hint = missing_phase(phase, self.journey.locale)
            where = ("phases", blocks[phase], "phase") if phase in blocks else ("phases",)
            self.add("phases", message, hint, where, {"kind": "phase", "phase": phase}, key=phase not in blocks)

    def affirm_early(self) -> None:
        limit = self.settings.affirm_early.days
        if not any(block.phase == "affirm" for block in self.journey.phases):
            return  # `phases` says the affirm phase is missing
        affirm = [t for t in self.plan.touches if t.phase == "affirm" and t.channel in CUSTOMER_FACING]
        first = min(affirm, key=lambda t: (_offset(self.plan, t), t.order), default=None)
        if first is None:
            block = next(i for i, b in enumerate(self.journey.phases) if b.phase == "affirm")
            self.add(
                "affirm-early",
                "no affirm touch reaches the customer (a webhook does not)",
                f"buyer's remorse sets in right after the sale: confirm the choice within {limit} days, "
                "e.g. an email on day 1 saying what happens next",
                ("phases", block, "phase"),
            )
            return
        day = _offset(self.plan, first)
        if day <= limit:
            return
        how = "arrives" if first.channel == "letter" else "reaches the customer"
        moved = f" (planned for day {first.day}; {'; '.join(map(str, first.notes))})" if day != first.day else ""
        self.add(
            "affirm-early",
            f"the first affirm touch, '{first.touch}', {how} on day {day} ({_when(self.plan, day)}){moved}: "
            f"more than {limit} days after the close",
            f"buyer's remorse sets in right after the sale: reach the customer within {limit} days, e.g. an "
            "email on day 1 saying what happens next (a letter counts on its arrival day)",
            self.touch_loc(first.touch),
            {"kind": "flag", "touch": first.touch, "day": day},
        )

    def silence(self) -> None:
        limit = self.settings.silence.days
        self.stretches = silences(self.plan, limit)
        for s in self.stretches:
            middle = (s.start + s.end) // 2
            fix = (
                f"add a touch around day {middle} (a short call or a letter), or move '{s.before}' earlier"
                if s.before
                else f"add a touch around day {middle}, or end the journey earlier ('length:')"
            )
            self.add(
                "silence",
                _describe_stretch(self.plan, s),
                f"customers leave when they stop hearing from you: {fix}; the limit is {limit} days "
                f"(lint: {{silence: {{days: {limit}}}}})",
                self.touch_loc(s.before or s.after),
                {"kind": "band", "from_day": s.start, "to_day": s.end, "from_touch": s.after, "to_touch": s.before},
            )

    def mail(self) -> None:
        limit = self.settings.mail.days
        letters = sorted((_offset(self.plan, t), t.touch) for t in self.plan.touches if t.channel == "letter")
        if letters and letters[0][0] <= limit:
            return
        later = (
            f"; the first, '{letters[0][1]}', arrives on day {letters[0][0]} ({_when(self.plan, letters[0][0])})"
            if letters
            else ""
        )
        self.add(
            "mail",
            f"no letter reaches the customer in the first {limit} days{later}",
            "Coleman: send mail, not email. A handwritten thank-you letter that arrives by day 3 is kept and "
            "remembered; add one to the affirm phase (channel: letter)",
            self.touch_loc(letters[0][1]) if letters else ("phases",),
            {"kind": "band", "from_day": 0, "to_day": limit, "from_touch": None, "to_touch": None},
            key=not letters,
        )

    def referral_late(self) -> None:
        limit = self.settings.referral_late.days
        results = [_offset(self.plan, t) for t in self.plan.touches if t.phase == "accomplish"]
        for t in self.plan.touches:
            _, touch = self.by_id[t.touch]
            if not touch.referral:
                continue
            day, why = _offset(self.plan, t), []
            if day < limit:
                why.append(f"{day} days after the close, before day {limit}")
            if not any(r < day for r in results):
                why.append(
                    "before any touch in 'accomplish'" if results else "and the journey has no 'accomplish' touch"
                )
            if not why:
                continue
            self.add(
                "referral-late",
                f"referral touch '{t.touch}' asks on day {day} ({_when(self.plan, day)}): {', '.join(why)}",
                "ask once the customer has a result: put the referral after a touch in 'accomplish', "
                f"no earlier than day {limit}",
                self.touch_loc(t.touch, "referral"),
                {"kind": "flag", "touch": t.touch, "day": day},
            )

    def condition_gap(self) -> None:
        limit = self.settings.silence.days
        known = {(s.start, s.end) for s in self.stretches}
        for _block, touch in self.journey.touches():
            if not touch.when or touch.channel not in CUSTOMER_FACING:
                continue
            alone = typical_plan(self.journey, without=touch.id)
            for s in silences(alone, limit):
                if (s.start, s.end) in known:
                    continue
                self.add(
                    "condition-gap",
                    f"when \"{clip(touch.when, 60)}\" is false, '{touch.id}' does not happen and that customer gets "
                    + _describe_stretch(alone, s),
                    f"a segment that skips '{touch.id}' is left alone too long: add a touch for it around day "
                    f"{(s.start + s.end) // 2} (e.g. with the opposite condition), or move a neighbour closer",
                    self.touch_loc(touch.id, "when"),
                    {
                        "kind": "band",
                        "from_day": s.start,
                        "to_day": s.end,
                        "from_touch": s.after,
                        "to_touch": s.before,
                        "touch": touch.id,
                        "when": touch.when,
                    },
                )


def lint(journey: Journey, data: dict[str, Any], smap: SourceMap, file: str) -> Linted:
    """Warnings for a valid journey, placed in `file`; silenced rules are set aside with their reasons."""
    findings = _Linter(journey, data).run()
    ignore = journey.lint.ignore
    out = Linted()
    for f in sorted(findings, key=lambda f: (smap.locate(f.loc, prefer_key=f.key).line, LINT_RULES.index(f.rule))):
        if f.rule in ignore:
            continue
        mark = smap.locate(f.loc, prefer_key=f.key)
        problem = Problem(file, mark.line, mark.col, f.message, f.hint, rule=f.rule, severity="warning")
        out.warnings.append(problem)
        out.marks.append({**problem.to_json(), "mark": f.mark})
    for rule, reason in ignore.items():
        mark = smap.locate(("lint", "ignore", rule), prefer_key=True)
        out.silenced.append(
            {
                "rule": rule,
                "reason": reason,
                "file": file,
                "line": mark.line,
                "col": mark.col,
                "would_warn": sum(1 for f in findings if f.rule == rule),
            }
        )
    return out
