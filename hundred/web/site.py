"""The print room's part of the app: its door (the app's one dependency), login, pages, the
answers to a missing login, a refusal or a bad form, and the security headers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import RequestResponseEndpoint

from hundred.service.local import print_unlock_stamp
from hundred.service.printroom.service import PrintRoom
from hundred.service.settings import Settings
from hundred.web.auth import SESSION_COOKIE, Auth
from hundred.web.guard import (
    FormLimit,
    Guard,
    LoginRequired,
    Refused,
    login_required_response,
    security_headers,
    wants_html,
)
from hundred.web.printroom import Services, build_router
from hundred.web.views import N_, STYLE_HASH, Views, build_login_router


class PrintRoomSite:
    """The door, the views and the print room services of one app."""

    def __init__(self, home: Path, settings: Settings | None = None, printroom: PrintRoom | None = None):
        if settings is None:
            settings = Settings(home=home)
        self.auth = Auth(
            password=settings.print_password,
            password_hash=settings.print_password_hash,
            token=settings.print_token,
            secret=settings.print_secret,
            unlocked=lambda: print_unlock_stamp(home),
        )
        settings.print_password = None  # only its hash stays in memory
        self.guard = Guard(self.auth)
        self.views = Views(self.auth, getattr(settings, "print_language", None))
        self.services = Services(home, settings, printroom)

    def install(self, app: FastAPI) -> None:
        """Routes, error answers and headers; `app` was built with `dependencies=[Depends(guard.door)]`."""
        auth, guard, views = self.auth, self.guard, self.views
        app.state.print_services = self.services
        app.include_router(build_login_router(guard, views))
        app.include_router(build_router(guard, views, self.services))

        @app.get("/", include_in_schema=False)
        async def root() -> Response:
            return RedirectResponse("/print", status_code=303)

        def refusal(request: Request, exc: Refused) -> Response:
            sid = auth.session_id(request.cookies.get(SESSION_COOKIE))
            if wants_html(request):
                text = views.words(request)(exc.detail, **exc.values)
                if exc.back and sid:
                    views.flash(sid, text, "error")
                    return RedirectResponse(exc.back, status_code=303)
                return views.render(
                    request,
                    "error.html.j2",
                    status=exc.status,
                    heading=N_("Not possible"),
                    detail=text,
                    logged_in=bool(sid),
                    csrf=auth.csrf_token(sid) if sid else "",
                )
            return JSONResponse({"error": exc.english}, status_code=exc.status)

        @app.exception_handler(LoginRequired)
        async def login_required(request: Request, exc: LoginRequired) -> Response:
            return login_required_response(request, exc)

        @app.exception_handler(Refused)
        async def refused(request: Request, exc: Refused) -> Response:
            return refusal(request, exc)

        @app.exception_handler(RequestValidationError)
        async def bad_form(request: Request, exc: RequestValidationError) -> Response:
            """A form field that does not fit its model: 400 naming the field (never a 422 dump)."""
            said = []
            for error in exc.errors():
                field = ".".join(str(p) for p in error.get("loc", ())[1:]) or "form"
                message = str(error.get("msg", "")).removeprefix("Value error, ")
                said.append(f"{field}: {message}")
            return refusal(request, Refused(400, "{problems}", problems="; ".join(said) or "malformed form"))

        @app.exception_handler(StarletteHTTPException)
        async def not_found(request: Request, exc: StarletteHTTPException) -> Response:
            """An unknown URL answers like a missing login until there is one: guessing learns nothing."""
            if request.url.path != "/healthz" and exc.status_code in (404, 405):
                try:
                    guard.caller(request)
                except LoginRequired as missing:
                    return login_required_response(request, missing)
            sid = auth.session_id(request.cookies.get(SESSION_COOKIE))
            if wants_html(request) and exc.status_code == 404:
                w = views.words(request)
                return views.render(
                    request,
                    "error.html.j2",
                    status=404,
                    heading=N_("Not found"),
                    detail=w("There is no such page."),
                    logged_in=bool(sid),
                    csrf=auth.csrf_token(sid) if sid else "",
                )
            return await http_exception_handler(request, exc)

        @app.middleware("http")
        async def headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
            response = await call_next(request)
            security_headers(response, STYLE_HASH)
            return response

        app.add_middleware(FormLimit)
