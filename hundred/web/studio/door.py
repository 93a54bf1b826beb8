"""Who may use the studio: a login of its own, with the print room's session and CSRF rules.

A marketer is not print staff, so the studio has its own password (`HUNDRED_STUDIO_PASSWORD`, or
`HUNDRED_STUDIO_PASSWORD_HASH` from `python -m hundred.web.auth`), its own signing key and its own
cookie (`hundred_studio`, path /studio): a print room session opens nothing here, and the other
way round. The primitives are the print room's (`hundred.web.auth.Auth`: scrypt hash compared in
constant time, HMAC-signed HttpOnly SameSite=Strict session cookies, per-session CSRF tokens, the
failed-login throttle).

`hundred studio` runs on 127.0.0.1 and prints a URL with a random token, as Jupyter does: the
first visit with `?token=…` trades it for the same session cookie and drops it from the address.

Every POST must come from the studio's own page: its Origin (when sent) must be this site, and it
carries the session's CSRF token, in the `X-CSRF-Token` header (the page's fetches) or the `csrf`
form field (login, logout).
"""

from __future__ import annotations

import asyncio
import random
import re
import urllib.parse

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from hundred.web.auth import LOGIN_SECONDS, SESSION_SECONDS, Auth
from hundred.web.guard import TooLarge, own_origin, read_limited, set_cookie, wants_html
from hundred.web.studio.html import page, studio_words

COOKIE = "hundred_studio"
LOGIN_COOKIE = "hundred_studio_login"
MAX_FORM = 8 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class StudioLogin(Exception):
    """No studio session: a person is sent to the login page, a script gets 401."""

    def __init__(self, api: bool):
        self.api = api


class StudioRefused(Exception):
    def __init__(self, status: int, detail: str):
        self.status, self.detail = status, detail


def studio_auth(password: str | None, password_hash: str | None, secret: str | None) -> Auth:
    """The print room's Auth with the studio's password, and a key of its own: the same secret
    set for both still signs different sessions."""
    return Auth(password=password, password_hash=password_hash, secret=f"studio:{secret}" if secret else None)


class Door:
    def __init__(self, auth: Auth, base: str = "/studio", url_token: str | None = None):
        self.auth, self.base = auth, base.rstrip("/")
        self._token = Auth(token=url_token) if url_token else None

    @property
    def has_password(self) -> bool:
        return self.auth.has_password

    def sid(self, request: Request) -> str | None:
        return self.auth.session_id(request.cookies.get(COOKIE))

    def caller(self, request: Request) -> str:
        sid = self.sid(request)
        if sid is None:
            raise StudioLogin(api=not wants_html(request))
        return sid

    def check_post(self, request: Request, sid: str, form_token: str | None = None) -> None:
        origin = request.headers.get("origin")
        if origin is not None and origin != own_origin(request):
            raise StudioRefused(403, "this request came from another site")
        if origin is None and request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
            raise StudioRefused(403, "this request came from another site")
        token = form_token if form_token is not None else request.headers.get("x-csrf-token")
        if not self.auth.csrf_ok(sid, token):
            raise StudioRefused(403, "the page's security token is missing or stale: reload the page")

    def safe_next(self, value: str | None) -> str:
        if (
            value
            and value.startswith(self.base + "/")
            and not value.startswith("//")
            and "\\" not in value
            and not _CONTROL.search(value)
            and len(value) < 1024
        ):
            return value
        return self.base + "/"

    def session_response(self, request: Request, target: str) -> Response:
        response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
        set_cookie(response, request, COOKIE, self.auth.new_session(), max_age=SESSION_SECONDS, path=self.base + "/")
        return response

    def token_entry(self, request: Request) -> Response | None:
        """`?token=…` (the URL `hundred studio` printed): a session, and the same page without it."""
        token = request.query_params.get("token")
        if token is None or self._token is None:
            return None
        if not self._token.token_ok(token):
            return None
        query = urllib.parse.urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
        return self.session_response(request, request.url.path + ("?" + query if query else ""))

    def login_redirect(self, request: Request) -> Response:
        target = self.safe_next(request.url.path + ("?" + request.url.query if request.url.query else ""))
        query = urllib.parse.urlencode({"next": target})
        return RedirectResponse(f"{self.base}/login?{query}", status_code=303, headers={"Cache-Control": "no-store"})


async def read_body(request: Request, limit: int, too_large: str) -> bytes:
    """The request's body; a 413 saying `too_large` as soon as it passes `limit` bytes."""
    try:
        return await read_limited(request, limit)
    except TooLarge:
        raise StudioRefused(413, too_large) from None


async def _form(request: Request) -> dict[str, str]:
    body = await read_body(request, MAX_FORM, "form too large")
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise StudioRefused(400, "malformed form") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


def build_login_router(door: Door, locale: str | None) -> APIRouter:
    """GET/POST /login and POST /logout, under the studio's prefix."""
    router = APIRouter()
    auth = door.auth
    sw = studio_words(locale)

    def login_form(request: Request, next_url: str, error: str | None = None, status: int = 200) -> Response:
        login_nonce = auth.new_login_nonce()
        response = page(
            "login.html.j2",
            sw,
            door.base,
            status,
            next=next_url,
            login_csrf=auth.csrf_token("login:" + (auth.login_nonce_id(login_nonce) or "")),
            error=error,
            configured=door.has_password,
        )
        set_cookie(response, request, LOGIN_COOKIE, login_nonce, max_age=LOGIN_SECONDS, path=door.base + "/login")
        return response

    @router.get("/login")
    async def login_page(request: Request, next: str = "") -> Response:
        entered = door.token_entry(request)
        if entered is not None:
            return entered
        if door.sid(request):
            return RedirectResponse(door.safe_next(next), status_code=303)
        return login_form(request, door.safe_next(next))

    @router.post("/login")
    async def login(request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != own_origin(request):
            raise StudioRefused(403, "this form was sent from another site")
        form = await _form(request)
        next_url = door.safe_next(form.get("next"))
        nonce_id = auth.login_nonce_id(request.cookies.get(LOGIN_COOKIE))
        if nonce_id is None or not auth.csrf_ok("login:" + nonce_id, form.get("csrf")):
            return login_form(request, next_url, sw("The form expired. Please enter the password again."), 403)
        client = request.client.host if request.client else "unknown"
        wait = auth.throttle.retry_after(client)
        if wait:
            response = login_form(
                request, next_url, sw("Too many wrong passwords. Try again in {n} minutes.", n=wait // 60 + 1), 429
            )
            response.headers["Retry-After"] = str(wait)
            return response
        if not await run_in_threadpool(auth.password_ok, form.get("password", "")):
            auth.throttle.failed(client)
            await asyncio.sleep(0.4 + random.random() * 0.4)  # slows guessing; the throttle stops it
            return login_form(request, next_url, sw("That password is not right."), 401)
        auth.throttle.succeeded(client)
        response = door.session_response(request, next_url)
        response.delete_cookie(LOGIN_COOKIE, path=door.base + "/login")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        sid = door.caller(request)
        form = await _form(request)
        door.check_post(request, sid, form.get("csrf", ""))
        auth.revoke(request.cookies.get(COOKIE))
        response = RedirectResponse(f"{door.base}/login", status_code=303)
        response.delete_cookie(COOKIE, path=door.base + "/", httponly=True, samesite="strict")
        return response

    return router


__all__ = ["Door", "StudioLogin", "StudioRefused", "studio_auth", "build_login_router", "COOKIE"]
