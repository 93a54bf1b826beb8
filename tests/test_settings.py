"""Settings from HUNDRED_* variables: defaults that work with no configuration, derived paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hundred.service.settings import Settings

VARS = (
    "HOME",
    "DATABASE_URL",
    "SMTP_URL",
    "MAIL_FROM",
    "MAIL_DOMAIN",
    "WEBHOOK_SECRET",
    "ALLOW_PRIVATE_WEBHOOKS",
    "LETTERS_DIR",
    "JOURNEYS_DIR",
    "TEMPLATES_DIR",
    "DAY_SECONDS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARS:
        monkeypatch.delenv(f"HUNDRED_{name}", raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    s = Settings()
    assert s.home == tmp_path / ".hundred" and s.home.is_absolute()
    assert s.ledger_url == f"sqlite:///{tmp_path / '.hundred' / 'ledger.db'}"
    assert s.outbox_dir == tmp_path / ".hundred" / "outbox"
    assert s.prefect_home == tmp_path / ".hundred" / "prefect"
    assert (s.smtp_url, s.webhook_secret, s.day_seconds, s.allow_private_webhooks) == (None, None, None, False)
    assert s.mail_from == "hundred <hundred@localhost>" and s.mail_domain == "localhost"
    assert (s.letters_dir, s.journeys_dir, s.templates_dir) == (Path("letters"), Path("journeys"), Path("templates"))


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HUNDRED_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("HUNDRED_DATABASE_URL", "postgresql+psycopg://u:secret@db/hundred")
    monkeypatch.setenv("HUNDRED_SMTP_URL", "smtp://user:pw@mail.example.nl:587?starttls=true")
    monkeypatch.setenv("HUNDRED_MAIL_FROM", "Sanne <sanne@bakkerij.nl>")
    monkeypatch.setenv("HUNDRED_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("HUNDRED_ALLOW_PRIVATE_WEBHOOKS", "true")
    monkeypatch.setenv("HUNDRED_DAY_SECONDS", "5")
    monkeypatch.setenv("HUNDRED_LETTERS_DIR", "out/letters")
    s = Settings()
    assert s.home == tmp_path / "state"
    assert s.ledger_url == "postgresql+psycopg://u:secret@db/hundred"
    assert s.outbox_dir == tmp_path / "state" / "outbox"
    assert s.smtp_url == "smtp://user:pw@mail.example.nl:587?starttls=true"
    assert s.mail_domain == "bakkerij.nl"
    assert (s.webhook_secret, s.allow_private_webhooks, s.day_seconds) == ("s3cret", True, 5.0)
    assert s.letters_dir == Path("out/letters")
    shown = repr(s)
    assert "secret" not in shown and "pw@" not in shown and "s3cret" not in shown


def test_mail_domain_and_blank_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUNDRED_MAIL_DOMAIN", "mail.example.com")
    monkeypatch.setenv("HUNDRED_SMTP_URL", "  ")
    s = Settings()
    assert s.mail_domain == "mail.example.com" and s.smtp_url is None


@pytest.mark.parametrize("value", ["0", "-1", "fast"])
def test_day_seconds_must_be_positive(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HUNDRED_DAY_SECONDS", value)
    with pytest.raises(ValueError):
        Settings()


def test_ledger_default_url_agrees_with_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hundred.adapters.ledger import default_url

    assert default_url() == Settings().ledger_url
    monkeypatch.setenv("HUNDRED_HOME", "~/elsewhere")
    assert default_url() == Settings().ledger_url
    monkeypatch.setenv("HUNDRED_DATABASE_URL", "sqlite:////srv/ledger.db")
    assert default_url() == Settings().ledger_url


def test_settings_import_no_runtime_libraries() -> None:
    code = (
        "import sys, hundred.service.settings; "
        "print(sorted(m for m in ('prefect', 'sqlalchemy', 'alembic', 'fastapi', 'httpx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_validate_imports_neither_settings_nor_the_ledger() -> None:
    repo = Path(__file__).resolve().parent.parent
    code = (
        "import sys\nfrom hundred.cli import main\n"
        "sys.argv = ['hundred', 'validate', 'journeys/first-100-days.yaml']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in ('hundred.service.settings', 'hundred.adapters.ledger', 'pydantic_settings',"
        " 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo).stdout
    assert "LOADED []" in out, out
