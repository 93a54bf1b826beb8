"""What the tests and benches that build a hundred home of their own share: a journey that may send at
any minute of any day, its files (the journey, templates) in a folder, and the home's folders as
Settings values or as the HUNDRED_* environment of the processes a test starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ALWAYS_OPEN = (
    "timezone: Europe/Amsterdam\n"
    "calendar: {workdays: [mon, tue, wed, thu, fri, sat, sun]}\n"
    'send_window: "00:00-23:59"\n'
)
HELLO = "<p>Hallo {{ contact.first_name }} van {{ company.name }}</p>\n"


def always_open_journey(journey_id: str, name: str, phases: str, head: str = "") -> str:
    """A journey in Amsterdam open every day, all day; `phases`: the YAML below `phases:`, `head`: more top keys."""
    return f"journey: {journey_id}\nname: {name}\n{ALWAYS_OPEN}{head}phases:\n{phases}"


def write_home(root: Path, journey_file: str, journey: str, templates: dict[str, str]) -> Path:
    """`root`/journeys/`journey_file` and `root`/templates/<name> for each of `templates`."""
    (root / "journeys").mkdir(parents=True, exist_ok=True)
    (root / "journeys" / journey_file).write_text(journey, encoding="utf-8")
    for name, text in templates.items():
        (root / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "templates" / name).write_text(text, encoding="utf-8")
    return root


def home_env(root: Path, smtp_port: int, mail_from: str = "Onboarding <onboarding@example.nl>") -> dict[str, str]:
    """The HUNDRED_* variables of a home in `root` that mails through the SMTP server on `smtp_port`."""
    return {
        "HUNDRED_HOME": str(root / "home"),
        "HUNDRED_JOURNEYS_DIR": str(root / "journeys"),
        "HUNDRED_TEMPLATES_DIR": str(root / "templates"),
        "HUNDRED_LETTERS_DIR": str(root / "letters"),
        "HUNDRED_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?starttls=false",
        "HUNDRED_MAIL_FROM": mail_from,
    }


def home_settings(root: Path, **values: Any) -> Any:
    """Settings of a home in `root` (real time unless `values` say otherwise), with `values` on top."""
    from hundred.service.settings import Settings

    folders: dict[str, Any] = dict(
        home=root / "home",
        letters_dir=root / "letters",
        journeys_dir=root / "journeys",
        templates_dir=root / "templates",
        day_seconds=None,
    )
    return Settings(**(folders | values))
