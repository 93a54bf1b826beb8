"""Real PDF tools for the letter tests: poppler's pdftotext and pdffonts.

`require_poppler()` fails the calling test when poppler-utils is missing, saying how to get it
(scripts/setup-test-system.sh installs it; no test installs anything).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lanes import missing

_TOOLS = ("pdftotext", "pdffonts", "pdfinfo", "pdftoppm")


def require_poppler() -> None:
    """pdftotext & co. are on PATH, or the test fails saying how to install them."""
    if not all(shutil.which(tool) for tool in _TOOLS):
        missing("poppler-utils (pdftotext, pdffonts, pdfinfo, pdftoppm)", "apt-get install -y poppler-utils")


def pdftotext(path: str | Path, *args: str) -> str:
    """Text of the PDF as pdftotext extracts it (UTF-8)."""
    require_poppler()
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *args, str(path), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


def page_texts(path: str | Path) -> list[str]:
    """pdftotext output split into pages (form feed separated)."""
    pages = pdftotext(path).split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


@dataclass(frozen=True)
class Word:
    text: str
    x0: float  # pt from the left edge
    y0: float  # pt from the TOP edge
    x1: float
    y1: float


def words(path: str | Path, page: int = 1) -> tuple[tuple[float, float], list[Word]]:
    """Page size and words with bounding boxes (`pdftotext -bbox`), top-left origin, in pt."""
    out = pdftotext(path, "-bbox", "-f", str(page), "-l", str(page))
    size = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', out)
    found = [
        Word(html.unescape(m.group(5)), float(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4)))
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', out)
    ]
    return (float(size.group(1)), float(size.group(2))), found


@dataclass(frozen=True)
class FontRow:
    name: str
    type: str
    embedded: bool
    subset: bool
    unicode: bool


def pdffonts(path: str | Path) -> list[FontRow]:
    """The fonts of a PDF as pdffonts lists them."""
    require_poppler()
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        cols = line.split()
        if len(cols) < 7:
            continue
        emb, sub, uni = cols[-5:-2]
        rows.append(FontRow(cols[0], cols[1], emb == "yes", sub == "yes", uni == "yes"))
    return rows


def page_count(path: str | Path) -> int:
    require_poppler()
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
