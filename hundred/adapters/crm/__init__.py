"""The CRMs' APIs (httpx): Pipedrive and HubSpot, fitting `hundred.service.enrichment.CrmApi`.

`connect` builds one from its address and token; `hundred.bootstrap.crm` calls it with the
settings and keeps one per CRM and process, so the concurrency limit holds for the process.
"""

from __future__ import annotations

from typing import Any

from hundred.adapters.crm.http import CrmHttp
from hundred.adapters.crm.hubspot import HubSpotApi
from hundred.adapters.crm.pipedrive import PipedriveApi

TOKEN_SETTINGS = {"pipedrive": "HUNDRED_PIPEDRIVE_API_TOKEN", "hubspot": "HUNDRED_HUBSPOT_TOKEN"}


def connect(
    vendor: str,
    base_url: str,
    token: str,
    *,
    version: str = "v2",
    timeout: float = 15.0,
    attempts: int = 4,
    max_concurrent: int = 4,
    max_wait: float = 60.0,
    **http: Any,
) -> PipedriveApi | HubSpotApi:
    if vendor == "pipedrive":
        headers = {"x-api-token": token}
    elif vendor == "hubspot":
        headers = {"authorization": f"Bearer {token}"}
    else:
        raise ValueError(f"unknown CRM {vendor!r}: pipedrive or hubspot")
    client = CrmHttp(
        vendor,
        base_url,
        headers,
        secrets=(token,),
        token_hint=TOKEN_SETTINGS[vendor],
        timeout=timeout,
        attempts=attempts,
        max_concurrent=max_concurrent,
        max_wait=max_wait,
        **http,
    )
    return PipedriveApi(client, version) if vendor == "pipedrive" else HubSpotApi(client)


__all__ = ["CrmHttp", "HubSpotApi", "PipedriveApi", "connect"]
