"""Turn pydantic's validation errors into sentences a marketer can act on.

pydantic reports `phases.2.touches.0.letter.tempalte: Extra inputs are not permitted`; a marketer
needs `journeys/x.yaml:31:9: unknown key 'tempalte' in touch 'thank-you'` and `did you mean
'template'?`. This module knows which keys are allowed where, so it can suggest the near miss.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from hundred.journeys.model import CHANNELS, PHASES, Calendar, Journey, LetterSettings, LintSettings, PhaseBlock, Sender
from hundred.journeys.problems import Problem
from hundred.journeys.shorten import clip
from hundred.journeys.source import Mark, SourceMap
from hundred.journeys.touches import TOUCH_MODELS

Loc = tuple[str | int, ...]


def did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _strip_tags(loc: Loc) -> Loc:
    """Drop pydantic's discriminator tag: (…, 'touches', 0, 'letter', 'day') → (…, 'touches', 0, 'day')."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if part in CHANNELS and i >= 2 and loc[i - 2] == "touches" and isinstance(loc[i - 1], int):
            continue
        out.append(part)
    return tuple(out)


def _model_at(loc: Loc, data: Any) -> type[BaseModel] | None:
    """The model that owns the mapping at `loc` (used to list allowed keys)."""
    if loc == ():
        return Journey
    if loc == ("calendar",):
        return Calendar
    if loc == ("letters",):
        return LetterSettings
    if loc == ("sender",):
        return Sender
    if loc == ("lint",):
        return LintSettings
    if len(loc) == 2 and loc[0] == "phases":
        return PhaseBlock
    if len(loc) == 4 and loc[0] == "phases" and loc[2] == "touches":
        channel = value_at(data, loc + ("channel",))
        return TOUCH_MODELS.get(channel) if isinstance(channel, str) else None
    return None


def value_at(data: Any, loc: Loc) -> Any:
    """The raw YAML value at `loc`, or None where the file has nothing there."""
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def describe(loc: Loc, data: Any) -> str:
    """Human name of the place: "touch 'welcome-call'", "phase 'affirm'", "letters"."""
    if len(loc) >= 4 and loc[0] == "phases" and loc[2] == "touches":
        tid = value_at(data, loc[:4] + ("id",))
        return f"touch '{tid}'" if isinstance(tid, str) else f"touch {int(loc[3]) + 1} of phase {int(loc[1]) + 1}"
    if len(loc) >= 2 and loc[0] == "phases":
        name = value_at(data, loc[:2] + ("phase",))
        return f"phase '{name}'" if isinstance(name, str) else f"phase {int(loc[1]) + 1}"
    if loc and isinstance(loc[0], str) and loc[0] in ("calendar", "letters", "sender", "lint"):
        return loc[0]
    return "the journey"


def shown(value: Any) -> str:
    """A value as the marketer wrote it in YAML, cut when long: true, 3.0, "3", [ ... ]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return '"' + clip(value, 60) + '"'
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return clip(value, 60)


def _kind_key_typo(loc: Loc, data: Any, smap: SourceMap, file: str, where: str) -> Problem | None:
    """`chanel: letter` (or `Channel:`): report the misspelt key, not "has no channel"."""
    touch = value_at(data, loc)
    if not isinstance(touch, dict):
        return None
    for key in touch:
        if key != "channel" and did_you_mean(key.lower(), ["channel"]):
            mark = smap.locate(loc + (key,), prefer_key=True)
            return Problem(
                file, mark.line, mark.col, f"unknown key '{clip(key, 40)}' in {where}", "did you mean 'channel'?"
            )
    for key, value in touch.items():
        if isinstance(value, str) and value in CHANNELS:
            mark = smap.locate(loc + (key,), prefer_key=True)
            return Problem(
                file,
                mark.line,
                mark.col,
                f"{where} has no channel",
                f"write 'channel: {value}' instead of '{clip(key, 40)}: {value}'",
            )
    return None


_ID_PATTERN = (
    "{field} '{value}' may only use lowercase letters, digits and '-'",
    "for example 'thank-you-letter'; ids are the identity of a touch in flight, so choose them once",
)
# pydantic's kinds of error for a value that should have been a mapping of `key: value` lines
_NOT_A_MAPPING = ("model_type", "dict_type", "model_attributes_type")
# What a field's pattern asks of it, as (message, hint); any other text field only refuses control characters.
_PATTERNS = {
    "id": _ID_PATTERN,
    "journey": _ID_PATTERN,
    "url": ("url '{value}' is not a web address", "start it with https:// and leave out spaces"),
    "secret_env": (
        "secret_env '{value}' is not the name of an environment variable",
        "name the variable that holds the secret, e.g. secret_env: CRM_WEBHOOK_SECRET",
    ),
}
# The lists that may not be empty, as (message, hint).
_EMPTY = {
    "workdays": (
        "the calendar has no workdays: no touch could ever go out",
        "list the days you work, e.g. 'workdays: [mon, tue, wed, thu, fri]'",
    ),
    "phases": ("the journey has no phases", "add 'phases:' with at least one phase and its touches"),
}
_NO_CONTROL = ("{field} in {where} holds a line break or control character", "keep it on one line")


def _no_channel(file: str, mark: Mark, where: str) -> Problem:
    """A touch without `channel:` (missing, or its mapping has no tag to choose its model by)."""
    return Problem(
        file, mark.line, mark.col, f"{where} has no channel", "add 'channel:' with one of: " + ", ".join(CHANNELS)
    )


def _bounds(info: FieldInfo) -> tuple[Any, Any]:
    """A field's lowest and highest allowed value (its `ge` and `le`), None where it has none."""
    low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in info.metadata if hasattr(m, "le")), None)
    return low, high


def _allowed_elsewhere(key: str) -> str:
    owners = [ch for ch, model in TOUCH_MODELS.items() if key in model.model_fields]
    return f"'{key}' belongs to {' and '.join(owners)} touches" if owners else ""


def _one(err: ErrorDetails, data: Any, smap: SourceMap, file: str) -> Problem:
    loc = _strip_tags(tuple(err["loc"]))
    kind = err["type"]
    named = loc
    while named and isinstance(named[-1], int):  # an item of a list: name the list ("workdays")
        named = named[:-1]
    field = clip(named[-1], 40) if named else ""
    where = describe(loc[:-1] if loc else loc, data)
    value = err.get("input")
    if isinstance(value, str) and len(value) > 80:
        value = clip(value)

    if loc and loc[-1] == "[key]":  # a mapping's key: lead_days_by_country's country codes
        mark = smap.locate(loc[:-1], prefer_key=True)
        hint = err["msg"].removeprefix("Value error, ").partition("; ")[2]
        return Problem(
            file,
            mark.line,
            mark.col,
            f"unknown country code '{clip(loc[-2], 40)}' in {'.'.join(map(str, loc[:-2]))}",
            hint or "use an ISO 3166 alpha-2 code such as BE, DE or US",
        )
    if len(loc) == 3 and loc[:2] == ("letters", "lead_days_by_country"):
        field, where = clip(loc[2], 40), "letters.lead_days_by_country"  # `BE: 31` names BE

    if kind == "extra_forbidden":
        model = _model_at(loc[:-1], data)
        allowed = sorted(model.model_fields) if model else []
        hint = did_you_mean(field, allowed) or _allowed_elsewhere(field)
        if not hint and field.startswith("x-"):
            hint = "'x-…' keys (to hold YAML anchors) are allowed only at the top level of the journey"
        if not hint and allowed:
            hint = "allowed here: " + ", ".join(allowed)
        mark = smap.locate(loc, prefer_key=True)
        return Problem(file, mark.line, mark.col, f"unknown key '{field}' in {where}", hint)

    if kind == "missing":
        mark = smap.locate(loc[:-1])
        if loc[-1] == "channel":
            return _no_channel(file, mark, where)
        return Problem(file, mark.line, mark.col, f"{where} is missing '{field}'", f"add '{field}: …' to {where}")

    mark = smap.locate(loc)
    if kind == "union_tag_not_found" or (kind == "union_tag_invalid" and value_at(data, loc + ("channel",)) is None):
        typo = _kind_key_typo(loc, data, smap, file, describe(loc, data))
        return typo or _no_channel(file, mark, describe(loc, data))
    if kind == "union_tag_invalid":
        channel = value_at(data, loc + ("channel",))
        mark = smap.locate(loc + ("channel",))
        return Problem(
            file,
            mark.line,
            mark.col,
            f"unknown channel '{clip(channel, 40)}' in {describe(loc, data)}",
            did_you_mean(str(channel), CHANNELS) or "use one of: " + ", ".join(CHANNELS),
        )
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        if field == "phase":
            hint = did_you_mean(str(value), PHASES) or "the eight phases are: " + ", ".join(PHASES)
            return Problem(file, mark.line, mark.col, f"'{value}' is not one of Coleman's phases", hint)
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",") if o.strip()]
        hint = did_you_mean(str(value), options) or f"use one of: {', '.join(options)}"
        return Problem(file, mark.line, mark.col, f"{field}: '{value}' is not allowed in {where}", hint)
    if kind == "string_pattern_mismatch":
        message, hint = _PATTERNS.get(str(field), _NO_CONTROL)
        return Problem(file, mark.line, mark.col, message.format(field=field, value=value, where=where), hint)
    if kind.startswith("int_"):
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            hint = f"remove the quotes: '{field}: {value.strip()}'"
        elif isinstance(value, float) and value.is_integer():
            hint = f"write it without a decimal point: '{field}: {int(value)}'"
        else:
            hint = f"for example '{field}: 3'"
        return Problem(
            file, mark.line, mark.col, f"{field} in {where} must be a whole number, got {shown(value)}", hint
        )
    if kind in ("bool_type", "bool_parsing"):
        return Problem(
            file,
            mark.line,
            mark.col,
            f"{field} in {where} must be true or false, got {shown(value)}",
            f"write '{field}: true' or '{field}: false', without quotes",
        )
    if kind == "string_too_long":
        limit = err.get("ctx", {}).get("max_length", "")
        return Problem(
            file,
            mark.line,
            mark.col,
            f"{field} in {where} is too long (at most {limit} characters)",
            "shorten it; long text belongs in a template file",
        )
    if kind == "too_long":
        limit = err.get("ctx", {}).get("max_length", "")
        return Problem(
            file, mark.line, mark.col, f"{field} in {where} has too many entries (at most {limit})", "shorten the list"
        )
    if kind == "too_short" and field in _EMPTY:
        return Problem(file, mark.line, mark.col, *_EMPTY[field])
    if kind.startswith("date_"):
        return Problem(file, mark.line, mark.col, f"{field}: {shown(value)} is not a date", "write dates as 2026-12-24")
    if kind == "list_type":
        example = {"phases": "- phase: affirm", "touches": "- id: thank-you-letter"}.get(field, "- item")
        return Problem(
            file,
            mark.line,
            mark.col,
            f"{field} in {where} must be a list",
            f"start each entry on its own line with '-', e.g. '{example}'",
        )
    if loc[:1] == ("lint",) and len(loc) >= 2 and loc[1] != "ignore":
        rule = _lint_rule(str(loc[1]))
        if kind in _NOT_A_MAPPING:
            return Problem(
                file,
                mark.line,
                mark.col,
                f"lint setting '{field}' must be a set of 'key: value' lines",
                f"write it as {loc[1]}: {{days: {rule.days if rule else 21}}}",
            )
        if kind in ("greater_than_equal", "less_than_equal") and rule is not None:
            info = type(rule).model_fields["days"]
            low, high = _bounds(info)
            return Problem(
                file,
                mark.line,
                mark.col,
                f"days of lint rule '{loc[1]}' must be from {low} to {high}, got {shown(value)}",
                f"the default is {rule.days}",
            )
    if kind in _NOT_A_MAPPING:
        return Problem(
            file,
            mark.line,
            mark.col,
            f"{field or 'the file'} must be a set of 'key: value' lines",
            "check the indentation",
        )
    if kind == "string_type":
        hint = CLOCK_HINT if field in ("at", "send_window") else "put quotes around it"
        if field == "expires_after":
            hint = 'write a duration in quotes, e.g. expires_after: "2d", "12h" or "30m"'
        if field == "batch_at":
            hint = 'write the cut-off as "HH:MM" in quotes, e.g. batch_at: "10:00"'
        return Problem(file, mark.line, mark.col, f"{field} in {where} must be text, got {shown(value)}", hint)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return Problem(
            file,
            mark.line,
            mark.col,
            f"{field} in {where}: {err['msg'].lower()}, got {shown(value)}",
            _range_hint(field),
        )
    message = err["msg"].removeprefix("Value error, ")
    message, _, hint = message.partition("; ")
    if loc[:2] == ("lint", "ignore"):  # a whole sentence, at the silenced rule it is about
        rule = re.search(r"rule '([^']*)'", message)
        mark = smap.locate(loc + (rule[1],), prefer_key=True) if rule else mark
        return Problem(file, mark.line, mark.col, message, hint)
    if not hint and field in ("at", "send_window"):
        hint = CLOCK_HINT
    if field and message.startswith(("is ", "holds ", "must ")):
        text = f"{field} of {where} {message}"
    else:
        text = f"{field}: {message} ({where})" if field else message
    return Problem(file, mark.line, mark.col, text, hint or "see the journey format in the README")


def _lint_rule(name: str) -> Any:
    """The default settings of lint rule `name` (as written in YAML, e.g. `affirm-early`), or None."""
    for key, info in LintSettings.model_fields.items():
        if name in (key, info.alias) and info.default_factory is not None and key != "ignore":
            return info.get_default(call_default_factory=True)
    return None


CLOCK_HINT = 'write times as "HH:MM" in quotes, e.g. at: "09:30" or send_window: "09:00-17:00"'


def _range_hint(field: str) -> str:

    if len(field) == 2 and field.isupper():  # a country in lead_days_by_country
        field = "abroad_lead_days"  # the same range
    for model in (LetterSettings, Journey):
        info = model.model_fields.get(field)
        if info is not None:
            low, high = _bounds(info)
            if low is not None and high is not None:
                return f"use a value from {low} to {high}"
    return "use a smaller or larger value"


def schema_problems(exc: ValidationError, data: Any, smap: SourceMap, file: str) -> list[Problem]:
    errors = exc.errors()
    # `tempalte:` gives both "unknown key 'tempalte'" and "missing 'template'": one typo, one report
    typos = set()
    for err in errors:
        loc = _strip_tags(tuple(err["loc"]))
        if err["type"] == "extra_forbidden":
            model = _model_at(loc[:-1], data)
            guess = difflib.get_close_matches(str(loc[-1]), list(model.model_fields) if model else [], n=1, cutoff=0.6)
            if guess:
                typos.add(loc[:-1] + (guess[0],))
    return [
        _one(err, data, smap, file)
        for err in errors
        if not (err["type"] == "missing" and _strip_tags(tuple(err["loc"])) in typos)
    ]
