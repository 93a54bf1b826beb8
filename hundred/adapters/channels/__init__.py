"""The channels: rendered content out to the world, exactly once (README: "Delivery").

`deliver(content, log, config)` picks the channel by the content's type. Channels import only the
core (and smtplib, httpx, icalendar); the delivery log is the service's `DeliveryLog` port
(the ledger behind a guard in production), the settings arrive as a plain `ChannelConfig`.
"""

from __future__ import annotations

from hundred.adapters.channels.base import ChannelConfig
from hundred.adapters.channels.email import deliver_email, parse_smtp_url
from hundred.adapters.channels.letter import deliver_letter
from hundred.adapters.channels.task import deliver_task
from hundred.adapters.channels.webhook import deliver_webhook
from hundred.rendering.content import EmailContent, LetterContent, Rendered, TaskContent, WebhookContent
from hundred.service.ports import DeliveryLog, DeliveryResult

__all__ = ["ChannelConfig", "deliver", "parse_smtp_url"]


def deliver(content: Rendered, log: DeliveryLog, config: ChannelConfig) -> DeliveryResult:
    """Deliver one rendered touch; see DeliveryResult for what each state means."""
    if isinstance(content, EmailContent):
        return deliver_email(content, log, config)
    if isinstance(content, TaskContent):
        return deliver_task(content, log, config)
    if isinstance(content, WebhookContent):
        return deliver_webhook(content, log, config)
    if isinstance(content, LetterContent):
        return deliver_letter(content, config)
    raise TypeError(f"no channel delivers {type(content).__name__}")
