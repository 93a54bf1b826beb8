"""The web app's door: who is calling, CSRF and Origin checks, safe headers.

One dependency for the whole app (`create_app` builds `FastAPI(dependencies=[Depends(door)])`
and keeps its `Guard` in `app.state.guard`), so every route is closed unless its path is declared
in `PUBLIC` below; a route that wants the caller asks for the same dependency (a parameter typed
`Door`, computed once per request). The door:

- lets a public route through (it checks its own sender: a webhook's signature, the login form's
  own token);
- takes `Authorization: Bearer <HUNDRED_PRINT_TOKEN>` (scripts), or a signed session cookie
  (a browser), else raises `LoginRequired`: a browser is sent to /login, a script gets 401;
- on a state-changing request from a browser session, checks that the request comes from this
  site (Origin / Sec-Fetch-Site) and carries the session's CSRF token in its form. The form is
  parsed once: FastAPI parsed it for the route's form model already (hundred/web/forms.py).

Form bodies of the print room are small: `FormLimit` refuses one over 16 KiB before it is parsed.
Other bodies (the CRM's webhooks, the studio's JSON and forms) are read by `read_limited`, which
stops at its limit: never buffered beyond it.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import get_route_path  # type: ignore[attr-defined]  # starlette does not re-export it
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hundred.web.auth import SESSION_COOKIE, Auth

MAX_FORM_BYTES = 16 * 1024
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def set_cookie(response: Response, request: Request, name: str, value: str, *, max_age: int, path: str) -> None:
    """Every cookie the print room and the studio set: HttpOnly, SameSite=Strict, Secure over
    https (hundred/web/auth.py), sent back only under `path`."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


class TooLarge(Exception):
    """A request's body passed its limit."""


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refusing (TooLarge) as soon as it passes `limit` bytes: never buffered beyond it."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


# The only routes without the print room's login; each says why it may be open. A path ending
# in "/" covers every route under it. tests/test_web_auth.py walks `app.routes` against this.
PUBLIC: dict[str, str] = {
    "/healthz": "each part's state for monitors and `hundred up`; nothing of the print room",
    "/hooks/": "the CRM's webhooks: each checks its sender's signature itself (hundred/web/hooks.py)",
    "/login": "the login form: it carries a token of its own, bound to a pre-login cookie",
    "/studio": "the journey studio: a login of its own for marketers (hundred/web/studio/door.py)",
}
# Paths whose POST bodies are print room forms (small); the hooks and other parts set their own limits.
FORM_PATHS = ("/print", "/login", "/logout")


def is_public(path: str) -> bool:
    return any(path == open_ or (open_.endswith("/") and path.startswith(open_)) for open_ in PUBLIC)


@dataclass(frozen=True)
class Caller:
    kind: str  # "session" | "token" | "public" (a public route: nobody is asked)
    sid: str | None = None


class LoginRequired(Exception):
    def __init__(self, api: bool, detail: str = "login required"):
        self.api, self.detail = api, detail


class Refused(Exception):
    """A request that is not acceptable (bad CSRF token, foreign Origin, malformed form): 4xx.
    `detail` is English with {names} (the print room catalog's message id) filled from `values`,
    so the page can say it in the print staff's language."""

    def __init__(self, status: int, detail: str, back: str | None = None, **values: Any):
        self.status, self.detail, self.back, self.values = status, detail, back, values

    @property
    def english(self) -> str:
        return self.detail.format(**self.values) if self.values else self.detail


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and "authorization" not in request.headers


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def safe_next(value: str | None) -> str:
    """Only a path of the print room or the journeys' figures (no scheme, no //host, no backslash)."""
    if (
        value
        and value.startswith(("/print", "/journeys"))
        and not value.startswith("//")
        and "\\" not in value
        and not _CONTROL.search(value)
        and len(value) < 512
    ):
        return value
    return "/print"


def valid_batch_id(value: str) -> bool:
    return bool(BATCH_ID.fullmatch(value or ""))


def valid_letter_id(value: str | None) -> bool:
    """A letter id is `<deal>/<touch>`: looked up in the ledger, never used as a path."""
    if not value or len(value) > 300 or _CONTROL.search(value):
        return False
    return ".." not in value.split("/")


def check_origin(request: Request) -> None:
    """A POST that says where it comes from must come from here."""
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin(request):
        raise Refused(403, "this form was sent from another site")
    if origin is None and request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        raise Refused(403, "this form was sent from another site")


def check_form_type(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", ""):
        raise Refused(400, "send the form as application/x-www-form-urlencoded")


class Guard:
    def __init__(self, auth: Auth):
        self.auth = auth

    def caller(self, request: Request) -> Caller:
        """The bearer token's script or the session's browser; `LoginRequired` otherwise."""
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() == "bearer" and self.auth.token_ok(token.strip()):
                return Caller("token")
            raise LoginRequired(api=True, detail="invalid bearer token")
        sid = self.auth.session_id(request.cookies.get(SESSION_COOKIE))
        if sid is None:
            raise LoginRequired(api=not wants_html(request))
        return Caller("session", sid)

    async def door(self, request: Request) -> Caller:
        """The app's one dependency (see the module docstring)."""
        if is_public(get_route_path(request.scope)):  # the path the route matched, in full
            return Caller("public")
        caller = self.caller(request)
        if request.method not in SAFE_METHODS:
            if caller.kind == "session":
                check_origin(request)
            check_form_type(request)
            try:
                form = await request.form()  # parsed once: FastAPI read it for the route's form model
            except HTTPException:
                raise
            except Exception:
                raise Refused(400, "malformed form") from None
            token = form.get("csrf")
            if caller.kind == "session" and not self.auth.csrf_ok(caller.sid or "", str(token or "")):
                raise Refused(403, "the form's security token is missing or stale: reload the page and try again")
        return caller


async def door(request: Request) -> Caller:
    """The app's one dependency: its `Guard` (app.state.guard) lets the request in, or raises."""
    guard: Guard = request.app.state.guard
    return await guard.door(request)


Door = Annotated[Caller, Depends(door)]


class FormLimit:
    """ASGI middleware: a print room POST body over MAX_FORM_BYTES is answered 413 before it is
    parsed (by its Content-Length, or while it streams in)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_FORM_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or scope.get("method") in SAFE_METHODS or not path.startswith(FORM_PATHS):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await JSONResponse({"error": "form too large"}, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, "form too large")
            return message

        await self.app(scope, limited, send)


def login_required_response(request: Request, exc: LoginRequired) -> Response:
    if exc.api:
        return JSONResponse(
            {"error": exc.detail},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="hundred print room"', "Cache-Control": "no-store"},
        )
    target = "/login"
    if request.method == "GET":
        target += "?" + urllib.parse.urlencode(
            {"next": safe_next(request.url.path + ("?" + request.url.query if request.url.query else ""))}
        )
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def security_headers(response: Response, style_hash: str) -> None:
    headers = response.headers
    if response.media_type == "application/pdf" or headers.get("content-type", "").startswith("application/pdf"):
        # no sandbox or default-src: browsers' PDF viewers refuse to show a PDF under them
        headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
    else:
        headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'none'; style-src '{style_hash}'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'",
        )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")  # so the browser sends Origin on our POSTs
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Cache-Control", "no-store")
