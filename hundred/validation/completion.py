"""What may be typed at the cursor in a journey's YAML: keys and values from the journey's JSON
Schema (`hundred schema`), template paths that exist, merge fields inside `{{ }}` and `when:`.

The studio asks the server while a marketer types, so the schema (generated from the pydantic
models validate uses) is the one source of what a key may be. Text being typed is often not valid
YAML, so the place of the cursor (which mapping, which key) is read from indentation, dashes and
`key:` on the lines above, not from a parser. A suggestion is only a suggestion: validate judges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Path_ = tuple[str | int, ...]
_LINE = re.compile(r"^( *)((?:-(?: +|$))*)(.*)$")
_KEY = re.compile(r"""^("[^"]*"|'[^']*'|[^\s'"#{\[\]},&*!|>-][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+|$)(.*)$""")
_BLOCK = re.compile(r"^(?:[&!][^\s]*\s+)*[|>][-+0-9]*\s*(?:#.*)?$")
_FIELD = re.compile(r"[A-Za-z_][\w.]*$|$")
CHANNEL_FOLDERS = {"letter": "letters/", "email": "emails/", "task": "tasks/", "webhook": "webhooks/"}
EXPRESSION_KEYS = ("when",)
TEMPLATE_TEXT_KEYS = ("title", "subject", "name")


@dataclass
class Option:
    label: str
    type: str  # CodeMirror's completion types: property, enum, keyword, variable, function, text
    apply: str | None = None
    detail: str = ""
    info: str = ""
    boost: int = 0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"label": self.label, "type": self.type}
        for key in ("apply", "detail", "info", "boost"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data


@dataclass
class Completion:
    start: int  # offset where the word being completed starts (CodeMirror's `from`)
    options: list[Option] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"from": self.start, "options": [o.to_json() for o in self.options]}


@dataclass
class _Entry:
    col: int
    name: str | int
    items: int = 0
    kind: str = "key"


@dataclass
class _Scan:
    """Where each key stands (its path, the scalar written after it) after reading some lines."""

    stack: list[_Entry] = field(default_factory=list)
    keys: list[tuple[Path_, str]] = field(default_factory=list)
    block_above: int | None = None  # inside a block scalar (`description: >-`) of a key at this column

    def path(self) -> Path_:
        return tuple(e.name for e in self.stack)

    def item(self, col: int) -> None:
        while self.stack and (
            self.stack[-1].col > col or (self.stack[-1].col == col and self.stack[-1].kind == "item")
        ):
            self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        index = parent.items if parent else 0
        if parent:
            parent.items += 1
        self.stack.append(_Entry(col, index, kind="item"))

    def key(self, col: int, name: str) -> None:
        while self.stack and self.stack[-1].col >= col:
            self.stack.pop()
        self.stack.append(_Entry(col, name))

    def line(self, text: str) -> tuple[int, str]:
        """Read one whole line; returns the column and text after its dashes."""
        match = _LINE.match(text)
        assert match
        indent, dashes, rest = len(match[1]), match[2], match[3]
        if self.block_above is not None:
            if not (dashes or rest) or indent > self.block_above:
                return indent, ""
            self.block_above = None
        if rest.startswith("#") or not (dashes or rest):
            return indent, ""
        col = indent
        for dash in re.findall(r"-(?: +|$)", dashes):
            self.item(col)
            col += len(dash)
        key = _KEY.match(rest)
        if key:
            name = key[1].strip("\"'")
            self.key(col, name)
            value = key[2]
            self.keys.append((self.path(), value.split(" #")[0].strip().strip("\"'")))
            if _BLOCK.match(value):
                self.block_above = col
            elif value.startswith("{"):
                for inner, inner_value in _flow_pairs(value):
                    self.keys.append((self.path() + (inner,), inner_value))
        elif rest.startswith("{"):
            for inner, inner_value in _flow_pairs(rest):
                self.keys.append((self.path() + (inner,), inner_value))
        return col, rest


def _flow_pairs(text: str) -> list[tuple[str, str]]:
    """`{id: a, day: 3}` → [("id", "a"), ("day", "3")] (good enough for one-line flow mappings)."""
    body = text.strip()[1:].split("}")[0]
    pairs = []
    for part in body.split(","):
        if ":" in part:
            k, _, v = part.partition(":")
            pairs.append((k.strip().strip("\"'"), v.strip().strip("\"'")))
    return pairs


def _deref(schema: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = schema["$defs"][node["$ref"].split("/")[-1]]
    if isinstance(node, dict) and "anyOf" in node:
        real = [_deref(schema, n) for n in node["anyOf"] if n.get("type") != "null"]
        node = {**real[0], **{k: v for k, v in node.items() if k != "anyOf"}} if real else node
    return node


def _variants(schema: dict[str, Any], node: dict[str, Any], channel: str | None) -> list[dict[str, Any]]:
    """A touch is one of four shapes, told apart by `channel`."""
    if "oneOf" not in node:
        return [node]
    mapping = node.get("discriminator", {}).get("mapping", {})
    if channel in mapping:
        return [_deref(schema, {"$ref": mapping[channel]})]
    return [_deref(schema, n) for n in node["oneOf"]]


def _schema_at(schema: dict[str, Any], path: Path_) -> Any:
    node: Any = schema
    for part in path:
        node = _deref(schema, node)
        if not isinstance(node, dict):
            return None
        if isinstance(part, int):
            node = node.get("items")
        elif "oneOf" in node:
            return None
        else:
            node = node.get("properties", {}).get(part)
            if node is None:
                return None
    return _deref(schema, node)


class JourneyCompleter:
    """Completions for one journeys/templates workspace: the schema, the template files, the
    merge fields and the template filters are handed in (the caller lists them)."""

    def __init__(self, schema: dict[str, Any], templates: list[str], fields: dict[str, Any], filters: list[str]):
        self.schema, self.templates, self.fields, self.filters = schema, sorted(templates), fields, sorted(filters)

    def complete(self, text: str, offset: int) -> Completion | None:
        offset = max(0, min(offset, len(text)))
        before = text[:offset].split("\n")
        scan = _Scan()
        for line in before[:-1]:
            scan.line(line)
        line = before[-1]
        match = _LINE.match(line)
        assert match
        col = len(match[1])
        for dash in re.findall(r"-(?: +|$)", match[2]):
            if dash.endswith(" "):
                scan.item(col)
            col += len(dash)
        rest = match[3]
        if rest.lstrip().startswith("#") or scan.block_above is not None and col > scan.block_above:
            return None
        key = _KEY.match(rest)
        if key:
            scan.key(col, key[1].strip("\"'"))
            name = str(scan.stack[-1].name)
            return self._value(text, offset, scan.path()[:-1], name, key[2])
        if rest.startswith("{"):
            return self._flow(text, offset, scan.path(), rest)
        if re.fullmatch(r"[\w-]*", rest):
            while scan.stack and scan.stack[-1].col >= col:
                scan.stack.pop()
            path = scan.path()
            node = _schema_at(self.schema, path)
            if isinstance(node, dict) and node.get("type") == "array":
                return self._scalars(offset - len(rest), _deref(self.schema, node.get("items")), rest)
            if isinstance(node, dict) and "properties" not in node and "oneOf" not in node:
                return self._scalars(offset - len(rest), node, rest)
            return self._keys(text, offset - len(rest), path, rest)
        return None

    # -- keys --------------------------------------------------------------------------------------

    def _siblings(self, text: str, offset: int, path: Path_) -> dict[str, str]:
        lines = text.split("\n")
        here = text.count("\n", 0, offset)
        scan = _Scan()
        for n, line in enumerate(lines):
            if n == here:  # the line being typed counts only for the list item its dash starts
                match = _LINE.match(line)
                line = (match[1] + match[2]) if match else ""
            scan.line(line)
        return {str(p[-1]): v for p, v in scan.keys if p[:-1] == path}

    def _keys(self, text: str, start: int, path: Path_, word: str) -> Completion | None:
        target = _schema_at(self.schema, path)
        if not isinstance(target, dict):
            return None
        present = self._siblings(text, start, path)
        options: dict[str, Option] = {}
        for variant in _variants(self.schema, target, present.get("channel")):
            required = set(variant.get("required", []))
            for name, prop in variant.get("properties", {}).items():
                if name in present or name in options:
                    continue
                prop = _deref(self.schema, prop)
                options[name] = Option(
                    name,
                    "property",
                    apply=f"{name}: ",
                    detail=str(prop.get("type", "")) if isinstance(prop, dict) else "",
                    info=str(prop.get("description", "")) if isinstance(prop, dict) else "",
                    boost=(2 if name in ("id", "phase", "channel") else 1) if name in required else 0,
                )
        return Completion(start, list(options.values())) if options else None

    # -- values ------------------------------------------------------------------------------------

    def _value(self, text: str, offset: int, path: Path_, key: str, typed: str) -> Completion | None:
        if typed.lstrip().startswith("{"):
            return self._flow(text, offset, path + (key,), typed.lstrip())
        siblings = self._siblings(text, offset, path)
        if key in EXPRESSION_KEYS or (key in TEMPLATE_TEXT_KEYS and _open_braces(typed)):
            return self._fields(offset, typed, expression=key in EXPRESSION_KEYS)
        stripped = typed.lstrip()
        if stripped.startswith("["):
            word = re.split(r"[\[,]", stripped)[-1].strip().strip("\"'")
            node = _schema_at(self.schema, path + (key,)) if not _touch_path(path) else None
            items = _deref(self.schema, node.get("items")) if isinstance(node, dict) else None
            return self._scalars(offset - len(word), items, word)
        word = stripped.strip("\"'")
        start = offset - len(word)
        if key == "template":
            return self._templates(start, word, siblings.get("channel"))
        if _touch_path(path):
            for variant in _variants(self.schema, _schema_at(self.schema, path), siblings.get("channel")):
                if key == "channel":
                    return Completion(start, [Option(c, "enum") for c in CHANNEL_FOLDERS])
                prop = variant.get("properties", {}).get(key)
                if prop is not None:
                    return self._scalars(start, _deref(self.schema, prop), word)
            return None
        return self._scalars(start, _schema_at(self.schema, path + (key,)), word)

    def _scalars(self, start: int, node: Any, word: str) -> Completion | None:
        if not isinstance(node, dict):
            return None
        values: list[Any] = list(node.get("enum") or ([node["const"]] if "const" in node else []))
        if node.get("type") == "boolean":
            values = [True, False]
        options = [Option(str(v).lower() if isinstance(v, bool) else str(v), "enum") for v in values]
        return Completion(start, options) if options else None

    def _templates(self, start: int, word: str, channel: str | None) -> Completion | None:
        folder = CHANNEL_FOLDERS.get(channel or "")
        options = [
            Option(name, "text", detail="template", boost=1 if folder and name.startswith(folder) else 0)
            for name in self.templates
            if not name.rsplit("/", 1)[-1].startswith("_")
        ]
        return Completion(start, options) if options else None

    def _flow(self, text: str, offset: int, path: Path_, typed: str) -> Completion | None:
        """Inside `{id: x, day: 3, cha…}` on one line: a key of that mapping, or a value."""
        segment = re.split(r"[{,]", typed)[-1]
        if ":" in segment:
            key, _, value = segment.partition(":")
            return self._value(text, offset, path, key.strip().strip("\"'"), value)
        word = segment.strip()
        completion = self._keys(text, offset - len(word), path, word)
        if completion:
            present = {k for k, _ in _flow_pairs(typed + "}")}
            completion.options = [o for o in completion.options if o.label not in present]
        return completion

    def _fields(self, offset: int, typed: str, expression: bool) -> Completion | None:
        inside = typed if expression else typed[typed.rfind("{{") + 2 :]
        if re.search(r"\|\s*\w*$", inside):
            word = re.search(r"\w*$", inside)[0]  # type: ignore[index]
            return Completion(offset - len(word), [Option(f, "function", detail="filter") for f in self.filters])
        dotted = _FIELD.search(inside)[0]  # type: ignore[index]
        *parents, word = dotted.split(".") if dotted else [""]
        level: Any = self.fields
        for part in parents:
            level = level.get(part) if isinstance(level, dict) else None
        if not isinstance(level, dict):
            return None
        options = [
            Option(name, "variable" if isinstance(value, dict) else "property", detail="merge field")
            for name, value in level.items()
        ]
        return Completion(offset - len(word), options)


def _open_braces(typed: str) -> bool:
    return typed.rfind("{{") > typed.rfind("}}")


def _touch_path(path: Path_) -> bool:
    """("phases", i, "touches", j): the mapping of one touch."""
    return len(path) == 4 and path[0] == "phases" and path[2] == "touches"


__all__ = ["JourneyCompleter", "Completion", "Option"]
