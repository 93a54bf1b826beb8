"""The journey a marketer writes in YAML (README: "For marketers"), as pydantic models.

The models check shape and single values (the value types are fields.py's, the four kinds of
touch touches.py's); rules that look across the journey (phase order, unique
ids, the affirm gate, templates on disk) live in `validation/journey_rules.py`, and `validate.py`
turns errors into `file:line:col` messages. The JSON Schema that editors use is generated from these models.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from hundred.deals.codes import COUNTRY_HINTS, countries
from hundred.journeys.fields import CONTROL, Day, OneLine, Slug, StrictModel, parse_clock
from hundred.journeys.touches import Touch

PHASES: tuple[str, ...] = ("assess", "admit", "affirm", "activate", "acclimate", "accomplish", "adopt", "advocate")
CHANNELS: tuple[str, ...] = ("letter", "email", "task", "webhook")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ExitEvent = Literal["deal.cancelled", "contact.opted_out"]
EXIT_EVENTS: tuple[ExitEvent, ...] = ("deal.cancelled", "contact.opted_out")
GATE_PHASE = "affirm"


Phase = Literal["assess", "admit", "affirm", "activate", "acclimate", "accomplish", "adopt", "advocate"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _monday_to_friday() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class Calendar(StrictModel):
    workdays: list[Weekday] = Field(default_factory=_monday_to_friday, min_length=1)
    holidays: StrictStr | None = Field(
        None,
        max_length=40,
        description="Country code for the holidays package, optionally with a subdivision: NL, DE/BY, US/NY",
    )
    closed: list[Day] = Field(default_factory=list, max_length=1000, description="Extra closed days (ISO dates)")

    @field_validator("workdays")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a weekday is listed twice; list each workday once")
        return value


DEFAULT_BATCH_AT = time(10, 0)
BATCH_EARLIEST, BATCH_LATEST = time(4, 0), time(16, 0)


def _country_key(value: str) -> str:
    """A destination in `lead_days_by_country`: an ISO 3166 alpha-2 code in capitals, checked
    against the list deal addresses are checked with (loaded only when the map is used)."""

    known = countries()
    if value in known:
        return value
    guess = value.upper() if value.upper() in known else COUNTRY_HINTS.get(value.upper())
    if not guess:
        guess = {name.casefold(): code for code, name in known.items()}.get(value.strip().casefold())
    hint = f"did you mean '{guess}'?" if guess else "use an ISO 3166 alpha-2 code in capitals, such as BE, DE or US"
    raise ValueError(f"{value[:40]!r} is not a country code; {hint}")


CountryKey = Annotated[StrictStr, Field(json_schema_extra={"pattern": r"^[A-Z]{2}$"}), AfterValidator(_country_key)]
LeadDays = Annotated[StrictInt, Field(ge=0, le=30)]


class LetterSettings(StrictModel):
    paper: Literal["A4", "letter"] = "A4"
    envelope: Literal["DL", "C5", "US10", "none"] = "DL"
    hand: Literal["caveat", "kalam"] = "caveat"
    ink: Literal["blue", "black", "navy"] = "blue"
    lead_days: StrictInt = Field(
        2,
        ge=0,
        le=20,
        description="Business days a letter to the sender's own country takes: it is printed and posted that many business days before its arrival day",
    )
    abroad_lead_days: StrictInt | None = Field(
        None, ge=0, le=30, description="Business days a letter to another country takes; default: lead_days"
    )
    lead_days_by_country: dict[CountryKey, LeadDays] = Field(
        default_factory=dict,
        max_length=250,
        json_schema_extra={"additionalProperties": False},
        description="Business days per destination country (ISO 3166 alpha-2, e.g. {BE: 3, US: 10}); wins over lead_days and abroad_lead_days",
    )
    batch_at: StrictStr | None = Field(
        None,
        json_schema_extra={"pattern": r"^(?:[01]?[0-9]|2[0-3]):[0-5][0-9]$"},
        description=f'Morning cut-off, "HH:MM" in the journey\'s time zone, {BATCH_EARLIEST:%H:%M} to {BATCH_LATEST:%H:%M}: '
        f'a letter queued later prints in the next working day\'s batch; default "{DEFAULT_BATCH_AT:%H:%M}"',
    )
    return_address: StrictStr = Field("", max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")

    @field_validator("batch_at")
    @classmethod
    def _batch_clock(cls, value: str | None) -> str | None:
        if value is not None:
            clock = parse_clock(value)
            if not BATCH_EARLIEST <= clock <= BATCH_LATEST:
                raise ValueError(
                    f"{value!r} is not a morning cut-off; batches are made in the morning: "
                    f'use a time from "{BATCH_EARLIEST:%H:%M}" to "{BATCH_LATEST:%H:%M}"'
                )
        return value

    @property
    def batch_time(self) -> time:
        """The cut-off of the day's batch (journey zone): letters queued later print the next working day."""
        return parse_clock(self.batch_at) if self.batch_at else DEFAULT_BATCH_AT

    def transit(self, country: str | None, home: str) -> tuple[int, str]:
        """Business days a letter to `country` takes, and what chose them: "domestic", "abroad" or
        the country's code. No country (no address) is domestic."""
        code = (country or home).upper()
        if code in self.lead_days_by_country:
            return self.lead_days_by_country[code], "domestic" if code == home.upper() else code
        if code == home.upper():
            return self.lead_days, "domestic"
        return (self.lead_days if self.abroad_lead_days is None else self.abroad_lead_days), "abroad"

    @model_validator(mode="after")
    def _paper_fits_envelope(self) -> LetterSettings:
        if self.envelope in ("DL", "C5") and self.paper != "A4":
            raise ValueError(f"envelope {self.envelope} takes A4 paper; use envelope US10 with paper letter")
        if self.envelope == "US10" and self.paper != "letter":
            raise ValueError("envelope US10 takes US Letter paper; use envelope DL or C5 with A4")
        return self


LINT_RULES: tuple[str, ...] = ("phases", "affirm-early", "silence", "mail", "referral-late", "condition-gap")
REASON_MIN = 10  # "n/a" is not a reason: a silenced rule says why, in a sentence


def _ignored(value: Any) -> Any:
    """`ignore: {rule: "why"}`: every silenced rule names a known rule and says why (never silently)."""
    if isinstance(value, list):
        raise ValueError(
            'lint ignore must say why for each rule; write ignore: {silence: "quarterly business, the owner visits"}'
        )
    if not isinstance(value, dict):
        return value

    for rule, reason in value.items():
        if rule not in LINT_RULES:
            close = difflib.get_close_matches(str(rule), LINT_RULES, n=1, cutoff=0.6)
            raise ValueError(
                f"lint ignore names rule '{str(rule)[:40]}', which does not exist; "
                + (f"did you mean '{close[0]}'?" if close else "the rules are: " + ", ".join(LINT_RULES))
            )
        if not isinstance(reason, str) or len(reason.strip()) < REASON_MIN:
            raise ValueError(
                f"rule '{rule}' is ignored without a reason; write why it does not fit this journey, "
                f'in a sentence, e.g. ignore: {{{rule}: "quarterly business, the owner visits"}}'
            )
        if CONTROL.search(reason) or len(reason) > 300:
            raise ValueError(
                f"the reason for ignoring rule '{rule}' must be one line of at most 300 characters; shorten it"
            )
    return value


class _LintDays(StrictModel):
    days: StrictInt


class AffirmEarly(_LintDays):
    days: StrictInt = Field(
        3, ge=0, le=30, description="The first affirm touch reaches the customer within this many days of the close"
    )


class SilenceRule(_LintDays):
    days: StrictInt = Field(21, ge=1, le=365, description="Longest stretch without a customer-facing touch, in days")


class MailRule(_LintDays):
    days: StrictInt = Field(14, ge=0, le=365, description="A letter arrives within this many days of the close")


class ReferralLate(_LintDays):
    days: StrictInt = Field(
        30, ge=0, le=730, description="No referral touch earlier than this many days after the close"
    )


class LintSettings(StrictModel):
    """The Coleman linter's thresholds, and the rules this journey silences, each with its reason.
    Not part of the journey's version: it changes what `validate` says, not what customers get."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    affirm_early: AffirmEarly = Field(default_factory=AffirmEarly, alias="affirm-early")
    silence: SilenceRule = Field(default_factory=SilenceRule)
    mail: MailRule = Field(default_factory=MailRule)
    referral_late: ReferralLate = Field(default_factory=ReferralLate, alias="referral-late")
    ignore: Annotated[dict[StrictStr, StrictStr], BeforeValidator(_ignored)] = Field(
        default_factory=dict,
        json_schema_extra={
            "propertyNames": {"enum": list(LINT_RULES)},
            "additionalProperties": {"type": "string", "minLength": REASON_MIN, "maxLength": 300},
        },
        description='Rules silenced for this journey, each with the reason: {silence: "quarterly business, the owner visits"}',
    )


class Sender(StrictModel):
    name: OneLine = Field(description='Inline template, e.g. "{{ deal.owner.name }}"')
    title: OneLine | None = None


class PhaseBlock(StrictModel):
    phase: Phase
    label: OneLine | None = Field(None, description='Display name, e.g. "Bevestigen"')
    touches: list[Touch] = Field(default_factory=list)

    @property
    def title(self) -> str:
        return self.label or self.phase.capitalize()


class Journey(StrictModel):
    """One onboarding journey. `journey` is its stable id; the content hash is its version.

    Top-level `x-…` keys hold YAML anchors for reuse (as in docker-compose); the model drops them,
    so they are neither checked as settings nor part of the version.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"patternProperties": {"^x-": {}}})

    journey: Slug
    name: OneLine
    description: StrictStr | None = Field(None, max_length=5000)
    locale: StrictStr = Field("nl_NL", max_length=40)
    timezone: StrictStr = Field("Europe/Amsterdam", max_length=64)
    length: StrictInt = Field(100, ge=1, le=730)
    calendar: Calendar = Field(default_factory=Calendar)
    send_window: StrictStr = "09:00-17:00"
    letters: LetterSettings = Field(default_factory=LetterSettings)
    sender: Sender = Field(default_factory=lambda: Sender(name="{{ deal.owner.name }}"))
    phases: list[PhaseBlock] = Field(min_length=1)
    exit_on: list[ExitEvent] = Field(default_factory=lambda: list(EXIT_EVENTS))
    lint: LintSettings = Field(
        default_factory=LintSettings,
        description="The Coleman linter's thresholds and silenced rules (hundred validate)",
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_extensions(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
        return data

    @field_validator("send_window")
    @classmethod
    def _window(cls, value: str) -> str:
        parts = str(value).split("-")
        if len(parts) != 2:
            raise ValueError(f'{value!r} is not a window; write it as "09:00-17:00"')
        start, end = (parse_clock(p) for p in parts)
        if start >= end:
            raise ValueError(f'the window {value!r} ends before it starts; the start comes first, e.g. "09:00-17:00"')
        return value

    @property
    def window(self) -> tuple[time, time]:
        start, end = self.send_window.split("-")
        return parse_clock(start), parse_clock(end)

    def touches(self) -> list[tuple[PhaseBlock, Any]]:
        return [(block, touch) for block in self.phases for touch in block.touches]

    def is_gated(self, block: PhaseBlock, touch: Any) -> bool:
        """The advocate phase and every referral touch wait until affirm is complete."""
        return block.phase == "advocate" or bool(touch.referral)

    def home_country(self) -> str:
        """The sender's country (ISO code): the holidays region's, else the locale's, else NL.
        Letters to any other country are mail abroad."""
        region = self.calendar.holidays
        if region:
            return re.split(r"[/-]", region)[0].upper()
        return self.locale.split("_")[-1].upper() if "_" in self.locale else "NL"

    def version(self) -> str:
        """A short content hash: a journey in flight keeps the version it started with."""
        data = self.model_dump(mode="json")
        data.pop("lint", None)  # what validate says about the journey, not what customers get
        for block in data["phases"]:  # keys added later count only when used, so old versions stay stable
            for touch in block["touches"]:
                if touch.get("expires_after") is None:
                    touch.pop("expires_after", None)
                if touch.get("channel") == "letter":  # a letter's title is never printed: not what customers get
                    touch.pop("title", None)
        for key, unset in (("abroad_lead_days", None), ("lead_days_by_country", {}), ("batch_at", None)):
            if data["letters"].get(key) == unset:
                data["letters"].pop(key, None)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def json_schema() -> dict[str, Any]:
    schema = Journey.model_json_schema()
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "hundred journey"
    return schema
