"""The `hundred` command line as a person uses it: exit codes, messages, and the --json contract.

Commands run in-process through `hundred.cli.app.main` (the console entry point, with its error
handling), so they are fast; only the "no Prefect import" check needs a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import (
    MINIMAL_JOURNEY,
    REPO,
    deal_payload,
    email,
    hundred_cli,
    hundred_process,
    journey_yaml,
    letter,
    phase,
    run_cli,
)

from hundred import cli

run = run_cli  # (monkeypatch, capsys, *args) -> (exit code, stdout, stderr)


@pytest.fixture
def cmd(monkeypatch, capsys):
    return lambda *args: run(monkeypatch, capsys, *args)


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.chdir(REPO)
    return REPO


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


def test_validate_defaults_to_journeys_and_prints_one_line_per_journey(cmd, in_repo):
    code, out, err = cmd("validate")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(list((REPO / "journeys").glob("*.yaml"))) == 2
    assert any("first-100-days (" in line for line in lines)
    assert any("first-100-days-en (" in line for line in lines)
    assert all(line.startswith("ok ") for line in lines)
    assert err == ""


def test_validate_one_file(cmd, in_repo):
    code, out, _ = cmd("validate", "journeys/first-100-days.yaml")
    assert code == 0
    (line,) = out.strip().splitlines()
    assert "first-100-days" in line and "16 touches" in line


BAD = MINIMAL_JOURNEY.replace("day: 1", "day: 101")  # day on line 7, value at column 14


def test_validate_reports_problems_and_exits_1(cmd, make_journey):
    make_journey(BAD, name="bad.yaml")
    make_journey(MINIMAL_JOURNEY.replace("journey: x", "journey: good"), name="good.yaml")
    code, out, err = cmd("validate")
    assert code == 1
    # the bad file does not stop the good one from being checked
    assert "good" in out and "bad.yaml" not in out
    lines = err.splitlines()
    assert lines[0].startswith("journeys/bad.yaml:7:14: day 101")
    assert lines[1].startswith("  hint: ") and "0 to 100" in lines[1]
    assert lines[-1] == "1 of 2 journey files has problems"


def test_validate_prints_every_problem_as_path_line_col_then_hint(cmd, make_journey):
    text = journey_yaml(phase("affirm", letter("thanks", 101), email("thanks", 2)), head="locale: xx_YY\nnmae: Y")
    make_journey(text)
    code, _, err = cmd("validate", "journeys/x.yaml")
    assert code == 1
    lines = err.splitlines()[:-1]  # the last line is the summary
    heads = [i for i, line in enumerate(lines) if not line.startswith("  hint: ")]
    assert len(heads) == 4  # locale, unknown key, day 101, duplicate id
    for i in heads:
        assert re.match(r"^journeys/x\.yaml:\d+:\d+: \S", lines[i]), lines[i]
        assert i + 1 < len(lines) and re.match(r"^  hint: \S", lines[i + 1]), f"no hint after {lines[i]!r}"


def test_validate_a_crashing_file_does_not_stop_the_others(cmd, make_journey):
    # an impossible date made PyYAML raise ValueError out of check_file (yamlsource.py:105)
    make_journey(
        journey_yaml(phase("affirm", letter("thanks", 1)), head="calendar:\n  closed: [2026-13-01]"), name="a.yaml"
    )
    make_journey(MINIMAL_JOURNEY.replace("journey: x", "journey: good"), name="b.yaml")
    code, out, err = cmd("validate")
    assert code == 1
    assert "unexpected error" not in err, err
    assert "journeys/a.yaml:" in err and "good" in out


def test_validate_missing_path_is_a_user_error(cmd, make_journey):
    make_journey(MINIMAL_JOURNEY)
    code, out, err = cmd("validate", "journeys/nope.yaml")
    assert code == 1
    assert "journeys/nope.yaml" in err and "no such file" in err


def test_validate_empty_folder_is_a_user_error(cmd, tmp_path, monkeypatch):
    (tmp_path / "journeys").mkdir()
    monkeypatch.chdir(tmp_path)
    code, _, err = cmd("validate")
    assert code == 1 and "journeys" in err and "no .yaml" in err


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "--bogus"),
        ("plan",),  # missing JOURNEY
        ("plan", "first-100-days"),  # missing --deal
        ("plan", "first-100-days", "--deal"),  # --deal without its value
        ("no-such-command",),
    ],
)
def test_usage_errors_exit_2(cmd, in_repo, args):
    code, out, err = cmd(*args)
    assert code == 2, (out, err)
    assert "Usage:" in err or "Error" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "journeys"],
        ["plan", "first-100-days", "--deal", "examples/deal-nl.json", "--json"],
        ["preview", "first-100-days", "--deal", "examples/deal-nl.json", "--out", "{tmp}"],
    ],
    ids=["validate", "plan", "preview"],
)
def test_marketer_commands_do_not_import_prefect(argv, tmp_path):
    argv = [a.replace("{tmp}", str(tmp_path / "out")) for a in argv]
    code = textwrap.dedent(f"""
        import sys
        sys.argv = ["hundred", *{argv!r}]
        from hundred.cli import main
        try:
            main()
        except SystemExit as exc:
            assert exc.code in (0, None), exc.code
        loaded = sorted(m for m in sys.modules if m == "prefect" or m.startswith("prefect."))
        assert not loaded, loaded
        print("no prefect", file=sys.stderr)
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no prefect" in result.stderr


# --------------------------------------------------------------------------------------------
# schema
# --------------------------------------------------------------------------------------------


def test_schema_is_json_with_the_touch_keys(cmd):
    code, out, _ = cmd("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"].startswith("http://json-schema.org/")
    assert {"journey", "name", "phases", "calendar", "letters", "send_window"} <= set(schema["properties"])
    defs = schema["$defs"]
    keys = {name: set(d["properties"]) for name, d in defs.items() if name.endswith("Touch")}
    assert {"id", "day", "channel", "template", "at", "when", "referral"} <= keys["LetterTouch"]
    assert {"subject", "template"} <= keys["EmailTouch"]
    assert {"title", "template", "confirm"} <= keys["TaskTouch"]
    assert {"url", "secret_env"} <= keys["WebhookTouch"]
    assert defs["LetterTouch"].get("additionalProperties") is False  # editors flag typos too


def test_schema_matches_the_committed_file(cmd):
    committed = REPO / "hundred" / "journey.schema.json"
    assert committed.exists(), "hundred/journey.schema.json is missing: hundred schema > hundred/journey.schema.json"
    code, out, _ = cmd("schema")
    assert code == 0
    assert json.loads(out) == json.loads(committed.read_text(encoding="utf-8")), (
        "the committed schema is stale: run `hundred schema > hundred/journey.schema.json`"
    )


# --------------------------------------------------------------------------------------------
# plan
# --------------------------------------------------------------------------------------------


TOUCH_KEYS = {"touch", "phase", "channel", "day", "due", "due_utc", "print_by", "gated_by", "shifted_from"}


def test_plan_json_contract(cmd, in_repo):
    code, out, err = cmd("plan", "journeys/first-100-days.yaml", "--deal", "examples/deal-nl.json", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["journey"] == "first-100-days" and data["deal"] == "D-1042"
    assert len(data["touches"]) == 16
    for t in data["touches"]:
        assert TOUCH_KEYS <= set(t), TOUCH_KEYS - set(t)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", t["due"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t["due_utc"])
        assert (t["print_by"] is not None) == (t["channel"] == "letter")
        assert t["gated_by"] in (None, "affirm")
    welcome = next(t for t in data["touches"] if t["touch"] == "welcome-call")
    # Fri 20 Nov 2026 14:03 is inside the window: the welcome call goes at once
    assert (welcome["due"], welcome["due_utc"]) == ("2026-11-20T14:03:00+01:00", "2026-11-20T13:03:00Z")


def test_plan_by_journey_id_from_the_repo_root(cmd, in_repo):
    code, out, err = cmd("plan", "first-100-days", "--deal", "examples/deal-nl.json", "--json")
    assert code == 0, err
    assert json.loads(out)["journey"] == "first-100-days"
    code, out, err = cmd("plan", "first-100-days", "--deal", "examples/deal-nl.json")
    assert code == 0, err
    assert "De eerste 100 dagen" in out and "welcome-call" in out


def test_plan_html_contains_every_touch_and_no_web_addresses(cmd, in_repo, tmp_path):
    page = tmp_path / "out" / "plan.html"
    code, out, err = cmd("plan", "first-100-days", "--deal", "examples/deal-nl.json", "--html", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    journey_ids = re.findall(r"^\s+- id: (\S+)", (REPO / "journeys" / "first-100-days.yaml").read_text(), re.M)
    assert len(journey_ids) == 16
    for tid in journey_ids:
        assert tid in html, tid
    assert not re.search(r"https?://", html), re.findall(r"https?://\S{0,40}", html)[:3]


def test_plan_unknown_journey_is_a_user_error(cmd, in_repo):
    code, _, err = cmd("plan", "no-such-journey", "--deal", "examples/deal-nl.json")
    assert code == 1 and "no-such-journey" in err and "Traceback" not in err


def test_plan_of_an_invalid_journey_prints_its_problems(cmd, make_journey):
    make_journey(BAD)
    deal = Path("deal.json")
    deal.write_text(json.dumps(deal_payload()), encoding="utf-8")
    code, out, err = cmd("plan", "x", "--deal", "deal.json")
    assert code == 1
    assert err.startswith("journeys/x.yaml:7:14: day 101")


@pytest.fixture
def deal_file(tmp_path):
    def write(text: str) -> Path:
        path = tmp_path / "deal.json"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_plan_deal_with_invalid_json_names_file_and_line(cmd, in_repo, deal_file):
    path = deal_file('{"id": "D-1",\n "closed_at": "2026-11-20T14:03:00+01:00",\n "owner": {"name": "S"},,\n}\n')
    code, _, err = cmd("plan", "first-100-days", "--deal", str(path))
    assert code == 1
    assert f"{path}:3:" in err and "JSON" in err
    assert "Traceback" not in err


def test_plan_deal_without_contact_names_the_field(cmd, in_repo, deal_file):
    payload = deal_payload()
    del payload["contact"]
    path = deal_file(json.dumps(payload))
    code, _, err = cmd("plan", "first-100-days", "--deal", str(path))
    assert code == 1
    assert str(path) in err and "contact" in err


def test_plan_deal_with_naive_closed_at_names_the_field(cmd, in_repo, deal_file):
    path = deal_file(json.dumps(deal_payload(closed_at="2026-11-20T14:03:00")))
    code, _, err = cmd("plan", "first-100-days", "--deal", str(path))
    assert code == 1
    assert str(path) in err and "closed_at" in err and "offset" in err


def test_plan_missing_deal_file(cmd, in_repo):
    code, _, err = cmd("plan", "first-100-days", "--deal", "examples/nope.json")
    assert code == 1 and "examples/nope.json" in err and "no such file" in err


def test_unexpected_error_is_one_line_pointing_at_debug(cmd, in_repo, monkeypatch):
    import hundred.planning.planner

    def boom(*_args, **_kwargs):
        raise RuntimeError("the planner fell over")

    monkeypatch.setattr(hundred.planning.planner, "plan", boom)
    code, out, err = cmd("plan", "first-100-days", "--deal", "examples/deal-nl.json")
    assert code == 1
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert "the planner fell over" in line and "--debug" in line


def test_debug_shows_the_real_error(in_repo, monkeypatch, capsys):
    import hundred.planning.planner

    def boom(*_args, **_kwargs):
        raise RuntimeError("the planner fell over")

    monkeypatch.setattr(hundred.planning.planner, "plan", boom)
    monkeypatch.setattr(
        sys, "argv", ["hundred", "--debug", "plan", "first-100-days", "--deal", "examples/deal-nl.json"]
    )
    with pytest.raises(RuntimeError, match="fell over"):
        cli.main()


def test_two_files_with_one_journey_id_are_refused(cmd, make_journey):
    make_journey(MINIMAL_JOURNEY, name="a.yaml")
    make_journey(MINIMAL_JOURNEY, name="b.yaml")
    code, out, err = cmd("validate", "journeys")
    assert code == 1
    assert "ok  journeys/a.yaml" in out
    assert re.search(r"journeys/b\.yaml:1:1: journey id '\S+' is already used by journeys/a\.yaml", err)


def test_the_broken_example_in_the_readme_says_what_the_readme_shows(cmd, in_repo):
    code, out, err = cmd("validate", "examples/broken-journey.yaml")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert code == 1
    assert err.strip() in readme


def test_a_named_command_is_built_alone_and_answers_exactly_as_in_the_whole_app():
    """`main` builds only the command argv names (Typer would build all of them first): its help,
    usage and errors read the same; no command, a typo or a global --help gets the whole app."""
    from typer.testing import CliRunner

    from hundred.cli.app import only_the_named

    runner = CliRunner()
    names = [c.name or c.callback.__name__.replace("_", "-") for c in cli.app.registered_commands]
    names += [g.name for g in cli.app.registered_groups]
    assert {"validate", "retry", "deal-closed", "import", "letters", "task"} <= set(names)
    for name in names:
        for argv in ([name, "--help"], ["--debug", name, "--no-such-option"]):
            pruned = only_the_named(cli.app, argv)
            assert len(pruned.registered_commands) + len(pruned.registered_groups) == 1, argv
            alone = runner.invoke(pruned, argv, prog_name="hundred")
            whole = runner.invoke(cli.app, argv, prog_name="hundred")
            assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output), argv
    for argv in ([], ["--help"], ["valdate", "journeys"], ["--debug"]):
        assert only_the_named(cli.app, argv) is cli.app, argv


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "journeys"),
        ("validate", "no-such.yaml"),
        ("simulate", "first-100-days", "--deal", "examples/deal-nl.json"),
        ("plan", "first-100-days", "--deal", "examples/deal-nl.json"),
        ("validate", "--no-such-option"),
    ],
    ids=" ".join,
)
def test_a_command_that_leaves_at_once_says_and_exits_exactly_as_main_does(args):
    """`python -m hundred.cli` (the executable's way) skips Python's teardown for the marketer's
    read-only commands: the same output, to the last line, and the same exit code as `main`."""
    whole = hundred_process(*args, env={**os.environ, "COLUMNS": "150"})
    expected = hundred_cli(*args)
    assert (whole.returncode, whole.stdout, whole.stderr) == (expected.returncode, expected.stdout, expected.stderr)
    assert whole.stdout or whole.stderr
