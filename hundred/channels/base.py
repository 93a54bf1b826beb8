"""What every channel shares: its configuration, the delivery log it records in, its result.

The delivery log is a Protocol so the channels never import the ledger: the runtime hands in the
real `hundred.ledger.Ledger`, tests may hand in any object with these two methods.

Exactly once (design.md): a delivery row keyed `<idempotency_key>#<channel>` goes
pending → sending → sent | failed. `pending` is written before anything leaves, `sending`
immediately before the SMTP transaction or HTTP request (a compare-and-set, so two runs cannot
both start sending), `sent` after the server accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Protocol

from hundred.identity import TouchKey

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
ResultState = Literal["sent", "already-sent", "failed", "uncertain"]


class DeliveryRowLike(Protocol):
    @property
    def state(self) -> str: ...


class DeliveryLog(Protocol):
    """The part of the ledger a channel uses (hundred.ledger.Ledger implements it)."""

    def begin_delivery(self, key: str, deal_id: str, touch_id: str, channel: str,
                       message_id: str | None) -> DeliveryRowLike:
        """Insert the row as `pending`, or return the existing one (whatever its state)."""
        ...

    def mark_delivery(self, key: str, state: str, detail: str | None = None,
                      from_states: Iterable[str] | None = None) -> bool:
        """Set the state (only when the row is in one of `from_states`); True if it moved."""
        ...


@dataclass(frozen=True)
class ChannelConfig:
    """Plain settings for the channels (the runtime fills it from `hundred.settings.Settings`)."""

    mail_from: str = "hundred <hundred@localhost>"
    mail_domain: str | None = None          # Message-ID domain; default: the domain of mail_from
    smtp_url: str | None = None             # unset: .eml files in outbox_dir
    outbox_dir: Path = Path(".hundred/outbox")
    letters_dir: Path = Path("letters")
    webhook_secret: str | None = None       # default signing secret (a touch's secret_env wins)
    allow_private_webhooks: bool = False    # let webhooks reach loopback / private addresses
    smtp_timeout: float = 30.0              # seconds per SMTP socket operation
    webhook_attempts: int = 4
    webhook_backoff: float = 1.0            # first pause between attempts; doubles each time
    webhook_timeout: float = 5.0            # seconds per attempt
    webhook_deadline: float = 25.0          # no new attempt would end later than this
    environ: dict[str, str] | None = field(default=None, repr=False)  # for secret_env; None: os.environ


@dataclass(frozen=True)
class DeliveryResult:
    """What a delivery attempt came to.

    sent: it left now (or the letter was rendered for the print queue, see `letter`).
    already-sent: an earlier run delivered it; nothing left now.
    failed: nothing was delivered; retrying is safe.
    uncertain: an earlier or this run may have delivered it; not retried (see `detail`).
    """

    state: ResultState
    detail: str
    message_id: str | None = None
    letter: Any = None                      # a channels.letter.QueuedLetter for letters

    @property
    def delivered(self) -> bool:
        return self.state in ("sent", "already-sent")


def delivery_key(key: TouchKey, channel: str) -> str:
    """The delivery row's key: `<idempotency_key>#<channel>`."""
    return f"{key.idempotency_key}#{channel}"


def begin(log: DeliveryLog, key: TouchKey, channel: str, message_id: str | None) -> tuple[str, str]:
    """Write (or find) the row; return (delivery key, its state)."""
    dkey = delivery_key(key, channel)
    row = log.begin_delivery(key=dkey, deal_id=key.deal, touch_id=key.touch, channel=channel,
                             message_id=message_id)
    return dkey, row.state


def current_state(log: DeliveryLog, key: TouchKey, channel: str, message_id: str | None) -> str:
    """The row's state now (begin_delivery is insert-or-get, so this only reads)."""
    return begin(log, key, channel, message_id)[1]
