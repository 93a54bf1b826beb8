"""Turn pydantic's validation errors into sentences a marketer can act on.

pydantic reports `phases.2.touches.0.letter.tempalte: Extra inputs are not permitted`; a marketer
needs `journeys/x.yaml:31:9: unknown key 'tempalte' in touch 'thank-you'` and `did you mean
'template'?`. This module knows which keys are allowed where, so it can suggest the near miss.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from .journey import CHANNELS, PHASES, TOUCH_MODELS, Calendar, Journey, LetterSettings, PhaseBlock, Sender
from .problems import Problem
from .yamlsource import SourceMap

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
    if loc and isinstance(loc[0], str) and loc[0] in ("calendar", "letters", "sender"):
        return loc[0]
    return "the journey"


def _allowed_elsewhere(key: str) -> str:
    owners = [ch for ch, model in TOUCH_MODELS.items() if key in model.model_fields]
    return f"'{key}' belongs to {' and '.join(owners)} touches" if owners else ""


def _one(err: dict[str, Any], data: Any, smap: SourceMap, file: str) -> Problem:
    loc = _strip_tags(tuple(err["loc"]))
    kind = err["type"]
    named = loc
    while named and isinstance(named[-1], int):  # an item of a list: name the list ("workdays")
        named = named[:-1]
    field = str(named[-1]) if named else ""
    where = describe(loc[:-1] if loc else loc, data)
    value = err.get("input")

    if kind == "extra_forbidden":
        model = _model_at(loc[:-1], data)
        allowed = sorted(model.model_fields) if model else []
        hint = did_you_mean(field, allowed) or _allowed_elsewhere(field)
        if not hint and allowed:
            hint = "allowed here: " + ", ".join(allowed)
        mark = smap.locate(loc, prefer_key=True)
        return Problem(file, mark.line, mark.col, f"unknown key '{field}' in {where}", hint)

    if kind == "missing":
        mark = smap.locate(loc[:-1])
        if loc[-1] == "channel":
            return Problem(file, mark.line, mark.col, f"{where} has no channel",
                           "add 'channel:' with one of: " + ", ".join(CHANNELS))
        return Problem(file, mark.line, mark.col, f"{where} is missing '{field}'", f"add '{field}: …' to {where}")

    mark = smap.locate(loc)
    if kind == "union_tag_not_found" or (kind == "union_tag_invalid" and value_at(data, loc + ("channel",)) is None):
        return Problem(file, mark.line, mark.col, f"{describe(loc, data)} has no channel",
                       "add 'channel:' with one of: " + ", ".join(CHANNELS))
    if kind == "union_tag_invalid":
        channel = value_at(data, loc + ("channel",))
        mark = smap.locate(loc + ("channel",))
        return Problem(file, mark.line, mark.col, f"unknown channel '{channel}' in {describe(loc, data)}",
                       did_you_mean(str(channel), CHANNELS) or "use one of: " + ", ".join(CHANNELS))
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        if field == "phase":
            hint = did_you_mean(str(value), PHASES) or "the eight phases are: " + ", ".join(PHASES)
            return Problem(file, mark.line, mark.col, f"'{value}' is not one of Coleman's phases", hint)
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",") if o.strip()]
        hint = did_you_mean(str(value), options) or f"use one of: {', '.join(options)}"
        return Problem(file, mark.line, mark.col, f"{field}: '{value}' is not allowed in {where}", hint)
    if kind == "string_pattern_mismatch":
        if field in ("id", "journey"):
            return Problem(file, mark.line, mark.col, f"{field} '{value}' may only use lowercase letters, digits and '-'",
                           "for example 'thank-you-letter'; ids are the identity of a touch in flight, so choose them once")
        if field == "url":
            return Problem(file, mark.line, mark.col, f"url '{value}' is not a web address", "start it with https://")
    if kind.startswith("int_"):
        return Problem(file, mark.line, mark.col, f"{field} in {where} must be a whole number, got {value!r}",
                       f"for example '{field}: 3'")
    if kind in ("bool_type", "bool_parsing"):
        return Problem(file, mark.line, mark.col, f"{field} in {where} must be true or false, got {value!r}",
                       f"write '{field}: true' or '{field}: false'")
    if kind.startswith("date_"):
        return Problem(file, mark.line, mark.col, f"{field}: {value!r} is not a date", "write dates as 2026-12-24")
    if kind == "too_short" and field == "phases":
        return Problem(file, mark.line, mark.col, "the journey has no phases", "add 'phases:' with at least one phase and its touches")
    if kind == "list_type":
        example = {"phases": "- phase: affirm", "touches": "- id: thank-you-letter"}.get(field, "- item")
        return Problem(file, mark.line, mark.col, f"{field} in {where} must be a list",
                       f"start each entry on its own line with '-', e.g. '{example}'")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return Problem(file, mark.line, mark.col, f"{field or 'the file'} must be a set of 'key: value' lines",
                       "check the indentation")
    if kind == "string_type":
        hint = CLOCK_HINT if field in ("at", "send_window") else "put quotes around it"
        return Problem(file, mark.line, mark.col, f"{field} in {where} must be text, got {value!r}", hint)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return Problem(file, mark.line, mark.col, f"{field} in {where}: {err['msg'].lower()}, got {value!r}",
                       _range_hint(field))
    message = err["msg"].removeprefix("Value error, ")
    message, _, hint = message.partition("; ")
    if not hint and field in ("at", "send_window"):
        hint = CLOCK_HINT
    text = f"{field}: {message} ({where})" if field else message
    return Problem(file, mark.line, mark.col, text, hint or "see the journey format in the README")


CLOCK_HINT = 'write times as "HH:MM" in quotes, e.g. at: "09:30" or send_window: "09:00-17:00"'


def _range_hint(field: str) -> str:
    from .journey import Journey, LetterSettings

    for model in (LetterSettings, Journey):
        info = model.model_fields.get(field)
        if info is not None:
            low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
            high = next((m.le for m in info.metadata if hasattr(m, "le")), None)
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
    return [_one(err, data, smap, file) for err in errors
            if not (err["type"] == "missing" and _strip_tags(tuple(err["loc"])) in typos)]
