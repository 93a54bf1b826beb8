"""The journey studio: a marketer edits a journey and its templates in the browser and sees, as
they type, validate's errors, the Coleman linter's warnings, the timeline, the touch under the
cursor, a simulation and what the edit changes for journeys in flight.

`build_studio_app` makes the studio as an app of its own, mounted at /studio: by `hundred up`'s
web app behind the studio's password (`mount_studio`), and by `hundred studio` on 127.0.0.1 behind
a token in the URL it prints (hundred.web.studio.local).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import RequestResponseEndpoint

from hundred import bootstrap
from hundred.adapters.ledger import Ledger as SqlLedger
from hundred.service.ports import Ledger
from hundred.service.settings import Settings
from hundred.web.auth import Auth
from hundred.web.guard import wants_html
from hundred.web.studio.api import build_api
from hundred.web.studio.door import Door, StudioLogin, StudioRefused, build_login_router, studio_auth
from hundred.web.studio.frames import Frames
from hundred.web.studio.html import page, studio_words
from hundred.web.studio.pages import build_pages
from hundred.web.studio.workspace import Workspace

BASE = "/studio"
log = logging.getLogger("hundred.studio")
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


def build_studio_app(
    workspace: Workspace,
    auth: Auth,
    ledger: Callable[[], Ledger | None],
    *,
    url_token: str | None = None,
    locale: str | None = None,
    base: str = BASE,
) -> FastAPI:
    """The studio, to be mounted at `base`. `ledger()` is the ledger or None (no ledger here)."""
    app = FastAPI(title="hundred studio", docs_url=None, redoc_url=None, openapi_url=None)
    door = Door(auth, base, url_token)
    frames = Frames()
    app.state.door, app.state.frames, app.state.workspace = door, frames, workspace
    app.include_router(build_login_router(door, locale))
    app.include_router(build_pages(door, workspace, locale))
    app.include_router(build_api(door, workspace, frames, ledger))

    def error_page(request: Request, status: int, detail: str) -> Response:
        if not wants_html(request):
            return JSONResponse({"error": detail}, status_code=status, headers={"Cache-Control": "no-store"})
        sw = studio_words(locale)
        return page("error.html.j2", sw, base, status, detail=detail)

    @app.exception_handler(StudioLogin)
    async def login_required(request: Request, exc: StudioLogin) -> Response:
        if exc.api:
            return JSONResponse(
                {"error": "log in to the studio first"}, status_code=401, headers={"Cache-Control": "no-store"}
            )
        return door.login_redirect(request)

    @app.exception_handler(StudioRefused)
    async def refused(request: Request, exc: StudioRefused) -> Response:
        return error_page(request, exc.status, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: StarletteHTTPException) -> Response:
        if door.sid(request) is None:
            return (
                door.login_redirect(request)
                if wants_html(request)
                else JSONResponse({"error": "log in to the studio first"}, status_code=401)
            )
        return error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        """A bug in one view: the page says what failed and stays usable (the traceback is logged)."""
        log.exception("studio request %s failed", request.url.path)
        return error_page(request, 500, f"the studio failed here: {type(exc).__name__}: {exc}")

    @app.middleware("http")
    async def headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        h = response.headers
        h.setdefault("Content-Security-Policy", DEFAULT_CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "SAMEORIGIN" if request.url.path.startswith(f"{base}/frame/") else "DENY")
        h.setdefault("Cache-Control", "no-store")
        return response

    return app


class ExistingLedger:
    """The ledger of these settings when it exists (a SQLite file that is there, or a database
    URL); None otherwise. Opened on first use, so the page does not wait for it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._opened: SqlLedger | None = None

    def __call__(self) -> SqlLedger | None:
        with self._lock:
            if self._opened is None and (self.settings.database_url or (self.settings.home / "ledger.db").is_file()):
                try:
                    self._opened = bootstrap.ledger(self.settings)
                except Exception:  # a ledger that cannot be opened: the studio works without one
                    return None
            return self._opened


def mount_studio(app: FastAPI, settings: Settings) -> None:
    """The studio at /studio in `hundred up`'s web app, behind HUNDRED_STUDIO_PASSWORD."""
    workspace = Workspace(Path(settings.journeys_dir), Path(settings.templates_dir))
    auth = studio_auth(settings.studio_password, settings.studio_password_hash, settings.studio_secret)
    settings.studio_password = None  # only its hash stays in memory
    app.mount(BASE, build_studio_app(workspace, auth, ExistingLedger(settings)))


__all__ = ["build_studio_app", "mount_studio", "ExistingLedger", "BASE"]
