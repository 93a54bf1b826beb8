"""The one place hundred is wired: settings, the ledger, the scheduler, the channels, the print files.

Every entry point (the flows, the CLI's operator commands, the web app, `hundred up`, the benches)
builds its runtime, intake and print room here, so each rule of assembly has one home: which
ledger a home means, which Prefect API a running `hundred up` offers, which clock a journey keeps.

- One ledger engine per process and database URL (`ledger()` caches it), closed at exit.
- The scheduler is `PrefectScheduler` over Prefect's REST API, for every caller; without a Prefect
  API (nothing running, no PREFECT_API_URL) callers get `NoPrefect`, which stores and explains.
- Operator commands take the running system's clock: `settings()` reads the `hundred up` that
  owns HUNDRED_HOME (its `--day-seconds`), so a deal submitted by hand plays on the same clock
  as the ones from the webhook.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hundred.adapters.ledger import Ledger as SqlLedger
from hundred.adapters.ledger.figures import LedgerFigures
from hundred.service.figures import JourneyFigures
from hundred.service.local import prefect_api_url, read_up
from hundred.service.no_prefect import NoPrefect
from hundred.service.ports import Deliver, DeliveryLog, DeliveryResult, Ledger, Scheduler, utcnow
from hundred.service.settings import Settings

# The channels, CRM clients, Prefect scheduler, print files, intake, print room and runtime are
# imported by the function that builds each (each says `lazy:`): `hundred status D-1` needs only
# the ledger and the figures, and importing the rest (httpx, smtplib, ssl, reportlab, the planner)
# was ~0.4 s of its ~1.2 s of CPU (bench/soak.py: status_one_s).
if TYPE_CHECKING:
    from hundred.adapters import crm as crm_apis
    from hundred.adapters.channels import ChannelConfig
    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.rendering.content import Rendered
    from hundred.service.enrichment import CrmApi
    from hundred.service.intake import Intake
    from hundred.service.printroom.service import PrintRoom
    from hundred.service.runtime import Runtime

_ledgers: dict[str, SqlLedger] = {}
_crms: dict[tuple[str, ...], crm_apis.PipedriveApi | crm_apis.HubSpotApi] = {}
_lock = threading.Lock()


def settings(**overrides: Any) -> Settings:
    """The environment's settings; with no HUNDRED_DAY_SECONDS of its own, a command takes the
    clock of the `hundred up` running on its home (one journey clock on every path)."""
    base = Settings(**overrides)
    if "day_seconds" not in overrides and not os.environ.get("HUNDRED_DAY_SECONDS"):
        running = read_up(base.home) or {}
        seconds = running.get("day_seconds")
        if isinstance(seconds, (int, float)) and seconds > 0:
            base = Settings(**{**overrides, "day_seconds": float(seconds)})
    return base


def ledger(config: Settings | None = None, *, url: str | None = None) -> SqlLedger:
    """The ledger of these settings (HUNDRED_DATABASE_URL, or the SQLite file in HUNDRED_HOME),
    opened and migrated once per process and URL."""
    target = url or (config or Settings()).ledger_url
    with _lock:
        if target not in _ledgers:
            _ledgers[target] = SqlLedger.open(target)
        return _ledgers[target]


def clocked_ledger(config: Settings, clock: Callable[[], datetime]) -> SqlLedger:
    """A ledger of its own on these settings' database, stamping with `clock` (tests, simulations
    of a day); the caller closes it."""
    return SqlLedger.open(config.ledger_url, clock=clock)


def memory_ledger(clock: Callable[[], datetime] = utcnow) -> SqlLedger:
    """A throwaway in-memory ledger: for `hundred simulate` and `import --dry-run`."""
    return SqlLedger.memory(clock=clock)


def close_ledgers() -> None:
    with _lock:
        for opened in _ledgers.values():
            opened.close()
        _ledgers.clear()


atexit.register(close_ledgers)


def close_crms() -> None:
    with _lock:
        for api in _crms.values():
            api.http.close()
        _crms.clear()


atexit.register(close_crms)


def channel_config(config: Settings) -> ChannelConfig:
    from hundred.adapters.channels import ChannelConfig  # lazy: `hundred status` needs no channel

    return ChannelConfig(
        mail_from=config.mail_from,
        mail_domain=config.mail_domain,
        smtp_url=config.smtp_url,
        outbox_dir=config.outbox_dir,
        letters_dir=config.letters_dir,
        webhook_secret=config.webhook_secret,
        allow_private_webhooks=config.allow_private_webhooks,
    )


def channels(config: Settings) -> Deliver:
    """Deliver a rendered touch through its channel, configured from the settings."""
    from hundred.adapters.channels import deliver as deliver_through  # lazy: `hundred status` needs no channel

    bound = channel_config(config)

    def deliver(content: Rendered, log: DeliveryLog) -> DeliveryResult:
        return deliver_through(content, log, bound)

    return deliver


def prefect_api(config: Settings) -> str | None:
    """PREFECT_API_URL when set, else the Prefect server of the `hundred up` on this home."""
    return prefect_api_url(config.home)


def scheduler(config: Settings, *, attempts: int = 4, timeout: float = 30.0) -> PrefectScheduler | NoPrefect:
    """Prefect as scheduler; `NoPrefect` (stores, explains) when no Prefect API is known."""
    from hundred.adapters.prefect.scheduler import PrefectScheduler  # lazy: `hundred status` needs no Prefect

    api = prefect_api(config)
    return PrefectScheduler(api, attempts=attempts, timeout=timeout) if api else NoPrefect()


def runtime(
    config: Settings | None = None,
    *,
    ledger_: Ledger | None = None,
    scheduler_: Scheduler | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Runtime:
    """The runtime on this home's ledger and Prefect (or the ones given)."""
    from hundred.service.runtime import Runtime  # lazy: `hundred status` runs no touch

    config = config or settings()
    return Runtime(
        ledger_ if ledger_ is not None else ledger(config),
        scheduler_ if scheduler_ is not None else scheduler(config),
        config,
        clock=clock,
        deliver=channels(config),
    )


def crm(config: Settings, vendor: str) -> CrmApi:
    """The CRM's API (Pipedrive or HubSpot) configured by the settings, one per process, CRM,
    address and token (so the concurrency limit holds for the process). ValueError names the
    setting that is missing."""
    if vendor == "pipedrive":
        url, token, token_name = config.pipedrive_api_url, config.pipedrive_api_token, "HUNDRED_PIPEDRIVE_API_TOKEN"
        if token and not url:
            raise ValueError(
                "HUNDRED_PIPEDRIVE_API_URL is not set: your company's Pipedrive address, e.g. https://acme.pipedrive.com"
            )
    elif vendor == "hubspot":
        url, token, token_name = config.hubspot_api_url, config.hubspot_token, "HUNDRED_HUBSPOT_TOKEN"
    else:
        raise ValueError(f"unknown CRM {vendor!r}: pipedrive or hubspot")
    if not token:
        raise ValueError(f"{token_name} is not set: hundred needs the CRM's API token to fetch a won deal")
    assert url is not None
    if not url.startswith(("https://", "http://")):
        setting = "HUNDRED_PIPEDRIVE_API_URL" if vendor == "pipedrive" else "HUNDRED_HUBSPOT_API_URL"
        raise ValueError(f"{setting} {url!r} is not a URL: write it like https://acme.pipedrive.com")
    from hundred.adapters import crm as crm_apis  # lazy: httpx, for the CRM commands and the intake only

    limits = (config.crm_timeout, config.crm_attempts, config.crm_max_concurrent, config.crm_max_wait)
    key = (vendor, url, hashlib.sha256(token.encode()).hexdigest(), config.pipedrive_api_version, *map(str, limits))
    with _lock:
        if key not in _crms:
            _crms[key] = crm_apis.connect(
                vendor,
                url,
                token,
                version=config.pipedrive_api_version,
                timeout=config.crm_timeout,
                attempts=config.crm_attempts,
                max_concurrent=config.crm_max_concurrent,
                max_wait=config.crm_max_wait,
            )
        return _crms[key]


def intake(
    config: Settings | None = None,
    *,
    ledger_: Ledger | None = None,
    scheduler_: Scheduler | None = None,
    attempts: int = 2,
    timeout: float = 10.0,
) -> Intake:
    """The CRM's intake on this home's ledger and Prefect (or the ones given)."""
    from hundred.service.intake import Intake  # lazy: `hundred status` needs no intake

    config = config or settings()
    return Intake(
        ledger_ if ledger_ is not None else ledger(config),
        config,
        scheduler_ if scheduler_ is not None else scheduler(config, attempts=attempts, timeout=timeout),
        crm=lambda vendor: crm(config, vendor),
    )


def print_room(
    config: Settings | None = None,
    *,
    ledger_: Ledger | None = None,
    on_posted: Callable[[str], Any] | None = None,
    timezone: str | None = None,
) -> PrintRoom:
    """The print room on this home's ledger, writing batch files with the print files adapter."""
    from hundred.adapters.printfiles.files import write_batch  # lazy: reportlab, for the print room only
    from hundred.service.printroom.service import PrintRoom

    config = config or settings()
    return PrintRoom(
        ledger_ if ledger_ is not None else ledger(config), config, on_posted, timezone=timezone, files=write_batch
    )


def figures(
    config: Settings | None = None, *, ledger_: SqlLedger | None = None, clock: Callable[[], datetime] = utcnow
) -> JourneyFigures:
    """How each journey is doing, counted by SQL in this home's ledger (or the one given)."""
    config = config or settings()
    return JourneyFigures(LedgerFigures(ledger_ if ledger_ is not None else ledger(config)), clock)


def posting_print_room(config: Settings | None = None) -> PrintRoom:
    """The print room whose posted letters complete their touches through the runtime."""
    config = config or settings()
    rt = runtime(config)
    return print_room(config, ledger_=rt.ledger, on_posted=rt.letter_posted)


__all__ = [
    "channels",
    "crm",
    "figures",
    "intake",
    "ledger",
    "memory_ledger",
    "print_room",
    "runtime",
    "scheduler",
    "settings",
]
