"""What a stock Pipedrive or HubSpot webhook says: which deals just became won (pure).

A webhook carries ids, not the deal hundred needs (no email, no postal address): the intake stores
each won-deal event as it came, and the deal-closed work fetches the rest from the CRM's API
(`hundred.service.enrichment`). Here only the event is read:

- Pipedrive, webhooks v1 (`{"v": 1, "meta": {"object": "deal", "action": "updated", …},
  "current": {…}, "previous": {…}}`) and v2 (`{"meta": {"entity": "deal", "action": "change", …},
  "data": {…}, "previous": {…changed fields…}}`): won when the status *changed* to `won` (or a
  deal was created won), not on every later update of a won deal.
- HubSpot: a JSON array of up to 100 events; a `deal.propertyChange` (or `object.propertyChange`
  on object type 0-3) of `dealstage` to one of the won stage ids (configuration: pipelines have
  their own ids). Each event is read on its own, so one bad event does not fail the others.

Each won deal gets a key from the vendor's ids (`pipedrive:<company>:deal:<id>:won`): the same
deal delivered twice, or by two webhooks at once, is one intake row.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

RAW_EVENT_MAX = 48 * 1024  # a stored event stays whole (the intake keeps 64 KiB of a body)


class CrmEventError(ValueError):
    """The payload is not a webhook event hundred can read; the message says what is wrong."""


@dataclass(frozen=True)
class WonDeal:
    vendor: str
    deal_id: str  # the CRM's id of the deal
    account: str  # Pipedrive company id, HubSpot portal id ("-" when the event has none)
    event: dict[str, Any]  # what is stored: the event (a large Pipedrive body without custom fields)

    @property
    def key(self) -> str:
        return f"{self.vendor}:{self.account}:deal:{self.deal_id}:won"

    @property
    def raw(self) -> str:
        return json.dumps(self.event, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class HubSpotItem:
    """One event of a HubSpot batch: a won deal, ignored (`why`), or refused (`problem`)."""

    index: int
    event: Any
    won: WonDeal | None = None
    why: str | None = None
    problem: str | None = None


def _id(value: Any, what: str) -> str:
    if isinstance(value, bool) or value is None:
        raise CrmEventError(f"{what} is missing")
    text = str(value).strip()
    if not text or len(text) > 64 or not text.replace("-", "").replace("_", "").isalnum():
        raise CrmEventError(f"{what} {text[:40]!r} is not a CRM id")
    return text


def _account(value: Any) -> str:
    try:
        return _id(value, "the account id")
    except CrmEventError:
        return "-"


# -- Pipedrive -----------------------------------------------------------------------------------


def pipedrive_won(payload: Any) -> tuple[WonDeal | None, str | None]:
    """(the won deal, None), or (None, why it is ignored). CrmEventError: not a Pipedrive webhook."""
    if not isinstance(payload, dict):
        raise CrmEventError(f"a Pipedrive webhook is a JSON object, got {type(payload).__name__}")
    meta = payload.get("meta")
    if not isinstance(meta, dict):
        raise CrmEventError("a Pipedrive webhook has a 'meta' object")
    v2 = "entity" in meta or "data" in payload
    entity = meta.get("entity") if v2 else meta.get("object")
    action = str(meta.get("action") or "")
    if entity != "deal":
        return None, f"not a deal event ({'meta.entity' if v2 else 'meta.object'} is {entity!r})"
    deal = payload.get("data" if v2 else "current")
    previous = payload.get("previous")
    if action in ("delete", "deleted") or deal is None:
        return None, f"a deal {action or 'event'} without the deal"
    if not isinstance(deal, dict):
        raise CrmEventError(f"'{'data' if v2 else 'current'}' must be the deal object")
    if deal.get("status") != "won":
        return None, f"the deal's status is {deal.get('status')!r}, not won"
    created = action in ("create", "added") or previous is None
    if not created:
        if not isinstance(previous, dict):
            raise CrmEventError("'previous' must be an object")
        if "status" not in previous:
            return None, "the deal was already won (its status did not change)"
        if previous.get("status") == "won":
            return None, "the deal was already won"
    deal_id = _id(deal.get("id", meta.get("entity_id" if v2 else "id")), "the deal's id")
    return WonDeal("pipedrive", deal_id, _account(meta.get("company_id")), _stored(payload, v2)), None


def _stored(payload: dict[str, Any], v2: bool) -> dict[str, Any]:
    """The body as sent; a very large one (many custom fields) without `previous` and the
    40-character custom field keys, which the API fetch reads again anyway."""
    if len(json.dumps(payload, ensure_ascii=False)) <= RAW_EVENT_MAX:
        return payload
    deal_key = "data" if v2 else "current"
    deal = {k: v for k, v in payload[deal_key].items() if not (len(k) == 40 and k.isalnum()) and k != "custom_fields"}
    return {
        **{k: v for k, v in payload.items() if k not in ("previous", deal_key)},
        deal_key: deal,
        "previous": {"status": (payload.get("previous") or {}).get("status")},
        "_trimmed": "custom fields and 'previous' were left out: the body was larger than 48 KiB",
    }


# -- HubSpot -------------------------------------------------------------------------------------


def hubspot_items(payload: Any, won_stages: Collection[str]) -> list[HubSpotItem]:
    """Each event of a HubSpot webhook body. CrmEventError only when the body is not a list."""
    if isinstance(payload, dict):
        payload = [payload]  # one event, as a test delivery from the app settings may send it
    if not isinstance(payload, list):
        raise CrmEventError(f"a HubSpot webhook is a JSON array of events, got {type(payload).__name__}")
    items = []
    for index, event in enumerate(payload):
        try:
            won, why = hubspot_won(event, won_stages)
        except CrmEventError as exc:
            items.append(HubSpotItem(index, event, problem=str(exc)))
        else:
            items.append(HubSpotItem(index, event, won=won, why=why))
    return items


def hubspot_won(event: Any, won_stages: Collection[str]) -> tuple[WonDeal | None, str | None]:
    if not isinstance(event, dict):
        raise CrmEventError(f"an event is a JSON object, got {type(event).__name__}")
    kind = str(event.get("subscriptionType") or "")
    is_deal = kind.startswith("deal.") or (kind.startswith("object.") and str(event.get("objectTypeId")) == "0-3")
    if not kind:
        raise CrmEventError("the event has no subscriptionType")
    if not is_deal:
        return None, f"not a deal event ({kind})"
    if not kind.endswith(".propertyChange") or event.get("propertyName") != "dealstage":
        what = f"{kind} of {event.get('propertyName')}" if event.get("propertyName") else kind
        return None, f"not a deal stage change ({what})"
    stage = str(event.get("propertyValue") or "")
    if stage not in won_stages:
        return None, f"stage {stage!r} is not a won stage (HUNDRED_HUBSPOT_WON_STAGES)"
    deal_id = _id(event.get("objectId"), "objectId")
    return WonDeal("hubspot", deal_id, _account(event.get("portalId")), event), None


def stored_won(vendor: str, raw: str | None) -> WonDeal:
    """The won deal of an intake row's stored event (for the API fetch, and a replay)."""
    try:
        payload = json.loads(raw or "")
    except ValueError as exc:
        raise CrmEventError(f"the stored event is not JSON: {exc}") from None
    if vendor == "pipedrive":
        won, why = pipedrive_won(payload)
    elif vendor == "hubspot":
        won, why = hubspot_won(payload, {str(payload.get("propertyValue"))} if isinstance(payload, dict) else ())
    else:
        raise CrmEventError(f"unknown CRM {vendor!r}")
    if won is None:
        raise CrmEventError(f"the stored event is not a won deal: {why}")
    return won
