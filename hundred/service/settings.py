"""Runtime configuration from the environment (`HUNDRED_*`), read with pydantic-settings.

Only the runtime (ledger, channels, `up`, flows) reads this; `hundred validate`, `plan` and
`preview` never import it, so their start-up does not pay for pydantic-settings. Everything has a
default: with no configuration at all, state lives under `.hundred/` in the working directory,
email goes to `.eml` files in the outbox, and the ledger is a SQLite file.

Secrets (`smtp_url` may carry a password, `webhook_secret`, the CRM API tokens) are plain strings for the channels to
use, but left out of `repr()` so a logged `Settings` never shows them.
"""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def secret(description: str) -> Any:
    """A secret setting: unset by default, and left out of `repr()` (see the module's docstring)."""
    return Field(None, repr=False, description=description)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUNDRED_", extra="ignore", validate_default=True)

    home: Path = Field(Path(".hundred"), description="Where hundred keeps its state: ledger, outbox, local Prefect")
    database_url: str | None = secret(
        "SQLAlchemy URL of the ledger, e.g. postgresql+psycopg://user:pass@host/db; default: a SQLite file in home"
    )
    smtp_url: str | None = secret(
        "smtp://user:pass@host:587?starttls=true or smtps://host:465; unset: .eml files in the outbox"
    )
    mail_from: str = "hundred <hundred@localhost>"
    mail_domain: str | None = Field(None, description="Message-ID domain; default: the domain of mail_from")
    webhook_secret: str | None = secret(
        "HMAC secret for webhooks: signs hundred's own, checks the CRM's on /hooks/*; "
        "several comma-separated while rotating (signs with the first, accepts any)"
    )
    hubspot_secret: str | None = secret("HubSpot app secret: checks X-HubSpot-Signature-v3 on /hooks/hubspot")
    pipedrive_auth: str | None = secret(
        "user:password that Pipedrive's webhook sends as HTTP Basic auth to /hooks/pipedrive"
    )
    crm_mapping: Path | None = Field(
        None,
        description="JSON or YAML file mapping HubSpot/Pipedrive payloads onto the deal; default: the one "
        "shipped in hundred/deals/crm_mapping.json",
    )
    pipedrive_api_token: str | None = secret(
        "Pipedrive API token (Personal preferences > API): fetches a won deal's person, organisation "
        "and owner; sent only in the x-api-token header"
    )
    pipedrive_api_url: str | None = Field(
        None, description="Your company's Pipedrive address, e.g. https://acme.pipedrive.com"
    )
    pipedrive_api_version: str = Field(
        "v2", pattern="^v[12]$", description="Pipedrive API for deals, persons and organisations: v2 (default) or v1"
    )
    hubspot_token: str | None = secret("HubSpot private app access token (sent as Authorization: Bearer)")
    hubspot_api_url: str = Field("https://api.hubapi.com", description="HubSpot's API address")
    hubspot_won_stages: str = Field(
        "closedwon",
        description="Comma-separated HubSpot deal stage ids that count as won (each pipeline has its own; "
        "`hundred crm check hubspot` lists them)",
    )
    crm_timeout: float = Field(15.0, gt=0, description="Seconds a CRM API call may take")
    crm_attempts: int = Field(4, ge=1, le=10, description="Tries of a CRM API call that answers 429, 5xx or times out")
    crm_max_concurrent: int = Field(4, ge=1, le=64, description="CRM API calls in flight at once, per process")
    crm_max_wait: float = Field(
        60.0, ge=0, description="Longest Retry-After hundred waits for; a longer one leaves the deal for later"
    )
    public_url: str | None = Field(
        None,
        description="The URL the CRM calls hundred at (https://hooks.example.com), when a proxy changes it: "
        "HubSpot signs the full URL",
    )
    intake_max_bytes: int = Field(1_048_576, gt=0, description="Largest webhook body accepted (413 above it)")
    backfill_grace_days: float = Field(
        7,
        ge=0,
        description="A touch already overdue by more than this many days when its deal was received "
        "(a backfill) is expired, not sent, even without expires_after",
    )
    allow_private_webhooks: bool = Field(False, description="Allow webhook URLs on loopback/private networks")
    letters_dir: Path = Path("letters")
    journeys_dir: Path = Path("journeys")
    templates_dir: Path = Path("templates")
    run_lease_seconds: float = Field(
        600,
        gt=0,
        description="A claim on a touch (or a stored deal) lasts this long: a run that died holding it is "
        "taken over by the next run once the lease has run out; a Prefect run that stays claimed or running "
        "this long without finishing is taken over by reconcile",
    )
    moment_seconds: float | None = Field(
        None,
        gt=0,
        description="Touches due within this many seconds share one deliver run (one Prefect run per moment); "
        "default 60, with compressed days a tenth of a journey day (at least 1 s)",
    )
    # Each deliver run is a process that spends ~1.7 s of CPU importing Prefect and hundred before
    # its first touch; at 500 a 1,000-touch burst is two runs (one per core, or per worker) and
    # costs ~11 % less CPU a touch than at 250 (bench/burst.py: 54.0 vs 60.6 ms, same hour).
    shard_size: int = Field(
        500, gt=0, description="A moment with more touches than this gets several deliver runs (shards by deal)"
    )
    deliver_concurrency: int = Field(8, gt=0, description="Touches one deliver run delivers at the same time")
    reconcile_seconds: float = Field(
        900, gt=0, description="How often Prefect runs `reconcile` (its interval schedule); shorter for tests"
    )
    catch_up_seconds: float = Field(
        300,
        gt=0,
        description="A touch this far past due that no run holds gets a catch-up run from reconcile",
    )
    print_batch_cron: str | None = Field(
        None,
        description="When Prefect runs `print-batch` (a cron line, in the default journey's time zone); "
        "default: the letters' cut-off on that journey's workdays",
    )
    default_journey: str = Field("first-100-days", description="The journey a deal without a 'journey' key starts")
    day_seconds: float | None = Field(
        None, gt=0, description="Compressed time: one journey day lasts this many seconds (demos, tests)"
    )
    # The print room page (hundred/web): nothing is readable without one of these.
    print_password: str | None = secret("Print room login password (kept only hashed in memory)")
    print_password_hash: str | None = secret(
        "Print room password as scrypt$n$r$p$salt$hash (python -m hundred.web.auth)"
    )
    print_token: str | None = secret("Bearer token for scripts calling the print room")
    print_secret: str | None = secret("Signs print room sessions; default: random per process (logins end on restart)")
    print_language: str | None = Field(
        None,
        description="The print room's language for every browser (nl, en, nl_NL …); unset: each browser's "
        "Accept-Language (Dutch or English, else English)",
    )
    # The journey studio under `hundred up` (/studio): a login of its own; a marketer is not print staff.
    studio_password: str | None = secret("Journey studio login password (kept only hashed in memory)")
    studio_password_hash: str | None = secret("Studio password as scrypt$n$r$p$salt$hash (python -m hundred.web.auth)")
    studio_secret: str | None = secret("Signs studio sessions; default: random per process (logins end on restart)")

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        """Absolute, so a worker started in another directory finds the same ledger."""
        return value.expanduser().absolute()

    @field_validator(
        "database_url",
        "smtp_url",
        "webhook_secret",
        "mail_domain",
        "print_password",
        "print_password_hash",
        "print_token",
        "print_secret",
        "print_language",
        "studio_password",
        "studio_password_hash",
        "studio_secret",
        "hubspot_secret",
        "pipedrive_auth",
        "pipedrive_api_token",
        "pipedrive_api_url",
        "hubspot_token",
        "crm_mapping",
        "public_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`HUNDRED_SMTP_URL=` (set but empty) means unset, as a shell user expects."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _default_mail_domain(self) -> Settings:
        if not self.mail_domain:
            _, address = parseaddr(self.mail_from)
            self.mail_domain = address.rpartition("@")[2].strip() or "localhost"
        return self

    @property
    def ledger_url(self) -> str:
        """HUNDRED_DATABASE_URL, or the SQLite file `home/ledger.db`."""
        return self.database_url or f"sqlite:///{self.home / 'ledger.db'}"

    @property
    def won_stage_ids(self) -> frozenset[str]:
        """HUNDRED_HUBSPOT_WON_STAGES as a set of stage ids."""
        return frozenset(s.strip() for s in self.hubspot_won_stages.split(",") if s.strip())

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def prefect_home(self) -> Path:
        """PREFECT_HOME for the local Prefect server that `hundred up` starts."""
        return self.home / "prefect"


def load_settings() -> Settings:
    """Read the environment now (each call re-reads it; nothing is cached behind the caller's back)."""
    return Settings()
