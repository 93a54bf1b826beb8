"""A delivery log for channel tests: the real ledger, and a tiny in-memory
implementation of the `DeliveryLog` protocol (same compare-and-set semantics), so the channel
tests run against both. `CrashingLog` dies at a chosen transition, as a killed run would."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class Row:
    key: str
    deal_id: str
    touch_id: str
    channel: str
    message_id: str | None
    state: str = "pending"
    detail: str | None = None


@dataclass
class MemoryLog:
    rows: dict[str, Row] = field(default_factory=dict)
    history: list[tuple[str, str]] = field(default_factory=list)

    def begin_delivery(self, key, deal_id, touch_id, channel, message_id=None):
        if key not in self.rows:
            self.rows[key] = Row(key, deal_id, touch_id, channel, message_id)
            self.history.append((key, "pending"))
        row = self.rows[key]
        return Row(**vars(row))  # a snapshot, as a database row would be

    def mark_delivery(self, key, state, detail=None, from_states=None):
        row = self.rows[key]
        if from_states is not None and row.state not in from_states or row.state == state:
            return False
        row.state, row.detail = state, detail if detail is not None else row.detail
        self.history.append((key, state))
        return True

    def state(self, key):
        return self.rows[key].state


class Crash(Exception):
    """The process died here."""


class CrashingLog:
    """Wraps a log; raises Crash instead of recording the transition to `at` (once)."""

    def __init__(self, inner, at: str):
        self.inner, self.at = inner, at

    def begin_delivery(self, *args, **kwargs):
        return self.inner.begin_delivery(*args, **kwargs)

    def mark_delivery(self, key, state, detail=None, from_states=None):
        if state == self.at:
            self.at = None
            raise Crash(state)
        return self.inner.mark_delivery(key, state, detail=detail, from_states=from_states)


def _ledger():
    from hundred.adapters.ledger import Ledger

    ledger = Ledger.memory()
    ledger.state = lambda key: ledger.delivery(key).state  # type: ignore[attr-defined]
    return ledger


@pytest.fixture(params=["memory", "ledger"])
def log(request):
    """Every channel test runs against the in-memory log and the real ledger."""
    if request.param == "memory":
        yield MemoryLog()
        return
    ledger = _ledger()
    yield ledger
    ledger.close()
