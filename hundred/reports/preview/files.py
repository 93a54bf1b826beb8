"""The preview folder: write only where we may, and clear away only what an earlier preview wrote.

A marketer runs `hundred preview` again and again into the same folder; a touch that was renamed or
removed must not leave its old PDF behind, or the folder shows a customer journey that no longer
exists. But `--out` may be any folder, their home folder included, holding their own files. So each
preview writes a manifest (`.hundred-preview.json`) naming every file it wrote with its SHA-256,
and the next preview

- deletes a file only when the manifest names it and its bytes are still the ones written (a file
  the user edited or replaced since is theirs now and stays);
- overwrites a file only on the same terms, and refuses before writing anything when one of its
  file names is taken by a file it did not write (`PreviewRefused`, an `OSError`, so the CLI
  reports it like any other unwritable place);
- never follows a symbolic link, never enters a sub-folder, never touches a name with a path in it.

The manifest is written even when rendering stops half-way, so what was written is still known.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

MANIFEST = ".hundred-preview.json"
_WRITER = "hundred preview"


class PreviewRefused(FileExistsError):
    """A file the preview would write is already there and is not one an earlier preview wrote."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plain_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
        and name != MANIFEST
    )


class PreviewFolder:
    """One preview's output folder: `write(name, data)`, then `finish()` clears stale files."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: dict[str, str] = {}
        out.mkdir(parents=True, exist_ok=True)
        self.earlier = self._read_manifest()

    def _read_manifest(self) -> dict[str, str]:
        """{name: sha256} of what the last preview wrote; nothing when there is no readable manifest."""
        path = self.out / MANIFEST
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                return {}
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        files = data.get("files") if isinstance(data, dict) and data.get("written_by") == _WRITER else None
        if not isinstance(files, dict):
            return {}
        return {k: v for k, v in files.items() if _plain_name(k) and isinstance(v, str)}

    def _ours(self, name: str) -> bool:
        """The file `name` is a regular file whose bytes are what an earlier preview wrote there."""
        path = self.out / name
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                return False
            return self.earlier.get(name) == _digest(path.read_bytes())
        except OSError:
            return False

    def _free(self, name: str) -> bool:
        return not os.path.lexists(self.out / name) or self._ours(name)

    def claim(self, names: Iterable[str]) -> None:
        """Refuse, before anything is written, when a name this preview will write is taken by a
        file (or link, or folder) that no earlier preview wrote."""
        taken = sorted(n for n in set(names) if not self._free(n))
        manifest = self.out / MANIFEST
        if os.path.lexists(manifest) and not stat.S_ISREG(manifest.lstat().st_mode):
            taken.append(MANIFEST)
        if taken:
            listed = ", ".join(taken[:5]) + (f" and {len(taken) - 5} more" if len(taken) > 5 else "")
            raise PreviewRefused(
                errno.EEXIST,
                f"{listed} {'is' if len(taken) == 1 else 'are'} not from an earlier preview and "
                "would be overwritten; choose an empty folder for --out",
                str(self.out / taken[0]),
            )

    def write(self, name: str, data: bytes | str) -> Path:
        """Write one file (text as UTF-8), remembered in the manifest."""
        assert _plain_name(name), name
        raw = data.encode("utf-8") if isinstance(data, str) else data
        path = self.out / name
        if name not in self.written and not self._free(name):
            raise PreviewRefused(
                errno.EEXIST, "not from an earlier preview; choose an empty folder for --out", str(path)
            )
        if path.is_symlink():  # only reached when the link is ours to replace, which it never is
            raise PreviewRefused(errno.EEXIST, "is a symbolic link", str(path))
        path.write_bytes(raw)
        self.written[name] = _digest(raw)
        return path

    def finish(self) -> list[str]:
        """Delete what the earlier preview wrote and this one did not (unless changed since), then
        write the manifest; returns the names deleted."""
        removed = []
        for name in sorted(set(self.earlier) - set(self.written)):
            if self._ours(name):
                try:
                    (self.out / name).unlink()
                    removed.append(name)
                except OSError:
                    continue
        self.save()
        return removed

    def save(self) -> None:
        """The manifest of what this preview wrote (plus earlier files not yet cleared, so a preview
        that stopped half-way still knows them next time)."""
        files = {n: h for n, h in self.earlier.items() if n not in self.written and self._ours(n)}
        files.update(self.written)
        body = json.dumps({"written_by": _WRITER, "files": dict(sorted(files.items()))}, indent=2)
        (self.out / MANIFEST).write_text(body + "\n", encoding="utf-8")


__all__ = ["MANIFEST", "PreviewFolder", "PreviewRefused"]
