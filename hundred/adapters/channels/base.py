"""What every channel shares: its configuration, the delivery log it records in, its result.

The delivery log is the service's `DeliveryLog` port, so the channels never import the ledger: the
runtime hands in the ledger behind a guard, tests may hand in any object with its two methods.

Exactly once (design.md): a delivery row keyed `<idempotency_key>#<channel>` goes
pending → sending → sent | failed. `pending` is written before anything leaves, `sending`
immediately before the SMTP transaction or HTTP request (a compare-and-set, so two runs cannot
both start sending), `sent` after the server accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hundred.planning.identity import TouchKey
from hundred.service.ports import DeliveryLog

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


@dataclass(frozen=True)
class ChannelConfig:
    """Plain settings for the channels (the runtime fills it from `hundred.service.settings.Settings`)."""

    mail_from: str = "hundred <hundred@localhost>"
    mail_domain: str | None = None  # Message-ID domain; default: the domain of mail_from
    smtp_url: str | None = None  # unset: .eml files in outbox_dir
    outbox_dir: Path = Path(".hundred/outbox")
    letters_dir: Path = Path("letters")
    webhook_secret: str | None = None  # default signing secret (a touch's secret_env wins)
    allow_private_webhooks: bool = False  # let webhooks reach loopback / private addresses
    smtp_timeout: float = 30.0  # seconds per SMTP socket operation
    webhook_attempts: int = 4
    webhook_backoff: float = 1.0  # first pause between attempts; doubles each time
    webhook_timeout: float = 5.0  # seconds per attempt
    webhook_deadline: float = 25.0  # no new attempt would end later than this
    environ: dict[str, str] | None = field(default=None, repr=False)  # for secret_env; None: os.environ


def begin(log: DeliveryLog, key: TouchKey, channel: str, message_id: str | None) -> tuple[str, str]:
    """Write (or find) the row; return (delivery key, its state)."""
    dkey = key.delivery_key(channel)
    row = log.begin_delivery(key=dkey, deal_id=key.deal, touch_id=key.touch, channel=channel, message_id=message_id)
    return dkey, row.state


def current_state(log: DeliveryLog, key: TouchKey, channel: str, message_id: str | None) -> str:
    """The row's state now (begin_delivery is insert-or-get, so this only reads)."""
    return begin(log, key, channel, message_id)[1]
