"""Counts in the lines operators read: one rule, so "1 touches" or "2 touch" cannot come back."""

import pytest

from hundred.reports.counting import plural


@pytest.mark.parametrize(
    ("n", "noun", "said"),
    [
        (0, "touch", "0 touches"),
        (1, "touch", "1 touch"),
        (3, "touch", "3 touches"),
        (1, "ended run", "1 ended run"),
        (2, "claim", "2 claims"),
        (2, "box", "2 boxes"),
        (12, "stored deal", "12 stored deals"),
    ],
)
def test_a_count_is_plural_unless_it_is_one(n: int, noun: str, said: str) -> None:
    assert plural(n, noun) == said
