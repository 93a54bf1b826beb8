"""The deal payload the CRM sends when a deal closes (PRODUCT.md §4).

The model is deliberately the single source of truth for merge fields: the validator walks it to
decide whether `{{ contact.frist_name }}` is a typo, so a field added here becomes usable in every
template at once.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class _Part(BaseModel):
    # defer_build: `hundred validate` reads these models' field names but never validates a deal
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Owner(_Part):
    """The account manager who closed the deal; tasks go to them and letters carry their name."""

    name: str
    email: str | None = None
    title: str | None = None
    phone: str | None = None


class Contact(_Part):
    first_name: str
    last_name: str = ""
    email: str | None = None
    phone: str | None = None
    locale: str | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Amsterdam)")
        return value


class Company(_Part):
    name: str


class Address(_Part):
    street: str
    postcode: str = ""
    city: str
    state: str | None = None
    country: str = "NL"

    @field_validator("country")
    @classmethod
    def _alpha2(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise ValueError(f"country must be an ISO 3166 alpha-2 code such as NL, got {value!r}")
        return value


class Deal(BaseModel):
    """A closed deal. Unknown top-level keys are kept under `fields` so nothing the CRM sends is lost."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    id: str = Field(min_length=1)
    closed_at: datetime
    journey: str | None = None
    amount: Decimal = Decimal("0")
    currency: str = "EUR"
    product: str = ""
    segment: str | None = None
    owner: Owner
    contact: Contact
    company: Company | None = None
    address: Address | None = None
    fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator("closed_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("closed_at needs a UTC offset, e.g. 2026-11-20T14:03:00+01:00")
        return value

    @model_validator(mode="after")
    def _fold_unknown_keys(self) -> "Deal":
        extra = dict(self.__pydantic_extra__ or {})
        if extra:
            self.fields = {**extra, **self.fields}
            self.__pydantic_extra__.clear()
        return self

    def merge_context(self) -> dict[str, Any]:
        """Plain data for templates: dicts, str, Decimal, datetime; never the model itself."""
        data = self.model_dump(mode="python")
        return {
            "deal": data,
            "contact": data["contact"],
            "company": data["company"] or {"name": ""},
            "address": data["address"] or {f: None for f in Address.model_fields},
            "owner": data["owner"],
        }


class DealError(ValueError):
    """A deal payload that cannot be used; the message names the file and the fields."""


def load_deal(path: str | Path) -> Deal:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DealError(f"{path}: no such file")
    except json.JSONDecodeError as exc:
        raise DealError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}")
    return parse_deal(raw, source=str(path))


def parse_deal(raw: Any, source: str = "deal") -> Deal:
    try:
        return Deal.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(payload)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{source}: {where}: {msg}")
        raise DealError("\n".join(problems))


def merge_field_tree() -> dict[str, Any]:
    """The names a template may use, as a nested dict (None = leaf, "*" = any key below).

    Derived from the models so it cannot drift from what a real deal provides.
    """

    def fields_of(model: type[BaseModel]) -> dict[str, Any]:
        return {name: None for name in model.model_fields}

    deal = fields_of(Deal)
    deal.update(owner=fields_of(Owner), contact=fields_of(Contact), company=fields_of(Company),
                address=fields_of(Address), fields="*")
    return {
        "deal": deal,
        "contact": deal["contact"],
        "company": deal["company"],
        "address": deal["address"],
        "owner": deal["owner"],
        "journey": {"id": None, "name": None, "locale": None},
        "touch": {"id": None, "phase": None, "channel": None, "day": None, "date": None},
        "sender": {"name": None, "title": None},
    }
