"""The studio's HTML: its Jinja templates (hundred/web/studio/templates, autoescaped) and words.

The page speaks the journey's language, like the timeline and the preview: words come from the
`studio` catalog (hundred/rendering/locales/<lang>/LC_MESSAGES/studio.po), English otherwise.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from hundred.rendering.i18n import Words, words

STATIC = ("studio.js", "studio.css", "studio.LICENSES.txt")


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("hundred.web.studio", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def studio_words(locale: str | None) -> Words:
    return words(locale, "studio")


@lru_cache(maxsize=8)
def static_file(name: str) -> tuple[bytes, str]:
    """A committed asset of the editor bundle and its short content hash (for cache-busting URLs)."""
    if name not in STATIC:
        raise LookupError(name)
    data = resources.files("hundred.web.studio").joinpath(f"static/{name}").read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


def asset_urls(base: str) -> dict[str, str]:
    """The bundle's script and stylesheet, each with its content hash (cached for a year)."""
    return {name: f"{base}/static/{name}?v={static_file(name)[1]}" for name in ("studio.js", "studio.css")}


def page_csp(nonce: str) -> str:
    """The studio page's policy: its own script and stylesheet, styles CodeMirror adds with the
    page's nonce, requests to itself, frames from itself; nothing else."""
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
        "connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def page(name: str, sw: Words, base: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A whole page in `sw`'s language, its links and assets under `base`, with a fresh nonce and
    the policy that goes with it."""
    nonce = secrets.token_urlsafe(16)
    html = render(name, nonce=nonce, sw=sw, lang=sw.lang, base=base, assets=asset_urls(base), **context)
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": page_csp(nonce)})


__all__ = ["render", "page", "page_csp", "asset_urls", "studio_words", "static_file", "STATIC"]
