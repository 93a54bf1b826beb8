"""One CRM API over HTTP: timeouts, retries with backoff, Retry-After, a concurrency limit, and
tokens kept out of everything that is logged, raised or stored.

Every call is named by its method and path ("GET /api/v2/persons/55"): that name is what the dead
letters, the logs and `hundred crm check` show. The token travels only in a header (Pipedrive's
`x-api-token`, HubSpot's `Authorization: Bearer`), never in a URL, and every message built here
from an answer of the API is passed through `redact`, in case a server echoes it.

- 429 and 5xx (and timeouts, refused connections) are tried again, up to `attempts` in all,
  waiting Retry-After (seconds or an HTTP date) when the API sends one, else an exponential backoff
  with jitter; a Retry-After longer than `max_wait` is not waited for (the deal is tried later).
- 401/403 (the token), 404 (the object) and other 4xx are permanent: trying again cannot help.
- At most `max_concurrent` calls are in flight at once per client (`hundred.bootstrap.crm` keeps
  one client per CRM and process).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from hundred.service.enrichment import CrmCallFailed

log = logging.getLogger("hundred.adapters.crm")
RETRIED = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 20.0


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[token]")
    return text


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds: `120` or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - (now if now is not None else datetime.now(UTC).timestamp()))


class CrmHttp:
    """A CRM's API at `base_url` with an auth header; `get`/`post` answer the decoded JSON body."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        secrets: tuple[str, ...],
        token_hint: str,
        timeout: float = 15.0,
        attempts: int = 4,
        max_concurrent: int = 4,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.vendor, self._secrets, self.token_hint = vendor, secrets, token_hint
        self.attempts, self.max_wait, self.sleep = attempts, max_wait, sleep
        self.base_url = base_url.rstrip("/")
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"accept": "application/json", "user-agent": "hundred", **headers},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
        )
        self.calls = 0  # requests sent, retries included (tests and `crm check` count them)

    def __repr__(self) -> str:
        return f"CrmHttp({self.vendor!r}, {self.base_url!r})"  # never the token

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        call = f"{method} {path}"
        for attempt in range(1, self.attempts + 1):
            wait: float | None
            try:
                with self._slots:
                    self.calls += 1
                    response = self._client.request(method, path, params=params, json=json)
            except httpx.TimeoutException:
                reason, wait = f"no answer within {self._client.timeout.read:g} s", None
            except httpx.TransportError as exc:
                reason, wait = f"could not reach {self.base_url}: {type(exc).__name__}", None
            else:
                if response.status_code < 300:
                    return self._json(call, response)
                reason = self._refusal(response)
                if response.status_code not in RETRIED:
                    raise CrmCallFailed(call, reason, permanent=True, status=response.status_code)
                wait = retry_after(response.headers.get("retry-after"))
                if wait is not None and wait > self.max_wait:
                    raise CrmCallFailed(
                        call, f"{reason}; Retry-After {wait:.0f} s is longer than hundred waits", permanent=False
                    )
            if attempt == self.attempts:
                break
            delay = (
                wait
                if wait is not None
                else min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            )
            log.info(
                "%s %s: %s; trying again in %.1f s (attempt %d of %d)",
                self.vendor,
                call,
                reason,
                delay,
                attempt + 1,
                self.attempts,
            )
            self.sleep(delay)
        raise CrmCallFailed(call, f"{reason} (tried {self.attempts} times)", permanent=False)

    def _json(self, call: str, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise CrmCallFailed(
                call, f"answered {response.status_code} with a body that is not JSON", permanent=False
            ) from None

    def _refusal(self, response: httpx.Response) -> str:
        """ "answered 404 Not Found: <the API's own message>", the token never included."""
        status = f"answered {response.status_code} {response.reason_phrase}".rstrip()
        message = ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            message = str(body.get("message") or body.get("error") or body.get("error_info") or "")
        message = redact(" ".join(message.split())[:300], self._secrets)
        if 300 <= response.status_code < 400:
            moved = response.headers.get("location", "elsewhere").split("?")[0]
            return f"{status}: the API answered from {moved}; check the API address setting"
        if response.status_code in (401, 403):
            hint = (
                f"the token was refused: set {self.token_hint} to a valid token"
                if response.status_code == 401
                else f"the token ({self.token_hint}) may not make this call: give it the permission (scope) it needs"
            )
            return f"{status}: {hint}" + (f" ({message})" if message else "")
        return f"{status}: {message}" if message else status
