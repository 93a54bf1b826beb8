"""Local stand-ins of Pipedrive's and HubSpot's APIs over real HTTP, for the enrichment tests.

A threaded HTTP server on a free port answers the calls hundred makes with bodies shaped like the
vendors' documentation: Pipedrive API v1 (`/api/v1/…`: nested `user_id`/`person_id`/`org_id`,
`email: [...]`, flat `address_*`, custom fields at the top level by 40-character key) and v2
(`/api/v2/…`: `emails`, `address: {...}`, `custom_fields`), `{"success": …, "data": …}`
envelopes and v1's start/limit pagination of the field lists; HubSpot's CRM v3 objects with
`associations` (paged with `after`), batch reads (207 with `errors` for a missing id), owners,
properties, pipelines, search and account info, and their error bodies.

Faults are scripted per call: `standin.script("GET", "/api/v2/persons/88", (429, {"Retry-After":
"1"}), (500, {}))` answers those first, then the real object; `standin.down = True` answers 503 to
everything. Every request is recorded (method, path, query, headers) so a test can count retries
and check that the token only ever travelled in its header.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from prefect_server import free_port

PIPEDRIVE_TOKEN = "pd-token-5e1f0c9a7b3d4e2f8a6c0b1d2e3f4a5b"
HUBSPOT_TOKEN = "pat-eu1-3c1b7a2e-9f0d-4e8a-b6c5-d4e3f2a1b0c9"
JOURNEY_KEY = "9f2c0e5b1a7d4c3e8b6a0f1e2d3c4b5a69788796"
REFERRED_KEY = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
NOTE_KEY = "aa11bb22cc33dd44ee55ff6677889900aabbccdd"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "crm"
# the stock won webhooks as the vendors send them: Pipedrive's v1 and v2 bodies, a HubSpot batch
PIPEDRIVE_V1, PIPEDRIVE_V2, HUBSPOT_BATCH = (
    json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    for name in ("pipedrive-deal-won.json", "pipedrive-deal-won-v2.json", "hubspot-deal-won.json")
)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any = None


# -- Pipedrive's account, stored in API v2's shape ---------------------------------------------------

PD_USERS = {
    12345: {
        "id": 12345,
        "name": "Sanne de Vries",
        "default_currency": "EUR",
        "locale": "nl_NL",
        "lang": 1,
        "email": "sanne@example.nl",
        "phone": None,
        "activated": True,
        "last_login": "2026-11-20 12:58:03",
        "created": "2024-01-08 09:00:00",
        "modified": "2026-11-20 12:58:03",
        "has_created_company": True,
        "active_flag": True,
        "timezone_name": "Europe/Amsterdam",
        "timezone_offset": "+01:00",
        "role_id": 1,
        "icon_url": None,
        "is_you": True,
        "is_deleted": False,
    }
}
PD_DEALS: dict[int, dict[str, Any]] = {
    4711: {
        "id": 4711,
        "title": "Jaarabonnement",
        "creator_user_id": 12345,
        "owner_id": 12345,
        "person_id": 88,
        "org_id": 21,
        "pipeline_id": 1,
        "stage_id": 5,
        "value": 12500,
        "currency": "EUR",
        "add_time": "2026-10-02T09:12:44Z",
        "update_time": "2026-11-20T13:03:00Z",
        "status": "won",
        "won_time": "2026-11-20T13:03:00Z",
        "close_time": "2026-11-20T13:03:00Z",
        "lost_time": None,
        "visible_to": 3,
        "custom_fields": {
            JOURNEY_KEY: 42,
            REFERRED_KEY: "Bakkerij de Vries",
            NOTE_KEY: "Levering via achterdeur.\nBel eerst.",
        },
    },
    4712: {
        "id": 4712,
        "title": "Year plan",
        "creator_user_id": 12345,
        "owner_id": 12345,
        "person_id": 89,
        "org_id": 22,
        "pipeline_id": 1,
        "stage_id": 5,
        "value": 9800,
        "currency": "EUR",
        "status": "won",
        "won_time": "2026-11-21T10:15:00Z",
        "close_time": "2026-11-21T10:15:00Z",
        "custom_fields": {JOURNEY_KEY: None, REFERRED_KEY: None, NOTE_KEY: None},
    },
}
PD_PERSONS: dict[int, dict[str, Any]] = {
    88: {
        "id": 88,
        "name": "Ilse Jansen",
        "first_name": "Ilse",
        "last_name": "Jansen",
        "owner_id": 12345,
        "org_id": 21,
        "emails": [
            {"value": "ilse.prive@example.nl", "primary": False, "label": "home"},
            {"value": "ilse@example.nl", "primary": True, "label": "work"},
        ],
        "phones": [{"value": "+31 6 1234 5678", "primary": True, "label": "mobile"}],
        "visible_to": 3,
        "custom_fields": {},
    },
    89: {
        "id": 89,
        "name": "Jörg Bäcker",
        "first_name": "Jörg",
        "last_name": "Bäcker",
        "owner_id": 12345,
        "org_id": 22,
        "emails": [{"value": "jorg@bäckerei.de", "primary": True, "label": "work"}],
        "phones": [],
        "custom_fields": {},
    },
}
PD_ORGS: dict[int, dict[str, Any]] = {
    21: {
        "id": 21,
        "name": "Bakkerij Jansen B.V.",
        "owner_id": 12345,
        "address": {
            "value": "Dorpsstraat 12, 8011 AB Zwolle, Nederland",
            "country": "Nederland",
            "admin_area_level_1": "Overijssel",
            "admin_area_level_2": "Zwolle",
            "locality": "Zwolle",
            "sublocality": None,
            "route": "Dorpsstraat",
            "street_number": "12",
            "subpremise": None,
            "postal_code": "8011 AB",
            "formatted_address": "Dorpsstraat 12, 8011 AB Zwolle, Nederland",
        },
        "custom_fields": {},
    },
    22: {
        "id": 22,
        "name": "Bäckerei Bäcker GmbH",
        "owner_id": 12345,
        "address": {
            "value": "Hauptstraße 5, 10115 Berlin, Deutschland",
            "country": "Deutschland",
            "admin_area_level_1": "Berlin",
            "locality": "Berlin",
            "route": "Hauptstraße",
            "street_number": "5",
            "subpremise": None,
            "postal_code": "10115",
            "formatted_address": "Hauptstraße 5, 10115 Berlin, Deutschland",
        },
        "custom_fields": {},
    },
}
PD_DEAL_FIELDS = [
    {"id": 1, "key": "title", "name": "Title", "field_type": "varchar", "edit_flag": False},
    {"id": 2, "key": "value", "name": "Value", "field_type": "monetary", "edit_flag": False},
    {"id": 3, "key": "status", "name": "Status", "field_type": "status", "edit_flag": False},
    {
        "id": 51,
        "key": JOURNEY_KEY,
        "name": "Journey",
        "field_type": "enum",
        "edit_flag": True,
        "options": [{"id": 42, "label": "Nederlands"}, {"id": 43, "label": "English"}],
    },
    {"id": 52, "key": REFERRED_KEY, "name": "Referred by", "field_type": "varchar", "edit_flag": True},
    {"id": 53, "key": NOTE_KEY, "name": "Delivery note", "field_type": "text", "edit_flag": True},
]
PD_PERSON_FIELDS = [{"id": 9001, "key": "name", "name": "Name", "field_type": "varchar", "edit_flag": False}]
PD_ORG_FIELDS = [{"id": 9101, "key": "name", "name": "Name", "field_type": "varchar", "edit_flag": False}]


def _v1_time(value: Any) -> Any:
    return value.replace("T", " ").removesuffix("Z") if isinstance(value, str) and value.endswith("Z") else value


def _v1_deal(deal: dict[str, Any]) -> dict[str, Any]:
    """A deal as API v1 answers it: nested user/person/org, v1 times, custom fields at the top."""
    owner, person, org = (
        PD_USERS.get(deal["owner_id"]),
        PD_PERSONS.get(deal.get("person_id")),
        PD_ORGS.get(deal.get("org_id")),
    )
    out = {k: _v1_time(v) for k, v in deal.items() if k not in ("owner_id", "person_id", "org_id", "custom_fields")}
    out["user_id"] = {
        "id": owner["id"],
        "name": owner["name"],
        "email": owner["email"],
        "has_pic": 0,
        "active_flag": True,
        "value": owner["id"],
    }
    out["person_id"] = (
        {
            "active_flag": True,
            "name": person["name"],
            "email": _v1_list(person["emails"]),
            "phone": _v1_list(person["phones"]),
            "owner_id": 12345,
            "value": person["id"],
        }
        if person
        else None
    )
    out["org_id"] = (
        {
            "name": org["name"],
            "people_count": 1,
            "owner_id": 12345,
            "address": org["address"]["value"],
            "active_flag": True,
            "value": org["id"],
        }
        if org
        else None
    )
    out.update(
        person_name=person["name"] if person else None, org_name=org["name"] if org else None, owner_name=owner["name"]
    )
    out.update(deal.get("custom_fields") or {})
    return out


def _v1_list(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"label": i["label"], "value": i["value"], "primary": i["primary"]} for i in items]


def _v1_person(p: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in p.items() if k not in ("emails", "phones", "custom_fields", "org_id", "owner_id")}
    out["email"], out["phone"] = _v1_list(p["emails"]), _v1_list(p["phones"])
    out["org_id"] = {"name": PD_ORGS[p["org_id"]]["name"], "value": p["org_id"]} if p.get("org_id") else None
    out["owner_id"] = {"id": 12345, "name": "Sanne de Vries", "email": "sanne@example.nl", "value": 12345}
    out.update(p.get("custom_fields") or {})
    return out


def _v1_org(o: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in o.items() if k not in ("address", "custom_fields", "owner_id")}
    out["owner_id"] = {"id": 12345, "name": "Sanne de Vries", "value": 12345}
    out["address"] = o["address"]["value"]
    for part, value in o["address"].items():
        if part != "value":
            out[f"address_{part}"] = value
    out.update(o.get("custom_fields") or {})
    return out


# -- HubSpot's account ---------------------------------------------------------------------------------

HS_DEALS: dict[str, dict[str, Any]] = {
    "9823471102": {
        "properties": {
            "dealname": "Jaarabonnement",
            "dealstage": "closedwon",
            "pipeline": "default",
            "closedate": "2026-11-20T13:03:00Z",
            "amount": "12500",
            "deal_currency_code": "EUR",
            "hubspot_owner_id": "31415",
            "hundred_segment": "A",
            "createdate": "2026-10-02T09:12:44.120Z",
            "hs_lastmodifieddate": "2026-11-20T13:03:01.877Z",
            "hs_object_id": "9823471102",
        },
        "contacts": ["501"],
        "companies": [
            ("778", "deal_to_company_unlabeled"),
            ("777", "deal_to_company"),
            ("777", "deal_to_company_unlabeled"),
        ],
    },
    "9823471103": {
        "properties": {
            "dealname": "Renewal",
            "dealstage": "1234567",
            "pipeline": "98765",
            "closedate": "2026-11-22T09:00:00.000Z",
            "amount": "4000.50",
            "deal_currency_code": "",
            "hubspot_owner_id": "31415",
            "hs_object_id": "9823471103",
        },
        "contacts": ["502"],
        "companies": [],
    },
}
HS_CONTACTS = {
    "501": {
        "firstname": "Ilse",
        "lastname": "Jansen",
        "email": "ilse@example.nl",
        "phone": "+31 6 1234 5678",
        "hs_language": "nl",
    },
    "502": {
        "firstname": "Mary",
        "lastname": "O'Neil",
        "email": "mary@example.com",
        "phone": "",
        "hs_language": "en-gb",
    },
}
HS_COMPANIES = {
    "777": {
        "name": "Bakkerij Jansen B.V.",
        "address": "Dorpsstraat 12",
        "zip": "8011AB",
        "city": "Zwolle",
        "state": "Overijssel",
        "country": "Netherlands",
    },
    "778": {
        "name": "Holding Jansen",
        "address": "Markt 1",
        "zip": "8011 AA",
        "city": "Zwolle",
        "country": "Netherlands",
    },
}
HS_OWNERS = {
    "31415": {
        "id": "31415",
        "email": "sanne@example.nl",
        "type": "PERSON",
        "firstName": "Sanne",
        "lastName": "de Vries",
        "userId": 61234567,
        "userIdIncludingInactive": 61234567,
        "createdAt": "2024-01-08T09:00:00.000Z",
        "updatedAt": "2026-01-08T09:00:00.000Z",
        "archived": False,
        "teams": [],
    }
}
HS_PROPERTIES = {
    "deals": [
        "dealname",
        "dealstage",
        "pipeline",
        "closedate",
        "amount",
        "deal_currency_code",
        "hubspot_owner_id",
        "hundred_segment",
        "createdate",
    ],
    "contacts": ["firstname", "lastname", "email", "phone", "hs_language", "company"],
    "companies": ["name", "address", "address2", "zip", "city", "state", "country"],
}
HS_PIPELINES = [
    {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "stages": [
            {
                "id": "appointmentscheduled",
                "label": "Appointment Scheduled",
                "metadata": {"isClosed": "false", "probability": "0.2"},
            },
            {"id": "contractsent", "label": "Contract Sent", "metadata": {"isClosed": "false", "probability": "0.9"}},
            {"id": "closedwon", "label": "Closed Won", "metadata": {"isClosed": "true", "probability": "1.0"}},
            {"id": "closedlost", "label": "Closed Lost", "metadata": {"isClosed": "true", "probability": "0.0"}},
        ],
    },
    {
        "id": "98765",
        "label": "Renewals",
        "displayOrder": 1,
        "stages": [{"id": "1234567", "label": "Renewed", "metadata": {"isClosed": "true", "probability": "1.0"}}],
    },
]


class StandIn:
    """One vendor's API on 127.0.0.1:<free port>."""

    def __init__(self, vendor: str, token: str | None = None, *, field_page: int = 2, association_page: int = 1):
        self.vendor = vendor
        self.token = token or (PIPEDRIVE_TOKEN if vendor == "pipedrive" else HUBSPOT_TOKEN)
        self.field_page, self.association_page = field_page, association_page
        self.seen: list[Seen] = []
        self.down = False
        self._script: dict[tuple[str, str], deque[tuple[Any, ...]]] = {}
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.delay = 0.0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                stand_in._handle(self, "GET")

            def do_POST(self) -> None:
                stand_in._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def script(self, method: str, path: str, *answers: tuple[Any, ...]) -> None:
        """Answer these (status, headers[, message]) to the next calls of `method path`."""
        self._script.setdefault((method, path), deque()).extend(answers)

    def unscript(self) -> None:
        """Forget the scripted answers not given yet (the API is back)."""
        with self._lock:
            self._script.clear()

    def calls(self, method: str, path: str) -> int:
        return sum(1 for s in self.seen if s.method == method and s.path == path)

    # -- the server ---------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        import time

        parts = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        seen = Seen(method, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in handler.headers.items()}, body)
        with self._lock:
            self.seen.append(seen)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            scripted = self._script.get((method, parts.path))
            fault = scripted.popleft() if scripted else None
        try:
            if self.delay:
                time.sleep(self.delay)
            if self.down:
                status, headers, answer = 503, {}, self._error(503, "Service Unavailable")
            elif fault is not None:
                status, headers = fault[0], fault[1]
                default = {
                    429: "Too many requests",
                    500: "Internal server error",
                    502: "Bad gateway",
                    503: "Service Unavailable",
                }
                answer = self._error(status, fault[2] if len(fault) > 2 else default.get(status, "error"))
            elif not self._authorised(seen):
                status, headers, answer = 401, {}, self._error(401, "unauthorized access")
            else:
                status, headers, answer = self._answer(seen)
        finally:
            with self._lock:
                self.in_flight -= 1
        data = json.dumps(answer).encode()
        try:
            handler.send_response(status)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (its timeout): as a slow API
            pass

    def _authorised(self, seen: Seen) -> bool:
        if self.vendor == "pipedrive":
            return seen.headers.get("x-api-token") == self.token or seen.query.get("api_token") == [self.token]
        return seen.headers.get("authorization") == f"Bearer {self.token}"

    def _error(self, status: int, message: str) -> dict[str, Any]:
        if self.vendor == "pipedrive":
            return {
                "success": False,
                "error": message,
                "errorCode": status,
                "error_info": "Please check developers.pipedrive.com",
            }
        category = {401: "INVALID_AUTHENTICATION", 404: "OBJECT_NOT_FOUND", 429: "RATE_LIMITS"}.get(
            status, "SERVICE_UNAVAILABLE"
        )
        return {
            "status": "error",
            "message": message,
            "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
            "category": category,
        }

    def _answer(self, seen: Seen) -> tuple[int, dict[str, str], Any]:
        route = self._pipedrive if self.vendor == "pipedrive" else self._hubspot
        found = route(seen)
        if found is None:
            noun = seen.path.rstrip("/").split("/")[-2] if seen.path.count("/") > 2 else "item"
            return (
                404,
                {},
                self._error(
                    404,
                    f"{noun.rstrip('s').capitalize()} not found"
                    if self.vendor == "pipedrive"
                    else "Object not found.  objectId are usually numeric.",
                ),
            )
        return 200, {}, found

    # -- Pipedrive -------------------------------------------------------------------------------

    def _pipedrive(self, seen: Seen) -> Any:
        parts = seen.path.strip("/").split("/")
        if parts[:1] != ["api"] or len(parts) < 3:
            return None
        version, kind, rest = parts[1], parts[2], parts[3:]
        if kind == "users" and version == "v1" and rest:
            if rest[0] == "me":
                return {
                    "success": True,
                    "data": {
                        **PD_USERS[12345],
                        "company_id": 7654321,
                        "company_name": "Bakkerij Jansen B.V.",
                        "company_domain": "bakkerij",
                    },
                }
            user = PD_USERS.get(_int(rest[0]))
            return {"success": True, "data": user} if user else None
        tables = {
            "deals": (PD_DEALS, _v1_deal),
            "persons": (PD_PERSONS, _v1_person),
            "organizations": (PD_ORGS, _v1_org),
        }
        if kind in tables and rest:
            table, v1 = tables[kind]
            obj = table.get(_int(rest[0]))
            if obj is None:
                return None
            return {
                "success": True,
                "data": v1(obj) if version == "v1" else obj,
                **({"related_objects": {}} if version == "v1" else {}),
            }
        if kind == "deals" and not rest:
            won = sorted(
                (d for d in PD_DEALS.values() if d["status"] == seen.query.get("status", ["won"])[0]),
                key=lambda d: d["update_time" if "update_time" in d else "won_time"] or "",
                reverse=True,
            )
            limit = int(seen.query.get("limit", ["100"])[0])
            data = won[:limit] if version == "v2" else [_v1_deal(d) for d in won[:limit]]
            return {
                "success": True,
                "data": data,
                "additional_data": {"next_cursor": None}
                if version == "v2"
                else {"pagination": {"start": 0, "limit": limit, "more_items_in_collection": len(won) > limit}},
            }
        lists = {"dealFields": PD_DEAL_FIELDS, "personFields": PD_PERSON_FIELDS, "organizationFields": PD_ORG_FIELDS}
        if version == "v1" and kind in lists and not rest:
            items = lists[kind]
            start = int(seen.query.get("start", ["0"])[0])
            limit = min(int(seen.query.get("limit", ["100"])[0]), self.field_page)
            page = items[start : start + limit]
            more = start + limit < len(items)
            pagination = {"start": start, "limit": limit, "more_items_in_collection": more}
            if more:
                pagination["next_start"] = start + limit
            return {"success": True, "data": page, "additional_data": {"pagination": pagination}}
        return None

    # -- HubSpot -------------------------------------------------------------------------------------

    def _hubspot(self, seen: Seen) -> Any:
        path = seen.path
        if path == "/account-info/v3/details":
            return {
                "portalId": 24681357,
                "accountType": "STANDARD",
                "timeZone": "Europe/Amsterdam",
                "companyCurrency": "EUR",
                "additionalCurrencies": [],
                "utcOffset": "+01:00",
                "utcOffsetMilliseconds": 3600000,
                "uiDomain": "app-eu1.hubspot.com",
                "dataHostingLocation": "eu1",
            }
        parts = path.strip("/").split("/")
        if parts[:3] == ["crm", "v3", "owners"] and len(parts) == 4:
            return HS_OWNERS.get(parts[3])
        if parts[:3] == ["crm", "v3", "properties"] and len(parts) == 4 and parts[3] in HS_PROPERTIES:
            return {
                "results": [
                    {"name": n, "label": n.replace("_", " ").title(), "type": "string", "fieldType": "text"}
                    for n in HS_PROPERTIES[parts[3]]
                ]
            }
        if path == "/crm/v3/pipelines/deals":
            return {"results": HS_PIPELINES}
        if path == "/crm/v3/objects/deals/search" and seen.method == "POST":
            stages = seen.body["filterGroups"][0]["filters"][0]["values"]
            found = [(i, d) for i, d in HS_DEALS.items() if d["properties"]["dealstage"] in stages]
            found.sort(key=lambda x: x[1]["properties"]["closedate"], reverse=True)
            results = [
                {"id": i, "properties": {p: d["properties"].get(p) for p in seen.body.get("properties", [])}}
                for i, d in found[: seen.body.get("limit", 10)]
            ]
            return {"total": len(found), "results": results}
        if (
            len(parts) == 6
            and parts[:3] == ["crm", "v3", "objects"]
            and parts[3] in ("contacts", "companies")
            and parts[4:] == ["batch", "read"]
        ):
            table = HS_CONTACTS if parts[3] == "contacts" else HS_COMPANIES
            wanted = seen.body.get("properties") or []
            results, missing = [], []
            for item in seen.body.get("inputs") or []:
                obj = table.get(str(item["id"]))
                if obj is None:
                    missing.append(str(item["id"]))
                    continue
                props = {p: obj.get(p) for p in wanted} | {
                    "hs_object_id": str(item["id"]),
                    "createdate": "2026-10-02T09:12:44.120Z",
                }
                results.append(
                    {
                        "id": str(item["id"]),
                        "properties": props,
                        "createdAt": "2026-10-02T09:12:44.120Z",
                        "updatedAt": "2026-11-20T13:03:01.877Z",
                        "archived": False,
                    }
                )
            answer: dict[str, Any] = {
                "status": "COMPLETE",
                "results": results,
                "startedAt": "2026-12-01T10:00:00.000Z",
                "completedAt": "2026-12-01T10:00:00.050Z",
            }
            if missing:
                kind = "CONTACT" if parts[3] == "contacts" else "COMPANY"
                answer.update(
                    numErrors=1,
                    errors=[
                        {
                            "status": "error",
                            "category": "OBJECT_NOT_FOUND",
                            "message": f"Could not get some {kind} objects, they may be deleted or not exist. Check that ids are valid.",
                            "context": {"ids": missing},
                        }
                    ],
                )
            return answer
        if parts[:4] == ["crm", "v3", "objects", "deals"] and len(parts) >= 5:
            deal = HS_DEALS.get(parts[4])
            if deal is None:
                return None
            if len(parts) == 7 and parts[5] == "associations":
                return self._associations(parts[4], parts[6], seen.query.get("after", ["0"])[0])
            wanted = (seen.query.get("properties") or [""])[0].split(",")
            props = {p: deal["properties"].get(p) for p in wanted if p} | {
                "hs_object_id": parts[4],
                "createdate": "2026-10-02T09:12:44.120Z",
                "hs_lastmodifieddate": "2026-11-20T13:03:01.877Z",
            }
            body = {
                "id": parts[4],
                "properties": props,
                "createdAt": "2026-10-02T09:12:44.120Z",
                "updatedAt": "2026-11-20T13:03:01.877Z",
                "archived": False,
            }
            kinds = [k for k in (seen.query.get("associations") or [""])[0].split(",") if k]
            if kinds:
                body["associations"] = {
                    k: self._associations(parts[4], k, "0")
                    for k in kinds
                    if self._associations(parts[4], k, "0")["results"]
                }
            return body
        return None

    def _associations(self, deal_id: str, kind: str, after: str) -> dict[str, Any]:
        """HubSpot pages associations; the stand-in's page is `association_page` long."""
        items = HS_DEALS[deal_id].get(kind, [])
        items = [(i, "deal_to_contact") if isinstance(i, str) else i for i in items]
        start = int(after or 0)
        page = items[start : start + self.association_page]
        answer: dict[str, Any] = {"results": [{"id": i, "type": t} for i, t in page]}
        if start + self.association_page < len(items):
            nxt = str(start + self.association_page)
            answer["paging"] = {
                "next": {
                    "after": nxt,
                    "link": f"{self.url}/crm/v3/objects/deals/{deal_id}/associations/{kind}?after={nxt}",
                }
            }
        return answer


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[tuple[StandIn, StandIn]]:
    """Pipedrive's and HubSpot's stand-ins for a test module."""
    pipedrive, hubspot = StandIn("pipedrive"), StandIn("hubspot")
    yield pipedrive, hubspot
    pipedrive.close()
    hubspot.close()
