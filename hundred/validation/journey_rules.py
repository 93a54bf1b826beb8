"""The rules that look across a journey: Coleman's phase order, unique touch ids, days within the
journey's length, the affirm gate for referrals, valid locale, time zone and holidays, and the
templates each touch names (they must exist, parse, and use only fields a deal has).

They run on the raw YAML data, tolerant of pieces that failed the schema, so a typo in one touch
does not hide a problem in another. They live apart from validate.py (which reads the file and
gathers every problem) because they are the bulk of what `hundred validate` knows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from jinja2 import TemplateNotFound

from hundred.deals.model import merge_field_tree
from hundred.journeys.model import GATE_PHASE, PHASES
from hundred.journeys.problems import Problem
from hundred.journeys.schema_errors import describe, did_you_mean, value_at
from hundred.journeys.source import Mark, SourceMap
from hundred.journeys.touch_rules import touch_problems, zone_hint
from hundred.planning.workdays import UnknownHolidays, check_region, country_code_for
from hundred.templating import sandbox as templating
from hundred.templating.loader import TemplateRefused, resolve_template
from hundred.validation.template_scan import includes, over_budget, private_names
from hundred.validation.templates import TemplateChecker, field_hint

INLINE_TEMPLATES = ("title", "subject")


def display_path(path: Path) -> str:
    """How messages name a file: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Rules:
    """Cross-journey rules over the raw data (tolerant of pieces that failed the schema)."""

    def __init__(self, data: dict[str, Any], smap: SourceMap, file: str, templates_dir: Path):
        self.data, self.smap, self.file, self.templates_dir = data, smap, file, templates_dir
        self.problems: list[Problem] = []
        self.fields = merge_field_tree()
        locale = data.get("locale")
        self.locale = locale if isinstance(locale, str) and self._locale_ok(locale) else "nl_NL"

    def add(
        self, loc: tuple[Any, ...], message: str, hint: str = "", key: bool = False, at: Mark | None = None
    ) -> None:
        mark = at or self.smap.locate(loc, prefer_key=key)
        self.problems.append(Problem(self.file, mark.line, mark.col, message, hint))

    def run(self) -> list[Problem]:
        self.settings()
        self.phases()
        return self.problems

    @staticmethod
    def _locale_ok(locale: str) -> bool:
        try:
            Locale.parse(locale)
            return True
        except (UnknownLocaleError, ValueError, TypeError):
            return False

    def settings(self) -> None:
        d = self.data
        locale = d.get("locale")
        if isinstance(locale, str) and not self._locale_ok(locale):
            fixed = locale.replace("-", "_")
            hint = (
                f"write it with an underscore: '{fixed}'"
                if fixed != locale and self._locale_ok(fixed)
                else "use a language_COUNTRY code such as nl_NL or en_GB"
            )
            self.add(("locale",), f"unknown locale '{locale}'", hint)
        tz = d.get("timezone")
        if isinstance(tz, str):
            try:
                ZoneInfo(tz)
            except (KeyError, ValueError):
                self.add(("timezone",), f"unknown time zone '{tz}'", zone_hint(tz))
        region = d.get("calendar", {}).get("holidays") if isinstance(d.get("calendar"), dict) else None
        if isinstance(region, str):
            try:
                check_region(region)
            except UnknownHolidays as exc:
                code = country_code_for(region)
                self.add(
                    ("calendar", "holidays"),
                    f"unknown holidays region '{region}': {exc}",
                    f"did you mean '{code}'?"
                    if code
                    else "use a country code such as NL, or country/subdivision such as DE/BY",
                )
        sender = d.get("sender")
        if isinstance(sender, dict):
            for key in ("name", "title"):
                if isinstance(sender.get(key), str):
                    self.inline(("sender", key), sender[key], f"sender.{key}")

    def phases(self) -> None:
        blocks = self.data.get("phases")
        if not isinstance(blocks, list):
            return
        length = self.data.get("length", 100)
        length = length if isinstance(length, int) and length > 0 else 100
        seen_phase: dict[str, int] = {}
        last_index = -1
        seen_ids: dict[str, Mark] = {}
        affirm_touches = 0
        gated: list[tuple[tuple[Any, ...], str]] = []
        for i, block in enumerate(blocks):
            if not isinstance(block, dict):
                continue
            name = block.get("phase")
            if isinstance(name, str) and name in PHASES:
                loc: tuple[str | int, ...] = ("phases", i, "phase")
                if name in seen_phase:
                    self.add(
                        loc,
                        f"phase '{name}' appears twice (first at line {seen_phase[name]})",
                        "put all its touches under one '- phase: " + name + "'",
                    )
                else:
                    seen_phase[name] = self.smap.locate(loc).line
                index = PHASES.index(name)
                if index < last_index:
                    self.add(
                        loc,
                        f"phase '{name}' is out of order: it comes before '{PHASES[last_index]}' in Coleman's method",
                        "the order is: " + ", ".join(PHASES),
                    )
                last_index = max(last_index, index)
            touches = block.get("touches")
            if not isinstance(touches, list):
                continue
            for j, touch in enumerate(touches):
                if not isinstance(touch, dict):
                    continue
                loc = ("phases", i, "touches", j)
                tid = touch.get("id")
                if isinstance(tid, str):
                    if tid in seen_ids:
                        self.add(
                            loc + ("id",),
                            f"touch id '{tid}' is used twice (first at line {seen_ids[tid].line})",
                            "touch ids must be unique in the journey: they identify a touch in flight",
                        )
                    else:
                        seen_ids[tid] = self.smap.locate(loc + ("id",))
                if name == GATE_PHASE:
                    affirm_touches += 1
                self.touch(loc, touch, name if isinstance(name, str) else None, length)
                if touch.get("referral") is True or name == "advocate":
                    gated.append((loc, name if isinstance(name, str) else ""))
        for loc, phase in gated:
            touch = value_at(self.data, loc)
            if touch.get("referral") is True and phase in PHASES and PHASES.index(phase) <= PHASES.index(GATE_PHASE):
                self.add(
                    loc + ("referral",),
                    f"referral touch '{touch.get('id')}' stands in phase '{phase}', before affirm is complete",
                    "move it to a later phase (advocate is where Coleman asks for referrals)",
                )
        if blocks and all(isinstance(b, dict) and b.get("touches") in (None, []) for b in blocks):
            self.add(
                ("phases",),
                "the journey has no touches: every phase is empty",
                "add touches under a phase, e.g. '- id: thank-you-letter' with day, channel and template",
                key=True,
            )
        if gated and affirm_touches == 0:
            loc, _ = gated[0]
            what = (
                "a referral touch"
                if any(value_at(self.data, l).get("referral") is True for l, _ in gated)
                else "the advocate phase"
            )
            self.add(
                loc,
                f"{what} waits for the affirm phase, but this journey has no affirm touches",
                "add an affirm phase with at least one touch, such as a handwritten thank-you letter",
            )

    def touch(self, loc: tuple[Any, ...], touch: dict[str, Any], phase: str | None, length: int) -> None:
        where = describe(loc, self.data)
        day = touch.get("day")
        if isinstance(day, int) and not isinstance(day, bool) and not 0 <= day <= length:
            self.add(
                loc + ("day",),
                f"day {day} of {where} is outside the journey (0..{length})",
                f"use a day from 0 to {length}, or set 'length:' for a longer journey",
            )
        for key, message, hint in touch_problems(touch, where, self.data.get("send_window", "09:00-17:00")):
            self.add(loc + (key,), message, hint)
        for key in INLINE_TEMPLATES:
            if isinstance(touch.get(key), str):
                self.inline(loc + (key,), touch[key], f"{key} of {where}")
        if isinstance(touch.get("when"), str):
            self.condition(loc + ("when",), touch["when"], where)
        if isinstance(touch.get("template"), str):
            self.template_file(loc + ("template",), touch["template"], where, touch.get("channel"))

    def inline(self, loc: tuple[Any, ...], source: str, what: str) -> None:
        try:
            tree = templating.parse(source, what, self.locale)
        except templating.TemplateProblem as exc:
            self.add(loc, f"{what} does not parse: {exc.message}", exc.hint or "check the {{ }} pairs")
            return
        for _use, bad in templating.unknown_fields(tree, self.fields):
            self.add(loc, f"{what} uses unknown field '{bad}'", self._field_hint(bad))
        self.filters(loc, tree, what)
        self.inline_only(loc, tree, what)

    def inline_only(self, loc: tuple[Any, ...], tree: Any, what: str) -> None:
        """What a one-line template or condition may not do: `_`-names, include/extends/import."""
        for bad, expression, _ in private_names(tree):
            self.add(
                loc,
                f"{what} uses '{expression}': '{bad}' starts with '_', and such names are not available in templates",
                "use the merge field's own name, e.g. contact.first_name",
            )
        for kind, _, _ in includes(tree):
            self.add(
                loc,
                f"{what} uses {{% {kind} %}}: only template files can include, extend or import templates",
                "move the text into a template file under templates/ and name it in 'template:'",
            )
        for message, _, _ in over_budget(tree):
            self.add(
                loc,
                f"{what} would fail every render: {message}",
                "templates fill in text: widths and repeats up to 1,000, and no **",
            )

    def condition(self, loc: tuple[Any, ...], source: str, where: str) -> None:
        env = templating.environment(self.locale)
        try:
            env.compile_expression(source)
            tree = env.parse("{{ (" + source + ") }}")
        except Exception as exc:  # jinja raises TemplateSyntaxError, but odd input can raise others
            message = getattr(exc, "message", None) or str(exc)
            hint = (
                "to compare, write == (two equals signs), e.g. \"deal.segment == 'C'\""
                if re.search(r"(^|[^=!<>])=($|[^=])", source)
                else "write a Jinja expression, e.g. \"deal.segment != 'C'\""
            )
            self.add(loc, f"the condition of {where} does not parse: {message}", hint)
            return
        for _use, bad in templating.unknown_fields(tree, self.fields):
            self.add(loc, f"the condition of {where} uses unknown field '{bad}'", self._field_hint(bad))
        self.filters(loc, tree, f"the condition of {where}")
        self.inline_only(loc, tree, f"the condition of {where}")

    def template_file(self, loc: tuple[Any, ...], name: str, where: str, channel: Any) -> None:
        """The template file, everything it includes, its `.txt` twin (an HTML email), and for a
        webhook, JSON that merge data cannot break: see templates.TemplateChecker."""
        base = self.templates_dir
        try:
            resolve_template(base, name)
        except TemplateRefused:
            self.add(
                loc,
                f"template '{name}' of {where} is outside the templates folder",
                "name templates relative to templates/, e.g. letters/thank-you.txt",
            )
            return
        except TemplateNotFound:
            known = (
                [str(p.relative_to(base.resolve())) for p in base.resolve().rglob("*") if p.is_file()]
                if base.is_dir()
                else []
            )
            self.add(
                loc,
                f"template '{name}' of {where} does not exist in {display_path(base)}/",
                did_you_mean(name, known) or f"create {display_path(base)}/{name}",
            )
            return
        checker = TemplateChecker(base, self.locale, self.fields, self._field_hint)
        issues = checker.check(name)
        for issue in issues:
            self.add(loc, f"{issue.message} (used by {where})", issue.hint)
        twin = str(Path(name).with_suffix(".txt"))
        if channel == "email" and templating.is_html(name) and (base / twin).is_file():
            for issue in checker.check(twin):
                self.add(loc, f"{issue.message} (the text part of {where})", issue.hint)
        if channel == "webhook" and not issues:
            for issue in checker.check_json_body(name):
                self.add(loc, f"{issue.message} ({where})", issue.hint)

    def filters(self, loc: tuple[Any, ...], tree: Any, what: str, lines: list[str] | None = None) -> None:
        env = templating.environment(self.locale)
        for kind, name, line in templating.unknown_filters(tree, env):
            known = sorted(env.filters if kind == "filter" else env.tests)
            place = f"{what}:{line}:{_column(lines, line, name)}" if lines is not None else what
            self.add(
                loc,
                f"unknown {kind} '{name}' in {place}",
                did_you_mean(name, known) or f"{kind}s available: {', '.join(known)}",
            )

    def _field_hint(self, bad: str) -> str:
        return field_hint(self.fields, bad)


def _column(lines: list[str] | None, line: int, word: str) -> int:
    if lines and 0 < line <= len(lines):
        match = re.search(r"\b" + re.escape(word) + r"\b", lines[line - 1])
        if match:
            return match.start() + 1
    return 1
