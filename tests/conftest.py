"""Shared fixtures: throw-away journeys on disk, deals, and the repository's own files.

Nothing here is letters- or browser-specific (see tests/pdftools.py and tests/browser.py).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import lanes
import pytest

from hundred.deals.model import Deal, parse_deal

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DEAL_NL = REPO / "examples" / "deal-nl.json"
EXAMPLE_DEAL_EN = REPO / "examples" / "deal-en.json"

# Templates every throw-away journey can name; all of them use only real merge fields.
DEFAULT_TEMPLATES: dict[str, str] = {
    "letters/thanks.txt": "Beste {{ contact.first_name }},\n\nDank je wel.\n\n{{ sender.name }}\n",
    "emails/hello.html": "<p>Hallo {{ contact.first_name }} van {{ company.name }}</p>\n",
    "tasks/call.md": "# Bel {{ contact.first_name }}\n\nTelefoon: {{ contact.phone }}\n",
}

# The smallest journey that validates: one affirm letter. Line numbers (1-based):
#   1 journey, 2 name, 3 phases, 4 - phase, 5 touches, 6 - id, 7 day, 8 channel, 9 template
MINIMAL_JOURNEY = """\
journey: x
name: X
phases:
  - phase: affirm
    touches:
      - id: thanks
        day: 1
        channel: letter
        template: letters/thanks.txt
"""


def journey_yaml(*phases: str, head: str = "", tail: str = "", journey: str = "x", name: str = "X") -> str:
    """A journey text from phase blocks written at column 0 (`- phase: affirm\\n  touches: ...`).

    `head` goes between `name:` and `phases:` (settings), `tail` after the phases (`exit_on:`).
    """
    blocks = "".join(textwrap.indent(textwrap.dedent(p).strip("\n") + "\n", "  ") for p in phases)
    head = textwrap.dedent(head).strip("\n")
    return (
        f"journey: {journey}\nname: {name}\n"
        + (head + "\n" if head else "")
        + "phases:\n"
        + blocks
        + textwrap.dedent(tail)
    )


def letter(tid: str, day: int, extra: str = "", template: str = "letters/thanks.txt") -> str:
    """A letter touch as a list item at column 0; `extra` holds more keys, one per line."""
    return f"- id: {tid}\n  day: {day}\n  channel: letter\n  template: {template}\n" + textwrap.indent(extra, "  ")


def email(tid: str, day: int, extra: str = "") -> str:
    return (
        f"- id: {tid}\n  day: {day}\n  channel: email\n  subject: Hallo\n  template: emails/hello.html\n"
        + textwrap.indent(extra, "  ")
    )


def task(tid: str, day: int, extra: str = "") -> str:
    return (
        f"- id: {tid}\n  day: {day}\n  channel: task\n  title: Bellen\n  template: tasks/call.md\n"
        + textwrap.indent(extra, "  ")
    )


def phase(name: str, *touches: str) -> str:
    """A phase block at column 0 holding the given touches (none: `touches: []`)."""
    if not touches:
        return f"- phase: {name}\n  touches: []\n"
    return f"- phase: {name}\n  touches:\n" + "".join(textwrap.indent(t, "    ") for t in touches)


def line_of(text: str, marker: str) -> int:
    """1-based number of the only line of `text` containing `marker` (fails if not exactly one)."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) == 1, f"marker {marker!r} is on lines {hits}"
    return hits[0]


@pytest.fixture
def make_journey(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write `tmp_path/journeys/<name>` and `tmp_path/templates/...`; work from `tmp_path`.

    The working directory is `tmp_path`, so problems name `journeys/x.yaml` and template files as
    `templates/letters/...`, the way a marketer sees them in the repository.
    """
    monkeypatch.chdir(tmp_path)

    def make(text: str, templates: dict[str, str] | None = None, name: str = "x.yaml", defaults: bool = True) -> Path:
        for rel, body in {**(DEFAULT_TEMPLATES if defaults else {}), **(templates or {})}.items():
            target = tmp_path / "templates" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        path = tmp_path / "journeys" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return make


def deal_payload(
    closed_at: str = "2026-11-20T14:03:00+01:00", contact_tz: str | None = "Europe/Amsterdam", **overrides: Any
) -> dict[str, Any]:
    """A small, valid deal payload; `contact_tz=None` leaves the contact without a time zone."""
    payload: dict[str, Any] = {
        "id": "D-1",
        "closed_at": closed_at,
        "journey": "x",
        "amount": "12500.00",
        "currency": "EUR",
        "product": "Jaarabonnement",
        "segment": "A",
        "owner": {"name": "Sanne de Vries", "email": "sanne@example.nl", "title": "Accountmanager"},
        "contact": {
            "first_name": "Ilse",
            "last_name": "Jansen",
            "email": "ilse@example.nl",
            "phone": "+31 6 1234 5678",
            "locale": "nl_NL",
        },
        "company": {"name": "Bakkerij Jansen B.V."},
        "address": {"street": "Dorpsstraat 12", "postcode": "8011 AB", "city": "Zwolle", "country": "NL"},
    }
    if contact_tz:
        payload["contact"]["timezone"] = contact_tz
    payload.update(overrides)
    return payload


@pytest.fixture
def make_deal() -> Callable[..., Deal]:
    """`make_deal("2026-11-20T14:03:00+01:00", contact_tz="America/New_York", segment="C")`."""

    def make(
        closed_at: str = "2026-11-20T14:03:00+01:00", contact_tz: str | None = "Europe/Amsterdam", **overrides: Any
    ) -> Deal:
        # judged an hour after it closed, so a test's date is never "in the future" or "too old"
        now = datetime.fromisoformat(closed_at) + timedelta(hours=1)
        return parse_deal(deal_payload(closed_at, contact_tz, **overrides), now=now)

    return make


@pytest.fixture
def example_deal() -> Deal:
    """examples/deal-nl.json: Ilse Jansen, closed Fri 20 Nov 2026 14:03 Amsterdam."""
    return parse_deal(json.loads(EXAMPLE_DEAL_NL.read_text(encoding="utf-8")))


def hundred_process(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path = REPO
) -> subprocess.CompletedProcess:
    """`python -m hundred.cli ARGS` in an interpreter of its own, as the executable runs it, its
    output captured as text; `env`: its whole environment (default: this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "hundred.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def hundred_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """`hundred ARGS` from `cwd`, run in this process as the console script runs it: (exit code,
    stdout, stderr) as a CompletedProcess. The fast lane's way to run a command; a test that is
    about a fresh interpreter (what a command imports) starts one itself. The terminal is as wide
    as a pipe's (150 columns), whatever the terminal or pytest worker the tests run in."""
    from hundred import cli

    out, err, code = io.StringIO(), io.StringIO(), 0
    argv = ["hundred", *args]
    with (
        contextlib.chdir(cwd),
        mock.patch.object(sys, "argv", argv),
        mock.patch.dict(os.environ, {"COLUMNS": "150"}),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """`hundred ARGS` in-process from the working directory: (exit code, stdout, stderr)."""
    done = hundred_cli(*args, cwd=Path.cwd())
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="session")
def pg_cluster() -> Any:
    """One throwaway PostgreSQL cluster for the session (tests/pgcluster.py starts it; a test using
    it is marked `postgres`, and fails when PostgreSQL is not installed)."""
    from pgcluster import cluster_for_tests

    cluster = cluster_for_tests()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_database(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """`pg_database("ledger")`: the URL of a new, empty database in the session's cluster."""

    def make(prefix: str) -> str:
        return request.getfixturevalue("pg_cluster").create_database(f"{prefix}_{os.getpid()}_{next(_PG_DATABASES)}")

    return make


_PG_DATABASES = itertools.count(1)


@pytest.fixture
def repo() -> Path:
    return REPO


# A real Prefect server for the session, a clean namespace of it per test module (started on first
# use; see tests/prefect_server.py).
from prefect_server import _prefect_process, hundred_deployments, note_when_the_test_started, prefect_server  # noqa: E402,F401


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test carries the marks of what it starts (tests/lanes.py)."""
    lanes.check_marks(items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """The helpers that start Chromium, PostgreSQL or Prefect check the running test's marks."""
    lanes.running(item)
    try:
        yield
    finally:
        lanes.running(None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Under CI=true no test passes by skipping: every real component must be had (the fixtures
    fail outright when one is missing; this catches any skip that remains)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every real component must be had: {report.longrepr}"
