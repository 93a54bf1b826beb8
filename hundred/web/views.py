"""Templates (hundred/web/templates, shipped as package data) and the login/logout routes.

The stylesheet is inlined into each page and allowed by its sha256 in the Content-Security-Policy,
so pages load no file of their own and run no script.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import threading
from datetime import date, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from hundred.web.auth import LOGIN_COOKIE, LOGIN_SECONDS, SESSION_COOKIE, SESSION_SECONDS, Auth
from hundred.web.guard import Caller, Guard, Refused, safe_next

STYLE = resources.files("hundred.web").joinpath("templates/print.css").read_text(encoding="utf-8")
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%a %-d %b %Y, %H:%M")
    return value.strftime("%a %-d %b %Y")


class Views:
    def __init__(self, auth: Auth):
        self.auth = auth
        self.env = Environment(
            loader=PackageLoader("hundred.web", "templates"),
            autoescape=select_autoescape(["html", "j2"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["day"] = _day
        self.env.filters["q"] = lambda value: quote(str(value), safe="")
        self._flashes: dict[str, list[tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def flash(self, sid: str | None, text: str, kind: str = "ok") -> None:
        """A message for the session's next page (post/redirect/get)."""
        if sid:
            with self._lock:
                self._flashes.setdefault(sid, []).append((kind, text))
                while len(self._flashes) > 1000:
                    self._flashes.pop(next(iter(self._flashes)))

    def take_flashes(self, sid: str | None) -> list[tuple[str, str]]:
        with self._lock:
            return self._flashes.pop(sid, []) if sid else []

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(style=STYLE, **context)
        return HTMLResponse(html, status_code=status)

    def page(self, request: Request, name: str, caller: Caller, **context: Any) -> HTMLResponse:
        csrf = self.auth.csrf_token(caller.sid) if caller.sid else ""
        return self.render(name, csrf=csrf, logged_in=caller.kind == "session", **context)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def build_login_router(guard: Guard, views: Views) -> APIRouter:
    router = APIRouter()
    auth = guard.auth

    def login_form(request: Request, next_url: str, error: str | None = None, status: int = 200) -> Response:
        nonce = auth.new_login_nonce()
        nonce_id = auth.login_nonce_id(nonce) or ""
        response = views.render(
            "login.html.j2",
            status=status,
            title="Log in to the print room",
            next=next_url,
            csrf=auth.csrf_token("login:" + nonce_id),
            error=error,
            configured=auth.has_password,
            logged_in=False,
        )
        response.set_cookie(
            LOGIN_COOKIE,
            nonce,
            max_age=LOGIN_SECONDS,
            path="/login",
            httponly=True,
            samesite="strict",
            secure=_secure(request),
        )
        return response

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/print") -> Response:
        if auth.session_id(request.cookies.get(SESSION_COOKIE)):
            return RedirectResponse(safe_next(next), status_code=303)
        return login_form(request, safe_next(next))

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await guard.form(request)
        next_url = safe_next(form.get("next"))
        nonce_id = auth.login_nonce_id(request.cookies.get(LOGIN_COOKIE))
        if nonce_id is None or not auth.csrf_ok("login:" + nonce_id, form.get("csrf")):
            return login_form(request, next_url, "The form expired. Please enter the password again.", 403)
        client = _client(request)
        wait = auth.throttle.retry_after(client)
        if wait:
            response = login_form(
                request, next_url, f"Too many wrong passwords. Try again in {wait // 60 + 1} minutes.", 429
            )
            response.headers["Retry-After"] = str(wait)
            return response
        if not await run_in_threadpool(auth.password_ok, form.get("password", "")):
            auth.throttle.failed(client)
            await asyncio.sleep(0.4 + random.random() * 0.4)  # slows guessing; the throttle stops it
            return login_form(request, next_url, "That password is not right.", 401)
        auth.throttle.succeeded(client)
        response = RedirectResponse(next_url, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            auth.new_session(),
            max_age=SESSION_SECONDS,
            path="/",
            httponly=True,
            samesite="strict",
            secure=_secure(request),
        )
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        caller = guard.caller(request)
        if caller.kind != "session":
            raise Refused(400, "a token has no session to end")
        await guard.form(request, caller)
        auth.revoke(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return router
