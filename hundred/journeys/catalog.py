"""Which journey file holds a journey id: one lookup for the CLI and the runtime.

A marketer may call the file anything (`onboarding.yml`); what names a journey is its `journey:`
id. The id is read from the file's plain `journey:` line where there is one, so looking a journey
up does not parse every file in the folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from hundred.journeys.schema_errors import did_you_mean
from hundred.journeys.source import YamlProblem, load_yaml, read_yaml_file

JOURNEY_SUFFIXES = (".yaml", ".yml")  # in any case: .YAML and .Yml count too
_ID_LINE = re.compile(r"^journey:[ \t]*([\"']?)([a-z0-9-]+)\1[ \t]*(?:#.*)?$", re.MULTILINE)


class JourneyNotFound(LookupError):
    """No file (or more than one) holds the journey id; the message says which and what exists."""


def folder_journeys(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in JOURNEY_SUFFIXES and p.is_file())


def journey_id(path: Path) -> str | None:
    """The file's `journey:` id: from its `journey:` line when it has a plain one, else by loading it."""

    try:
        text = read_yaml_file(path)
    except (OSError, YamlProblem):
        return None
    match = _ID_LINE.search(text)
    if match:
        return match[2]
    try:
        data, _ = load_yaml(text)
    except YamlProblem:
        return None
    value = data.get("journey") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def find_journey(name: str, folder: Path) -> Path:
    """The one file in `folder` whose `journey:` is `name` (else a file named after it, so its own
    errors can be reported); JourneyNotFound with a did-you-mean otherwise."""
    if not folder.is_dir():
        raise JourneyNotFound(f"no journeys folder {folder}/ to look up journey '{name}' in")
    files = folder_journeys(folder)
    ids = {f: journey_id(f) for f in files}
    matches = [f for f, jid in ids.items() if jid == name]
    if len(matches) > 1:
        raise JourneyNotFound(
            f"journey id '{name}' is used by {len(matches)} files: "
            f"{', '.join(str(m) for m in matches)}; give each journey file its own 'journey:' id"
        )
    if not matches:
        matches = [f for f in files if f.stem == name]
    if matches:
        return matches[0]

    known = sorted({jid for jid in ids.values() if jid})
    hint = did_you_mean(name, known) or (
        f"journeys here: {', '.join(known)}" if known else f"{folder}/ holds no journeys"
    )
    raise JourneyNotFound(f"no journey with the id '{name}' in {folder}/; {hint}")
