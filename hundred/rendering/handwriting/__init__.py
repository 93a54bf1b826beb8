"""Handwritten-style letters as one print-ready PDF per batch.

The pure core of the letter channel: text in, PDF out, no scheduler or web imports.
``render_letters(letters, style, out)`` is the whole public surface; see `render` for how a
batch is written, `hand` for the humanised layout and `fonts` for the prepared fonts.
"""

from typing import Any

from hundred.rendering.handwriting.model import Letter, LetterStyle, PostalAddress, RenderedLetter


def __getattr__(name: str) -> Any:
    """`render_letters` is imported on first use: it loads reportlab, which building a Letter
    (the planner, the runtime, `simulate`) never needs."""
    if name == "render_letters":
        from hundred.rendering.handwriting.render import (
            render_letters,  # lazy: reportlab loads only when a letter is drawn
        )

        return render_letters
    raise AttributeError(f"module 'hundred.rendering.handwriting' has no attribute {name!r}")


__all__ = ["Letter", "LetterStyle", "PostalAddress", "RenderedLetter", "render_letters"]
