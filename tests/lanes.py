"""The test lanes: which real component a test needs, said by its marks, and kept honest.

Marks (registered in pyproject.toml, `--strict-markers`):
  prefect   a real Prefect server (tests/prefect_server.py), or `hundred up` that starts one
  postgres  a real PostgreSQL cluster (tests/pgcluster.py)
  browser   Debian's Chromium, headless or under Playwright (tests/browser.py)
  scaleout  the scale-out proof (tests/test_scaleout.py)
  slow      anything that starts one of the above or a stack of processes: `pytest -m "not slow"`
            is the fast lane, and every test marked prefect, postgres, browser or scaleout is slow.

Each test module says what it needs (`pytestmark = [...]`, or a mark per test). Two checks keep the
marks true: at collection, a test that asks for a component's fixture without its mark is an error
(`check_marks`); at run time, the helpers that start Chromium, PostgreSQL or a Prefect server call
`require_lane(...)`, which fails a test that lacks the mark instead of slowing the fast lane down.

The system packages themselves (Chromium, poppler, qpdf, PostgreSQL, npm's axe-core) are installed
by scripts/setup-test-system.sh, which the README's test command runs first; no fixture installs
anything. A component that is missing fails its test with `missing(...)`, saying how to get it.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

SETUP = "scripts/setup-test-system.sh"
COMPONENT_MARKS = ("prefect", "postgres", "browser", "scaleout")

# fixture name → the mark a test using it (directly or through another fixture) must carry
FIXTURE_MARKS = {
    "prefect_server": "prefect",
    "hundred_deployments": "prefect",
    "pg_cluster": "postgres",
    "pg_database": "postgres",
    "browser": "browser",
}

_current: list[pytest.Item | None] = [None]


def check_marks(items: list[pytest.Item]) -> None:
    """Collection-time check: every test marked for what its fixtures start, and slow if it starts
    anything; the offenders are listed in one usage error."""
    wrong = []
    for item in items:
        marks = {m.name for m in item.iter_markers()}
        needed = {mark for fixture, mark in FIXTURE_MARKS.items() if fixture in item.fixturenames}
        if needed & set(COMPONENT_MARKS) or marks & set(COMPONENT_MARKS):
            needed.add("slow")
        if needed - marks:
            wrong.append(f"{item.nodeid}: add the mark(s) {', '.join(sorted(needed - marks))}")
    if wrong:
        raise pytest.UsageError("tests without the marks of what they start (see tests/lanes.py):\n" + "\n".join(wrong))


def running(item: pytest.Item | None) -> None:
    """conftest.py tells us which test is running (None between tests)."""
    _current[0] = item


def require_lane(mark: str, what: str) -> None:
    """Called by the helper that starts `what`: the running test must carry `mark` (and so `slow`),
    or the fast lane would quietly start it."""
    item = _current[0]
    if item is None:  # a script or a bench, not a test
        return
    if item.get_closest_marker(mark) is None or item.get_closest_marker("slow") is None:
        pytest.fail(
            f"{item.nodeid} starts {what} but is not marked `{mark}` and `slow`: "
            f"add `pytestmark = [pytest.mark.{mark}, pytest.mark.slow]` to its module (see tests/lanes.py)",
            pytrace=False,
        )


def missing(what: str, install: str) -> NoReturn:
    """A real component the test needs is not installed: fail (never skip), saying how to get it."""
    pytest.fail(f"{what} is not installed: run `{SETUP}` as root, or `{install}`", pytrace=False)
