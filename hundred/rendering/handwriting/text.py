"""Text clean-up and glyph coverage: nothing silently vanishes.

reportlab draws a character the font lacks as glyph 0, and in these handwriting fonts `.notdef`
is empty: the character simply disappears from the printed letter.  So every string that goes on
paper passes through `clean()` first:

1. NFC normalisation (reportlab does no mark positioning, so combining sequences must become
   precomposed characters) and a small substitution table for characters that have a safe
   stand-in (ĳ → ij, ẞ → SS, narrow/thin spaces, zero-width and soft-hyphen characters removed);
2. per character, the first font of a chain that has a glyph (Caveat → Kalam for the body);
3. an ASCII look-alike for odd quotes and dashes that no font in the chain has;
4. whatever is left (emoji, symbols) is dropped and reported with its code point, its Unicode
   name and where it was, so the print room can review the letter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from hundred.rendering.handwriting.fonts import Face

SUBSTITUTIONS: dict[str, str] = {
    "\u0133": "ij",  # ĳ  (Kalam has no glyph; "ij" is how the Dutch write it anyway)
    "\u0132": "IJ",  # Ĳ
    "\u1e9e": "SS",  # ẞ capital sharp s
    "\u202f": "\u00a0",  # narrow no-break space -> no-break space
    "\u2007": "\u00a0",  # figure space (also non-breaking)
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u2004": " ",
    "\u2005": " ",
    "\u2006": " ",
    "\u2008": " ",
    "\u205f": " ",
    "\u3000": " ",
    "\t": " ",
    "\u200b": "",  # zero-width space
    "\u200c": "",  # zero-width non-joiner
    "\u200d": "",  # zero-width joiner
    "\u2060": "",  # word joiner
    "\ufeff": "",  # byte order mark
    "\u00ad": "",  # soft hyphen
    "\ufe0e": "",  # text presentation selector
    "\ufe0f": "",  # emoji presentation selector (the emoji itself is still reported)
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\r": "",
}

# Used only when no font of the chain has the character itself.
LOOKALIKES: dict[str, str] = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2039": "'",
    "\u203a": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": ".",
    "\u00a0": " ",
    "\u2044": "/",
    "\u2215": "/",
    "\u00d7": "x",
}

_SUBST_RE = re.compile("|".join(re.escape(k) for k in SUBSTITUTIONS))
_SPACES = re.compile(" {2,}")


def normalise(text: str) -> str:
    """NFC plus the substitution table; line structure is kept (``\\r\\n`` becomes ``\\n``)."""
    text = unicodedata.normalize("NFC", text)
    return _SUBST_RE.sub(lambda m: SUBSTITUTIONS[m.group()], text)


def describe(ch: str) -> str:
    """``U+1F600 GRINNING FACE`` for a problem report."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, '(unnamed character)')}"


def clean_line(line: str, faces: Sequence[Face], where: str, problems: list[str]) -> str:
    """Return `line` with only characters some face in `faces` can draw.

    `line` must already be normalised and hold no newline.  Every dropped character adds one
    entry to `problems`, naming the fonts that were tried and `where` (e.g. "body line 3").
    """
    cmaps = [f.cmap for f in faces]
    out: list[str] = []
    dropped = False
    for ch in line:
        cp = ord(ch)
        if ch == " " or any(cp in cm for cm in cmaps):
            out.append(ch)
            continue
        stand_in = LOOKALIKES.get(ch)
        if stand_in and all(any(ord(c) in cm for cm in cmaps) for c in stand_in):
            out.append(stand_in)
            continue
        fonts = ", ".join(dict.fromkeys(f.label for f in faces))
        problems.append(f"dropped {describe(ch)} (no glyph in {fonts}) in {where}")
        dropped = True
    text = "".join(out)
    if dropped:  # "Thanks 😀 see you" must not keep a double gap where the emoji was
        text = _SPACES.sub(" ", text).strip(" ")
    return text


def clean_text(text: str, faces: Sequence[Face], where: str, problems: list[str]) -> list[str]:
    """Normalise and clean a multi-line text; lines are numbered from 1 in `where`."""
    lines = normalise(text).split("\n")
    return [clean_line(line, faces, f"{where} line {n}", problems) for n, line in enumerate(lines, 1)]


def clean_field(text: str | None, faces: Sequence[Face], where: str, problems: list[str]) -> str:
    """A one-line field (name, street, ...): newlines become spaces, runs of spaces collapse."""
    if not text:
        return ""
    flat = " ".join(normalise(text).split("\n"))
    return _SPACES.sub(" ", clean_line(flat, faces, where, problems)).strip()


def font_index(ch: str, faces: Sequence[Face]) -> int:
    """Index of the first face in the chain that has `ch` (0 if none: callers clean first)."""
    cp = ord(ch)
    for i, face in enumerate(faces):
        if cp in face.cmap:
            return i
    return 0
