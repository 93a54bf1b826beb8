"""The deal a webhook body is rendered for before it is sent: every merge field filled in, once
plainly and once with text that breaks JSON printed without `| json`.

Apart from the template checks because it is data, modelled on examples/deal-nl.json, not rules.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any


class AnyFields(dict[str, Any]):
    """Sample custom fields: every key the template asks for has a value."""

    def __init__(self, any_field: str):
        super().__init__()
        self.any_field = any_field


_HOSTILE = 'Ann "Annie" O\'Neil \\ Jansen\n\t</script><b>&amp;</b> {{ 7*7 }}'
_KEEP = {"currency", "country", "locale", "timezone", "channel", "phase"}  # codes a real deal has valid


def sample_context(field_tree: dict[str, Any], hostile: bool = False) -> dict[str, Any]:
    """A merge context with every field filled in, modelled on examples/deal-nl.json; `hostile`:
    every text holds quotes, a backslash, a line break, a tab and markup."""
    cet = timezone(timedelta(hours=1))
    ctx: dict[str, Any] = {
        "deal": {
            "id": "D-1042",
            "closed_at": datetime(2026, 11, 20, 14, 3, tzinfo=cet),
            "journey": "first-100-days",
            "amount": Decimal("12500.00"),
            "currency": "EUR",
            "product": "Jaarabonnement",
            "segment": "A",
        },
        "owner": {
            "name": "Sanne de Vries",
            "email": "sanne@example.nl",
            "title": "Accountmanager",
            "phone": "+31 6 8765 4321",
        },
        "contact": {
            "first_name": "Ilse",
            "last_name": "Jansen",
            "email": "ilse@example.nl",
            "phone": "+31 6 1234 5678",
            "locale": "nl_NL",
            "timezone": "Europe/Amsterdam",
        },
        "company": {"name": "Bakkerij Jansen B.V."},
        "address": {
            "street": "Dorpsstraat 12",
            "postcode": "8011 AB",
            "city": "Zwolle",
            "state": "Overijssel",
            "country": "NL",
        },
        "journey": {"id": "first-100-days", "name": "De eerste 100 dagen", "locale": "nl_NL"},
        "touch": {"id": "crm-update", "phase": "affirm", "channel": "webhook", "day": 3, "date": date(2026, 11, 23)},
        "sender": {"name": "Sanne de Vries", "title": "Accountmanager"},
    }
    _fill(ctx, field_tree, "")
    if hostile:
        ctx = _hostile(copy.deepcopy(ctx))
    ctx["deal"].update({part: ctx[part] for part in ("owner", "contact", "company", "address")})
    ctx["deal"]["fields"] = AnyFields(_HOSTILE if hostile else "voorbeeld")
    return ctx


def _fill(sample: dict[str, Any], tree: dict[str, Any], path: str) -> None:
    for key, sub in tree.items():  # a field added to the deal model gets a sample value too
        if key == "fields" or sub == "*":
            continue
        if isinstance(sub, dict):
            if key in ("owner", "contact", "company", "address") and path == "deal.":
                continue  # the deal's parts are the top-level ones
            _fill(sample.setdefault(key, {}), sub, f"{path}{key}.")
        else:
            sample.setdefault(key, f"sample {path}{key}")


def _hostile(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _hostile(v, k) for k, v in value.items()}
    if isinstance(value, str) and key not in _KEEP:
        return _HOSTILE
    return value
