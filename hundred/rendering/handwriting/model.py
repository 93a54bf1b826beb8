"""The letter renderer's public data types.

They are plain frozen dataclasses so the rest of the product (planner, print room, CLI) can
build them from the deal payload without importing reportlab.  Style values are checked when
a `LetterStyle` is built: a typo in a journey's ``letters:`` block should fail at validation
time with a message that names the allowed values, not halfway through a print batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PAPERS = ("A4", "letter")
ENVELOPES = ("DL", "C5", "US10", "none")
HANDS = ("caveat", "kalam")

# Ink colours as CMYK.  Ballpoint blue is a violet-leaning process blue: cyan plus a good
# part of magenta, as the ink of a cheap ballpoint pen.  Black ink is never pure K in a pen.
INKS: dict[str, tuple[float, float, float, float]] = {
    "blue": (0.92, 0.78, 0.0, 0.10),
    "navy": (1.0, 0.80, 0.10, 0.45),
    "black": (0.55, 0.50, 0.45, 0.90),
}

# Which envelopes a sheet can go into with its address in the window.  An A4 sheet folded in
# three (DIN 5008: 105 mm panels) is taller than a #10 envelope, and a tri-folded US Letter
# sheet moves so far inside a DL envelope that the DIN 5008 field is not always visible.
_ENVELOPES_FOR_PAPER = {"A4": ("DL", "C5", "none"), "letter": ("US10", "none")}

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _choose(kind: str, value: str, allowed: tuple[str, ...]) -> str:
    """Return the allowed spelling of `value` (case-insensitive) or raise a ValueError."""
    for option in allowed:
        if isinstance(value, str) and value.lower() == option.lower():
            return option
    raise ValueError(f"unknown letter {kind} {value!r}; use one of: {', '.join(allowed)}")


@dataclass(frozen=True)
class PostalAddress:
    """A recipient's postal address; `country` is ISO 3166 alpha-2 ("NL", "DE", "US")."""

    name: str
    company: str | None
    street: str
    postcode: str
    city: str
    state: str | None
    country: str


@dataclass(frozen=True)
class Letter:
    """One letter: its rendered body text, the signer and the recipient.

    `body` holds paragraphs separated by blank lines; a single newline is a forced line break.
    `seed` defaults to `letter_id`: the same seed always gives the same handwriting.
    """

    letter_id: str
    body: str
    signer: str
    address: PostalAddress | None
    seed: str | None = None
    signer_title: str | None = None


@dataclass(frozen=True)
class LetterStyle:
    """How a batch of letters looks: paper, envelope window, hand, ink.

    Values are matched case-insensitively and stored in their canonical spelling; anything
    else raises a ValueError naming the allowed values.
    """

    paper: str = "A4"
    envelope: str = "DL"
    hand: str = "caveat"
    ink: str = "blue"
    return_address: str = ""
    sender_country: str = "NL"
    humanise: bool = True
    locale: str = ""  # the journey's (babel) locale: how the letter's date is written (see dating.py)

    def __post_init__(self) -> None:
        paper = _choose("paper", self.paper, PAPERS)
        envelope = _choose("envelope", self.envelope, ENVELOPES)
        object.__setattr__(self, "paper", paper)
        object.__setattr__(self, "envelope", envelope)
        object.__setattr__(self, "hand", _choose("hand", self.hand, HANDS))
        object.__setattr__(self, "ink", _choose("ink", self.ink, tuple(INKS)))
        if envelope not in _ENVELOPES_FOR_PAPER[paper]:
            fits = ", ".join(_ENVELOPES_FOR_PAPER[paper])
            raise ValueError(
                f"envelope {envelope!r} does not fit paper {paper!r}: the address would not stay "
                f"in the window; with {paper} use envelope {fits}"
            )
        country = str(self.sender_country).strip().upper()
        if not _COUNTRY.match(country):
            raise ValueError(f"sender_country {self.sender_country!r} is not an ISO 3166 alpha-2 code such as 'NL'")
        object.__setattr__(self, "sender_country", country)
        if not isinstance(self.return_address, str):
            raise ValueError("return_address must be a string (one line)")
        if not isinstance(self.locale, str):
            raise ValueError("locale must be a string such as 'nl_NL'")


@dataclass
class RenderedLetter:
    """Where one letter ended up in the batch PDF, and what could not be printed as given."""

    letter_id: str
    first_page: int
    last_page: int
    problems: list[str] = field(default_factory=list)
