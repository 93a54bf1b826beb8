"""A signed JSON POST, delivered at least once and deduplicated by the receiver.

Headers: `Content-Type: application/json`, `Idempotency-Key: <TouchKey.idempotency_key>` (the same
on every attempt and every retried run), `X-Hundred-Signature: t=<unix>,v1=<hex>` where v1 is the
HMAC-SHA256 of `"<t>.<body>"` with the touch's secret (its `secret_env` variable, else the
configured `webhook_secret`). A receiver checks the HMAC and that t is recent (`verify_signature`).

Attempts: retried with exponential backoff on 5xx, 429 and timeouts / connection errors, within a
budget (`webhook_attempts`, `webhook_deadline`); never on another 4xx; redirects are refused (a 3xx
is a failure: it could point anywhere). Unlike email, a row left `sending` by a crashed run is sent
again with the same Idempotency-Key.

Before each delivery the URL is checked with `hundred.journeys.webhook_urls.check_resolved_webhook_url` (the
same rule `validate` applies, plus every address the host resolves to must be public unless
`allow_private_webhooks`), and the request is pinned to an address from that very resolution (the
URL's host replaced by the IP, with the original Host header and TLS server name), so a DNS answer
that changes between check and connect (rebinding) cannot reach a private address.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from hundred.adapters.channels.base import FAILED, PENDING, SENDING, SENT, ChannelConfig, begin
from hundred.adapters.channels.signing import secrets_of, sign, verify_signature  # noqa: F401  (one home: hundred/adapters/channels/signing.py)
from hundred.journeys.webhook_urls import check_resolved_webhook_url
from hundred.rendering.content import WebhookContent
from hundred.service.ports import DeliveryLog, DeliveryResult

USER_AGENT = "hundred-webhook/1"


def resolved_addresses_refused(url: str, allow_private: bool = False) -> str | None:
    """Why `url` must not be posted to (urlsafety's rule, with DNS), or None."""
    return _checked(url, allow_private)[0]


def _checked(url: str, allow_private: bool) -> tuple[str | None, str | None]:
    """(refusal, None) or (None, the checked IP to connect to; None for an IP literal)."""
    answers: list[tuple[Any, ...]] = []

    def resolver(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:  # socket.getaddrinfo's, passed through
        infos: list[tuple[Any, ...]] = list(socket.getaddrinfo(*args, **kwargs))
        answers.extend(infos)
        return infos

    refused = check_resolved_webhook_url(url, allow_private, getaddrinfo=resolver)
    if refused:
        hint = " (set HUNDRED_ALLOW_PRIVATE_WEBHOOKS=true to allow)" if not allow_private else ""
        return f"webhook URL refused: {refused}{hint}", None
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return None, None
    except ValueError:
        pass
    if not answers:  # allow_private: urlsafety did not resolve; resolve here, once
        try:
            answers = resolver(host, None, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            return f"webhook host {host!r} does not resolve ({exc})", None
    return None, str(answers[0][4][0])


def pinned(url: str, ip: str | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with its host replaced by `ip`, plus the Host header and TLS server name to keep."""
    if ip is None:
        return url, {}, {}
    parts = urlsplit(url)
    netloc = f"[{ip}]" if ":" in ip else ip
    if parts.port:
        netloc += f":{parts.port}"
    host = parts.hostname or ""
    headers = {"Host": host + (f":{parts.port}" if parts.port else "")}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}  # TLS still checks the name
    return urlunsplit(parts._replace(netloc=netloc)), headers, extensions


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return 0.0


def post_signed(
    url: str,
    body: bytes,
    secret: str,
    idempotency_key: str,
    *,
    attempts: int = 4,
    backoff: float = 1.0,
    timeout: float = 5.0,
    deadline: float = 25.0,
    client: httpx.Client | None = None,
    pin: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, bool, str]:
    """POST with retries. Returns (delivered, retryable, detail): a 2xx is delivered; a 4xx (not
    429) or 3xx is final; anything else is retryable once the attempts or the deadline run out."""
    started = time.monotonic()
    own = client is None
    client = client or httpx.Client(follow_redirects=False)
    pause, detail = backoff, ""
    url, extra_headers, extensions = pinned(url, pin)
    try:
        for attempt in range(1, attempts + 1):
            remaining = deadline - (time.monotonic() - started)
            if remaining <= 0:
                break
            headers = {
                "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key,
                "X-Hundred-Signature": sign(body, secret, int(time.time())),
                "User-Agent": USER_AGENT,
                **extra_headers,
            }
            wait = pause
            try:
                response = client.post(
                    url,
                    content=body,
                    headers=headers,
                    timeout=min(timeout, remaining),
                    follow_redirects=False,
                    extensions=extensions,
                )
            except httpx.TransportError as exc:  # timeouts, refused/reset connections, protocol errors
                detail = f"attempt {attempt}: {type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                detail = f"attempt {attempt}: HTTP {status} {response.reason_phrase}"
                if 200 <= status < 300:
                    return True, False, detail
                if 300 <= status < 400:
                    return False, False, f"{detail}: redirects are refused (to {response.headers.get('location')!r})"
                if status != 429 and status < 500:
                    return False, False, detail
                wait = max(pause, _retry_after(response))
            if attempt == attempts or time.monotonic() - started + wait >= deadline:
                break
            sleep(wait)
            pause *= 2
        return False, True, f"gave up after {detail}"
    finally:
        if own:
            client.close()


def _secret(content: WebhookContent, config: ChannelConfig) -> str:
    if content.secret_env:
        environ = os.environ if config.environ is None else config.environ
        value = environ.get(content.secret_env)
        if not value:
            raise ValueError(f"the webhook's secret_env {content.secret_env} is not set in the environment")
        return value
    if not config.webhook_secret:
        raise ValueError("no webhook signing secret: set HUNDRED_WEBHOOK_SECRET or the touch's secret_env")
    return (secrets_of(config.webhook_secret) or [config.webhook_secret])[0]  # "new,old" while rotating: the first


def deliver_webhook(
    content: WebhookContent, log: DeliveryLog, config: ChannelConfig, *, client: httpx.Client | None = None
) -> DeliveryResult:
    idem = content.key.idempotency_key
    dkey, state = begin(log, content.key, "webhook", idem)
    if state == SENT:
        return DeliveryResult("already-sent", f"already delivered (Idempotency-Key {idem})", idem)
    try:
        secret, refused = _secret(content, config), None
    except ValueError as exc:
        secret, refused = "", str(exc)
    pin = None
    if not refused:
        refused, pin = _checked(content.url, config.allow_private_webhooks)
    if refused:
        log.mark_delivery(dkey, FAILED, detail=refused, from_states=(PENDING, FAILED, SENDING))
        return DeliveryResult("failed", refused, idem)
    # A row left `sending` is sent again: the receiver dedupes on the Idempotency-Key.
    log.mark_delivery(dkey, SENDING, from_states=(PENDING, FAILED, SENDING))
    delivered, retryable, detail = post_signed(
        content.url,
        content.body.encode("utf-8"),
        secret,
        idem,
        attempts=config.webhook_attempts,
        backoff=config.webhook_backoff,
        timeout=config.webhook_timeout,
        deadline=config.webhook_deadline,
        client=client,
        pin=pin,
    )
    if delivered:
        log.mark_delivery(dkey, SENT, detail=detail, from_states=(SENDING,))
        return DeliveryResult("sent", detail, idem)
    detail = f"{detail} ({'retryable' if retryable else 'refused by the receiver'})"
    log.mark_delivery(dkey, FAILED, detail=detail, from_states=(SENDING,))
    return DeliveryResult("failed", detail, idem)
