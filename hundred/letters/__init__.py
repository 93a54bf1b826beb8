"""Handwritten-style letters as one print-ready PDF per batch.

The pure core of the letter channel: text in, PDF out, no scheduler or web imports.
``render_letters(letters, style, out)`` is the whole public surface; see `render` for how a
batch is written, `hand` for the humanised layout and `fonts` for the prepared fonts.
"""
from .model import Letter, LetterStyle, PostalAddress, RenderedLetter
from .render import render_letters

__all__ = ["Letter", "LetterStyle", "PostalAddress", "RenderedLetter", "render_letters"]
