"""An email in doubt, and the operator's word that settles it.

SMTP has no way to ask a server whether it took a message. A run that died (or lost the
connection) after claiming an email, just before the closing dot, leaves its delivery `sending`:
the server may or may not have it, and hundred cannot find out. Sending again could mail the
customer twice; not sending could lose the email. So hundred asks: the touch waits failed, naming
the Message-ID, and only the operator's reading of the mail server's log moves it on. Found:
the delivery is recorded as sent and nothing goes out again. Not found: it is sent now, once.
"""

from __future__ import annotations

from enum import StrEnum

from hundred.planning.states import DeliveryState
from hundred.service.ports import Ledger
from hundred.service.records import DeliveryRow


class Checked(StrEnum):
    """What the operator found in the mail server's log."""

    DELIVERED = "delivered"  # the Message-ID is there: record it as sent, do not send again
    NOT_DELIVERED = "not-delivered"  # it is not: send it now


# The channels that send over SMTP (a touch's email, a task's email to its owner): only there is a
# run's end unknowable. A webhook left `sending` is simply sent again (its receiver dedupes on the
# Idempotency-Key), and an .eml file in the outbox is written once whatever happened before.
BY_MAIL = frozenset({"email", "task"})


def in_doubt(ledger: Ledger, deal_id: str, touch_id: str) -> list[DeliveryRow]:
    """The touch's emails that a run started sending and never recorded the end of."""
    return [
        d
        for d in ledger.touch_deliveries(deal_id, touch_id)
        if d.state == DeliveryState.SENDING and d.channel in BY_MAIL
    ]


def settle(ledger: Ledger, deal_id: str, touch_id: str, checked: Checked | None) -> list[str]:
    """Apply the operator's finding before a failed touch runs again; what was recorded.

    Refuses (ValueError) to run an email in doubt again without a finding, and a finding for a
    touch with nothing in doubt (a typo'd deal or touch would otherwise be 'settled' silently)."""
    doubtful = in_doubt(ledger, deal_id, touch_id)
    where = f"{deal_id} · {touch_id}"
    if doubtful and checked is None:
        ids = ", ".join(d.message_id or d.key for d in doubtful)
        raise ValueError(
            f"{where} may already have been delivered (Message-ID {ids}): look it up in the mail server's "
            f"log, then run `hundred retry {deal_id} {touch_id} --delivered` if it is there (recorded as "
            f"sent, not sent again) or `--not-delivered` if it is not (sent now, once)"
        )
    if checked is not None and not doubtful:
        raise ValueError(
            f"nothing of {where} is in doubt (no email waits for a look at the mail server's log); "
            f"run `hundred retry {deal_id} {touch_id}` without --{checked.value}"
        )
    done: list[str] = []
    for delivery in doubtful:
        if checked == Checked.DELIVERED:
            state, detail = DeliveryState.SENT, "an operator found it in the mail server's log"
        else:
            state, detail = DeliveryState.FAILED, "not in the mail server's log (an operator looked): sent again"
        if ledger.mark_delivery(delivery.key, state, detail=detail, from_states=(DeliveryState.SENDING,)):
            done.append(f"{delivery.message_id or delivery.key}: {detail}")
    return done
