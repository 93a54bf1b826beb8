"""A task for the owner: an email with the brief and an `.ics` invite (METHOD:REQUEST), sent
exactly like the contact's email (same SMTP or outbox, same delivery rules, channel `task`).

Completion is the runtime's business: at once when the task has `confirm: false`, else when the
owner runs `hundred task done DEAL TOUCH` (the email says so).
"""

from __future__ import annotations

from hundred.adapters.channels.base import ChannelConfig
from hundred.adapters.channels.email import deliver_built
from hundred.rendering import messages
from hundred.rendering.content import TaskContent
from hundred.service.ports import DeliveryLog, DeliveryResult


def deliver_task(content: TaskContent, log: DeliveryLog, config: ChannelConfig) -> DeliveryResult:
    return deliver_built(content, messages.build_task_email, "task email", channel="task", log=log, config=config)
