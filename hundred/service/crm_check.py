"""`hundred crm check`: is a CRM connected well enough for a won deal to start its journey?

Checks, against the CRM's real API and sending nothing: the token (whose it is), the mapping (it
reads, and what it names exists: the objects hundred fetches, Pipedrive's custom field keys,
HubSpot's properties), HubSpot's won stage ids, and then builds the deal hundred would build from
one won deal (the one asked for, or the latest) with the same code the deal-closed work uses
(`enrichment.build`). Every finding says where to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hundred.deals.crm import DEFAULT_MAPPING, mapping_fields
from hundred.deals.crm_mapping import MappingError, needed, parse_path
from hundred.journeys.catalog import JourneyNotFound, find_journey
from hundred.service.enrichment import CrmApi, CrmCallFailed, build
from hundred.service.settings import Settings

OBJECTS = {
    "pipedrive": ("deal", "person", "organization", "owner"),
    "hubspot": ("deal", "contact", "company", "owner"),
}
WON_SETTING = "HUNDRED_HUBSPOT_WON_STAGES"


@dataclass
class Finding:
    ok: bool
    what: str
    detail: str


@dataclass
class Report:
    vendor: str
    findings: list[Finding] = field(default_factory=list)
    deal_id: str | None = None
    deal: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings) and not self.problems

    def add(self, ok: bool, what: str, detail: str) -> bool:
        self.findings.append(Finding(ok, what, detail))
        return ok

    def to_json(self) -> dict[str, Any]:
        return {
            "crm": self.vendor,
            "ok": self.ok,
            "checks": [{"ok": f.ok, "check": f.what, "detail": f.detail} for f in self.findings],
            "deal_id": self.deal_id,
            "deal": self.deal,
            "problems": self.problems,
            "notes": self.notes,
        }


def check(vendor: str, crm: CrmApi, settings: Settings, deal_id: str | None = None) -> Report:
    report = Report(vendor)
    try:
        report.add(True, "token", crm.account())
    except CrmCallFailed as exc:
        report.add(False, "token", str(exc))
        return report
    configured = getattr(settings, "crm_mapping", None)
    where = str(configured) if configured else "hundred/deals/crm_mapping.json"
    try:
        fields = mapping_fields(vendor, Path(configured or DEFAULT_MAPPING))
    except MappingError as exc:
        report.add(False, "mapping", str(exc))
        return report
    fix_in = where if configured else f"a copy of {where} (HUNDRED_CRM_MAPPING)"
    pointing = _unknown_sources(vendor, fields, crm, fix_in)
    report.add(not pointing, "mapping", f"{where}: {len(fields)} fields" if not pointing else "; ".join(pointing))
    if vendor == "hubspot":
        _check_stages(report, crm, settings.won_stage_ids)
    _check_deal(report, vendor, crm, settings, fields, deal_id)
    return report


def _unknown_sources(vendor: str, fields: Mapping[str, dict[str, Any]], crm: CrmApi, where: str) -> list[str]:
    """Sources that point at nothing: an object hundred does not fetch, a custom field key or a
    property the account does not have."""
    problems: list[str] = []
    known: dict[str, dict[str, str] | None] = {}
    for name, spec in fields.items():
        for path in spec.get("from") or []:
            parts = parse_path(path)
            obj = str(parts[0])
            if obj not in OBJECTS[vendor]:
                problems.append(
                    f"{name}: {path!r} reads '{obj}', which is not an object hundred fetches from {vendor} "
                    f"({', '.join(OBJECTS[vendor])}); fix it in {where}"
                )
                continue
            if vendor == "pipedrive":
                if len(parts) < 3 or parts[1] != "custom_fields":
                    continue
                key, what = str(parts[2]), f"a custom field of Pipedrive {obj}s"
            else:
                if len(parts) < 2 or obj == "owner" or parts[1] == "id":
                    continue
                key, what = str(parts[1]), f"a HubSpot {obj} property"
            if obj not in known:
                try:
                    known[obj] = crm.field_names(obj)
                except CrmCallFailed as exc:
                    problems.append(f"cannot list the {obj} fields to check {name}: {exc}")
                    known[obj] = None
            names = known[obj]
            if names is None or key in names:
                continue
            close = difflib.get_close_matches(key, list(names), n=1)
            listing = ", ".join(f"{label} ({k})" for k, label in list(names.items())[:8])
            hint = f"did you mean {close[0]!r}?" if close else f"it has: {listing}" if listing else "it has none"
            problems.append(f"{name}: {path!r}: {key!r} is not {what} in this account; {hint} (fix it in {where})")
    return problems


def _check_stages(report: Report, crm: CrmApi, won: frozenset[str]) -> None:
    try:
        stages = crm.stages()
    except CrmCallFailed as exc:
        report.add(False, "won stages", f"cannot list the deal pipelines: {exc}")
        return
    unknown = sorted(won - set(stages))
    named = ", ".join(f"{s} = {stages[s]}" for s in sorted(won) if s in stages)
    if unknown:
        listing = ", ".join(f"{sid} ({label})" for sid, label in list(stages.items())[:12])
        report.add(
            False,
            "won stages",
            f"{WON_SETTING}: {', '.join(repr(s) for s in unknown)} is not a deal stage in this account "
            f"(its stages: {listing})",
        )
    else:
        report.add(True, "won stages", named)


def _check_deal(
    report: Report,
    vendor: str,
    crm: CrmApi,
    settings: Settings,
    fields: Mapping[str, dict[str, Any]],
    deal_id: str | None,
) -> None:
    which = "the deal asked for"
    if deal_id is None:
        try:
            deal_id = crm.latest_won_deal(settings.won_stage_ids)
        except CrmCallFailed as exc:
            report.add(False, "deal", f"cannot find a won deal: {exc}")
            return
        which = "the latest won deal"
        if deal_id is None:
            report.add(False, "deal", "no won deal in this account to try the mapping on; win one, or pass --deal ID")
            return
    report.deal_id = deal_id
    try:
        objects = crm.fetch(deal_id, needed(fields))
    except CrmCallFailed as exc:
        report.add(False, "deal", f"deal {deal_id} ({which}): {exc}")
        return
    built = build(vendor, objects, fields, datetime.now(UTC))
    calls = ", ".join(f.call for f in objects.values())
    report.deal, report.problems = built.deal, built.problems
    if built.deal is not None:
        journey = built.deal.get("journey") or settings.default_journey
        try:
            find_journey(journey, settings.journeys_dir)
        except JourneyNotFound as exc:
            report.problems.append(f"journey: {exc}")
        if built.deal.get("address") is None:
            report.notes.append("the deal has no postal address: its journey's letters cannot be sent")
        if not (built.deal.get("contact") or {}).get("email"):
            report.notes.append("the contact has no email address: its journey's emails cannot be sent")
    ok = not report.problems
    summary = f"deal {deal_id} ({which}): " + (
        f"fetched with {calls}" if ok else f"{len(report.problems)} problem(s); fetched with {calls}"
    )
    report.add(ok, "deal", summary)
