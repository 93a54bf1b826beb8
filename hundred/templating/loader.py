"""Where `{% include %}`, `{% extends %}` and `{% import %}` may look: inside `templates/`, nowhere else.

A template name is a path relative to the templates folder, written out in quotes
(`{% extends "emails/_layout.html" %}`). Absolute paths, `..`, backslashes and symlinks that lead
out of the folder are refused with a message that says so; the validator and the renderer use the
same rule (`resolve_template`), so what validates is what renders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, TemplateNotFound
from jinja2.exceptions import SecurityError


class TemplateRefused(SecurityError):
    """A template name that points outside the templates folder (or is no name at all)."""


def resolve_template(root: Path, name: Any) -> Path:
    """The file `name` stands for under `root`; TemplateRefused if it lies outside, TemplateNotFound
    if it does not exist."""
    if not isinstance(name, str) or not name.strip():
        raise TemplateRefused(f"template name {name!r} is not a path; write it in quotes, e.g. 'emails/_layout.html'")
    if "\\" in name or "\x00" in name:
        raise TemplateRefused(f"template '{name}' is outside the templates folder (write paths with /)")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise TemplateRefused(f"template '{name}' is outside the templates folder (an absolute path)")
    if ".." in name.split("/"):
        raise TemplateRefused(f"template '{name}' is outside the templates folder ('..' is not allowed)")
    base = root.resolve()
    path = (base / name).resolve()
    if base not in path.parents:
        raise TemplateRefused(f"template '{name}' is outside the templates folder (a link that leads out of it)")
    if not path.is_file():
        raise TemplateNotFound(name, f"template '{name}' does not exist in the templates folder")
    return path


class TemplatesLoader(BaseLoader):
    """A FileSystemLoader that stays inside one folder; `shown` names files in error messages."""

    def __init__(self, root: Path, shown: str):
        self.root, self.shown = root, shown.rstrip("/")
        self.names: set[str] = set()  # display names handed out, to find template frames in tracebacks

    def display(self, name: str) -> str:
        return f"{self.shown}/{name}"

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = resolve_template(self.root, template)
        mtime = path.stat().st_mtime_ns
        source = path.read_text(encoding="utf-8")
        shown = self.display(template)
        self.names.add(shown)

        def uptodate() -> bool:  # template text is read when a touch runs: a fixed typo reaches everyone
            try:
                return path.stat().st_mtime_ns == mtime
            except OSError:
                return False

        return source, shown, uptodate


def display_root(root: Path) -> str:
    """How messages name the templates folder: relative to the working directory when inside it."""
    try:
        return str(root.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(root)
