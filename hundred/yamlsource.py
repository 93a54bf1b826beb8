"""Load YAML written by people, remembering where every value came from.

Two things make PyYAML's defaults unkind to marketers: YAML 1.1 reads `at: 10:30` as the number
630 (base 60) and `holidays: NO` as False. This loader resolves scalars the YAML 1.2 way
(only true/false are booleans, no base-60 numbers), rejects duplicate keys that PyYAML would
silently overwrite, and records a (line, column) for every key and value so that an error about
`phases[2].touches[0].day` can point at the exact spot in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser is ~10x faster


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader with YAML 1.2 core-schema booleans and integers."""


# Dates stay text too: `2026-02-30` would crash the timestamp constructor, while pydantic reports it
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))


def _construct_yaml12_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_yaml12_int)


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


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _walk(loader: _Loader, node: yaml.Node, path: Path_, smap: SourceMap) -> Any:
    smap.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)):
                raise YamlProblem("a key must be a plain word", _mark(key_node))
            key = str(key)
            if key in out:
                first = smap.keys[path + (key,)]
                raise YamlProblem(f"duplicate key '{key}' (first at line {first.line})", _mark(key_node),
                                  "remove one of the two; YAML would silently keep only the last")
            smap.keys[path + (key,)] = _mark(key_node)
            out[key] = _walk(loader, value_node, path + (key,), smap)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, path + (i,), smap) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml(text: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data plus its source map."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
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
            raise YamlProblem("YAML syntax error: this quote is never closed", where,
                              "close the quote on the same line, or remove it") from None
        lines = text.splitlines()
        line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
        hint = "indent with spaces, not tabs" if "\t" in line[: len(line) - len(line.lstrip())] else _syntax_hint(problem)
        raise YamlProblem(f"YAML syntax error: {problem}", where, hint) from None
    except (yaml.YAMLError, ValueError) as exc:
        raise YamlProblem(f"YAML error: {exc}", Mark(1, 1), "check the file's structure") from None
    finally:
        loader.dispose()


def _syntax_hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return "a value containing ': ' must be quoted, or the indentation is off"
    if "found character '\\t'" in problem or "tab" in problem:
        return "indent with spaces, not tabs"
    if "could not find expected ':'" in problem:
        return "each line needs 'key: value'; check quotes and indentation"
    if "found undefined alias" in problem:
        return "an '*' starts an alias in YAML; quote the value"
    return "check the indentation and quotes on this line and the one before"
