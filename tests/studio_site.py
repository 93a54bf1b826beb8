"""A journey studio to test against: a copy of the repository's journeys, templates and examples in
a git repository of its own (so "uncommitted changes" can be seen), and a ledger holding journeys in
flight on two versions of the shipped Dutch journey (the current one, and an older one in which
delivery-check was on day 10, one-month-email had another subject, small-gift did not exist and an
extra call on day 20 did).

The journeys are written through the ledger's port (`Ledger.start_journey`, one touch per planned
touch, as the runtime records them) and their first touch is marked done, so each deal is somewhere
on its journey; the studio only reads this.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from conftest import deal_payload, hundred_process
from home_files import home_settings

from hundred import bootstrap
from hundred.planning.states import Moves

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "studio horse battery"
TOKEN = "studio-test-token-0123456789abcdef"
JOURNEY = "journeys/first-100-days.yaml"
OLD_DEALS = ("D-OLD-1", "D-OLD-2", "D-OLD-3")
NEW_DEALS = ("D-NEW-1", "D-NEW-2")
AGES = {"D-OLD-1": 2, "D-OLD-2": 16, "D-OLD-3": 17, "D-NEW-1": 29, "D-NEW-2": 38}  # days since the close


@dataclass
class Studio:
    root: Path
    settings: Any
    old_version: str
    new_version: str

    @property
    def journey_path(self) -> Path:
        return self.root / JOURNEY


def old_text(text: str) -> str:
    """The shipped journey as it was before: see the module's docstring."""
    text = text.replace(
        "      - id: delivery-check\n        day: 12\n", "      - id: delivery-check\n        day: 10\n"
    )
    text = text.replace('subject: "Een maand onderweg: hoe gaat het?"', 'subject: "Een maand samen: hoe gaat het?"')
    gift = re.search(r"      - id: small-gift\n(?:        .*\n)+", text)
    assert gift, "the shipped journey has no small-gift touch any more: update tests/studio_site.py"
    extra = (
        "      - id: extra-call\n        day: 20\n        channel: task\n        to: owner\n"
        '        title: "Bel {{ contact.first_name }} nog eens"\n        template: tasks/welcome-call.md\n'
    )
    return text.replace(gift[0], extra)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.nl",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.nl",
            "HOME": str(root),
            "PATH": "/usr/bin:/bin",
        },
    )


def build_studio(root: Path, *, ledger: bool = True) -> Studio:
    from hundred.deals.model import parse_deal
    from hundred.planning.planner import plan
    from hundred.service.records import NewTouch
    from hundred.validation.validate import check_text, load_checked

    for folder in ("journeys", "templates", "examples"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("crm"))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "journeys")
    settings = home_settings(root, studio_password=PASSWORD)
    settings.home.mkdir(parents=True, exist_ok=True)
    current = load_checked(root / JOURNEY, lint=False).journey
    old = check_text(old_text((root / JOURNEY).read_text(encoding="utf-8")), root / JOURNEY, root / "templates")
    assert old.ok, old.problems
    assert current is not None and old.journey is not None
    if ledger:
        opened = bootstrap.ledger(settings)
        now = datetime.now(UTC)
        # Closed at noon in the journey's zone, so a deal's day (dates in Amsterdam) is the same at
        # any hour the test runs. Its age keeps the touches the tests speak of days away from today,
        # whatever the weekday (a touch due on a Sunday moves to Monday): for every old deal the
        # extra call (day 20) is ahead; delivery-check (day 10 → 12) is ahead for D-OLD-1 only.
        local = datetime.now(ZoneInfo("Europe/Amsterdam")).replace(hour=12, minute=0, second=0, microsecond=0)
        for deal_id in OLD_DEALS + NEW_DEALS:
            model = old.journey if deal_id in OLD_DEALS else current
            closed = (local - timedelta(days=AGES[deal_id])).isoformat(timespec="seconds")
            deal = parse_deal(deal_payload(closed_at=closed, id=deal_id, journey="first-100-days"))
            touches = [
                NewTouch(
                    t.touch,
                    t.phase,
                    t.channel,
                    planned_due=t.due,
                    gated=t.gated_by is not None,
                    due=None if t.gated_by else t.due,
                )
                for t in plan(model, deal).touches
            ]
            assert opened.start_journey(deal, model, str(root / "templates"), touches, received_at=deal.closed_at)
            for touch in touches:  # what has happened by now: every touch due before now went out
                if touch.due is not None and touch.due < now:
                    done = Moves.FINISH if touch.channel == "task" else Moves.DELIVER
                    assert opened.move(deal_id, touch.touch_id, Moves.START)
                    assert opened.move(deal_id, touch.touch_id, done, event=done.target.value)
    return Studio(root, settings, old.journey.version(), current.version())


def serve_local(studio: Studio, token: str = TOKEN) -> Any:
    """`hundred studio`'s app, as the command serves it."""
    from web_site import Served

    from hundred.web.studio.local import create_local_app

    return Served(create_local_app(studio.settings.model_copy(), token))


@contextlib.contextmanager
def served_studio(root: Path) -> Iterator[tuple[Studio, Any]]:
    """build_studio's studio in `root` and the web app serving it (serve_local), stopped after."""
    studio = build_studio(root)
    served = serve_local(studio)
    try:
        yield studio, served
    finally:
        served.stop()


def journeys_cli(studio: Studio, command: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`hundred journeys <command> <args>` as an operator runs it in the studio's folder, on its home."""
    home = {"HUNDRED_HOME": str(studio.settings.home), **env}
    return hundred_process("journeys", command, *args, env={**os.environ, **home}, cwd=studio.root)


def serve_up(studio: Studio) -> Any:
    """`hundred up`'s web app, with the studio at /studio behind its password."""
    from web_site import Served

    from hundred.web import create_app

    return Served(create_app(studio.settings.home, settings=studio.settings.model_copy()))


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
CONFIG = re.compile(r'<script type="application/json" id="studio-config">(.*?)</script>', re.S)


def enter(client: httpx.Client, token: str = TOKEN) -> httpx.Response:
    """What opening the printed address does: the token buys a session cookie."""
    return client.get(f"/studio/?token={token}", headers={"accept": "text/html"})


def page_config(client: httpx.Client, file: str = JOURNEY) -> dict[str, Any]:
    import json

    page = client.get("/studio/edit", params={"file": file}, headers={"accept": "text/html"})
    assert page.status_code == 200, page.text[:300]
    return json.loads(CONFIG.search(page.text).group(1))


def api(client: httpx.Client, path: str, body: dict[str, Any], csrf: str) -> httpx.Response:
    return client.post(
        f"/studio/api/{path}",
        json=body,
        headers={"x-csrf-token": csrf, "origin": str(client.base_url).rstrip("/")},
    )


__all__ = ["Studio", "build_studio", "serve_local", "serve_up", "enter", "page_config", "api", "PASSWORD", "TOKEN"]
