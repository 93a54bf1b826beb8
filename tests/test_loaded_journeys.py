"""A closed deal's journey is checked once while its files are unchanged (hundred/validation/loaded.py),
and every edit (to the YAML or to a template) is checked again before the next deal uses it."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from hundred.journeys.problems import Invalid
from hundred.validation.loaded import LoadedJourneys

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(REPO / "journeys", tmp_path / "journeys")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    long_ago = time.time() - 60
    for root, _dirs, files in os.walk(tmp_path):
        for name in files:
            os.utime(os.path.join(root, name), (long_ago, long_ago))
    return tmp_path / "journeys" / "first-100-days.yaml", tmp_path / "templates"


def test_an_unchanged_journey_is_checked_once(folders: tuple[Path, Path]) -> None:
    path, templates = folders
    loaded = LoadedJourneys()
    first = loaded.load(path, templates)
    assert loaded.load(path, templates) is first
    assert first[0].journey == "first-100-days"


def test_an_edit_to_the_journey_counts_at_once_and_a_bad_one_is_refused(folders: tuple[Path, Path]) -> None:
    path, templates = folders
    loaded = LoadedJourneys()
    good = path.read_text(encoding="utf-8")
    assert loaded.load(path, templates)[0].name == "De eerste 100 dagen"
    path.write_text(good.replace("name: De eerste 100 dagen", "name: Onze eerste 100 dagen"), encoding="utf-8")
    assert loaded.load(path, templates)[0].name == "Onze eerste 100 dagen"
    path.write_text(good.replace("journey: first-100-days", "journey: [first"), encoding="utf-8")
    with pytest.raises(Invalid):
        loaded.load(path, templates)
    with pytest.raises(Invalid):  # still refused: a bad YAML is never taken for the good one before it
        loaded.load(path, templates)
    path.write_text(good, encoding="utf-8")
    assert loaded.load(path, templates)[0].name == "De eerste 100 dagen"


def test_a_template_broken_right_after_a_check_is_caught_by_the_next(folders: tuple[Path, Path]) -> None:
    """Within the file system's time stamp tick a rewrite can keep size and time: a template written
    in the last two seconds is never taken as seen."""
    path, templates = folders
    loaded = LoadedJourneys()
    template = templates / "emails" / "next-steps.html"
    text = template.read_text(encoding="utf-8")
    template.write_text(text, encoding="utf-8")  # a marketer saves it
    stamp = template.stat().st_mtime_ns
    loaded.load(path, templates)  # a deal comes in at once
    template.write_text(text.replace("{{", "{%", 1), encoding="utf-8")  # saved again, broken, same size
    os.utime(template, ns=(stamp, stamp))  # within the same tick: the same time stamp as before
    with pytest.raises(Invalid, match="next-steps"):
        loaded.load(path, templates)


def test_a_template_edited_later_is_caught_by_its_time_stamp(folders: tuple[Path, Path]) -> None:
    path, templates = folders
    loaded = LoadedJourneys()
    first = loaded.load(path, templates)
    template = templates / "emails" / "next-steps.html"
    template.write_text(template.read_text(encoding="utf-8").replace("{{", "{%", 1), encoding="utf-8")
    with pytest.raises(Invalid, match="next-steps"):
        loaded.load(path, templates)
    assert first[0].journey == "first-100-days"
