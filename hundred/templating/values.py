"""What a template sees for a field the deal leaves empty, and how values become JSON.

A merge field the deal model has but this deal leaves empty (None, or blank text: no phone, no
address line) becomes an `Empty`: false in `{% if %}`, replaced by `| default(...)`, equal to None
and '' in a comparison (`deal.segment != 'C'` is true when there is no segment), and an error
naming the field the moment it is printed or used as text ("contact.phone is empty for this
deal"). A custom field the deal does not have at all (`deal.fields.vip`) is an `Empty` too, "not
set for this deal". So a letter never says "Beste ," and a condition never crashes on a CRM field.
"""

from __future__ import annotations

import contextvars
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined
from jinja2.exceptions import UndefinedError
from markupsafe import Markup


class EmptyFieldError(UndefinedError):
    """A template printed (or did text things with) a field that is empty for this deal."""

    def __init__(self, path: str, missing: bool):
        self.path, self.missing = path, missing
        super().__init__(f"{path} is {'not set' if missing else 'empty'} for this deal")


# The Empty values an evaluation read, when someone is listening (conditions: "why false?").
_reads: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("hundred_empty_reads", default=None)


class Empty(StrictUndefined):
    """A known field without a value for this deal. Strict like StrictUndefined, except that it is
    false, compares equal to None and '', is never less or greater than anything, and `.x` / `[x]`
    on it stay the same Empty (so the message names the field that is empty, not its part)."""

    __slots__ = ("_path", "_missing")

    def __init__(self, path: str, missing: bool = False):
        super().__init__(hint=f"{path} is {'not set' if missing else 'empty'} for this deal", name=path)
        self._path, self._missing = path, missing

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        raise EmptyFieldError(self._path, self._missing)

    __str__ = __iter__ = __len__ = __call__ = _fail_with_undefined_error
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail_with_undefined_error
    __truediv__ = __rtruediv__ = __mod__ = __rmod__ = __int__ = __float__ = _fail_with_undefined_error

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> Empty:  # type: ignore[override]  # jinja2 types Undefined's dunders as ones that never return; Empty answers them
        return self

    def __bool__(self) -> bool:  # type: ignore[override]  # jinja2 types Undefined's dunders as ones that never return; Empty answers them
        return False

    def __eq__(self, other: Any) -> bool:  # type: ignore[override]  # jinja2 types Undefined's dunders as ones that never return; Empty answers them
        return other is None or other == "" or isinstance(other, Empty)

    def __ne__(self, other: Any) -> bool:  # type: ignore[override]  # jinja2 types Undefined's dunders as ones that never return; Empty answers them
        return not self.__eq__(other)

    def __lt__(self, other: Any) -> bool:  # type: ignore[override]  # jinja2 types Undefined's dunders as ones that never return; Empty answers them
        return False

    __le__ = __gt__ = __ge__ = __lt__  # type: ignore[assignment]  # as above: jinja2 types these as never returning

    def __contains__(self, item: Any) -> bool:  # type: ignore[override]  # jinja2 types Undefined's dunders as ones that never return; Empty answers them
        return False

    def __hash__(self) -> int:  # type: ignore[override]  # jinja2 types Undefined's dunders as ones that never return; Empty answers them
        return hash(None)

    def __repr__(self) -> str:
        return f"Empty({self._path!r})"


class _Fields(dict[str, Any]):
    """The deal's custom fields: a key the CRM did not send is an Empty, "not set for this deal"."""

    def __init__(self, data: dict[str, Any], path: str, fallback: Any = None):
        super().__init__(data)
        self._path, self._fallback = path, fallback

    def __missing__(self, key: Any) -> Any:
        if self._fallback is not None:
            return self._fallback
        return Empty(f"{self._path}.{key}", missing=True)


def wrap_context(context: dict[str, Any], any_field: Any = None) -> dict[str, Any]:
    """The render context with every None or blank value replaced by an Empty naming its path.

    `any_field`: what an absent custom field reads as (the validator's sample deals use a string).
    """
    return {key: _wrap(value, key, False, any_field) for key, value in context.items()}


def _wrap(value: Any, path: str, custom: bool, any_field: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Empty(path)
    if isinstance(value, dict):
        any_field = getattr(value, "any_field", any_field)  # the validator's sample custom fields
        inner = {k: _wrap(v, f"{path}.{k}", custom or k == "fields", any_field) for k, v in value.items()}
        return _Fields(inner, path, any_field) if custom else inner
    if isinstance(value, (list, tuple)):
        return [_wrap(v, f"{path}[{i}]", custom, any_field) for i, v in enumerate(value)]
    return value


def note_read(value: Any) -> Any:
    """Called by the sandbox for every attribute/item read: remember which Empty values a
    condition looked at, so the plan can say "deal.fields.vip is not set for this deal"."""
    if isinstance(value, Empty):
        reads = _reads.get()
        if reads is not None and value._path not in reads:
            reads.append(value._path)
    return value


class listening:
    """`with listening() as reads:` collects the paths of the Empty values read inside."""

    def __enter__(self) -> list[str]:
        self.reads: list[str] = []
        self._token = _reads.set(self.reads)
        return self.reads

    def __exit__(self, *exc: Any) -> None:
        _reads.reset(self._token)


def _plain(value: Any) -> Any:
    if isinstance(value, Empty):
        return None
    if isinstance(value, StrictUndefined):
        value._fail_with_undefined_error()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)  # exact: "12500.00", never 12500.000000001
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


def json_filter(value: Any, indent: int | None = None) -> Markup:
    """`{{ contact.first_name | json }}` → `"Ilse \\"de\\" Vries"`: a complete JSON value, quotes
    included, so merge data cannot end a string or add a key. Amounts are strings ("12500.00"),
    dates ISO 8601, an empty field null. `<`, `>`, `&` and `'` are escaped too, so the result is also
    safe inside HTML."""
    if indent is not None and not (isinstance(indent, int) and 0 <= indent <= 8):
        raise ValueError("json(indent) takes 0 to 8 spaces")
    try:
        text = json.dumps(_plain(value), ensure_ascii=False, indent=indent, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot write this value as JSON: {exc}") from None
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return Markup(text)
