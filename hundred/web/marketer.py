"""Who may see how the journeys are doing: the one place that decides it.

For now the figures are behind the print room's door (`hundred/web/guard.py`: its login session or
its bearer token); the print room's staff may see them, as the issue allows. When the studio's
marketer login (HUNDRED_STUDIO_PASSWORD) lands, `marketer` asks it instead, and nothing else in
hundred/web/journeys.py changes.
"""

from __future__ import annotations

from fastapi import Request

from hundred.web.auth import Auth
from hundred.web.guard import Caller, Guard


def _guard(request: Request) -> Guard:
    guard: Guard | None = getattr(request.app.state, "guard", None)
    if guard is None:
        raise RuntimeError("the web app was built without the print room's door (hundred.web.app.create_app)")
    return guard


def marketer(request: Request) -> Caller:
    """The caller, when they may see the figures; raises LoginRequired (a redirect to the login
    page for a browser, 401 for a script) when not."""
    return _guard(request).caller(request)


def csrf_for(request: Request, caller: Caller) -> str:
    """The logout form's token for a session caller."""
    auth: Auth = _guard(request).auth
    return auth.csrf_token(caller.sid) if caller.sid else ""
