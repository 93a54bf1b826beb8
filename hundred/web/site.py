"""Puts the print room into the app: login, pages, error answers and security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from hundred.service.settings import Settings
from hundred.web.auth import SESSION_COOKIE, Auth
from hundred.web.guard import Guard, LoginRequired, Refused, login_required_response, security_headers, wants_html
from hundred.web.printroom import Services, build_router
from hundred.web.views import STYLE_HASH, Views, build_login_router


def install_print_room(app: FastAPI, home: Path, settings: Any = None, printroom: Any = None) -> None:
    if settings is None:
        settings = Settings(home=home)
    auth = Auth(
        password=settings.print_password,
        password_hash=settings.print_password_hash,
        token=settings.print_token,
        secret=settings.print_secret,
    )
    settings.print_password = None  # only its hash stays in memory
    guard, views = Guard(auth), Views(auth)
    services = Services(home, settings, printroom)
    app.state.print_services = services
    app.state.print_guard = guard  # the journeys' figures are behind this door for now (web/marketer.py)
    app.include_router(build_login_router(guard, views))
    app.include_router(build_router(guard, views, services))

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> Response:
        guard.caller(request)
        return RedirectResponse("/print", status_code=303)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return login_required_response(request, exc)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        sid = auth.session_id(request.cookies.get(SESSION_COOKIE))
        if wants_html(request):
            if exc.back and sid:
                views.flash(sid, exc.detail, "error")
                return RedirectResponse(exc.back, status_code=303)
            csrf = auth.csrf_token(sid) if sid else ""
            return views.render(
                "error.html.j2",
                status=exc.status,
                title="Not possible",
                detail=exc.detail,
                logged_in=bool(sid),
                csrf=csrf,
            )
        return JSONResponse({"error": exc.detail}, status_code=exc.status)

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
            return views.render(
                "error.html.j2",
                status=404,
                title="Not found",
                detail="There is no such page.",
                logged_in=bool(sid),
                csrf=auth.csrf_token(sid) if sid else "",
            )
        return await http_exception_handler(request, exc)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        security_headers(response, STYLE_HASH)
        return response
