"""Font preparation and registration.

reportlab does no OpenType shaping, so Caveat's stylistic sets (ss01/ss02: a second and third
form of every letter, which the font's own `calt` cycles through) are lost when it is used as
is.  We expose them without touching the text layer: from the variable Caveat we cut a static
wght-400 instance, then write two copies whose cmap maps each code point to its `.ss01` resp.
`.ss02` glyph.  Each copy is registered as its own reportlab font, so a PDF text extractor still
sees the real code points (no private-use characters), and switching forms is a font switch.

The prepared files are build artefacts: cached per user (``$HUNDRED_HOME/fonts`` if set, else
``~/.cache/hundred/fonts``), keyed by a hash of the source font and of this recipe, and written
atomically (temporary file + rename) so parallel workers never read half a font.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import fontpkg_caveat
import fontpkg_dancing_script
import fontpkg_kalam
import fontpkg_noto_sans
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

if TYPE_CHECKING:  # fontTools loads lazily, only when a font is cut
    from fontTools.ttLib import TTFont as FTFont

RECIPE = "caveat-static400-ss-v1"  # bump when the preparation below changes
STYLISTIC_SETS = ("ss01", "ss02")
# Tables reportlab never reads; dropping them before instancing makes it ~3x faster.
_UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "STAT", "DSIG", "HVAR")


@dataclass(frozen=True)
class Face:
    """A registered font and the metrics the layout needs, in em units."""

    name: str  # reportlab font name
    label: str  # human name for problem reports ("Caveat")
    cmap: frozenset[int]
    widths: dict[str, float]  # advance width per character, em
    x_height: float  # em
    cap_height: float  # em
    ascent: float  # em, as written to the PDF font descriptor
    descent: float  # em, negative


@dataclass(frozen=True)
class HandFace:
    """A handwriting font with its alternate-form copies (empty for fonts without them)."""

    face: Face
    variants: tuple[Face, ...]
    alternates: frozenset[str]  # characters that have a distinct form in every variant


@dataclass(frozen=True)
class FontBook:
    """Every font a letter uses, registered with reportlab."""

    hands: dict[str, HandFace]  # "caveat", "kalam"
    signature: Face
    sans: Face


def cache_dir() -> Path:
    """Per-user directory for prepared fonts."""
    home = os.environ.get("HUNDRED_HOME")
    base = Path(home) / "fonts" if home else Path.home() / ".cache" / "hundred" / "fonts"
    return base


def _file_key(path: Path) -> str:
    digest = hashlib.blake2b(path.read_bytes(), digest_size=10)
    digest.update(RECIPE.encode())
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see either no file or the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rename(font: FTFont, family: str, style: str) -> None:
    """Give a prepared font its own names: reportlab keys embedded faces by PostScript name, so
    two copies sharing "Caveat-Regular" would silently collapse into one."""
    ps_name = f"{family}-{style}".replace(" ", "")
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (2, 17):
            record.string = style
        elif record.nameID == 4:
            record.string = f"{family} {style}"
        elif record.nameID == 6:
            record.string = ps_name


def _caveat_static(source: Path) -> bytes:
    """Cut the Regular (wght 400) static instance out of the variable Caveat: reportlab only
    ever draws a variable font's default outlines and would embed tables it cannot use."""
    from fontTools.ttLib import TTFont as FTFont  # lazy: fontTools loads only when a font is cut
    from fontTools.varLib import instancer  # lazy: fontTools loads only when a font is cut

    font = FTFont(source)
    for tag in _UNUSED_TABLES:
        if tag in font:
            del font[tag]
    static = instancer.instantiateVariableFont(font, {"wght": 400})
    _rename(static, "CaveatHand", "Regular")
    buf = io.BytesIO()
    static.save(buf)
    return buf.getvalue()


def _alternate_copy(static: bytes, suffix: str) -> bytes:
    """The static font with every code point that has a `<glyph>.<suffix>` mapped to it."""
    from fontTools.ttLib import TTFont as FTFont  # lazy: fontTools loads only when a font is cut

    font = FTFont(io.BytesIO(static))
    glyphs = set(font.getGlyphOrder())
    for table in font["cmap"].tables:
        table.cmap = {cp: (f"{g}.{suffix}" if f"{g}.{suffix}" in glyphs else g) for cp, g in table.cmap.items()}
    _rename(font, "CaveatHand", suffix.upper())
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def prepare_caveat(source: Path | None = None, directory: Path | None = None) -> list[Path]:
    """Return [regular, ss01, ss02] static Caveat files, building them once per source font.

    Without an explicit `directory` the per-user cache is used, or, if that cannot be written
    (a read-only home in a container), a per-user directory under the system temp dir.
    """
    source = source or fontpkg_caveat.ROOT / "files" / "Caveat[wght].ttf"
    if directory is None:
        try:
            return prepare_caveat(source, cache_dir())
        except OSError:
            user = os.getuid() if hasattr(os, "getuid") else "user"
            return prepare_caveat(source, Path(tempfile.gettempdir()) / f"hundred-fonts-{user}")
    key = _file_key(source)
    paths = [directory / f"caveat-{key}-{part}.ttf" for part in ("regular", *STYLISTIC_SETS)]
    if all(p.exists() for p in paths):
        return paths
    static = _caveat_static(source)
    _write_atomically(paths[0], static)
    for path, suffix in zip(paths[1:], STYLISTIC_SETS, strict=False):
        _write_atomically(path, _alternate_copy(static, suffix))
    return paths


def _register(name: str, path: Path, label: str) -> Face:
    """Register a TrueType file with reportlab and collect the metrics the layout needs."""
    font = TTFont(name, str(path))
    pdfmetrics.registerFont(font)
    face = pdfmetrics.getFont(name).face
    cmap = frozenset(face.charToGlyph)
    widths = {chr(cp): face.charWidths.get(cp, face.defaultWidth) / 1000 for cp in cmap}
    return Face(
        name=name,
        label=label,
        cmap=cmap,
        widths=widths,
        x_height=_x_height(path),
        cap_height=face.capHeight / 1000,
        ascent=face.ascent / 1000,
        descent=face.descent / 1000,
    )


def _x_height(path: Path) -> float:
    from fontTools.ttLib import TTFont as FTFont  # lazy: fontTools loads only when a font is cut

    font = FTFont(path, lazy=True)
    x_height: float = font["OS/2"].sxHeight / font["head"].unitsPerEm  # fontTools is untyped
    return x_height


def _alternates(paths: list[Path]) -> frozenset[str]:
    """Characters whose glyph differs in every variant (letters with .ss01 and .ss02)."""
    from fontTools.ttLib import TTFont as FTFont  # lazy: fontTools loads only when a font is cut

    maps = [FTFont(p, lazy=True).getBestCmap() for p in paths]
    chars = set()
    for cp, glyph in maps[0].items():
        if all(m.get(cp, glyph) != glyph for m in maps[1:]):
            chars.add(chr(cp))
    return frozenset(chars)


@lru_cache(maxsize=1)
def font_book() -> FontBook:
    """Prepare (once per machine) and register (once per process) every font letters use."""
    caveat_paths = prepare_caveat()
    caveat = _register("hundred-caveat", caveat_paths[0], "Caveat")
    variants = tuple(
        _register(f"hundred-caveat-{ss}", path, "Caveat")
        for ss, path in zip(STYLISTIC_SETS, caveat_paths[1:], strict=False)
    )
    kalam_path = fontpkg_kalam.ROOT / "files" / "Kalam-Light.ttf"
    kalam = _register("hundred-kalam", kalam_path, "Kalam")
    # Dancing Script and Noto Sans are variable fonts whose default master is the Regular
    # (wght 400, wdth 100); reportlab embeds exactly that master, so no instancing is needed.
    dancing = _register(
        "hundred-signature",
        fontpkg_dancing_script.ROOT / "files" / "DancingScript[wght].ttf",
        "Dancing Script",
    )
    sans = _register("hundred-sans", fontpkg_noto_sans.ROOT / "files" / "NotoSans[wdth,wght].ttf", "Noto Sans")
    return FontBook(
        hands={
            "caveat": HandFace(caveat, variants, _alternates(caveat_paths)),
            "kalam": HandFace(kalam, (), frozenset()),
        },
        signature=dancing,
        sans=sans,
    )
