"""The sample deal the studio's live views are drawn for: an example file (`examples/*.json`), a
deal from the ledger (its payload as the CRM last sent it), or one typed in the page's small form.

A typed deal starts from the example in the journey's language and takes the typed fields over it,
then goes through the same `parse_deal` every deal goes through, so a typo is reported by field.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hundred.deals.model import Deal, DealError, load_deal, parse_deal
from hundred.journeys.model import Journey
from hundred.service.ports import Ledger

LEDGER_DEALS = 200
# The small form: (field, where it goes in the payload). Everything else comes from the example.
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "first_name": ("contact", "first_name"),
    "last_name": ("contact", "last_name"),
    "email": ("contact", "email"),
    "company": ("company", "name"),
    "street": ("address", "street"),
    "postcode": ("address", "postcode"),
    "city": ("address", "city"),
    "country": ("address", "country"),
    "segment": ("segment",),
    "amount": ("amount",),
    "closed_at": ("closed_at",),
}


class SampleProblem(ValueError):
    """The sample deal cannot be used; the message says why (per field for a typed one)."""


@dataclass(frozen=True)
class Choice:
    key: str  # "example:deal-nl.json" | "ledger:D-1042"
    label: str


def _who(payload: dict[str, Any]) -> str:
    contact = payload.get("contact") or {}
    company = (payload.get("company") or {}).get("name") or ""
    name = f"{contact.get('first_name') or ''} {contact.get('last_name') or ''}".strip()
    return ", ".join(x for x in (name, company) if x)


def example_files(examples_dir: Path) -> list[Path]:
    if not examples_dir.is_dir():
        return []
    return sorted(p for p in examples_dir.glob("*.json") if p.is_file())


def choices(examples_dir: Path, ledger: Ledger | None, journey_id: str | None) -> list[Choice]:
    """The examples, then this journey's deals in the ledger, newest first."""
    out = []
    for path in example_files(examples_dir):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.append(Choice(f"example:{path.name}", f"{examples_dir.name}/{path.name} · {_who(payload)}"))
    if ledger is not None:
        rows = [r for r in reversed(ledger.journeys()) if journey_id is None or r.journey_id == journey_id]
        for row in rows[:LEDGER_DEALS]:
            payload = ledger.deal_payload(row.deal_id) or {}
            out.append(Choice(f"ledger:{row.deal_id}", f"{row.deal_id} · {_who(payload)} · {row.state}"))
    return out


def default_example(examples_dir: Path, journey: Journey | None) -> Path | None:
    """The example whose contact speaks the journey's language, else the first."""
    files = example_files(examples_dir)
    language = (journey.locale if journey else "").split("_")[0]
    for path in files:
        try:
            locale = str((json.loads(path.read_text(encoding="utf-8")).get("contact") or {}).get("locale") or "")
        except (OSError, ValueError, AttributeError):
            continue
        if language and locale.split("_")[0] == language:
            return path
    return files[0] if files else None


def sample_deal(
    spec: Any, examples_dir: Path, ledger: Ledger | None, journey: Journey | None, now: datetime | None = None
) -> Deal:
    """The deal `spec` names: {"example": name} | {"ledger": deal id} | {"form": {field: text}} |
    None (the journey's default example). SampleProblem with the reason otherwise."""
    spec = spec if isinstance(spec, dict) else {}
    try:
        if isinstance(spec.get("ledger"), str):
            if ledger is None:
                raise SampleProblem("there is no ledger here, so no deal can be taken from it")
            payload = ledger.deal_payload(spec["ledger"])
            if payload is None:
                raise SampleProblem(f"the ledger has no deal {spec['ledger']}")
            return parse_deal(payload, f"deal {spec['ledger']}", now=now)
        base = _example(spec.get("example"), examples_dir, journey)
        if isinstance(spec.get("form"), dict):
            payload = json.loads(base.read_text(encoding="utf-8")) if base else {}
            return parse_deal(typed(payload, spec["form"], journey), "the typed deal", now=now)
        if base is None:
            raise SampleProblem(f"no example deal in {examples_dir.name}/; type one in the form")
        return load_deal(base, now=now)
    except DealError as exc:
        raise SampleProblem(str(exc)) from None


def _example(name: Any, examples_dir: Path, journey: Journey | None) -> Path | None:
    if name is None:
        return default_example(examples_dir, journey)
    for path in example_files(examples_dir):
        if path.name == name:
            return path
    raise SampleProblem(f"no example deal {name} in {examples_dir.name}/")


def typed(payload: dict[str, Any], form: dict[str, Any], journey: Journey | None) -> dict[str, Any]:
    """The example payload with the form's non-empty fields over it; a closed_at typed without an
    offset ("2026-11-20T14:03", as a datetime-local field sends it) is in the journey's time zone."""
    out = copy.deepcopy(payload)
    out["id"] = str(form.get("id") or "STUDIO-SAMPLE")
    for key, where in FORM_FIELDS.items():
        value = form.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        if key == "closed_at":
            value = _closed_at(value, journey)
        target = out
        for part in where[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[where[-1]] = value
    return out


def _closed_at(value: str, journey: Journey | None) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # parse_deal says what is wrong with it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(journey.timezone if journey else "UTC"))
    return moment.isoformat()


def form_values(deal: Deal, journey: Journey | None) -> dict[str, str]:
    """A deal as the form shows it (to start typing from the example in use)."""
    zone = ZoneInfo(journey.timezone) if journey else None
    closed = deal.closed_at.astimezone(zone) if zone else deal.closed_at
    address = deal.address
    return {
        "first_name": deal.contact.first_name or "",
        "last_name": deal.contact.last_name or "",
        "email": deal.contact.email or "",
        "company": deal.company.name if deal.company else "",
        "street": (address.street or "") if address else "",
        "postcode": (address.postcode or "") if address else "",
        "city": (address.city or "") if address else "",
        "country": (address.country or "") if address else "",
        "segment": deal.segment or "",
        "amount": str(deal.amount),
        "closed_at": closed.strftime("%Y-%m-%dT%H:%M"),
    }


__all__ = ["Choice", "SampleProblem", "FORM_FIELDS", "choices", "sample_deal", "default_example", "form_values"]
