"""Issue 6, category 6: CLI edges. Each is one line on stderr, exit 1 (user error) or 2 (usage),
never a traceback and never "unexpected error".
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from conftest import EXAMPLE_DEAL_NL, MINIMAL_JOURNEY, run_cli


@pytest.fixture
def cmd(monkeypatch, capsys):
    return lambda *args: run_cli(monkeypatch, capsys, *args)


@pytest.fixture
def project(make_journey, tmp_path):
    """journeys/ with files whose names differ from their ids, templates, and a deal."""
    make_journey(MINIMAL_JOURNEY.replace("journey: x", "journey: first-100-days"), name="onboarding.yaml")
    make_journey(MINIMAL_JOURNEY.replace("journey: x", 'journey: "welcome"   # the id'), name="Welcome.YAML")
    make_journey(MINIMAL_JOURNEY.replace("journey: x", "journey: short"), name="s.yml")
    shutil.copy(EXAMPLE_DEAL_NL, tmp_path / "deal.json")
    return tmp_path


def one_line_error(code: int, err: str, expected_code: int, *words: str) -> str:
    assert code == expected_code, err
    assert "Traceback" not in err and "unexpected error" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------------------------
# Journey ids and files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "journey_id, file", [("first-100-days", "onboarding.yaml"), ("welcome", "Welcome.YAML"), ("short", "s.yml")]
)
def test_plan_finds_a_journey_by_its_id_whatever_the_file_is_called(cmd, project, journey_id, file):
    code, out, err = cmd("plan", journey_id, "--deal", "deal.json", "--json")
    assert code == 0, err
    assert f'"journey": "{journey_id}"' in out


def test_validate_on_a_folder_includes_yml_and_upper_case_yaml(cmd, project):
    code, out, err = cmd("validate", "journeys")
    assert code == 0, err
    assert {"journeys/onboarding.yaml", "journeys/Welcome.YAML", "journeys/s.yml"} == {
        line.split(":")[0].split()[-1] for line in out.splitlines()
    }


def test_two_files_with_one_id_is_a_clear_error(cmd, project, make_journey):
    make_journey(MINIMAL_JOURNEY.replace("journey: x", "journey: welcome"), name="copy.yml")
    line = one_line_error(
        *cmd("plan", "welcome", "--deal", "deal.json")[::2],
        1,
        "journey id 'welcome' is used by 2 files",
        "journeys/Welcome.YAML",
        "journeys/copy.yml",
    )
    assert "own 'journey:' id" in line


JOURNEY_ARGUMENT_CASES = [
    pytest.param(
        ("plan", "first-100-dayz", "--deal", "deal.json"),
        ("first-100-dayz", "no journey", "did you mean 'first-100-days'?"),
        id="unknown-id-suggests-the-near-one",
    ),
    pytest.param(
        ("plan", "journeys/nope.yaml", "--deal", "deal.json"),
        ("journeys/nope.yaml", "no such journey file"),
        id="missing-journey-file-is-named",
    ),
    pytest.param(("plan", "journeys", "--deal", "deal.json"), ("journeys: is a folder",), id="folder-as-the-journey"),
]


@pytest.mark.parametrize("args, words", JOURNEY_ARGUMENT_CASES)
def test_a_journey_argument_that_names_no_journey_is_one_line(cmd, project, args, words):
    one_line_error(*cmd(*args)[::2], 1, *words)


def test_finding_an_id_reads_little(cmd, project, make_journey):
    for i in range(50):
        make_journey(MINIMAL_JOURNEY.replace("journey: x", f"journey: j{i}"), name=f"j{i}.yaml")
    start = time.perf_counter()
    code, out, err = cmd("plan", "j49", "--deal", "deal.json", "--json")
    assert code == 0, err
    assert time.perf_counter() - start < 5


def test_an_id_in_a_file_written_in_flow_style_is_found_by_loading(cmd, project, make_journey):
    make_journey(
        "{journey: flowing, name: F, phases: [{phase: affirm, touches: [{id: t, day: 1, channel: letter, "
        "template: letters/thanks.txt}]}]}\n",
        name="f.yaml",
    )
    code, out, err = cmd("plan", "flowing", "--deal", "deal.json", "--json")
    assert code == 0, err


# --------------------------------------------------------------------------------------------
# Paths of the wrong kind
# --------------------------------------------------------------------------------------------


WRONG_PATH_CASES = [
    pytest.param(("plan", "short", "--deal", "journeys"), ("--deal journeys: is a folder",), id="deal-is-a-folder"),
    pytest.param(
        ("preview", "short", "--deal", "nope.json", "--out", "out"),
        ("--deal nope.json: no such file",),
        id="deal-missing",
    ),
    pytest.param(
        ("plan", "short", "--deal", "deal.json", "--html", "deal.json/plan.html"),
        ("deal.json is a file, not a folder",),
        id="html-below-a-file",
    ),
    pytest.param(
        ("plan", "short", "--deal", "deal.json", "--html", "/proc/hundred-test/plan.html"),
        ("--html /proc/hundred-test/plan.html",),
        id="html-in-an-unwritable-place",
    ),
    pytest.param(
        ("preview", "short", "--deal", "deal.json", "--out", "deal.json"),
        ("--out deal.json: is a file", "folder"),
        id="out-is-a-file",
    ),
    pytest.param(
        ("preview", "short", "--deal", "deal.json", "--out", "deal.json/out"),
        ("deal.json is a file, not a folder",),
        id="out-below-a-file",
    ),
    pytest.param(
        ("preview", "short", "--deal", "deal.json", "--out", "/proc/hundred-test"),
        ("--out /proc/hundred-test",),
        id="out-in-an-unwritable-place",
    ),
]


@pytest.mark.parametrize("args, words", WRONG_PATH_CASES)
def test_a_path_of_the_wrong_kind_is_one_line_naming_it(cmd, project, args, words):
    one_line_error(*cmd(*args)[::2], 1, *words)


def test_html_that_is_a_folder(cmd, project):
    (project / "site").mkdir()
    line = one_line_error(
        *cmd("plan", "short", "--deal", "deal.json", "--html", "site")[::2], 1, "--html site: is a folder"
    )
    assert "site/plan.html" in line


def test_wrong_paths_fail_before_any_work(cmd, project, monkeypatch):
    import hundred.validation.validate

    monkeypatch.setattr(hundred.validation.validate, "load_journey", lambda *a, **k: pytest.fail("loaded the journey"))
    monkeypatch.setattr(hundred.validation.validate, "load_checked", lambda *a, **k: pytest.fail("loaded the journey"))
    (project / "site").mkdir()
    assert cmd("plan", "short", "--deal", "deal.json", "--html", "site")[0] == 1


@pytest.mark.parametrize("target", ["/dev/null", "journeys"])
def test_validate_refuses_what_is_not_a_journey_file(cmd, project, target):
    code, out, err = cmd("validate", target) if target != "journeys" else cmd("validate", "templates/letters")
    assert code == 1 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------------
# Huge values are cut
# --------------------------------------------------------------------------------------------


def test_a_huge_journey_argument_is_cut(cmd, project):
    line = one_line_error(*cmd("plan", "q" * 5000, "--deal", "deal.json")[::2], 1, "qqq", "…")
    assert len(line) < 400


def test_a_huge_value_in_a_problem_is_cut(cmd, project, make_journey):
    make_journey(MINIMAL_JOURNEY.replace("channel: letter", "channel: " + "z" * 10_000), name="s.yml")
    code, out, err = cmd("validate", "journeys/s.yml")
    assert code == 1 and "Traceback" not in err
    assert all(len(line) < 400 for line in err.splitlines())
    assert "zzz…" in err


def test_a_huge_unknown_key_is_cut(cmd, project, make_journey):
    make_journey(MINIMAL_JOURNEY + "k" * 900 + ": 1\n", name="s.yml")
    code, out, err = cmd("validate", "journeys/s.yml")
    assert code == 1 and "journeys/s.yml:10:1:" in err
    assert all(len(line) < 400 for line in err.splitlines()) and "kkk…" in err


def test_a_huge_deal_path_is_cut(cmd, project):
    line = one_line_error(*cmd("plan", "short", "--deal", "d" * 3000 + ".json")[::2], 1, "--deal ddd", "…")
    assert len(line) < 400


# --------------------------------------------------------------------------------------------
# Usage errors stay exit 2
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("plan", "short"), ("preview", "short", "--deal", "deal.json"), ("plan", "--html")])
def test_usage_errors_exit_2(cmd, project, args):
    code, out, err = cmd(*args)
    assert code == 2 and "Traceback" not in err and "Error" in err


def test_journey_ids_resolve_only_inside_journeys(cmd, project, tmp_path):
    (tmp_path / "other").mkdir()
    Path(tmp_path / "other" / "z.yaml").write_text(MINIMAL_JOURNEY.replace("journey: x", "journey: zed"))
    one_line_error(*cmd("plan", "zed", "--deal", "deal.json")[::2], 1, "zed", "no journey")
