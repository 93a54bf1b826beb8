"""One sandboxed Jinja2 set-up for every channel's templates.

Templates are written by marketers and filled with CRM data, so both are untrusted: the sandbox
blocks attribute walking and mutation, StrictUndefined turns a misspelt field into an error instead
of "Beste ," on a thousand letters, and the `*`/`**` operators are refused because the stock
sandbox happily renders `{{ 'x' * 10**9 }}`. Merge data is only ever data: a contact named
`{{ 7*7 }}` is printed as written, because rendered values are never rendered again.
"""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from jinja2 import StrictUndefined, Undefined, nodes, pass_context
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 100_000  # characters; a letter that long is a broken template, not a letter


class TemplateProblem(Exception):
    """A template that cannot be parsed or rendered, with the place to look."""

    def __init__(self, template: str, line: int | None, message: str, hint: str = ""):
        self.template, self.line, self.message, self.hint = template, line, message, hint
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {message}")


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):  # type: ignore[override]
        if operator == "**":
            raise SecurityError("the ** operator is not allowed in templates")
        if operator == "*" and (isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple))):
            raise SecurityError("repeating text with * is not allowed in templates")
        return super().call_binop(context, operator, left, right)


def _strict(fn: Callable[..., str]) -> Callable[..., str]:
    """Custom filters get Undefined passed straight in; make them fail like StrictUndefined does."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        for value in args:
            if isinstance(value, Undefined):
                value._fail_with_undefined_error()
        return fn(*args, **kwargs)

    return wrapper


def _as_date(value: Any) -> date | datetime:
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"the date filter needs a date, got {value!r}")


def _as_decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


def _filters(locale: str) -> dict[str, Callable[..., Any]]:
    # babel is imported inside each filter: `hundred validate` builds environments and parses
    # templates but never formats a date, and the import costs a tenth of its time budget
    @_strict
    def date_filter(value: Any, format: str = "long") -> str:
        from babel.dates import format_date, format_datetime

        value = _as_date(value)
        if isinstance(value, datetime) and format not in ("short", "medium", "long", "full"):
            return format_datetime(value, format, locale=locale)
        return format_date(value.date() if isinstance(value, datetime) else value, format, locale=locale)

    @_strict
    def time_filter(value: Any, format: str = "short") -> str:
        from babel.dates import format_time

        return format_time(_as_date(value), format, locale=locale)

    @pass_context
    def money_filter(context: Any, value: Any, currency: str | None = None) -> str:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        from babel.numbers import format_currency

        deal = context.get("deal") or {}
        code = currency or (deal.get("currency") if isinstance(deal, dict) else None) or "EUR"
        return format_currency(_as_decimal(value), code, locale=locale)

    @_strict
    def number_filter(value: Any, format: str | None = None) -> str:
        from babel.numbers import format_decimal

        return format_decimal(_as_decimal(value), format, locale=locale)

    @pass_context
    def postcode_filter(context: Any, value: Any, country: str | None = None) -> str:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        from .letters.address import normalise_postcode  # the same rules the address block prints with

        address = context.get("address") or {}
        return normalise_postcode(str(value or ""), (country or address.get("country") or "NL").upper())

    return {"date": date_filter, "time": time_filter, "money": money_filter,
            "number": number_filter, "postcode": postcode_filter}


@functools.lru_cache(maxsize=32)
def environment(locale: str = "nl_NL", html: bool = False) -> _Sandbox:
    """The environment for one locale and escaping mode (HTML email escapes, letters do not)."""
    env = _Sandbox(undefined=StrictUndefined, autoescape=html, trim_blocks=True,
                   lstrip_blocks=True, keep_trailing_newline=False)
    env.globals.clear()  # no range/lipsum/cycler/namespace: templates fill in text, nothing more
    env.filters.update(_filters(locale))
    return env


def is_html(name: str) -> bool:
    return name.endswith((".html", ".htm"))


def parse(source: str, name: str, locale: str = "nl_NL") -> nodes.Template:
    """Parse only: raises TemplateProblem with the line of a syntax error."""
    try:
        return environment(locale, is_html(name)).parse(source, name=name)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(name, exc.lineno, exc.message or "syntax error",
                              "check the {{ }} and {% %} pairs around that line") from None


@dataclass(frozen=True)
class FieldUse:
    """One use of a merge field, e.g. `contact.first_name` on line 3."""

    path: tuple[str, ...]
    line: int


def field_uses(tree: nodes.Template, known_roots: set[str]) -> list[FieldUse]:
    """Every dotted merge-field path a template reads, longest form only.

    `{{ deal.owner.name }}` yields ("deal", "owner", "name"), not also ("deal",) and ("deal", "owner").
    Names bound inside the template (`{% set %}`, loops) are not merge fields and are skipped.
    """
    bound = _bound_names(tree)
    uses: list[FieldUse] = []
    inner: set[int] = set()

    def chain(node: nodes.Node) -> tuple[str, ...] | None:
        parts: list[str] = []
        while True:
            if isinstance(node, nodes.Getattr):
                parts.append(node.attr)
                node = node.node
            elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                parts.append(node.arg.value)
                node = node.node
            elif isinstance(node, nodes.Name) and node.ctx == "load":
                parts.append(node.name)
                return tuple(reversed(parts))
            else:
                return None

    for node in _nodes(tree):
        if not isinstance(node, (nodes.Getattr, nodes.Getitem, nodes.Name)):
            continue
        if id(node) in inner:
            continue
        path = chain(node)
        if path is None:
            continue
        sub = node
        while isinstance(sub, (nodes.Getattr, nodes.Getitem)):
            sub = sub.node
            inner.add(id(sub))
        if path[0] in bound and path[0] not in known_roots:
            continue
        uses.append(FieldUse(path, node.lineno))
    return uses


def _nodes(tree: nodes.Template) -> list[nodes.Node]:
    """Every node of a parsed template, walked once and kept on the tree: the checks below each
    look at all of them, and walking Jinja's AST is most of what `hundred validate` costs."""
    cached = getattr(tree, "_hundred_nodes", None)
    if cached is None:
        cached = list(tree.find_all(nodes.Node))
        tree._hundred_nodes = cached  # type: ignore[attr-defined]
    return cached


def _bound_names(tree: nodes.Template) -> set[str]:
    """Names the template defines itself: `{% set %}`, loop targets, and `loop` inside a for."""
    everything = _nodes(tree)
    bound = {n.name for n in everything if isinstance(n, nodes.Name) and n.ctx in ("store", "param")}
    if any(isinstance(n, nodes.For) for n in everything):
        bound.add("loop")
    return bound


def unknown_filters(tree: nodes.Template, env: Any) -> list[tuple[str, str, int]]:
    """Filters and tests the sandbox does not have, as (kind, name, line): `| mony` is a typo,
    and Jinja would only notice when the touch is sent."""
    out = []
    for node in _nodes(tree):
        if isinstance(node, nodes.Filter) and node.name not in env.filters:
            out.append(("filter", node.name, node.lineno))
        elif isinstance(node, nodes.Test) and node.name not in env.tests:
            out.append(("test", node.name, node.lineno))
    return out


def unknown_fields(tree: nodes.Template, field_tree: dict[str, Any]) -> list[tuple[FieldUse, str]]:
    """Field uses that a deal cannot fill, with the offending name; `fields.*` takes any key."""
    problems = []
    bound = _bound_names(tree)
    for use in field_uses(tree, set(field_tree)):
        level: Any = field_tree
        for i, part in enumerate(use.path):
            if level == "*":
                break
            if not isinstance(level, dict):
                # a leaf value: allow str/date methods such as .upper() or .year
                break
            if part not in level:
                if i == 0 and part in bound:
                    break
                problems.append((use, ".".join(use.path[: i + 1])))
                break
            level = level[part]
    return problems


def _template_line(exc: BaseException, name: str) -> int | None:
    """Jinja rewrites tracebacks so template frames carry the template's own line numbers."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == name or frame.filename.endswith(name):
            line = frame.lineno
    return line


def render(source: str, context: dict[str, Any], name: str, locale: str = "nl_NL") -> str:
    """Render one template; any failure becomes a TemplateProblem naming template and line."""
    env = environment(locale, is_html(name))
    try:
        # compiled with the template's name as filename, so errors point into the template
        code = env.compile(source, name=name, filename=name)
        out = env.template_class.from_code(env, code, env.make_globals(None)).render(context)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(name, exc.lineno, exc.message or "syntax error") from None
    except UndefinedError as exc:
        raise TemplateProblem(name, _template_line(exc, name), f"unknown field: {exc.message}",
                              "check the spelling against the deal fields") from None
    except (SecurityError, TemplateError, ValueError, TypeError, ArithmeticError) as exc:
        raise TemplateProblem(name, _template_line(exc, name), str(exc)) from None
    if len(out) > MAX_OUTPUT:
        raise TemplateProblem(name, None, f"renders {len(out):,} characters; the limit is {MAX_OUTPUT:,}")
    return out


def render_file(path: Path, context: dict[str, Any], name: str, locale: str = "nl_NL") -> str:
    return render(path.read_text(encoding="utf-8"), context, name, locale)


def evaluate(expression: str, context: dict[str, Any], name: str, locale: str = "nl_NL") -> Any:
    """Evaluate a `when:` condition at run time in the same sandbox."""
    env = environment(locale, False)
    try:
        return env.compile_expression(expression, undefined_to_none=False)(**context)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(name, None, f"condition does not parse: {exc.message}") from None
    except UndefinedError as exc:
        raise TemplateProblem(name, None, f"unknown field in condition: {exc.message}") from None
    except (SecurityError, TemplateError, ValueError, TypeError, ArithmeticError) as exc:
        raise TemplateProblem(name, None, f"condition failed: {exc}") from None
