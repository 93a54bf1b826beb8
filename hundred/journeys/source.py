"""Load YAML written by people, remembering where every value came from, in bounded time and memory.

Two things make PyYAML's defaults unkind to marketers: YAML 1.1 reads `at: 10:30` as the number
630 (base 60) and `holidays: NO` as False. This loader resolves scalars the YAML 1.2 way
(only true/false are booleans, no base-60 numbers), rejects duplicate keys that PyYAML would
silently overwrite, and records a (line, column) for every key and value so that an error about
`phases[2].touches[0].day` can point at the exact spot in the file.

It also refuses YAML that costs more than it says. Nodes are composed here from the parser's
events (not by PyYAML's recursive composer), so before anything is built it checks the nesting
depth (`MAX_DEPTH`), the number of values after expanding aliases (`MAX_VALUES`: a "billion
laughs" file stops at the alias that crosses it), one document per file, and plain tags only
(`!!python/object` and friends are refused). Files are read through `read_yaml_file`, which checks
the size (`MAX_BYTES`) before parsing and reports undecodable bytes at their own line.

Reuse people expect works: merge keys (`<<: *defaults`, `<<: [*a, *b]`; the mapping's own keys win,
then earlier merges over later ones), and values that came from a merge keep the position of the
text they came from, so an error points at what to fix.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hundred.journeys.shorten import clip

Path_ = tuple[str | int, ...]

MAX_BYTES = 1_000_000  # a journey is a few KB; checked before parsing
MAX_DEPTH = 32  # nesting of lists and mappings (a journey needs 6)
MAX_VALUES = 20_000  # values in the document after expanding every alias (a journey has a few hundred)

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser is ~10x faster


class _Loader(_Base):  # type: ignore[misc, valid-type]  # the base is chosen at import: libyaml's or Python's
    """SafeLoader with YAML 1.2 core-schema booleans and integers."""


# Dates stay text too: `2026-02-30` would crash the timestamp constructor, while pydantic reports it
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)


def _construct_yaml12_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_yaml12_int)

_CORE = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP, _MERGE = _CORE + "str", _CORE + "seq", _CORE + "map", _CORE + "merge"
_SCALAR_TAGS = {_STR, _CORE + "int", _CORE + "bool", _CORE + "float", _CORE + "null"}


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class SourceMap:
    """Where each path's key and value stand in the file."""

    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)

    def locate(self, path: Path_, prefer_key: bool = False) -> Mark:
        """The mark of the longest prefix of `path` that the file has (missing keys point at their parent)."""
        path = tuple(path)
        while True:
            table = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            for t in table:
                if path in t:
                    return t[path]
            if not path:
                return Mark(1, 1)
            path = path[:-1]


class YamlProblem(Exception):
    """Bad YAML syntax or structure, with its position."""

    def __init__(self, message: str, mark: Mark, hint: str = ""):
        super().__init__(message)
        self.message, self.mark, self.hint = message, mark, hint


def _mark(node: Any) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


# --------------------------------------------------------------------------------------------
# Reading the bytes
# --------------------------------------------------------------------------------------------


def read_yaml_file(path: str | Path) -> str:
    """The file's text: at most MAX_BYTES, UTF-8 (a BOM is fine). OSError passes through."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise YamlProblem(
            f"the file is larger than {MAX_BYTES // 1_000_000} MB; a journey is a few KB",
            Mark(1, 1),
            "check that this is the journey file; remove pasted data or split it",
        )
    return decode_yaml_bytes(data)


def decode_yaml_bytes(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise YamlProblem("the file is saved as UTF-16, not UTF-8", Mark(1, 1), "save it as UTF-8")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise YamlProblem(
            f"byte 0x{data[exc.start : exc.start + 1].hex()} is not UTF-8 text",
            Mark(line, col),
            "save the file as UTF-8 (it may have been saved as Latin-1 or Windows-1252)",
        ) from None


# --------------------------------------------------------------------------------------------
# Composing nodes from events, with the bounds
# --------------------------------------------------------------------------------------------


class _Composer:
    """Builds PyYAML nodes from parser events, counting depth and expanded size as it goes."""

    def __init__(self, loader: Any):
        self.loader = loader
        self.anchors: dict[str, tuple[yaml.Node, int, int]] = {}  # name → node, size, height
        self.total = 0

    def document(self) -> yaml.Node | None:
        get, check = self.loader.get_event, self.loader.check_event
        get()  # StreamStart
        if check(yaml.StreamEndEvent):
            return None
        get()  # DocumentStart
        node, _, _ = self.node(1)
        get()  # DocumentEnd
        if not check(yaml.StreamEndEvent):
            second = get()
            raise YamlProblem(
                "this file holds more than one YAML document",
                _mark(second),
                "a journey is one document: remove the '---' line and what follows, or put it in its own file",
            )
        return node

    def _count(self, size: int, event: Any, alias: str | None = None) -> None:
        self.total += size
        if self.total > MAX_VALUES:
            if alias:
                raise YamlProblem(
                    f"alias '*{clip(alias, 40)}' expands the file to more than {MAX_VALUES} values",
                    _mark(event),
                    "use aliases for small shared pieces; an alias of an alias of … multiplies",
                )
            raise YamlProblem(
                f"the file holds more than {MAX_VALUES} values",
                _mark(event),
                "a journey has a few hundred; check that this is the journey file",
            )

    def node(self, depth: int) -> tuple[yaml.Node, int, int]:
        event = self.loader.get_event()
        if isinstance(event, yaml.AliasEvent):
            name = event.anchor
            if name not in self.anchors:
                raise YamlProblem(
                    f"YAML syntax error: alias '*{clip(name, 40)}' has no anchor '&{clip(name, 40)}' before it",
                    _mark(event),
                    "a value that starts with '*' must be quoted; an alias needs its "
                    "'&anchor' earlier in the file (a top-level 'x-…:' key can hold it)",
                )
            node, size, height = self.anchors[name]
            if depth + height - 1 > MAX_DEPTH:
                raise YamlProblem(
                    f"alias '*{clip(name, 40)}' nests the file more than {MAX_DEPTH} levels deep",
                    _mark(event),
                    "a journey needs only a few levels; do not put an alias inside its own kind",
                )
            self._count(size, event, name)
            return node, size, height
        if depth > MAX_DEPTH:
            raise YamlProblem(
                f"the file is nested more than {MAX_DEPTH} levels deep",
                _mark(event),
                "a journey needs only a few levels; check the brackets and the indentation",
            )
        self._count(1, event)
        start = event.start_mark
        result: tuple[yaml.Node, int, int]
        if isinstance(event, yaml.ScalarEvent):
            tag = self._tag(event, _STR if event.tag == "!" else None, _SCALAR_TAGS)
            if tag is None:
                tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            node = yaml.ScalarNode(tag, event.value, start, event.end_mark, style=event.style)  # type: ignore[arg-type]  # types-PyYAML: an event's mark may be the C Mark
            result = node, 1, 1
        elif isinstance(event, yaml.SequenceStartEvent):
            node = yaml.SequenceNode(
                self._tag(event, _SEQ, {_SEQ}) or _SEQ, [], start, None, flow_style=event.flow_style
            )
            size, height = 1, 1
            while not self.loader.check_event(yaml.SequenceEndEvent):
                child, s, h = self.node(depth + 1)
                node.value.append(child)
                size, height = size + s, max(height, h + 1)
            node.end_mark = self.loader.get_event().end_mark
            result = node, size, height
        else:  # MappingStartEvent (the parser emits nothing else here)
            node = yaml.MappingNode(
                self._tag(event, _MAP, {_MAP}) or _MAP, [], start, None, flow_style=event.flow_style
            )
            size, height = 1, 1
            while not self.loader.check_event(yaml.MappingEndEvent):
                key, ks, kh = self.node(depth + 1)
                value, vs, vh = self.node(depth + 1)
                node.value.append((key, value))
                size, height = size + ks + vs, max(height, kh + 1, vh + 1)
            node.end_mark = self.loader.get_event().end_mark
            result = node, size, height
        if event.anchor is not None:
            self.anchors[event.anchor] = result
        return result

    @staticmethod
    def _tag(event: yaml.ScalarEvent | yaml.CollectionStartEvent, default: str | None, allowed: set[str]) -> str | None:
        tag = event.tag
        if tag is None or tag == "!":
            return default
        if tag not in allowed:
            shown = "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
            raise YamlProblem(
                f"the tag '{clip(shown, 60)}' is not allowed in a journey",
                _mark(event),
                "remove the tag: a journey holds plain text, numbers, true/false, lists and 'key: value'",
            )
        return tag


# --------------------------------------------------------------------------------------------
# Nodes → plain data plus the source map
# --------------------------------------------------------------------------------------------


def _key(node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise YamlProblem(
            "a key must be a plain word, not a list or a mapping",
            _mark(node),
            "write 'key: value'; a '?' or '[' / '{' before the ':' makes a complex key",
        )
    if node.value == "":
        raise YamlProblem("a key is missing before ':'", _mark(node), "write 'key: value'")
    text: str = node.value  # the text as written: `1:` and `true:` are the words "1" and "true"
    return text


def _items(node: yaml.MappingNode, path: Path_) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """The mapping's (key, key node, value node) with merge keys applied: own keys win, then earlier merges."""
    own: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    merged: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    merge_seen: yaml.Node | None = None
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE and isinstance(key_node, yaml.ScalarNode):
            if merge_seen is not None:
                raise YamlProblem(
                    f"duplicate key '<<' (first at line {_mark(merge_seen).line})",
                    _mark(key_node),
                    "merge several mappings with one key: '<<: [*a, *b]'",
                )
            merge_seen = key_node
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise YamlProblem(
                        "'<<' merges mappings, and this is not one",
                        _mark(source),
                        "write '<<: *name' where '&name' marks a 'key: value' mapping, or '<<: [*a, *b]'",
                    )
                for key, kn, vn in _items(source, path):
                    merged.setdefault(key, (kn, vn))
            continue
        key = _key(key_node)
        if key in own:
            raise YamlProblem(
                f"duplicate key '{clip(key)}' (first at line {_mark(own[key][0]).line})",
                _mark(key_node),
                "remove one of the two; YAML would silently keep only the last",
            )
        own[key] = (key_node, value_node)
    out = [(k, kn, vn) for k, (kn, vn) in merged.items() if k not in own]
    return out + [(k, kn, vn) for k, (kn, vn) in own.items()]


def _walk(loader: Any, node: yaml.Node, path: Path_, smap: SourceMap) -> Any:
    smap.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key, key_node, value_node in _items(node, path):
            smap.keys[path + (key,)] = _mark(key_node)
            out[key] = _walk(loader, value_node, path + (key,), smap)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, path + (i,), smap) for i, item in enumerate(node.value)]
    if node.tag == _MERGE:  # `<<` as a value, not a key
        return node.value
    return loader.construct_object(node, deep=True)


def load_yaml(text: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data plus its source map."""
    if len(text) > MAX_BYTES:
        raise YamlProblem(
            f"the text is longer than {MAX_BYTES} characters; a journey is a few KB",
            Mark(1, 1),
            "check that this is the journey; remove pasted data",
        )
    loader = None
    try:
        loader = _Loader(text)  # the pure-Python reader checks characters already here
        node = _Composer(loader).document()
        if node is None:
            return None, SourceMap()
        smap = SourceMap()
        return _walk(loader, node, (), smap), smap
    except yaml.MarkedYAMLError as exc:
        context = (exc.context or "").strip()
        unclosed = "quoted scalar" in context and exc.context_mark is not None
        mark = exc.context_mark if unclosed else (exc.problem_mark or exc.context_mark)
        where = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        problem = (exc.problem or context or "invalid YAML").strip()
        if unclosed:
            raise YamlProblem(
                "YAML syntax error: this quote is never closed", where, "close the quote on the same line, or remove it"
            ) from None
        lines = text.splitlines()
        line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
        hint = (
            "indent with spaces, not tabs" if "\t" in line[: len(line) - len(line.lstrip())] else _syntax_hint(problem)
        )
        raise YamlProblem(f"YAML syntax error: {clip(problem, 120)}", where, hint) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(text, exc) from None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        raise YamlProblem(f"YAML error: {clip(str(exc), 120)}", Mark(1, 1), "check the file's structure") from None
    finally:
        if loader is not None:
            loader.dispose()


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> YamlProblem:
    """A control character: libyaml counts its position in UTF-8 bytes, PyYAML in characters."""
    data: Any = text.encode("utf-8", "replace") if _Base is not yaml.SafeLoader else text
    newline = b"\n" if isinstance(data, bytes) else "\n"
    pos = min(exc.position, len(data))
    piece = data[data.rfind(newline, 0, pos) + 1 : pos]
    col = len(piece.decode("utf-8", "replace") if isinstance(piece, bytes) else piece) + 1
    char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
    return YamlProblem(
        f"invisible control character U+{char:04X} is not allowed in YAML",
        Mark(data.count(newline, 0, pos) + 1, col),
        "delete it (it often comes from a copy-paste); write line breaks as real new lines",
    )


def _syntax_hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return "a value containing ': ' must be quoted, or the indentation is off"
    if "found character '\\t'" in problem or "tab" in problem:
        return "indent with spaces, not tabs"
    if "could not find expected ':'" in problem:
        return "each line needs 'key: value'; check quotes and indentation"
    if "found undefined alias" in problem:
        return "an '*' starts an alias in YAML; quote the value"
    if "control characters are not allowed" in problem or "unacceptable character" in problem:
        return "remove the invisible control character (it may come from a copy-paste)"
    return "check the indentation and quotes on this line and the one before"
