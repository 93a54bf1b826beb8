"""Check a journey file the way a careful colleague would, and report every problem at once.

Shape and single values are checked by the pydantic models (`journey.py`), the rules that look
across the journey by `journey_rules.py`; this module reads the file or the text being typed, runs
both, and hands a valid journey to the Coleman linter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hundred.journeys.model import Journey
from hundred.journeys.problems import Invalid, Problem
from hundred.journeys.schema_errors import schema_problems
from hundred.journeys.source import SourceMap, YamlProblem, load_yaml, read_yaml_file
from hundred.journeys.touch_rules import capped
from hundred.validation.journey_rules import Rules, display_path


@dataclass
class Checked:
    """The result of checking one file: the journey when it is usable, and every problem found."""

    path: Path
    journey: Journey | None = None
    problems: list[Problem] = field(default_factory=list)
    templates_dir: Path | None = None
    warnings: list[Problem] = field(default_factory=list)  # the Coleman linter's (lint.py), for a valid journey
    lint: list[dict[str, Any]] = field(default_factory=list)  # the warnings as JSON, each with its timeline mark
    silenced: list[dict[str, Any]] = field(default_factory=list)  # rules this journey ignores, with the reason
    data: Any = None  # the YAML as plain data, when it parsed
    smap: SourceMap | None = None  # where each value of `data` stands in the text

    @property
    def ok(self) -> bool:
        return self.journey is not None and not self.problems


def find_templates_dir(journey_path: Path, explicit: Path | None = None) -> Path:
    """`templates/` beside the journeys folder (the repository layout), else beside the file."""
    if explicit:
        return explicit
    here = journey_path.resolve().parent
    for candidate in (here.parent / "templates", here / "templates", Path.cwd() / "templates"):
        if candidate.is_dir():
            return candidate
    return here.parent / "templates"


def check_file(path: str | Path, templates_dir: Path | None = None, *, lint: bool = True) -> Checked:
    path = Path(path)
    shown = display_path(path)
    result = Checked(path, templates_dir=find_templates_dir(path, templates_dir))
    try:
        text = read_yaml_file(path)
    except FileNotFoundError:
        result.problems.append(Problem(shown, 1, 1, "no such file", "check the path; journeys live in journeys/*.yaml"))
        return result
    except IsADirectoryError:
        result.problems.append(
            Problem(
                shown,
                1,
                1,
                "this is a folder, not a journey file",
                "name a .yaml file, or validate the folder's journeys with 'hundred validate FOLDER'",
            )
        )
        return result
    except OSError as exc:
        result.problems.append(
            Problem(
                shown,
                1,
                1,
                f"cannot read the file: {exc.strerror or exc}",
                "check that the file exists and that you may read it",
            )
        )
        return result
    except YamlProblem as exc:
        result.problems.append(Problem(shown, exc.mark.line, exc.mark.col, exc.message, exc.hint))
        return result
    return check_text(text, path, result.templates_dir, lint=lint)


def check_text(text: str, path: str | Path, templates_dir: Path | None = None, *, lint: bool = True) -> Checked:
    """Check a journey's text as if it were the file at `path` (which need not hold it yet): the
    studio checks what a marketer is typing with the very rules `hundred validate` runs on files."""
    path = Path(path)
    shown = display_path(path)
    templates = find_templates_dir(path, templates_dir)
    result = Checked(path, templates_dir=templates)
    try:
        data, smap = load_yaml(text)
    except YamlProblem as exc:
        result.problems.append(Problem(shown, exc.mark.line, exc.mark.col, exc.message, exc.hint))
        return result
    result.data, result.smap = data, smap
    if not isinstance(data, dict):
        result.problems.append(
            Problem(shown, 1, 1, "this is not a journey", "a journey starts with 'journey:', 'name:' and 'phases:'")
        )
        return result
    try:
        result.journey = Journey.model_validate(data)
    except ValidationError as exc:
        result.problems.extend(schema_problems(exc, data, smap, shown))
    result.problems.extend(Rules(data, smap, shown, templates).run())
    result.problems = capped(sorted(set(result.problems), key=lambda p: (p.line, p.col, p.message)))
    if result.problems:
        result.journey = None
    elif result.journey is not None and lint:
        from hundred.validation.lint.rules import (
            lint as coleman,  # lazy: the linter plans a typical deal: only when asked to lint
        )

        linted = coleman(result.journey, data, smap, shown)
        result.warnings, result.lint, result.silenced = linted.warnings, linted.marks, linted.silenced
    return result


def load_journey(path: str | Path, templates_dir: Path | None = None) -> tuple[Journey, Path]:
    """A valid journey and its templates folder, or Invalid with every problem."""
    checked = load_checked(path, templates_dir, lint=False)
    assert checked.journey is not None and checked.templates_dir is not None
    return checked.journey, checked.templates_dir


def load_checked(path: str | Path, templates_dir: Path | None = None, *, lint: bool = True) -> Checked:
    """A valid journey's check (journey, templates folder, lint warnings), or Invalid with every problem."""
    checked = check_file(path, templates_dir, lint=lint)
    if not checked.ok:
        raise Invalid(checked.problems)
    return checked
