"""What `hundred validate` checks in a template file, so that what validates also renders.

One template file and everything it includes, extends or imports (inside templates/ only, each
checked the same way, cycles refused): it is UTF-8, not empty, not too long, parses, uses only merge
fields a deal has and filters hundred has, reaches for no `_`-name, and has no recursive loop.
A webhook body must also be valid JSON for a sample deal, and for a hostile one whose names hold
quotes, backslashes and line breaks: that is what `| json` is for.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import TemplateNotFound, nodes

from hundred.journeys.schema_errors import did_you_mean
from hundred.templating import limits, sandbox as templating
from hundred.templating.limits import MAX_SOURCE
from hundred.templating.loader import TemplateRefused, display_root, resolve_template
from hundred.validation.sample_deal import sample_context
from hundred.validation.template_scan import bare_outputs, includes, over_budget, private_names


@dataclass(frozen=True)
class Issue:
    """One problem in a template; `message` names the template file, line and column itself.
    `template`, `line` and `col` say the same as data (the studio marks the spot in the editor);
    line 0 when the problem is the file as a whole."""

    message: str
    hint: str
    template: str = ""
    line: int = 0
    col: int = 0


def _column(lines: list[str], line: int, word: str) -> int:
    if 0 < line <= len(lines) and word:
        match = re.search(r"(?<![\w])" + re.escape(word) + r"(?![\w])", lines[line - 1]) or re.search(
            re.escape(word), lines[line - 1]
        )
        if match:
            return match.start() + 1
    return 1


def _guess(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def field_hint(fields: dict[str, Any], bad: str) -> str:
    """What to write instead of the unknown merge field `bad` (`fields`: merge_field_tree())."""
    parts = bad.split(".")
    if len(parts) == 1:  # `{{ first_name }}`: the field exists, one level down
        homes = [
            f"{root}.{parts[0]}"
            for root in ("contact", "company", "address", "owner", "deal")
            if isinstance(fields.get(root), dict) and parts[0] in fields[root]
        ]
        if homes:
            return f"did you mean '{homes[0]}'?"
    level: Any = fields
    for part in parts[:-1]:
        level = level.get(part) if isinstance(level, dict) else None
    options = sorted(level) if isinstance(level, dict) else sorted(fields)
    prefix = ".".join(parts[:-1])
    guess = did_you_mean(parts[-1], options)
    if guess:
        return guess.replace("'", f"'{prefix}." if prefix else "'", 1)
    names = ", ".join(f"{prefix}.{o}" if prefix else o for o in options)
    return f"fields available here: {names}"


class TemplateChecker:
    """Checks template files under one templates folder, for one journey's locale."""

    def __init__(self, root: Path, locale: str, field_tree: dict[str, Any], field_hint: Callable[[str], str]):
        self.root, self.locale, self.fields, self.field_hint = root, locale, field_tree, field_hint
        self.shown = display_root(root)
        self._unsaved: dict[str, str] = {}

    def check(self, name: str, source: str | None = None) -> list[Issue]:
        """The template a touch names (it exists inside the folder: the caller checked). `source`:
        its text as being edited, in place of the file's (what it includes is read from disk)."""
        self._unsaved = {name: source} if source is not None else {}
        return self._check(name, (), frozenset(), top=True)

    def _source(self, name: str) -> str:
        return self._unsaved[name] if name in self._unsaved else (self.root / name).read_text(encoding="utf-8")

    def _known(self) -> list[str]:
        base = self.root.resolve()
        return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()) if base.is_dir() else []

    def _check(self, name: str, stack: tuple[str, ...], inherited: frozenset[str], top: bool) -> list[Issue]:
        shown = f"{self.shown}/{name}"
        try:
            source = self._source(name)
        except UnicodeDecodeError:
            return [Issue(f"template {shown} is not UTF-8 text", "save it as UTF-8", name)]
        except OSError as exc:
            return [Issue(f"template {shown} cannot be read: {exc.strerror}", "check the file", name)]
        if len(source) > MAX_SOURCE:
            return [
                Issue(
                    f"template {shown} is {len(source):,} characters; the limit is {MAX_SOURCE:,}",
                    "a letter, email or brief is far shorter: is this the right file?",
                    name,
                )
            ]
        if top and not source.strip():
            return [Issue(f"template {shown} is empty", "write its text, or remove the touch", name, 1, 1)]
        try:
            tree = templating.parse(source, shown, self.locale)
        except templating.TemplateProblem as exc:
            line = exc.line or 1
            return [Issue(f"template {shown}:{line}:1 does not parse: {exc.message}", exc.hint, name, line, 1)]
        lines = source.splitlines()
        issues = []

        def spot(line: int, word: str) -> tuple[str, int]:
            """Where `word` stands on `line`: as a message names it (template:line:col), and its column."""
            col = _column(lines, line, word)
            return f"{shown}:{line}:{col}", col

        for use, bad in templating.unknown_fields(tree, self.fields, inherited):
            at, col = spot(use.line, bad.split(".")[-1])
            issues.append(Issue(f"unknown field '{bad}' in template {at}", self.field_hint(bad), name, use.line, col))
        env = templating.environment(self.locale)
        for kind, bad, line in templating.unknown_filters(tree, env):
            known = sorted(env.filters if kind == "filter" else env.tests)
            at, col = spot(line, bad)
            hint = _guess(bad, known) or f"{kind}s available: {', '.join(known)}"
            issues.append(Issue(f"unknown {kind} '{bad}' in template {at}", hint, name, line, col))
        for bad, expression, line in private_names(tree):
            at, col = spot(line, bad)
            message = (
                f"'{expression}' in template {at} uses '{bad}', "
                "which starts with '_': such names are not available in templates"
            )
            issues.append(Issue(message, "use the merge field's own name, e.g. contact.first_name", name, line, col))
        for problem, word, line in over_budget(tree):
            at, col = spot(line, word)
            hint = f"templates fill in text: widths and repeats up to {limits.MAX_WIDTH:,}, and no **"
            issues.append(Issue(f"template {at} would fail every render: {problem}", hint, name, line, col))
        for loop in templating._nodes(tree):
            if isinstance(loop, nodes.For) and loop.recursive:
                at, col = spot(loop.lineno, "recursive")
                hint = "recursive loops are not allowed: write the levels out, or use a macro"
                issues.append(Issue(f"recursive loop in template {at}", hint, name, loop.lineno, col))
        bound = templating._bound_names(tree) | inherited
        for kind, target, node in includes(tree):
            issues.extend(self._included(kind, target, node, shown, lines, stack + (name,), bound))
        return issues

    def _included(
        self,
        kind: str,
        target: Any,
        node: Any,
        shown: str,
        lines: list[str],
        stack: tuple[str, ...],
        bound: frozenset[str],
    ) -> list[Issue]:
        col = _column(lines, node.lineno, kind.split()[0])
        where, at = f"{shown}:{node.lineno}:{col}", (stack[-1], node.lineno, col)
        if target is None:
            return [
                Issue(
                    f"the template name in {{% {kind} %}} at {where} must be written out in quotes",
                    "e.g. {% extends 'emails/_layout.html' %}: a name made from merge data is not allowed",
                    *at,
                )
            ]
        try:
            resolve_template(self.root, target)
        except TemplateRefused as exc:
            return [
                Issue(
                    f"{{% {kind} %}} at {where}: {exc.message}",
                    "name templates relative to templates/, e.g. emails/_layout.html",
                    *at,
                )
            ]
        except TemplateNotFound:
            if getattr(node, "ignore_missing", False):
                return []
            return [
                Issue(
                    f"{{% {kind} '{target}' %}} at {where}: no such template in {self.shown}/",
                    _guess(target, self._known()) or f"create {self.shown}/{target}",
                    *at,
                )
            ]
        if target in stack:
            cycle = " → ".join(stack[stack.index(target) :] + (target,))
            return [
                Issue(
                    f"{{% {kind} %}} at {where} closes a cycle: {cycle}",
                    "a template cannot include or extend itself, directly or through others",
                    *at,
                )
            ]
        inherited = bound if kind == "include" else frozenset()
        return self._check(target, stack, inherited, top=False)

    def check_json_body(self, name: str) -> list[Issue]:
        """A webhook body renders to JSON for a sample deal, and for one whose text holds quotes,
        backslashes and line breaks (checked only once the template is otherwise valid)."""
        shown = f"{self.shown}/{name}"
        source = self._source(name)
        for label, hostile in (
            ("a sample deal", False),
            ("a deal whose names hold quotes, backslashes or line breaks", True),
        ):
            try:
                body = templating.render(
                    source, sample_context(self.fields, hostile), shown, self.locale, templates_dir=self.root
                )
                json.loads(body)
            except templating.TemplateProblem as exc:
                return [
                    Issue(
                        f"webhook body {exc.template}:{exc.line or 1}:1 cannot be rendered for {label}: {exc.message}",
                        exc.hint or "check the template",
                        name if exc.template == shown else "",
                        exc.line or 1,
                        1,
                    )
                ]
            except json.JSONDecodeError as exc:
                bare = bare_outputs(templating.parse(source, shown, self.locale))
                line = bare[0][1] if bare else 1
                col = _column(source.splitlines(), line, bare[0][0].split(".")[-1]) if bare else 1
                named = "; printed without it: " + ", ".join(f"{t} (line {n})" for t, n in bare[:5]) if bare else ""
                return [
                    Issue(
                        f"webhook body {shown}:{line}:{col} is not valid JSON for {label}: {exc.msg} "
                        f"(line {exc.lineno}, column {exc.colno} of the body)",
                        "print every value with | json, which adds the quotes and escapes what needs it: "
                        '"name": {{ contact.first_name | json }} (no quotes around it)' + named,
                        name,
                        line,
                        col,
                    )
                ]
        return []
