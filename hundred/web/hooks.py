"""The CRM's way in: signed webhooks and the HubSpot / Pipedrive adapters (`/hooks/*`).

Not behind the print room login: each route checks its sender itself (hundred's own
`X-Hundred-Signature`, HubSpot's v3 signature, Pipedrive's Basic auth) and answers 401 otherwise.
The body is read up to the limit (`intake_max_bytes`, 1 MiB) and no further: 413 above it. A
refused sender (401) or an oversized body (413) is not written to the ledger (anyone can send
those); everything else goes through `hundred.service.intake.Intake`: stored before the answer, 202 when
accepted, 422 (404 for an update of an unknown deal) with the field errors, kept as a dead letter.

`/hooks/pipedrive` and `/hooks/hubspot` take the CRMs' stock webhooks: each deal that became won is
stored as sent (one intake row per deal, by the CRM's ids) and answered 202 at once; no CRM API
is called here, so a slow or down CRM API never makes the CRM retry its webhook. The deal-closed
work fetches the person, organisation and owner afterwards (`hundred.service.enrichment`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from hundred import bootstrap
from hundred.adapters.channels.signing import HEADER, verify_signature
from hundred.adapters.ledger import Ledger as SqlLedger
from hundred.adapters.prefect.scheduler import PrefectScheduler
from hundred.deals.crm import basic_auth_valid, hubspot_valid
from hundred.service.answers import Answer, Headers
from hundred.service.intake import Intake
from hundred.service.no_prefect import NoPrefect
from hundred.service.settings import Settings
from hundred.web.guard import TooLarge, read_limited

log = logging.getLogger("hundred.web.hooks")


class IntakeServices:
    """The ledger and a REST scheduler, opened on first use; `intake()` hands out the service."""

    def __init__(self, home: Path, settings: Settings, intake: Intake | None = None):
        self.home, self.settings = home, settings
        self._intake = intake
        self._ledger: SqlLedger | None = None
        self._scheduler: PrefectScheduler | NoPrefect | None = None
        self._lock = threading.Lock()

    def intake(self) -> Intake:
        if self._intake is not None:
            return self._intake
        api = bootstrap.prefect_api(self.settings)
        with self._lock:
            if self._ledger is None:
                self._ledger = bootstrap.ledger(self.settings)
            if self._scheduler is None or getattr(self._scheduler, "api_url", "") != (api or "").rstrip("/"):
                # SQLite's Prefect answers 503 when concurrent writers collide: a few quick retries
                # keep one run per moment; the deal is stored before any of this, so nothing waits on it
                self._scheduler = bootstrap.scheduler(self.settings, attempts=4, timeout=10.0)
            return bootstrap.intake(self.settings, ledger_=self._ledger, scheduler_=self._scheduler)


def _json(answer: Answer) -> JSONResponse:
    return JSONResponse(answer.body, status_code=answer.status)


def _refused(detail: str) -> JSONResponse:
    return JSONResponse({"error": detail}, status_code=401)


def build_hooks_router(services: IntakeServices) -> APIRouter:
    router = APIRouter(prefix="/hooks")
    settings = services.settings

    async def body_or_413(request: Request) -> bytes | Response:
        try:
            return await read_limited(request, settings.intake_max_bytes)
        except TooLarge:
            return JSONResponse(
                {"error": f"the body is larger than {settings.intake_max_bytes:,} bytes"}, status_code=413
            )

    async def signed(request: Request, call: Callable[[Intake, bytes, Headers], Answer]) -> Response:
        body = await body_or_413(request)
        if isinstance(body, Response):
            return body
        if not settings.webhook_secret:
            return _refused("hooks are closed: no HUNDRED_WEBHOOK_SECRET is configured")
        if not verify_signature(request.headers.get(HEADER), body, settings.webhook_secret):
            return _refused(
                f"missing, wrong or expired {HEADER} (t=<unix seconds>,v1=<hex HMAC-SHA256 of "
                "'<t>.<body>'>, at most 5 minutes old)"
            )
        return await _stored(call, body, request.headers)

    async def _stored(call: Callable[..., Answer], *args: Any) -> Response:
        """The intake's answer; 503 when it failed (e.g. the ledger cannot be written): the CRM sends
        it again, and a repeat is safe (the same delivery is one intake row and one run)."""
        try:
            return _json(await run_in_threadpool(lambda: call(services.intake(), *args)))
        except Exception as exc:
            log.exception("intake failed")
            return JSONResponse(
                {"error": f"could not take the delivery ({type(exc).__name__}): send it again (a repeat is safe)"},
                status_code=503,
                headers={"Retry-After": "30"},
            )

    @router.post("/deal-closed")
    async def deal_closed(request: Request) -> Response:
        return await signed(request, lambda intake, body, headers: intake.closed(body, source="hook", headers=headers))

    @router.post("/deal-updated")
    async def deal_updated(request: Request) -> Response:
        return await signed(request, lambda intake, body, headers: intake.updated(body, source="hook", headers=headers))

    @router.post("/deal-cancelled")
    async def deal_cancelled(request: Request) -> Response:
        return await signed(
            request, lambda intake, body, headers: intake.cancelled(body, source="hook", headers=headers)
        )

    def vendor(intake: Intake, name: str, body: bytes, headers: Headers) -> Answer:
        return intake.crm_webhook(name, body, headers=headers)

    def public_uri(request: Request) -> str:
        if settings.public_url:
            query = f"?{request.url.query}" if request.url.query else ""
            return settings.public_url.rstrip("/") + request.url.path + query
        return str(request.url)

    @router.post("/hubspot")
    async def hubspot(request: Request) -> Response:
        body = await body_or_413(request)
        if isinstance(body, Response):
            return body
        if not hubspot_valid(
            settings.hubspot_secret,
            "POST",
            public_uri(request),
            body,
            request.headers.get("x-hubspot-signature-v3"),
            request.headers.get("x-hubspot-request-timestamp"),
        ):
            return _refused(
                "missing, wrong or expired X-HubSpot-Signature-v3 (HUNDRED_HUBSPOT_SECRET is the app secret)"
            )
        return await _stored(vendor, "hubspot", body, request.headers)

    @router.post("/pipedrive")
    async def pipedrive(request: Request) -> Response:
        body = await body_or_413(request)
        if isinstance(body, Response):
            return body
        if not basic_auth_valid(settings.pipedrive_auth, request.headers.get("authorization")):
            return JSONResponse(
                {"error": "missing or wrong HTTP Basic auth (HUNDRED_PIPEDRIVE_AUTH)"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="hundred"'},
            )
        return await _stored(vendor, "pipedrive", body, request.headers)

    return router
