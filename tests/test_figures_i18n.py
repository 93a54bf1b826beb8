"""The figures speak the journey's language: every text the figures' pages, charts and terminal
output use has its Dutch words in hundred/rendering/locales/nl/LC_MESSAGES/figures.po, and each
translation keeps its {placeholders}."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract
from jinja2.ext import babel_extract

from hundred.rendering.i18n import _catalog

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    "hundred/reports/figures/page.py",
    "hundred/reports/figures/charts.py",
    "hundred/reports/figures/text.py",
    "hundred/reports/figures/journeys.html.j2",
    "hundred/reports/figures/deal.html.j2",
    "hundred/reports/figures/deal_nav.html.j2",
]
# w: a journey's or the page's words; v: a journey section's; wn, vn: their plurals (a template
# extracts only calls by name); N_: marked for later
KEYWORDS = {"w": None, "v": None, "N_": None, "plural": (1, 2), "wn": (1, 2), "vn": (1, 2)}


def used() -> set[str]:
    found = set()
    for name in FILES:
        path = ROOT / name
        method = babel_extract if path.suffix == ".j2" else "python"
        with path.open("rb") as fh:
            for _, message, _, _ in extract(method, fh, keywords=KEYWORDS):
                found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_text_of_the_figures_has_its_dutch_words():
    singular, plural, _ = _catalog("nl", "figures")
    texts = used()
    assert len(texts) > 150  # the extraction sees the pages, the charts and the terminal text
    missing = sorted(t for t in texts if t not in singular and t not in plural)
    assert not missing, f"add these to hundred/rendering/locales/nl/LC_MESSAGES/figures.po: {missing}"
    for msgid, text in singular.items():
        assert set(re.findall(r"{\w+}", msgid)) == set(re.findall(r"{\w+}", text)), msgid
    for msgid, forms in plural.items():
        for text in forms:
            assert set(re.findall(r"{\w+}", msgid)) == set(re.findall(r"{\w+}", text)), msgid


def test_every_touch_and_letter_state_is_said_in_words():
    from hundred.reports.figures.text import STATE_WORDS
    from hundred.service.records import LETTER_STATES, TOUCH_STATES

    assert set(TOUCH_STATES) | set(LETTER_STATES) | {"active", "completed", "exited"} <= set(STATE_WORDS)
