"""What a parsed template holds that no deal's data can make right: include/extends/import,
`_`-names, what the render budgets refuse whatever the deal, and values printed without `| json`.

Apart from the template-file checker because one-line templates and `when:` conditions in the
journey (journey_rules.py) are scanned for the same things, with no file around them.
"""

from __future__ import annotations

from typing import Any, cast

from jinja2 import nodes

from hundred.templating import limits, sandbox as templating
from hundred.templating.filters import GUARDED_FILTERS
from hundred.templating.limits import LimitExceeded, PrivateName

INCLUDES: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Extends: "extends",
    nodes.Import: "import",
    nodes.FromImport: "from … import",
}


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
