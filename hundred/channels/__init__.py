"""The channels: rendered content out to the world, exactly once (PRODUCT.md §6).

`deliver(content, log, config)` picks the channel by the content's type. Channels import only the
core (and smtplib, httpx, icalendar); the delivery log is any object with the `DeliveryLog` methods
(the ledger in production), the settings arrive as a plain `ChannelConfig`.
"""

from __future__ import annotations

from hundred.rendering import EmailContent, LetterContent, Rendered, TaskContent, WebhookContent
from hundred.channels.base import ChannelConfig, DeliveryLog, DeliveryResult, DeliveryRowLike, delivery_key
from hundred.channels.email import deliver_email, parse_smtp_url
from hundred.channels.letter import QueuedLetter, deliver_letter
from hundred.channels.task import deliver_task

__all__ = ["ChannelConfig", "DeliveryLog", "DeliveryResult", "DeliveryRowLike", "QueuedLetter",
           "deliver", "delivery_key", "parse_smtp_url"]


def deliver(content: Rendered, log: DeliveryLog, config: ChannelConfig) -> DeliveryResult:
    """Deliver one rendered touch; see DeliveryResult for what each state means."""
    if isinstance(content, EmailContent):
        return deliver_email(content, log, config)
    if isinstance(content, TaskContent):
        return deliver_task(content, log, config)
    if isinstance(content, WebhookContent):
        from hundred.channels.webhook import deliver_webhook  # httpx only when a webhook is due

        return deliver_webhook(content, log, config)
    if isinstance(content, LetterContent):
        return deliver_letter(content, config)
    raise TypeError(f"no channel delivers {type(content).__name__}")
