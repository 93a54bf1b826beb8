"""Enrichment: a stored won-deal event from Pipedrive or HubSpot → hundred's deal, from the CRM's API.

A stock webhook names the deal's person, organisation and owner only by id, so the deal-closed work
fetches them (through the `CrmApi` port: `hundred.adapters.crm`, built by `hundred.bootstrap.crm`)
and reads each deal field from them by the CRM mapping (`hundred.deals.crm_mapping`). The webhook
itself never calls the CRM: it stores the event and answers 202, so a slow or down CRM API never
makes the CRM retry its webhook.

`enrich` either answers the deal payload (validated by the deal model) or raises `EnrichmentFailed`:

- permanent (401/403 token, 404 person, a mapping that reads nothing, a country name that maps
  to no code, a deal the model refuses): the intake row becomes a dead letter saying which call
  failed and why; `hundred intake replay` tries it again after the fix.
- transient (timeouts, 5xx, 429 after the adapter's retries): the row stays stored and is tried
  again later; an outage loses nothing.

`enrich_stored` applies that to an intake row in the ledger (one home for the dead letter's words).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hundred.deals.crm import mapping_fields
from hundred.deals.crm_events import CrmEventError, stored_won
from hundred.deals.crm_mapping import Mapped, MappingError, evaluate, needed
from hundred.deals.flat import unflatten
from hundred.deals.model import DealError, parse_deal
from hundred.service.ports import Ledger
from hundred.service.records import IntakeRow
from hundred.service.settings import Settings

log = logging.getLogger("hundred.service.enrichment")
VENDORS = ("pipedrive", "hubspot")


# -- the port: what enrichment needs from a CRM's API --------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """One object fetched for a deal: the call that fetched it (for messages: "GET
    /api/v2/persons/55"; never a token) and its data (None: the deal names no such object)."""

    call: str
    data: dict[str, Any] | None


class CrmCallFailed(Exception):
    """A CRM API call that did not answer usefully, after the adapter's retries.

    `permanent`: trying again cannot help (401, 403, 404, 400); else it may (timeout, 5xx, 429)."""

    def __init__(self, call: str, reason: str, *, permanent: bool, status: int | None = None):
        super().__init__(f"{call}: {reason}")
        self.call, self.reason, self.permanent, self.status = call, reason, permanent, status


class CrmApi(Protocol):
    """A CRM's API as enrichment and `hundred crm check` use it (Pipedrive, HubSpot)."""

    vendor: str

    def fetch(self, deal_id: str, wants: Mapping[str, frozenset[str]]) -> dict[str, Fetched]:
        """The deal and the objects it names that `wants` lists (object → the properties read from
        it, which HubSpot needs to ask for), in the shape the mapping documents."""
        ...

    def account(self) -> str:
        """One line naming whose token this is and which account (checks the token)."""
        ...

    def latest_won_deal(self, won_stages: frozenset[str]) -> str | None:
        """The id of the most recently won deal, or None when there is none."""
        ...

    def field_names(self, obj: str) -> dict[str, str] | None:
        """The fields (Pipedrive: custom field keys; HubSpot: property names) of a fetched object
        → their labels, for checking a mapping; None when the object has no such list."""
        ...

    def stages(self) -> dict[str, str]:
        """Deal stage id → "label in pipeline" (HubSpot); {} where stages play no part."""
        ...


# -- enrichment ----------------------------------------------------------------------------------


class EnrichmentFailed(Exception):
    """Why a won deal could not become hundred's deal: which `call` (or the mapping) and why."""

    def __init__(self, reason: str, permanent: bool, call: str):
        super().__init__(reason if call in reason else f"{call}: {reason}")
        self.reason, self.permanent, self.call = reason, permanent, call


@dataclass
class Built:
    """What the fetched objects make: the deal (None when it does not validate), the problems,
    each saying where its value came from, and the calls made."""

    deal: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)
    calls: dict[str, str] = field(default_factory=dict)  # object → the call that fetched it
    mapped: Mapped | None = None
    first_call: str = "the CRM mapping"


def build(vendor: str, objects: Mapping[str, Fetched], fields: Mapping[str, dict[str, Any]], now: datetime) -> Built:
    """Read the deal out of the fetched objects by the mapping and validate it with the deal model;
    each problem names the deal field, what is wrong, where its value was read and by which call."""
    data = {name: f.data for name, f in objects.items()}
    calls = {name: f.call for name, f in objects.items()}
    mapped = evaluate(fields, data)
    out = Built(None, calls=calls, mapped=mapped)
    firsts: list[str] = []

    def where(deal_field: str) -> str:
        source = mapped.sources.get(deal_field) or _parent(deal_field, mapped.sources)
        if source is None:
            return f"not in the {vendor} mapping: add it (README: For the CRM)"
        obj = mapped.objects.get(deal_field) or _parent(deal_field, mapped.objects)
        if obj is None:
            return source
        firsts.append(calls.get(obj, f"the {vendor} mapping"))
        if obj in calls and data.get(obj) is None:
            return f"read from {source}; the deal has no {obj} ({calls[obj]})"
        return f"read from {source}" + (
            f", {calls[obj]}" if obj in calls else f"; '{obj}' is not an object hundred fetches"
        )

    for p in mapped.problems:
        call = calls.get(p.obj or "")
        firsts.append(call or f"the {vendor} mapping")
        out.problems.append(f"{p.field}: {p.message}" + (f" ({call})" if call else ""))
    try:
        deal = parse_deal(unflatten(mapped.flat), source=f"the {vendor} deal", now=now)
    except DealError as exc:
        for problem in exc.problems:
            out.problems.append(f"{problem.path or 'the deal'}: {problem.message} ({where(problem.path)})")
    else:
        if not mapped.problems:
            out.deal = deal.model_dump(mode="json")
    if firsts:
        out.first_call = firsts[0]
    return out


def _parent(path: str, found: Mapping[str, str]) -> str | None:
    """For a problem on a part (`contact` is missing): what its first field was read from."""
    return next((s for f, s in found.items() if f.startswith(path + ".")), None)


def enrich(row: IntakeRow, crm: CrmApi, settings: Settings) -> dict[str, Any]:
    """The deal payload of a stored won-deal event, fetched and mapped. Raises EnrichmentFailed."""
    vendor = row.kind
    try:
        won = stored_won(vendor, row.raw)
    except CrmEventError as exc:
        raise EnrichmentFailed(str(exc), True, "the stored webhook event") from None
    try:
        fields = mapping_fields(vendor, getattr(settings, "crm_mapping", None))
    except MappingError as exc:
        raise EnrichmentFailed(str(exc), True, "the CRM mapping") from None
    try:
        objects = crm.fetch(won.deal_id, needed(fields))
    except CrmCallFailed as exc:
        raise EnrichmentFailed(exc.reason, exc.permanent, exc.call) from None
    built = build(vendor, objects, fields, row.received_at)
    if built.deal is None:
        raise EnrichmentFailed("; ".join(built.problems), True, built.first_call)
    return built.deal


def enrich_stored(ledger: Ledger, row: IntakeRow, crm: Callable[[str], CrmApi], settings: Settings) -> IntakeRow:
    """Enrich a stored event and record the outcome on its intake row, which stays `pending`:

    - with its deal as `payload` (and `deal_id` the deal's id): ready to start;
    - without one and with the reason, an attempt counted: the CRM was unreachable, tried again later;
    - or the row is `dead`, saying which call failed and why (`hundred intake replay` retries it).

    `crm` builds the vendor's API (`hundred.bootstrap.crm`); its ValueError (the CRM's API is not
    configured) is a dead letter saying what to set."""
    try:
        api = crm(row.kind)
    except ValueError as exc:  # the CRM's API is not configured
        reason = f"enrichment failed: {exc}; set it, then `hundred intake replay {row.intake_id}`"
        ledger.set_intake(row.intake_id, "dead", from_states=["pending"], reason=reason[:2000], count_attempt=True)
        return ledger.intake(row.intake_id) or row
    try:
        deal = enrich(row, api, settings)
    except EnrichmentFailed as exc:
        if exc.permanent:
            reason = f"enrichment failed: {exc}; fix it, then `hundred intake replay {row.intake_id}`"
            ledger.set_intake(row.intake_id, "dead", from_states=["pending"], reason=reason[:2000], count_attempt=True)
        else:
            reason = f"waiting for the CRM: {exc}; tried again later"
            ledger.set_intake(row.intake_id, from_states=["pending"], reason=reason[:2000], count_attempt=True)
        log.warning("intake %s (%s deal %s): %s", row.intake_id, row.kind, row.deal_id, reason)
    except Exception as exc:  # a fault of hundred's own: kept and visible, tried again later
        log.exception("intake %s: enrichment failed unexpectedly", row.intake_id)
        reason = f"waiting: enrichment failed unexpectedly ({type(exc).__name__}: {str(exc)[:300]}); tried again later"
        ledger.set_intake(row.intake_id, from_states=["pending"], reason=reason, count_attempt=True)
    else:
        ledger.set_intake(row.intake_id, from_states=["pending"], payload=deal, deal_id=deal["id"], reason=None)
    return ledger.intake(row.intake_id) or row
