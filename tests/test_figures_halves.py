"""The figures are counted in two halves of the customers (hundred/adapters/ledger/figures.py):
put together, they must read as one count over everyone would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hundred.adapters.ledger.figures import ATTENTION_PER_KIND, _together
from hundred.reports.figures.facts import Attention, FigureFacts, Period, TouchCount

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _failed(deal: str, hours_ago: int | None, why: str = "failed") -> Attention:
    since = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    return Attention("welcome", "v1", deal, "welcome-email", why, since, "550 no such user")


def test_counts_of_both_halves_are_all_kept_and_attention_keeps_the_newest_few_per_kind():
    first, second = FigureFacts(now=NOW, period=Period()), FigureFacts(now=NOW, period=Period())
    first.touches = [TouchCount("welcome", "v1", "welcome-email", "delivered", 3)]
    second.touches = [TouchCount("welcome", "v1", "welcome-email", "delivered", 4)]
    first.attention = [_failed(f"A-{h}", h) for h in range(0, 16, 2)] + [_failed("A-never", None)]
    second.attention = [_failed(f"B-{h}", h) for h in range(1, 16, 2)] + [_failed("B-task", 5, "task-overdue")]

    together = _together(first, second)

    assert sum(t.n for t in together.touches) == 7
    failed = [a.deal for a in together.attention if a.why == "failed"]
    assert failed == [f"{'AB'[h % 2]}-{h}" for h in range(ATTENTION_PER_KIND)]  # newest first, across halves
    assert [a.deal for a in together.attention if a.why == "task-overdue"] == ["B-task"]
