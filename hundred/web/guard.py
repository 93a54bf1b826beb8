"""The print room's door: who is calling, CSRF and Origin checks, form parsing, safe headers.

Every print room route asks `Guard.caller(request)` first; it raises `LoginRequired`, which the
app answers with a redirect to /login for a browser, and 401 for a script or a bad bearer token.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hundred.web.auth import SESSION_COOKIE, Auth

MAX_FORM_BYTES = 16 * 1024
BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Caller:
    kind: str  # "session" | "token"
    sid: str | None = None


class LoginRequired(Exception):
    def __init__(self, api: bool, detail: str = "login required"):
        self.api, self.detail = api, detail


class Refused(Exception):
    """A request that is not acceptable (bad CSRF token, foreign Origin, malformed form): 403/400."""

    def __init__(self, status: int, detail: str, back: str | None = None):
        self.status, self.detail, self.back = status, detail, back


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
    return bool(value) and len(value) <= 300 and not _CONTROL.search(value) and ".." not in value.split("/")


class Guard:
    def __init__(self, auth: Auth):
        self.auth = auth

    def caller(self, request: Request) -> Caller:
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

    def check_origin(self, request: Request) -> None:
        """A POST that says where it comes from must come from here."""
        origin = request.headers.get("origin")
        if origin is not None and origin != own_origin(request):
            raise Refused(403, "this form was sent from another site")
        if origin is None and request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
            raise Refused(403, "this form was sent from another site")

    async def form(self, request: Request, caller: Caller | None = None) -> dict[str, str]:
        """The urlencoded form, CSRF-checked for a session caller (a token caller has no cookie)."""
        if caller is None or caller.kind == "session":
            self.check_origin(request)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/x-www-form-urlencoded", ""):
            raise Refused(400, "send the form as application/x-www-form-urlencoded")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise Refused(413, "form too large")
        try:
            pairs = urllib.parse.parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, max_num_fields=20, strict_parsing=False
            )
        except (UnicodeDecodeError, ValueError):
            raise Refused(400, "malformed form") from None
        form = {}
        for key, value in pairs:
            form.setdefault(key, value)
        if (
            caller is not None
            and caller.kind == "session"
            and not self.auth.csrf_ok(caller.sid or "", form.get("csrf"))
        ):
            raise Refused(403, "the form's security token is missing or stale: reload the page and try again")
        return form


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
