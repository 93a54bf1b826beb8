"""Pipedrive's API: a won deal, its person, organisation and owner, read in API v2's shape.

Deals, persons and organisations come from API v2 (`/api/v2/…`, the default) or v1 (`/api/v1/…`,
HUNDRED_PIPEDRIVE_API_VERSION=v1); users (the owner) and the field lists only exist in v1. Either
way the objects handed to the mapping have v2's shape (`pipedrive_shapes`), so one mapping works
with both. The base URL is the company's own Pipedrive address; the token goes in the
`x-api-token` header, never in a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hundred.adapters.crm.http import CrmHttp
from hundred.adapters.crm.pipedrive_shapes import deal as deal_shape, organization, person, user
from hundred.service.enrichment import CrmCallFailed, Fetched

PAGE = 100
FIELD_LISTS = {"deal": "dealFields", "person": "personFields", "organization": "organizationFields"}
FIELD_PAGES_MAX = 50


class PipedriveApi:
    vendor = "pipedrive"

    def __init__(self, http: CrmHttp, version: str = "v2"):
        self.http, self.version = http, version

    def _data(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        body = self.http.get(path, params)
        if not isinstance(body, dict) or body.get("success") is False:
            message = body.get("error") if isinstance(body, dict) else None
            raise CrmCallFailed(
                f"GET {path}", f"answered success: false ({message or 'no reason given'})", permanent=True
            )
        return body.get("data")

    def _object(self, kind: str, object_id: Any) -> Fetched:
        path = f"/api/{'v1' if kind == 'users' else self.version}/{kind}/{object_id}"
        data = self._data(path)
        if not isinstance(data, dict):
            raise CrmCallFailed(f"GET {path}", "answered without the object (was it deleted?)", permanent=True)
        shape = {"deals": deal_shape, "persons": person, "organizations": organization, "users": user}[kind]
        return Fetched(f"GET {path}", shape(data))

    def fetch(self, deal_id: str, wants: Mapping[str, frozenset[str]]) -> dict[str, Fetched]:
        deal = self._object("deals", deal_id)
        assert deal.data is not None
        found = {"deal": deal}
        linked = {
            "person": ("persons", "person_id"),
            "organization": ("organizations", "org_id"),
            "owner": ("users", "owner_id"),
        }
        todo = {}
        for name, (kind, id_key) in linked.items():
            if name not in wants:
                continue
            object_id = deal.data.get(id_key)
            if object_id in (None, "", 0):
                found[name] = Fetched(f"{deal.call} ({id_key} is empty)", None)
            else:
                todo[name] = (kind, object_id)
        if todo:
            with ThreadPoolExecutor(max_workers=len(todo), thread_name_prefix="pipedrive") as pool:
                futures = {name: pool.submit(self._object, kind, object_id) for name, (kind, object_id) in todo.items()}
                for name, future in futures.items():
                    found[name] = future.result()
        return found

    def account(self) -> str:
        me = self._data("/api/v1/users/me")
        if not isinstance(me, dict):
            return "Pipedrive (the token works)"
        company = me.get("company_name") or me.get("company_domain") or "?"
        return f"Pipedrive: {me.get('name')} <{me.get('email')}> in {company}"

    def latest_won_deal(self, won_stages: frozenset[str]) -> str | None:
        if self.version == "v2":
            params: dict[str, Any] = {"status": "won", "sort_by": "update_time", "sort_direction": "desc", "limit": 1}
        else:
            params = {"status": "won", "sort": "won_time DESC", "limit": 1}
        data = self._data(f"/api/{self.version}/deals", params)
        return str(data[0]["id"]) if isinstance(data, list) and data else None

    def field_names(self, obj: str) -> dict[str, str] | None:
        """The object's custom fields (40-character key → name), every page of the v1 field list."""
        if obj not in FIELD_LISTS:
            return None
        path = f"/api/v1/{FIELD_LISTS[obj]}"
        names: dict[str, str] = {}
        start = 0
        for _ in range(FIELD_PAGES_MAX):
            body = self.http.get(path, {"start": start, "limit": PAGE})
            for item in (body or {}).get("data") or []:
                key = str(item.get("key") or "")
                if item.get("edit_flag") or (len(key) == 40 and key.isalnum()):
                    names[key] = str(item.get("name") or key)
            paging = ((body or {}).get("additional_data") or {}).get("pagination") or {}
            if not paging.get("more_items_in_collection"):
                break
            start = int(paging.get("next_start") or start + PAGE)
        return names

    def stages(self) -> dict[str, str]:
        return {}
