"""The ledger as one touch's delivery log, refusing to start sending once the touch is cancelled.

A channel records `sending` just before anything leaves (before SMTP DATA, a webhook's POST, an
outbox file). Checked there, in the same statement that records it (`Ledger.start_sending`), a
journey exited while its touch was mid-delivery (a cancel from the CRM or `hundred cancel` while
the SMTP server was slow) sends nothing: the channel stops with `Withdrawn` and the touch stays
cancelled.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from hundred.service.ports import Ledger
from hundred.service.records import DeliveryRow


class Withdrawn(Exception):
    """The touch was cancelled while it was being delivered, before anything left."""


@dataclass
class UnlessCancelled:
    """`begin_delivery`/`mark_delivery` of `ledger` for the touch (`deal_id`, `touch_id`)."""

    ledger: Ledger
    deal_id: str
    touch_id: str

    def begin_delivery(
        self, key: str, deal_id: str, touch_id: str, channel: str, message_id: str | None = None
    ) -> DeliveryRow:
        return self.ledger.begin_delivery(key, deal_id, touch_id, channel, message_id)

    def mark_delivery(
        self, key: str, state: str, detail: str | None = None, from_states: Collection[str] | None = None
    ) -> bool:
        if state != "sending":
            return self.ledger.mark_delivery(key, state, detail=detail, from_states=from_states)
        moved = self.ledger.start_sending(key, self.deal_id, self.touch_id, detail=detail, from_states=from_states)
        if moved is None:
            raise Withdrawn("the journey exited before it left; nothing sent")
        return moved
