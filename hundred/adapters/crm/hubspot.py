"""HubSpot's CRM API (v3): a won deal with its associated contact and company, and its owner.

`GET /crm/v3/objects/deals/{id}?properties=…&associations=contacts,companies` reads the deal with
the properties the mapping names; association lists longer than a page are followed
(`/crm/v3/objects/deals/{id}/associations/{type}?after=…`). The first associated contact and the
primary company (association type `deal_to_company`, else the first) are read with
`POST /crm/v3/objects/{contacts,companies}/batch/read`, the owner with `GET /crm/v3/owners/{id}`.

Each object reaches the mapping flat: its id and its properties by internal name
(`contact.firstname`, `company.zip`, `deal.dealname`); the owner as HubSpot answers it
(`email`, `firstName`, `lastName`) plus `name` ("firstName lastName"). The private app token is
sent as `Authorization: Bearer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hundred.adapters.crm.http import CrmHttp
from hundred.service.enrichment import CrmCallFailed, Fetched

DEAL_PROPERTIES = frozenset({"dealstage", "pipeline", "hubspot_owner_id", "closedate"})
OBJECT_TYPES = {"deal": "deals", "contact": "contacts", "company": "companies"}
ASSOCIATION_PAGES_MAX = 20


class HubSpotApi:
    vendor = "hubspot"

    def __init__(self, http: CrmHttp):
        self.http = http

    def fetch(self, deal_id: str, wants: Mapping[str, frozenset[str]]) -> dict[str, Fetched]:
        properties = sorted((DEAL_PROPERTIES | (wants.get("deal") or frozenset())) - {"id"})
        path = f"/crm/v3/objects/deals/{deal_id}"
        body = self.http.get(path, {"properties": ",".join(properties), "associations": "contacts,companies"})
        if not isinstance(body, dict) or "id" not in body:
            raise CrmCallFailed(f"GET {path}", "answered without the deal", permanent=True)
        call = f"GET {path}"
        found = {"deal": Fetched(call, {**(body.get("properties") or {}), "id": str(body["id"])})}
        associations = body.get("associations") or {}
        todo: dict[str, Any] = {}
        if "contact" in wants:
            contacts = self._associated(deal_id, "contacts", associations.get("contacts"))
            todo["contact"] = (self._batch_read, "contacts", contacts[:1], wants["contact"])
            if not contacts:
                found["contact"] = Fetched(f"{call} (no associated contact)", None)
        if "company" in wants:
            companies = self._associated(deal_id, "companies", associations.get("companies"))
            primary = [c for c, kind in companies if kind == "deal_to_company"] or [c for c, _ in companies]
            todo["company"] = (self._batch_read, "companies", [(c, "") for c in primary[:1]], wants["company"])
            if not primary:
                found["company"] = Fetched(f"{call} (no associated company)", None)
        if "owner" in wants:
            owner_id = (found["deal"].data or {}).get("hubspot_owner_id")
            if owner_id:
                todo["owner"] = (self._owner, str(owner_id))
            else:
                found["owner"] = Fetched(f"{call} (hubspot_owner_id is empty)", None)
        todo = {name: job for name, job in todo.items() if name not in found}
        if todo:
            with ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix="hubspot") as pool:
                futures = {name: pool.submit(job[0], *job[1:]) for name, job in todo.items()}
                for name, future in futures.items():
                    found[name] = future.result()
        return found

    def _associated(self, deal_id: str, kind: str, first: Any) -> list[tuple[str, str]]:
        """(id, association type) of every associated object, following the pages."""
        page = first if isinstance(first, dict) else {}
        out: list[tuple[str, str]] = []
        for _ in range(ASSOCIATION_PAGES_MAX):
            out += [(str(r.get("id")), str(r.get("type") or "")) for r in page.get("results") or [] if r.get("id")]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
            page = self.http.get(f"/crm/v3/objects/deals/{deal_id}/associations/{kind}", {"after": after, "limit": 500})
            page = page if isinstance(page, dict) else {}
        seen: dict[str, str] = {}
        for object_id, kind_name in out:  # an id comes once per association type: keep its primary one
            if seen.get(object_id) != "deal_to_company":
                seen[object_id] = kind_name
        return list(seen.items())

    def _batch_read(self, kind: str, ids: list[tuple[str, str]], properties: frozenset[str]) -> Fetched:
        path = f"/crm/v3/objects/{kind}/batch/read"
        call = f"POST {path}"
        body = self.http.post(path, {"properties": sorted(properties - {"id"}), "inputs": [{"id": i} for i, _ in ids]})
        results = body.get("results") if isinstance(body, dict) else None
        if not results:
            errors = body.get("errors") if isinstance(body, dict) else None
            why = (errors[0].get("message") if errors and isinstance(errors[0], dict) else None) or "not found"
            raise CrmCallFailed(call, f"{kind[:-1]} {ids[0][0]}: {why}", permanent=True, status=404)
        first = results[0]
        return Fetched(
            f"{call} ({kind} {first.get('id')})", {**(first.get("properties") or {}), "id": str(first.get("id"))}
        )

    def _owner(self, owner_id: str) -> Fetched:
        path = f"/crm/v3/owners/{owner_id}"
        owner = self.http.get(path)
        if not isinstance(owner, dict):
            raise CrmCallFailed(f"GET {path}", "answered without the owner", permanent=True)
        name = " ".join(str(owner.get(k) or "").strip() for k in ("firstName", "lastName")).strip()
        return Fetched(f"GET {path}", {**owner, "name": name or None})

    def account(self) -> str:
        info = self.http.get("/account-info/v3/details")
        if not isinstance(info, dict):
            return "HubSpot (the token works)"
        return f"HubSpot account {info.get('portalId')} ({info.get('uiDomain') or 'app.hubspot.com'}, currency {info.get('companyCurrency') or '?'})"

    def latest_won_deal(self, won_stages: frozenset[str]) -> str | None:
        body = self.http.post(
            "/crm/v3/objects/deals/search",
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "dealstage", "operator": "IN", "values": sorted(won_stages)}]}
                ],
                "sorts": [{"propertyName": "closedate", "direction": "DESCENDING"}],
                "properties": ["dealname", "dealstage"],
                "limit": 1,
            },
        )
        results = body.get("results") if isinstance(body, dict) else None
        return str(results[0]["id"]) if results else None

    def field_names(self, obj: str) -> dict[str, str] | None:
        if obj not in OBJECT_TYPES:
            return None
        body = self.http.get(f"/crm/v3/properties/{OBJECT_TYPES[obj]}")
        return {str(p.get("name")): str(p.get("label") or p.get("name")) for p in (body or {}).get("results") or []}

    def stages(self) -> dict[str, str]:
        body = self.http.get("/crm/v3/pipelines/deals")
        out = {}
        for pipeline in (body or {}).get("results") or []:
            for stage in pipeline.get("stages") or []:
                out[str(stage.get("id"))] = f"{stage.get('label')} in {pipeline.get('label')}"
        return out
