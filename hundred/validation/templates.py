"""What `hundred validate` checks in a template file, so that what validates also renders.

One template file and everything it includes, extends or imports (inside templates/ only, each
checked the same way, cycles refused): it is UTF-8, not empty, not too long, parses, uses only merge
fields a deal has and filters hundred has, reaches for no `_`-name, and has no recursive loop.
A webhook body must also be valid JSON for a sample deal, and for a hostile one whose names hold
quotes, backslashes and line breaks: that is what `| json` is for.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from jinja2 import TemplateNotFound, nodes

from hundred.journeys.schema_errors import did_you_mean
from hundred.templating import limits, sandbox as templating
from hundred.templating.filters import GUARDED_FILTERS
from hundred.templating.limits import MAX_SOURCE, LimitExceeded, PrivateName
from hundred.templating.loader import TemplateRefused, display_root, resolve_template

INCLUDES: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Extends: "extends",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
}


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


def _dotted(node: nodes.Node) -> str:
    """`deal.__class__` for the node of that expression, or '…' where it is not a plain field path."""
    parts: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            parts.append(str(node.arg.value))
            node = node.node
        elif isinstance(node, nodes.Name):
            parts.append(node.name)
            return ".".join(reversed(parts))
        else:
            parts.append("…")
            return ".".join(reversed(parts))


def private_names(tree: nodes.Template) -> list[tuple[str, str, int]]:
    """`x.__class__`, `x._foo`, `x['_foo']`, `x | attr('_foo')`: (the name, the expression, its line)."""
    found = []
    for node in templating._nodes(tree):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            found.append((node.attr, _dotted(node), node.lineno))
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            found.append((node.arg.value, _dotted(node), node.lineno))
        elif isinstance(node, (nodes.Filter, nodes.Test)) and node.name in ATTRIBUTE_FILTERS:
            named = (
                [node.args[0]]
                if node.args
                and node.name in ("attr", "selectattr", "rejectattr", "groupby", "sum", "sort", "unique", "min", "max")
                else []
            )
            named += [k.value for k in node.kwargs if k.key == "attribute"]
            for arg in named:
                if isinstance(arg, nodes.Const) and any(part.startswith("_") for part in str(arg.value).split(".")):
                    bad = next(part for part in str(arg.value).split(".") if part.startswith("_"))
                    found.append((bad, f"{node.name}('{arg.value}')", node.lineno))
    return found


# filters that read an attribute named by a string: `map(attribute='__class__')` walks like `.__class__`
ATTRIBUTE_FILTERS = {"attr", "map", "selectattr", "rejectattr", "groupby", "sum", "sort", "unique", "min", "max"}


def includes(tree: nodes.Template) -> list[tuple[str, str | None, nodes.Node]]:
    """Every include/extends/import: (keyword, the template name or None when not written out, node)."""
    out: list[tuple[str, str | None, nodes.Node]] = []
    for node in templating._nodes(tree):
        kind = INCLUDES.get(type(node))
        if kind and isinstance(node, (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
            target = node.template
            name = target.value if isinstance(target, nodes.Const) and isinstance(target.value, str) else None
            out.append((kind, name, node))
    return out


def _const(node: Any) -> Any:
    try:
        return node.as_const()
    except Exception:
        return _NOT_CONST


_NOT_CONST = object()
_OPERATOR_WORDS: dict[type[nodes.Node], str] = {nodes.Pow: "**", nodes.Mul: "*", nodes.Mod: "%"}


def _known(value: Any) -> Any:
    """Only what is written out is checked: a value not known before the render reads as None."""
    return None if value is _NOT_CONST else value


def over_budget(tree: nodes.Template) -> list[tuple[str, str, int]]:
    """What the render budgets would refuse whatever the deal: `**`, text repeated with `*`, and
    widths written out too large (`center(1000000000)`, `'%0999999999d' % 1`, `'x'.zfill(...)`).
    As (message, the word to point at, line)."""
    found: list[tuple[str, str, int]] = []
    for node in templating._nodes(tree):
        try:
            if isinstance(node, nodes.Pow):
                raise LimitExceeded("the ** operator is not allowed in templates")
            if isinstance(node, nodes.Mul) and _NOT_CONST not in (_const(node.left), _const(node.right)):
                left, right = _const(node.left), _const(node.right)
                if isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
                    limits.check_repeat(left, right)
            if isinstance(node, nodes.Mod) and isinstance(_const(node.left), str):
                limits.check_printf(_const(node.left))
            if isinstance(node, nodes.Filter) and node.name in GUARDED_FILTERS:
                args = [_known(_const(a)) for a in node.args]
                written = cast("list[nodes.Keyword]", node.kwargs)  # jinja2 types them Pair; its parser makes Keyword
                kwargs = {k.key: _known(_const(k.value)) for k in written}
                value = _known(_const(node.node)) if node.node is not None else None
                if not node.dyn_args and not node.dyn_kwargs:
                    GUARDED_FILTERS[node.name]("" if value is None else value, *args, **kwargs)
            if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
                method, args = node.node.attr, [_const(a) for a in node.args]
                if method in limits.REFUSED_METHODS:
                    raise LimitExceeded(f".{method}() is not available in templates")
                if method in limits.GROWING_METHODS and args:
                    limits.check_width(args[0], f".{method}() width")
                if method in ("format", "format_map") and isinstance(_const(node.node.node), str):
                    limits.check_format_spec(_const(node.node.node))
        except (LimitExceeded, PrivateName) as exc:
            word = (
                _OPERATOR_WORDS.get(type(node))
                or getattr(node, "name", None)
                or getattr(getattr(node, "node", None), "attr", "")
            )
            found.append((str(exc), str(word), node.lineno))
        except (TypeError, ValueError):
            pass  # wrong arguments: the render reports them with its own words
    return found


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


def bare_outputs(tree: nodes.Template) -> list[tuple[str, int]]:
    """What a template prints without `| json`: (the field or 'an expression', line)."""
    out = []
    for output in templating._nodes(tree):
        if not isinstance(output, nodes.Output):
            continue
        for child in output.nodes:
            if isinstance(child, nodes.TemplateData):
                continue
            if isinstance(child, nodes.Filter) and child.name in ("json", "tojson"):
                continue
            path = templating.field_uses(nodes.Template([nodes.Output([child])]), set())
            out.append((".".join(path[0].path) if path else "an expression", child.lineno))
    return out


class AnyFields(dict[str, Any]):
    """Sample custom fields: every key the template asks for has a value."""

    def __init__(self, any_field: str):
        super().__init__()
        self.any_field = any_field


_HOSTILE = 'Ann "Annie" O\'Neil \\ Jansen\n\t</script><b>&amp;</b> {{ 7*7 }}'
_KEEP = {"currency", "country", "locale", "timezone", "channel", "phase"}  # codes a real deal has valid


def sample_context(field_tree: dict[str, Any], hostile: bool = False) -> dict[str, Any]:
    """A merge context with every field filled in, modelled on examples/deal-nl.json; `hostile`:
    every text holds quotes, a backslash, a line break, a tab and markup."""
    cet = timezone(timedelta(hours=1))
    ctx: dict[str, Any] = {
        "deal": {
            "id": "D-1042",
            "closed_at": datetime(2026, 11, 20, 14, 3, tzinfo=cet),
            "journey": "first-100-days",
            "amount": Decimal("12500.00"),
            "currency": "EUR",
            "product": "Jaarabonnement",
            "segment": "A",
        },
        "owner": {
            "name": "Sanne de Vries",
            "email": "sanne@example.nl",
            "title": "Accountmanager",
            "phone": "+31 6 8765 4321",
        },
        "contact": {
            "first_name": "Ilse",
            "last_name": "Jansen",
            "email": "ilse@example.nl",
            "phone": "+31 6 1234 5678",
            "locale": "nl_NL",
            "timezone": "Europe/Amsterdam",
        },
        "company": {"name": "Bakkerij Jansen B.V."},
        "address": {
            "street": "Dorpsstraat 12",
            "postcode": "8011 AB",
            "city": "Zwolle",
            "state": "Overijssel",
            "country": "NL",
        },
        "journey": {"id": "first-100-days", "name": "De eerste 100 dagen", "locale": "nl_NL"},
        "touch": {"id": "crm-update", "phase": "affirm", "channel": "webhook", "day": 3, "date": date(2026, 11, 23)},
        "sender": {"name": "Sanne de Vries", "title": "Accountmanager"},
    }
    _fill(ctx, field_tree, "")
    if hostile:
        ctx = _hostile(copy.deepcopy(ctx))
    ctx["deal"].update({part: ctx[part] for part in ("owner", "contact", "company", "address")})
    ctx["deal"]["fields"] = AnyFields(_HOSTILE if hostile else "voorbeeld")
    return ctx


def _fill(sample: dict[str, Any], tree: dict[str, Any], path: str) -> None:
    for key, sub in tree.items():  # a field added to the deal model gets a sample value too
        if key == "fields" or sub == "*":
            continue
        if isinstance(sub, dict):
            if key in ("owner", "contact", "company", "address") and path == "deal.":
                continue  # the deal's parts are the top-level ones
            _fill(sample.setdefault(key, {}), sub, f"{path}{key}.")
        else:
            sample.setdefault(key, f"sample {path}{key}")


def _hostile(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _hostile(v, k) for k, v in value.items()}
    if isinstance(value, str) and key not in _KEEP:
        return _HOSTILE
    return value
