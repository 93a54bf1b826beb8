"""The sandbox's budgets: a template cannot make a render cost more than a letter is worth.

Every cap is checked while rendering, before the expensive thing happens, and fails with a
`LimitExceeded` that the renderer turns into "<template>:<line>: ...":

- output: streamed, stopped at MAX_OUTPUT characters; text built up in `{% set %}`/macro/filter
  blocks counts too (MAX_BUFFERED);
- loops: MAX_LOOP_ITERATIONS in all loops of one render together; recursive loops are refused;
- calls: MAX_CALLS macro and method calls per render (a macro calling itself twice is exponential);
- widths: `center`, `indent`, `wordwrap`, `truncate`, `format`, `%`, `str.format`, `.center()`,
  `.zfill()`... take widths and precisions up to MAX_WIDTH;
- values: no one string or list built by a filter, method or operator (`~`, `+`, `join`,
  `replace`, `indent`, ...) may exceed MAX_VALUE; its size is estimated before it is built;
- numbers: `**` is refused, `*` repeats no text, and whole numbers stay below 10**MAX_DIGITS.
"""

from __future__ import annotations

import contextvars
import functools
import re
import string
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hundred.templating.values import note_read

MAX_OUTPUT = 100_000  # characters a template may render; a letter that long is a broken template
MAX_BUFFERED = 1_000_000  # characters built up in set/macro/filter/call blocks during one render
MAX_VALUE = 100_000  # characters (or items) in any one value a filter, method or operator builds
_T = TypeVar("_T")
MAX_WIDTH = 1_000  # widths, precisions, indents, pads
MAX_LOOP_ITERATIONS = 10_000  # loop iterations per render, all loops together
MAX_CALLS = 10_000  # macro and method calls per render
MAX_DIGITS = 30  # whole numbers from * stay below 10**30
MAX_SOURCE = 200_000  # characters in one template file


class LimitExceeded(SecurityError):
    """A render that went over one of the budgets above."""


class PrivateName(SecurityError):
    """`x.__class__`, `x._foo`, `x['_foo']`: Python's internals, never a merge field."""

    def __init__(self, name: str):
        super().__init__(f"'{name}' starts with '_': such names are not available in templates")


class Budget:
    __slots__ = ("iterations", "calls", "buffered")

    def __init__(self) -> None:
        self.iterations = self.calls = self.buffered = 0

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise LimitExceeded(f"the loops run more than {MAX_LOOP_ITERATIONS:,} times in one render")

    def call(self) -> None:
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise LimitExceeded(
                f"more than {MAX_CALLS:,} macro or method calls in one render (a macro that calls itself?)"
            )

    def buffer(self, size: int) -> None:
        self.buffered += size
        if self.buffered > MAX_BUFFERED:
            raise LimitExceeded(f"the template builds up more than {MAX_BUFFERED:,} characters of text")


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("hundred_budget", default=None)


def budget() -> Budget:
    current = _budget.get()
    if current is None:  # used outside `budgeted()`: one budget for the rest of this context, never none
        current = Budget()
        _budget.set(current)
    return current


class budgeted:
    """`with budgeted():` one fresh budget for one render or condition."""

    def __enter__(self) -> Budget:
        budget = Budget()
        self._token = _budget.set(budget)
        return budget

    def __exit__(self, *exc: Any) -> None:
        _budget.reset(self._token)


def collect(stream: Iterator[str]) -> str:
    """Join a template's output as it is produced and stop it, inside the template, at MAX_OUTPUT:
    the exception is thrown at the template line that went over."""
    parts, total = [], 0
    for piece in stream:
        total += len(piece)
        if total > MAX_OUTPUT:
            stream.throw(LimitExceeded(f"the output is longer than {MAX_OUTPUT:,} characters"))  # type: ignore[attr-defined]  # Jinja types generate() as an Iterator; it is a generator
        parts.append(piece)
    return "".join(parts)


# ---- sizes and widths ----------------------------------------------------------------------------


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


def check_size(value: _T, what: str) -> _T:
    if _size(value) > MAX_VALUE:
        raise LimitExceeded(f"{what} would build {_size(value):,} characters; the limit is {MAX_VALUE:,}")
    return value


def estimate(total: int, what: str) -> None:
    if total > MAX_VALUE:
        raise LimitExceeded(f"{what} would build about {total:,} characters; the limit is {MAX_VALUE:,}")


def check_width(width: Any, what: str) -> None:
    if isinstance(width, str):
        width = len(width)
    if isinstance(width, bool) or not isinstance(width, int):
        return  # the filter itself says what is wrong with it
    if abs(width) > MAX_WIDTH:
        raise LimitExceeded(f"{what} {width:,} is over the limit of {MAX_WIDTH:,}")


def check_repeat(left: Any, right: Any) -> None:
    """`'-' * 40` draws a rule; `'x' * 1000000000` is a gigabyte: text and lists repeat up to MAX_WIDTH."""
    seq, times = (left, right) if isinstance(left, (str, list, tuple)) else (right, left)
    if isinstance(times, int) and not isinstance(times, bool) and len(seq) * max(times, 0) > MAX_WIDTH:
        raise LimitExceeded(
            f"repeating text with * would build {len(seq) * times:,} characters; the limit is {MAX_WIDTH:,}"
        )


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.S)


def check_printf(fmt: str) -> None:
    """`'%0999999999d' % 1` builds a gigabyte: refuse widths and precisions over MAX_WIDTH, and `*`."""
    for match in _PRINTF.finditer(fmt):
        for number in match.group(1, 2):
            if number == "*":
                raise LimitExceeded("a '*' width in a % format is not allowed; write the width out")
            if number and (len(number) > 6 or int(number) > MAX_WIDTH):
                raise LimitExceeded(f"the % format width {number[:12]} is over the limit of {MAX_WIDTH:,}")


def check_format_spec(fmt: str) -> None:
    """The same for `'{:>999999999}'.format(x)`; a `{}` inside a format spec is refused."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format reports the malformed string itself
    for _, _, spec, _ in fields:
        if not spec:
            continue
        if "{" in spec:
            raise LimitExceeded("a {} inside a format spec is not allowed; write the width out")
        for number in re.findall(r"\d+", spec):
            if len(number) > 6 or int(number) > MAX_WIDTH:
                raise LimitExceeded(f"the format width {number[:12]} is over the limit of {MAX_WIDTH:,}")


def replace_estimate(s: Any, old: Any, new: Any, count: Any) -> None:
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        hits = len(s) + 1 if old == "" else s.count(old)
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        estimate(len(s) + hits * (len(new) - len(old)), "replace")


def join_estimate(items: list[Any], sep: Any) -> None:
    if len(items) > MAX_VALUE:
        raise LimitExceeded(f"join of {len(items):,} items is over the limit of {MAX_VALUE:,}")
    estimate(sum(len(x) if isinstance(x, str) else 20 for x in items) + max(len(items) - 1, 0) * len(str(sep)), "join")


# ---- the sandbox ------------------------------------------------------------------------------------


class _Buffer(list[str]):
    """The list Jinja collects block output in, counted against the budget as it grows."""

    __slots__ = ("_budget",)

    def __init__(self, owner: Budget):
        super().__init__()
        self._budget = owner

    def append(self, item: str) -> None:
        self._budget.buffer(len(item))
        list.append(self, item)

    def extend(self, items: Iterable[str]) -> None:
        items = tuple(items)
        self._budget.buffer(sum(len(i) for i in items))
        list.extend(self, items)


class _CodeGenerator(CodeGenerator):
    def buffer(self, frame: Any) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:  # `a ~ b ~ c`
        self.write("environment.capped(")
        super().visit_Concat(node, frame)
        self.write(")")


class _Counted:
    """A loop's iterable, counting each item against the budget; keeps len() for `loop.length`."""

    __slots__ = ("_items",)

    def __init__(self, items: Any):
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        owner = budget()
        for item in self._items:
            owner.iterate()
            yield item


GROWING_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}
REFUSED_METHODS = {"translate", "to_bytes", "scaleb", "maketrans"}


class Sandbox(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment plus the budgets above; `_`-names are refused outright."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset(["*", "**", "+", "%"])

    # -- hooks the generated code calls --
    @staticmethod
    def new_buffer() -> _Buffer:
        return _Buffer(budget())

    @staticmethod
    def capped(value: Any) -> Any:
        return check_size(value, "joining text with ~")

    @staticmethod
    def counted(items: Any) -> _Counted:
        return _Counted(items)

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        for loop in source.find_all(nodes.For):
            if loop.recursive:
                raise TemplateSyntaxError("recursive loops are not allowed in templates", loop.lineno, name, filename)
            loop.iter = nodes.Call(
                nodes.EnvironmentAttribute("counted"), [loop.iter], [], None, None, lineno=loop.iter.lineno
            )
        return super()._generate(source, name, filename, defer_init)

    # -- what the sandbox checks --
    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(attribute, str) and attribute.startswith("_"):
            raise PrivateName(attribute)
        return note_read(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, str) and argument.startswith("_"):
            raise PrivateName(argument)
        return note_read(super().getitem(obj, argument))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("the ** operator is not allowed in templates")
        if operator == "*":
            if isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
                check_repeat(left, right)
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > MAX_DIGITS * 10 // 3
            ):
                raise LimitExceeded(f"a multiplication with a result over 10**{MAX_DIGITS}")
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                estimate(len(left) + len(right), "joining with +")
        elif operator == "%" and isinstance(left, str):
            check_printf(left)
            return check_size(super().call_binop(context, operator, left, right), "the % format")
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        @functools.wraps(wrapped)
        def checked(*args: Any, **kwargs: Any) -> str:
            check_format_spec(fmt)
            return check_size(wrapped(*args, **kwargs), "format")

        return checked

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if __obj is Sandbox.counted:  # the loop wrapper the compiler put in: not the template's call
            return _Counted(args[0])
        budget().call()
        name = getattr(__obj, "__name__", "") or getattr(__obj, "name", "")
        owner = getattr(__obj, "__self__", None)
        if owner is not None and not isinstance(owner, type(__self)):
            if name in REFUSED_METHODS:
                raise LimitExceeded(f".{name}() is not available in templates")
            if isinstance(owner, str):
                if name in GROWING_METHODS and args:
                    check_width(args[0], f".{name}() width")
                    if name == "expandtabs" and isinstance(args[0], int):
                        estimate(len(owner) + owner.count("\t") * max(args[0], 0), ".expandtabs()")
                elif name == "replace" and len(args) >= 2:
                    replace_estimate(owner, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count"))
                elif name == "join" and args:
                    items = list(args[0])
                    join_estimate(items, owner)
                    args = (items,) + args[1:]
        return check_size(super().call(__context, __obj, *args, **kwargs), f".{name}()" if name else "a call")
