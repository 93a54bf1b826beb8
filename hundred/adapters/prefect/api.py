"""Prefect's REST API as hundred speaks it, over httpx rather than Prefect's client (so the web app
never pays for importing Prefect): auth as Prefect's client does it (PREFECT_API_AUTH_STRING, Basic,
wins over PREFECT_API_KEY, Bearer), the API version the server itself reports (never a constant that
can drift from the installed Prefect), and transient answers (502/503/504, SQLite's "database is
locked", a restarting server) retried with jittered backoff.
"""

from __future__ import annotations

import base64
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

log = logging.getLogger("hundred.scheduler")
T = TypeVar("T")


class PrefectAPIError(RuntimeError):
    """The Prefect API refused a call (the status and the server's words are in the message)."""

    def __init__(self, what: str, response: httpx.Response):
        self.status_code = response.status_code
        super().__init__(f"{what}: Prefect API answered {response.status_code}: {response.text[:300]}")


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, PrefectAPIError):
        return exc.status_code in (502, 503, 504) or (exc.status_code == 500 and "database is locked" in str(exc))
    return isinstance(exc, (httpx.TransportError, httpx.TimeoutException))


def auth_headers() -> dict[str, str]:
    headers = {}
    auth_string, api_key = os.environ.get("PREFECT_API_AUTH_STRING"), os.environ.get("PREFECT_API_KEY")
    if auth_string:
        headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
    elif api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


class PrefectAPI:
    """The calls of `PrefectScheduler`, which builds the client (`_http`) and sets `attempts`."""

    _http: httpx.Client
    attempts: int
    _versioned: bool

    def _announce_version(self) -> None:
        """Send the X-PREFECT-API-VERSION the server itself reports, as Prefect's client does."""
        if self._versioned:
            return
        response = retrying(lambda: self._http.get("version"), "read the Prefect API version", self.attempts)
        if response.status_code == 200:
            self._http.headers["X-PREFECT-API-VERSION"] = str(response.json())
        self._versioned = True

    def _call(
        self, method: str, path: str, what: str, *, json: Any = None, missing_ok: bool = False, raw: bool = False
    ) -> Any:
        self._announce_version()

        def once() -> Any:
            response = self._http.request(method, path, json=json)
            if missing_ok and response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise PrefectAPIError(what, response)
            if raw:
                return response
            return response.json() if response.content else None

        return retrying(once, what, self.attempts)


def retrying(
    call: Callable[[], T],
    what: str,
    attempts: int = 4,
    *,
    transient: Callable[[BaseException], bool] = _transient,
    base_delay: float = 0.5,
) -> T:
    """`call()`, retried with jittered backoff while `transient(error)` says another try may work
    (SQLite busy, a restarting server)."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not transient(exc):
                raise
            delay = base_delay * 2 ** (attempt - 1) * (1 + random.random() / 2)
            log.warning("%s: %s; retrying in %.1fs (%d/%d)", what, exc, delay, attempt, attempts - 1)
            time.sleep(delay)
    raise AssertionError("unreachable")
