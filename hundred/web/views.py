"""Templates (hundred/web/templates, shipped as package data) and the login/logout routes.

The stylesheet is inlined into each page and allowed by its sha256 in the Content-Security-Policy,
so pages load no file of their own and run no script. Every page speaks the print staff's
language (hundred/web/language.py): templates say `w("…")` and `wn("{n} letter", "{n} letters", n)`;
days and times are the print room's (the journey's time zone), and a time always names its zone.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import threading
from datetime import date, datetime, tzinfo
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from hundred.rendering.i18n import Words
from hundred.web.auth import LOGIN_COOKIE, LOGIN_SECONDS, SESSION_COOKIE, SESSION_SECONDS, Auth
from hundred.web.forms import CsrfForm, LoginForm
from hundred.web.guard import Caller, Door, Guard, Refused, check_origin, safe_next, set_cookie
from hundred.web.language import words_for

STYLE = resources.files("hundred.web").joinpath("templates/print.css").read_text(encoding="utf-8")
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
DAY = "EEE d MMM y"  # "Mon 30 Nov 2026" / "ma 30 nov 2026"
TIME = "HH:mm"


def N_(text: str) -> str:
    """Marks a text for the catalog that is translated later (a heading chosen before the request's words)."""
    return text


def day_text(w: Words, value: date | datetime | None, tz: tzinfo | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(tz).date() if tz else value.date()
    return w.date(value, DAY)


def when_text(w: Words, value: datetime | None, tz: tzinfo) -> str:
    """A moment in the print room's zone, named: "Mon 30 Nov 2026, 08:00 (Europe/Amsterdam)"."""
    if value is None:
        return "—"
    local = value.astimezone(tz)
    return w("{date}, {time} ({zone})", date=w.date(local, DAY), time=w.time(local, TIME), zone=str(tz))


class Views:
    def __init__(self, auth: Auth, language: str | None = None):
        """`language`: HUNDRED_PRINT_LANGUAGE (every browser gets it), else each browser's own."""
        self.auth, self.language = auth, language
        self.env = Environment(
            loader=PackageLoader("hundred.web", "templates"),
            autoescape=select_autoescape(["html", "j2"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["q"] = lambda value: quote(str(value), safe="")
        self._flashes: dict[str, list[tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def words(self, request: Request) -> Words:
        return words_for(request.headers.get("accept-language"), self.language)

    def flash(self, sid: str | None, text: str, kind: str = "ok") -> None:
        """A message for the session's next page (post/redirect/get), already in its language."""
        if sid:
            with self._lock:
                self._flashes.setdefault(sid, []).append((kind, text))
                while len(self._flashes) > 1000:
                    self._flashes.pop(next(iter(self._flashes)))

    def take_flashes(self, sid: str | None) -> list[tuple[str, str]]:
        with self._lock:
            return self._flashes.pop(sid, []) if sid else []

    def render(
        self, request: Request, name: str, status: int = 200, *, tz: tzinfo | None = None, **context: Any
    ) -> HTMLResponse:
        """A page in the request's language; `tz` is the print room's zone for `day()` and `when()`."""
        w = self.words(request)

        def with_code(text: str, /, **values: Any) -> Markup:
            """A translated text whose values are shown as code (`<code>hundred up</code>`), escaped."""
            return Markup(escape(w(text))).format(**{k: Markup("<code>{}</code>").format(v) for k, v in values.items()})

        html = self.env.get_template(name).render(
            style=STYLE,
            w=w,
            wn=w.plural,
            wcode=with_code,
            lang=w.lang,
            day=lambda value: day_text(w, value, tz),
            when=lambda value: when_text(w, value, tz) if tz else "—",
            zone=str(tz) if tz else "",
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def page(self, request: Request, name: str, caller: Caller, **context: Any) -> HTMLResponse:
        csrf = self.auth.csrf_token(caller.sid) if caller.sid else ""
        flashes = self.take_flashes(caller.sid)
        return self.render(request, name, csrf=csrf, logged_in=caller.kind == "session", flashes=flashes, **context)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_login_router(guard: Guard, views: Views) -> APIRouter:
    """/login (public: its form carries a token bound to a pre-login cookie) and /logout."""
    router = APIRouter()
    auth = guard.auth

    def login_form(request: Request, next_url: str, error: str | None = None, status: int = 200) -> Response:
        nonce = auth.new_login_nonce()
        nonce_id = auth.login_nonce_id(nonce) or ""
        response = views.render(
            request,
            "login.html.j2",
            status=status,
            title="Log in to the print room",
            next=next_url,
            csrf=auth.csrf_token("login:" + nonce_id),
            error=error,
            configured=auth.has_password,
            logged_in=False,
        )
        set_cookie(response, request, LOGIN_COOKIE, nonce, max_age=LOGIN_SECONDS, path="/login")
        return response

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/print") -> Response:
        if auth.session_id(request.cookies.get(SESSION_COOKIE)):
            return RedirectResponse(safe_next(next), status_code=303)
        return login_form(request, safe_next(next))

    @router.post("/login")
    async def login(request: Request, form: Annotated[LoginForm, Form()]) -> Response:
        check_origin(request)
        w = views.words(request)
        next_url = safe_next(form.next)
        nonce_id = auth.login_nonce_id(request.cookies.get(LOGIN_COOKIE))
        if nonce_id is None or not auth.csrf_ok("login:" + nonce_id, form.csrf):
            return login_form(request, next_url, w("The form expired. Please enter the password again."), 403)
        client = _client(request)
        wait = auth.throttle.retry_after(client)
        if wait:
            response = login_form(
                request,
                next_url,
                w.plural(
                    "Too many wrong passwords. Try again in {n} minute, or ask the operator to run "
                    "`hundred letters unlock`.",
                    "Too many wrong passwords. Try again in {n} minutes, or ask the operator to run "
                    "`hundred letters unlock`.",
                    wait // 60 + 1,
                ),
                429,
            )
            response.headers["Retry-After"] = str(wait)
            return response
        if not await run_in_threadpool(auth.password_ok, form.password):
            auth.throttle.failed(client)
            await asyncio.sleep(0.4 + random.random() * 0.4)  # slows guessing; the throttle stops it
            return login_form(request, next_url, w("That password is not right."), 401)
        auth.throttle.succeeded(client)
        response = RedirectResponse(next_url, status_code=303)
        set_cookie(response, request, SESSION_COOKIE, auth.new_session(), max_age=SESSION_SECONDS, path="/")
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @router.post("/logout")
    async def logout(request: Request, caller: Door, form: Annotated[CsrfForm, Form()]) -> Response:
        if caller.kind != "session":
            raise Refused(400, "a token has no session to end")
        auth.revoke(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return router
