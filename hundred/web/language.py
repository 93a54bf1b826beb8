"""The print staff's language: HUNDRED_PRINT_LANGUAGE when set, else the best of the browser's
`Accept-Language` that hundred ships (Dutch, English), else English.

The words come from the `printroom` gettext catalog beside the others
(hundred/rendering/locales/<lang>/LC_MESSAGES/printroom.po, read by hundred/rendering/i18n.py);
English is the message id itself. Dates take the browser's full locale ("nl-BE" → Belgian Dutch
dates) when its language is shipped.
"""

from __future__ import annotations

import re

from hundred.rendering.i18n import Words, parse_locale, words

SHIPPED = ("en", "nl")
DOMAIN = "printroom"
_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def preferred(header: str | None) -> list[str]:
    """The languages of an Accept-Language header, best first (q=0 left out; ties keep their order)."""
    ranked = []
    for n, part in enumerate((header or "")[:1000].split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not _TAG.fullmatch(tag):
            continue
        q = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                q = float(match.group(1))
            except ValueError:
                continue
        if q > 0:
            ranked.append((-q, n, tag))
    return [tag for _, _, tag in sorted(ranked)]


def choose(header: str | None, setting: str | None = None) -> str:
    """The locale to speak ("nl_NL", "nl", "en_GB" …): the setting, else the browser's best shipped one."""
    if setting:
        return setting.replace("-", "_")
    for tag in preferred(header):
        if tag.split("-")[0].lower() in SHIPPED:
            locale = parse_locale(tag)
            return str(locale) if locale.language in SHIPPED else tag.split("-")[0].lower()
    return "en"


def words_for(header: str | None, setting: str | None = None) -> Words:
    return words(choose(header, setting), DOMAIN)


__all__ = ["DOMAIN", "SHIPPED", "choose", "preferred", "words_for"]
