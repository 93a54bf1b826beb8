"""The print room's refusals, in words a person reads (and the web page translates)."""

from __future__ import annotations

from typing import Any


class Refusal(ValueError):
    """A print room refusal a person reads: English text with {names} (the print room catalog's
    message id, hundred/rendering/locales/*/printroom.po) and its values, so the web page can say
    it in the print staff's language while the CLI prints the English."""

    def __init__(self, text: str, **values: Any):
        super().__init__(text.format(**values))
        self.text, self.values = text, values


class Unknown(Refusal, LookupError):
    """A letter or batch that is not in the ledger."""


__all__ = ["Refusal", "Unknown"]
