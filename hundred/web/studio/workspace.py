"""The files the studio may open and save: the journeys in `journeys/` and the templates in
`templates/`, nothing else, and how they are saved.

- A file is named by its place in the workspace (`journeys/first-100-days.yaml`,
  `templates/letters/thank-you.txt`); templates are resolved with the renderer's own rule
  (`resolve_template`: no `..`, no absolute path, no link out of the folder).
- Saving is byte-exact and atomic: the text as typed, encoded UTF-8, written to a temporary file
  beside the original, flushed to disk, given the original's permissions, then renamed over it
  (readers see the old file or the new one, never half of one). It is refused when the file on
  disk is no longer what the page opened (its SHA-256 differs): the answer carries a diff.
- Git stays the history: `git_state` says whether the file has uncommitted changes.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateNotFound

from hundred.journeys.catalog import folder_journeys, journey_id
from hundred.journeys.source import MAX_BYTES
from hundred.templating.loader import TemplateRefused, resolve_template

GIT_TIMEOUT = 3.0
TEMPLATE_SUFFIXES = (".txt", ".html", ".md", ".json", ".j2")


class NotInWorkspace(LookupError):
    """A path the studio does not open: outside journeys/ and templates/, or missing."""


class Conflict(Exception):
    """The file changed on disk since the page opened it."""

    def __init__(self, disk_text: str, disk_hash: str):
        super().__init__("the file changed on disk since it was opened")
        self.disk_text, self.disk_hash = disk_text, disk_hash


@dataclass(frozen=True)
class OpenFile:
    name: str  # as the workspace names it: journeys/x.yaml, templates/letters/y.txt
    path: Path
    kind: str  # "journey" | "template"
    text: str
    sha256: str
    separator: str  # the line break the editor must keep: "\n" or "\r\n"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def line_separator(text: str) -> str:
    """CRLF when every line break is one; otherwise LF (a stray CR then stays in the text as typed)."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf == text.count("\n") else "\n"


class Workspace:
    def __init__(self, journeys_dir: Path, templates_dir: Path, examples_dir: Path | None = None):
        self.journeys_dir = journeys_dir.absolute()
        self.templates_dir = templates_dir.absolute()
        self.examples_dir = (examples_dir or journeys_dir.parent / "examples").absolute()

    # -- what there is ---------------------------------------------------------------------------

    def journeys(self) -> list[tuple[str, Path]]:
        """(journey id, file) of every journey file, by file name; a file without a readable id
        is listed under its file name, so its problems can be opened and fixed."""
        if not self.journeys_dir.is_dir():
            return []
        return [(journey_id(p) or p.stem, p) for p in folder_journeys(self.journeys_dir)]

    def journey_file(self, wanted: str) -> Path:
        for jid, path in self.journeys():
            if wanted in (jid, path.name, path.stem):
                return path
        raise NotInWorkspace(f"no journey '{wanted}' in {self.journeys_dir.name}/")

    def templates(self) -> list[str]:
        base = self.templates_dir.resolve()
        if not base.is_dir():
            return []
        return sorted(
            str(p.relative_to(base))
            for p in base.rglob("*")
            if p.is_file() and p.suffix.lower() in TEMPLATE_SUFFIXES and not p.name.startswith(".")
        )

    # -- opening ---------------------------------------------------------------------------------

    def resolve(self, name: str) -> tuple[Path, str]:
        """The file behind a workspace name, and its kind; NotInWorkspace otherwise."""
        if not isinstance(name, str) or len(name) > 400:
            raise NotInWorkspace("not a file name")
        head, _, rest = name.partition("/")
        if head == self.journeys_dir.name and rest and "/" not in rest:
            for _, path in self.journeys():
                if path.name == rest:
                    return path, "journey"
            raise NotInWorkspace(f"no journey file {name}")
        if head == self.templates_dir.name and rest:
            try:
                return resolve_template(self.templates_dir, rest), "template"
            except (TemplateRefused, TemplateNotFound) as exc:
                raise NotInWorkspace(str(getattr(exc, "message", None) or exc)) from None
        raise NotInWorkspace(f"{name} is not in {self.journeys_dir.name}/ or {self.templates_dir.name}/")

    def name_of(self, path: Path, kind: str) -> str:
        base = self.journeys_dir if kind == "journey" else self.templates_dir
        return f"{base.name}/{path.resolve().relative_to(base.resolve())}"

    def open(self, name: str) -> OpenFile:
        path, kind = self.resolve(name)
        data = path.read_bytes()
        if len(data) > MAX_BYTES:
            raise NotInWorkspace(f"{name} is larger than {MAX_BYTES // 1_000_000} MB")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NotInWorkspace(f"{name} is not UTF-8 text; save it as UTF-8 first") from None
        return OpenFile(self.name_of(path, kind), path, kind, text, digest(data), line_separator(text))

    # -- saving ----------------------------------------------------------------------------------

    def save(self, name: str, text: str, base: str) -> str:
        """Write `text` exactly, atomically; `base` is the SHA-256 the page opened (Conflict when
        the file no longer has it). Returns the new SHA-256."""
        path, _ = self.resolve(name)
        data = text.encode("utf-8")  # a lone surrogate from the browser: UnicodeEncodeError, not saved
        current = path.read_bytes()
        if digest(current) != base:
            raise Conflict(current.decode("utf-8", "replace"), digest(current))
        write_atomically(path, data)
        return digest(data)

    # -- git -------------------------------------------------------------------------------------

    def git_state(self, path: Path) -> str:
        """ "clean", "modified", "untracked", "no-repo" or "no-git": what `git status` says of it."""
        git = shutil.which("git")
        if git is None:
            return "no-git"
        try:
            done = subprocess.run(
                [git, "-C", str(path.parent), "status", "--porcelain=v1", "--untracked-files=all", "--", path.name],
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired):
            return "no-git"
        if done.returncode != 0:
            return "no-repo"
        status = done.stdout[:2]
        if not status:
            return "clean"
        return "untracked" if status == "??" else "modified"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: a temporary file beside it, fsync, the same mode, rename, fsync
    the folder. A crash leaves the old file or the new one."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".studio-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def unified_diff(disk: str, mine: str, name: str) -> str:
    """How the text being saved differs from the file on disk now."""
    lines = difflib.unified_diff(
        disk.splitlines(keepends=True),
        mine.splitlines(keepends=True),
        fromfile=f"{name} (on disk now)",
        tofile=f"{name} (yours)",
        n=2,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


__all__ = ["Workspace", "OpenFile", "Conflict", "NotInWorkspace", "unified_diff", "write_atomically", "digest"]
