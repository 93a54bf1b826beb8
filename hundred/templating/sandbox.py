"""One sandboxed Jinja2 set-up for every channel's templates.

Templates are written by marketers and filled with CRM data, so both are untrusted: the sandbox
blocks attribute walking and mutation and refuses every `_`-name, StrictUndefined turns a misspelt
field into an error instead of "Beste ," on a thousand letters, a field that is empty for this deal
fails the touch unless the template handles it (`template_values`), and every render runs on a
budget of output, loop iterations, calls and widths (`template_limits`). Merge data is only ever
data: a contact named `{{ 7*7 }}` is printed as written, because rendered values are never rendered
again. `{% include %}`, `{% extends %}` and `{% import %}` read from the templates folder only
(`template_loader`).
"""

from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError, UndefinedError

from hundred.templating import limits
from hundred.templating.filters import capped_filters, locale_filters
from hundred.templating.limits import MAX_OUTPUT, MAX_SOURCE, LimitExceeded, PrivateName, Sandbox
from hundred.templating.loader import TemplatesLoader, display_root
from hundred.templating.values import EmptyFieldError, listening, wrap_context

__all__ = [
    "MAX_OUTPUT",
    "TemplateProblem",
    "ConditionResult",
    "environment",
    "parse",
    "render",
    "render_file",
    "evaluate",
    "evaluate_condition",
    "field_uses",
    "unknown_fields",
    "unknown_filters",
    "is_html",
]


class TemplateProblem(Exception):
    """A template that cannot be parsed or rendered, with the place to look."""

    def __init__(self, template: str, line: int | None, message: str, hint: str = ""):
        self.template, self.line, self.message, self.hint = template, line, message, hint
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {message}")


@functools.lru_cache(maxsize=64)
def environment(locale: str = "nl_NL", html: bool = False, templates_dir: Path | None = None) -> Sandbox:
    """The environment for one locale, escaping mode (HTML email escapes, letters do not) and,
    when templates may include others, templates folder."""
    loader = TemplatesLoader(templates_dir, display_root(templates_dir)) if templates_dir else None
    env = Sandbox(
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        loader=loader,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals.clear()  # no range/lipsum/cycler/namespace: templates fill in text, nothing more
    env.filters.update(capped_filters())
    env.filters.update(locale_filters(locale))
    return env


def is_html(name: str) -> bool:
    return name.endswith((".html", ".htm"))


def parse(source: str, name: str, locale: str = "nl_NL") -> nodes.Template:
    """Parse only: raises TemplateProblem with the line of a syntax error. The tree is shared by
    every caller that parses the same text (a cache: the checks read it and never change it), so
    `validate` parses a layout several emails extend once, and the studio, which checks the whole
    journey on every pause in typing, parses only the text that changed."""
    try:
        return _parsed(source, name, locale)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            name, exc.lineno, exc.message or "syntax error", "check the {{ }} and {% %} pairs around that line"
        ) from None


@functools.lru_cache(maxsize=256)
def _parsed(source: str, name: str, locale: str) -> nodes.Template:
    return environment(locale, is_html(name)).parse(source, name=name)


@dataclass(frozen=True)
class FieldUse:
    """One use of a merge field, e.g. `contact.first_name` on line 3."""

    path: tuple[str, ...]
    line: int


def field_uses(tree: nodes.Template, known_roots: set[str], inherited: frozenset[str] = frozenset()) -> list[FieldUse]:
    """Every dotted merge-field path a template reads, longest form only.

    `{{ deal.owner.name }}` yields ("deal", "owner", "name"), not also ("deal",) and ("deal", "owner").
    Names bound inside the template (`{% set %}`, loops) are not merge fields and are skipped.
    """
    bound = _bound_names(tree) | inherited
    uses: list[FieldUse] = []
    inner: set[int] = set()

    def chain(node: nodes.Node) -> tuple[str, ...] | None:
        parts: list[str] = []
        while True:
            if isinstance(node, nodes.Getattr):
                parts.append(node.attr)
                node = node.node
            elif (
                isinstance(node, nodes.Getitem)
                and isinstance(node.arg, nodes.Const)
                and isinstance(node.arg.value, str)
            ):
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
        sub: nodes.Node = node
        while isinstance(sub, (nodes.Getattr, nodes.Getitem)):
            sub = sub.node
            inner.add(id(sub))
        if path[0] in bound and path[0] not in known_roots:
            continue
        if any(part.startswith("_") for part in path):
            continue  # `x.__class__` is refused as a `_`-name (validation/template_scan.private_names), not a typo
        uses.append(FieldUse(path, node.lineno))
    return uses


def _nodes(tree: nodes.Template) -> list[nodes.Node]:
    """Every node of a parsed template, walked once and kept on the tree: the checks below each
    look at all of them, and walking Jinja's AST is most of what `hundred validate` costs."""
    cached = getattr(tree, "_hundred_nodes", None)
    if cached is None:
        cached = list(tree.find_all(nodes.Node))
        tree._hundred_nodes = cached  # type: ignore[attr-defined]  # a cache of ours on Jinja's node
    return cached


def _bound_names(tree: nodes.Template) -> frozenset[str]:
    """Names the template defines itself: `{% set %}`, loop targets, macros and their parameters,
    imports, and what Jinja provides inside loops (`loop`), macros (`caller`, `varargs`, `kwargs`)
    and blocks (`super`, `self`). Kept on the tree like `_nodes`: each check asks it again."""
    cached: frozenset[str] | None = getattr(tree, "_hundred_bound", None)
    if cached is None:
        cached = frozenset(_find_bound_names(_nodes(tree)))
        tree._hundred_bound = cached  # type: ignore[attr-defined]  # a cache of ours on Jinja's node
    return cached


def _find_bound_names(everything: list[nodes.Node]) -> set[str]:
    bound = {n.name for n in everything if isinstance(n, nodes.Name) and n.ctx in ("store", "param")}
    for n in everything:
        if isinstance(n, nodes.For):
            bound.add("loop")
        elif isinstance(n, nodes.Macro):
            bound.update((n.name, "caller", "varargs", "kwargs"))
        elif isinstance(n, nodes.CallBlock):
            bound.update(("caller", "varargs", "kwargs"))
        elif isinstance(n, nodes.Import):
            bound.add(n.target)
        elif isinstance(n, nodes.FromImport):
            bound.update(name if isinstance(name, str) else name[1] for name in n.names)
        elif isinstance(n, (nodes.Block, nodes.Extends)):
            bound.update(("super", "self"))
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


def unknown_fields(
    tree: nodes.Template, field_tree: dict[str, Any], inherited: frozenset[str] = frozenset()
) -> list[tuple[FieldUse, str]]:
    """Field uses that a deal cannot fill, with the offending name; `fields.*` takes any key.
    `inherited`: names the including template binds (an included template sees its loop variables)."""
    problems = []
    bound = _bound_names(tree) | inherited
    for use in field_uses(tree, set(field_tree), inherited):
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


def _where(exc: BaseException, name: str, env: Sandbox) -> tuple[str, int | None]:
    """The template and line an error happened in: Jinja rewrites tracebacks so template frames
    carry the template's own file name and line; the deepest one is where it went wrong."""
    names = {name} | (env.loader.names if isinstance(env.loader, TemplatesLoader) else set())
    where: tuple[str, int | None] = (name, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename in names:
            where = (frame.filename, frame.lineno)
    return where


_EMPTY_HINT = "handle it in the template: {{{{ {0} | default('...') }}}} or {{% if {0} %}}...{{% endif %}}"


def _problem(exc: BaseException, name: str, env: Sandbox) -> TemplateProblem:
    """Any failure of a render as a TemplateProblem naming the template and line."""
    if isinstance(exc, TemplateSyntaxError):
        message = exc.message or "syntax error"
        return TemplateProblem(
            exc.filename or name,
            exc.lineno,
            message,
            "write the levels out, or use a macro"
            if "recursive" in message
            else "check the {{ }} and {% %} pairs around that line",
        )
    template, line = _where(exc, name, env)
    if isinstance(exc, EmptyFieldError):
        return TemplateProblem(template, line, str(exc.message), _EMPTY_HINT.format(exc.path))
    if isinstance(exc, UndefinedError):
        return TemplateProblem(
            template, line, f"unknown field: {exc.message}", "check the spelling against the deal fields"
        )
    if isinstance(exc, PrivateName):
        return TemplateProblem(template, line, str(exc), "use the merge field's own name, e.g. contact.first_name")
    if env.loader is None and "no loader" in str(exc):
        return TemplateProblem(
            template,
            line,
            "only template files can include, extend or import templates",
            "move this text into a template file under templates/",
        )
    if isinstance(exc, LimitExceeded):
        return TemplateProblem(
            template,
            line,
            f"{exc}; the render was stopped",
            "templates fill in text: keep widths, loops and repeats small",
        )
    if isinstance(exc, TemplateNotFound):
        return TemplateProblem(
            template,
            line,
            f"template '{exc.name}' does not exist in the templates folder",
            "name templates relative to templates/, e.g. emails/_layout.html",
        )
    if isinstance(exc, RecursionError):
        return TemplateProblem(
            template,
            line,
            "templates or macros call each other without end",
            "check {% include %}, {% extends %} and macros for a cycle",
        )
    if isinstance(exc, (SecurityError, TemplateError, ValueError, TypeError, ArithmeticError, LookupError)):
        return TemplateProblem(template, line, str(exc) or type(exc).__name__)
    return TemplateProblem(template, line, f"cannot be rendered: {type(exc).__name__}: {str(exc)[:200]}")


def _templates_dir_of(path: Path, name: str) -> Path:
    """The templates folder a template file lives in: its nearest ancestor named `templates`, else
    the folder that `name` (`templates/emails/x.html`, shown relative to it) says, else its own."""
    path = path.resolve()
    for parent in path.parents:
        if parent.name == "templates":
            return parent
    rel = Path(name).parts[1:]
    if rel and path.parts[-len(rel) :] == rel and len(path.parents) > len(rel):
        return path.parents[len(rel) - 1]
    return path.parent


@functools.lru_cache(maxsize=256)
def _compiled(env: Sandbox, source: str, name: str) -> Any:
    code = env.compile(source, name=name, filename=name)  # errors point into the template
    return env.template_class.from_code(env, code, env.make_globals(None))


def render(
    source: str, context: dict[str, Any], name: str, locale: str = "nl_NL", *, templates_dir: Path | None = None
) -> str:
    """Render one template on a fresh budget; any failure becomes a TemplateProblem naming the
    template and line. `templates_dir`: where `{% include %}` and friends may read from (without
    it, a template that includes another fails)."""
    env = environment(locale, is_html(name), templates_dir.resolve() if templates_dir else None)
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(name, None, f"the template is {len(source):,} characters; the limit is {MAX_SOURCE:,}")
    with limits.budgeted():
        try:
            return limits.collect(_compiled(env, source, name).generate(wrap_context(context)))
        except Exception as exc:
            raise _problem(exc, name, env) from None


def render_file(
    path: Path, context: dict[str, Any], name: str, locale: str = "nl_NL", *, templates_dir: Path | None = None
) -> str:
    """Render a template file (includes read from `templates_dir`, by default the `templates`
    folder it is in). An empty file, or one that renders only blanks for this deal, is an error."""
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TemplateProblem(name, None, "the template is not UTF-8 text", "save it as UTF-8") from None
    if not source.strip():
        raise TemplateProblem(name, None, "the template is empty", "write its text, or remove the touch")
    out = render(source, context, name, locale, templates_dir=templates_dir or _templates_dir_of(path, name))
    if not out.strip():
        raise TemplateProblem(
            name,
            None,
            "renders no text for this deal",
            "check the {% if %} blocks: at least some text must always be printed",
        )
    return out


@dataclass(frozen=True)
class ConditionResult:
    """A `when:` condition judged for one deal. `missing`: the fields it read that this deal has no
    value for (a custom field the CRM did not send, an empty field), e.g. ("deal.fields.vip",): they
    count as empty, so the plan can say "deal.fields.vip is not set for this deal: false"."""

    value: bool
    missing: tuple[str, ...] = ()


@functools.lru_cache(maxsize=256)
def _expression(env: Sandbox, expression: str) -> Any:
    return env.compile_expression(expression, undefined_to_none=False)


def evaluate_condition(expression: str, context: dict[str, Any], name: str, locale: str = "nl_NL") -> ConditionResult:
    """Evaluate a `when:` condition in the same sandbox. A missing custom field (`deal.fields.x`)
    or an empty one reads as empty: false, equal to none and '', and a condition that cannot go on
    without its value is false. A misspelt field or broken expression raises TemplateProblem."""
    env = environment(locale, False)
    try:
        compiled = _expression(env, expression)
    except Exception as exc:
        raise TemplateProblem(name, None, f"condition does not parse: {getattr(exc, 'message', None) or exc}") from None
    with limits.budgeted(), listening() as reads:
        try:
            value = bool(compiled(**wrap_context(context)))
        except EmptyFieldError as exc:
            if exc.path not in reads:
                reads.append(exc.path)
            value = False
        except UndefinedError as exc:
            raise TemplateProblem(name, None, f"unknown field in condition: {exc.message}") from None
        except Exception as exc:
            raise TemplateProblem(name, None, f"condition failed: {exc}") from None
    return ConditionResult(value, tuple(reads))


def evaluate(expression: str, context: dict[str, Any], name: str, locale: str = "nl_NL") -> bool:
    """The value of a `when:` condition (see evaluate_condition for why it is what it is)."""
    return evaluate_condition(expression, context, name, locale).value
