"""Paths on the command line: journey files and ids, deal files, and where output goes.

Every wrong kind of path (a folder for a file, a file for a folder, a place that cannot be written,
a name the file system refuses) is a one-line `UserError` before any work is done. A journey id is
looked up in journeys/ by each file's `journey:` line (`*.yaml`, `*.yml`, in any case), whatever the
file is called; two files with one id are an error.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from hundred.journeys.catalog import JOURNEY_SUFFIXES, JourneyNotFound, find_journey, folder_journeys


class UserError(Exception):
    """Bad input from the person at the keyboard: printed as is, exit 1."""


def user_error(exc: Exception, hint: str = "") -> UserError:
    """What the service refused (a LookupError, a ValueError) as a UserError: its message as written,
    quotes and all (a KeyError's own repr quotes are not part of it), then `hint` if any."""
    message = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)
    return UserError(message + hint)


@contextlib.contextmanager
def refused(*kinds: type[Exception]) -> Iterator[None]:
    """What the service refuses inside (a LookupError or ValueError, or only `kinds`) leaves as
    the CLI's UserError (see `user_error`), so a command states once what it calls."""
    caught = kinds or (LookupError, ValueError)
    try:
        yield
    except caught as exc:
        raise user_error(exc) from None


JOURNEYS_DIR = Path("journeys")


def shown(path: Path | str) -> str:
    from hundred.journeys.shorten import (
        clip,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    return clip(path, 120)


def resolve_journey(name: str) -> Path:
    """A journey file, or the file in journeys/ whose `journey:` is this id (whatever the file is called)."""
    try:
        return _find_journey(name)
    except OSError as exc:
        raise UserError(f"{shown(name)}: {exc.strerror or exc}") from None


def _find_journey(name: str) -> Path:
    path = Path(name)
    if path.is_dir():
        raise UserError(f"{shown(name)}: is a folder; name a journey file or a journey id, e.g. first-100-days")
    if path.exists():
        if not path.is_file():
            raise UserError(f"{shown(name)}: is not a regular file; name a journey .yaml file")
        return path
    if "/" in name or "\\" in name or path.suffix.lower() in JOURNEY_SUFFIXES or not JOURNEYS_DIR.is_dir():
        raise UserError(
            f"{shown(name)}: no such journey file"
            + ("" if JOURNEYS_DIR.is_dir() else " (and no journeys/ folder here to look the id up in)")
        )
    try:
        return find_journey(name, JOURNEYS_DIR)
    except JourneyNotFound as exc:
        raise UserError(f"{shown(name)}: {exc}") from None


def journey_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = folder_journeys(path)
            if not found:
                raise UserError(f"{shown(path)}: no .yaml or .yml journeys in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise UserError(f"{shown(path)}: is not a regular file; name a journey .yaml file or a folder")
        else:
            raise UserError(f"{shown(path)}: no such file or folder")
    return files


def input_file(path: Path, option: str, what: str) -> None:
    """Fail fast, in one line, when an input path is missing or is the wrong kind of thing.
    `option` names the option the path came with (`--deal`); "" for a positional argument."""
    lead = f"{option} {shown(path)}" if option else shown(path)
    wants = f"{option} takes {what}" if option else f"give {what}"
    try:
        _input_kind(path, lead, wants)
    except OSError as exc:  # a name too long for the file system, a loop of links …
        raise UserError(f"{lead}: {exc.strerror or exc}") from None


def _input_kind(path: Path, lead: str, wants: str) -> None:
    if path.is_dir():
        raise UserError(f"{lead}: is a folder; {wants}")
    if not path.exists():
        raise UserError(f"{lead}: no such file")
    if not path.is_file():
        raise UserError(f"{lead}: is not a regular file; {wants}")


def _nearest_existing(path: Path) -> Path:
    for candidate in [path, *path.absolute().parents]:
        if candidate.exists():
            return candidate
    return Path("/")


def output_path(path: Path, option: str, folder: bool) -> None:
    """`--html` names a file to write, `--out` a folder: refuse the wrong kind before doing any work."""
    try:
        _output_kind(path, option, folder)
    except OSError as exc:
        raise UserError(f"{option} {shown(path)}: {exc.strerror or exc}") from None


def _output_kind(path: Path, option: str, folder: bool) -> None:
    if folder and path.exists() and not path.is_dir():
        raise UserError(f"{option} {shown(path)}: is a file; {option} takes a folder to write into")
    if not folder and path.is_dir():
        raise UserError(
            f"{option} {shown(path)}: is a folder; {option} takes a file name, e.g. {shown(path / 'plan.html')}"
        )
    if not folder and path.exists() and not path.is_file():
        raise UserError(f"{option} {shown(path)}: is not a regular file; {option} takes a file name, e.g. plan.html")
    base = _nearest_existing(path if folder else path.parent)
    if not base.is_dir():
        raise UserError(f"{option} {shown(path)}: {shown(base)} is a file, not a folder")
    target = path if path.exists() else base
    if not os.access(target, os.W_OK):
        raise UserError(f"{option} {shown(path)}: {shown(target)} is not writable; choose another place")


def write_error(option: str, path: Path, exc: OSError) -> UserError:
    where = exc.filename or path
    return UserError(f"{option} {shown(path)}: cannot write {shown(where)}: {exc.strerror or exc}")
