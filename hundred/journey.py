"""The journey a marketer writes in YAML (PRODUCT.md §3), as pydantic models.

The models check shape and single values; rules that look across the journey (phase order, unique
ids, the affirm gate, templates on disk) live in `validate.py`, which also turns errors into
`file:line:col` messages. The JSON Schema that editors use is generated from these models.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, time
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

PHASES: tuple[str, ...] = ("assess", "admit", "affirm", "activate", "acclimate", "accomplish", "adopt", "advocate")
CHANNELS: tuple[str, ...] = ("letter", "email", "task", "webhook")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXIT_EVENTS: tuple[str, ...] = ("deal.cancelled", "contact.opted_out")
GATE_PHASE = "affirm"

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
Phase = Literal["assess", "admit", "affirm", "activate", "acclimate", "accomplish", "adopt", "advocate"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def parse_clock(value: Any) -> time:
    """`"09:30"` → 09:30. Strict HH:MM so `9.30` or `930` get a clear error."""
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day; write it as HH:MM, e.g. \"09:30\"")
    return time(int(match[1]), int(match[2]))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Calendar(_Strict):
    workdays: list[Weekday] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], min_length=1)
    holidays: str | None = Field(None, description="Country code for the holidays package, optionally with a subdivision: NL, DE/BY, US/NY")
    closed: list[date] = Field(default_factory=list, description="Extra closed days (ISO dates)")

    @field_validator("workdays")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a weekday is listed twice; list each workday once")
        return value


class LetterSettings(_Strict):
    paper: Literal["A4", "letter"] = "A4"
    envelope: Literal["DL", "C5", "US10", "none"] = "DL"
    hand: Literal["caveat", "kalam"] = "caveat"
    ink: Literal["blue", "black", "navy"] = "blue"
    lead_days: int = Field(2, ge=0, le=20, description="Business days before a letter's arrival day that it must be printed and posted")
    return_address: str = ""

    @model_validator(mode="after")
    def _paper_fits_envelope(self) -> "LetterSettings":
        if self.envelope in ("DL", "C5") and self.paper != "A4":
            raise ValueError(f"envelope {self.envelope} takes A4 paper; use envelope US10 with paper letter")
        if self.envelope == "US10" and self.paper != "letter":
            raise ValueError("envelope US10 takes US Letter paper; use envelope DL or C5 with A4")
        return self


class Sender(_Strict):
    name: str = Field(description="Inline template, e.g. \"{{ deal.owner.name }}\"")
    title: str | None = None


class _TouchBase(_Strict):
    id: Slug = Field(description="Stable identity of the touch; never rename a touch that is in flight")
    day: int = Field(description="Journey day: 0 is the day the deal closed")
    at: str | None = Field(None, description="Local time of day, \"HH:MM\"; default: the start of the send window")
    when: str | None = Field(None, description="Condition evaluated when the touch runs, e.g. \"deal.segment != 'C'\"")
    description: str | None = None
    referral: StrictBool = Field(False, description="A referral request: never scheduled before the affirm phase is complete")

    @field_validator("at")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None:
            parse_clock(value)
        return value

    @property
    def at_time(self) -> time | None:
        return parse_clock(self.at) if self.at else None


class LetterTouch(_TouchBase):
    channel: Literal["letter"]
    template: str


class EmailTouch(_TouchBase):
    channel: Literal["email"]
    subject: str
    template: str


class TaskTouch(_TouchBase):
    channel: Literal["task"]
    to: Literal["owner"] = "owner"
    title: str
    template: str
    confirm: StrictBool = Field(True, description="True: the owner marks the task done; false: it completes when sent")


class WebhookTouch(_TouchBase):
    channel: Literal["webhook"]
    url: str = Field(pattern=r"^https?://\S+$")
    secret_env: str | None = Field(None, description="Environment variable holding the signing secret")
    template: str | None = None


Touch = Annotated[Union[LetterTouch, EmailTouch, TaskTouch, WebhookTouch], Field(discriminator="channel")]
TOUCH_MODELS: dict[str, type[_TouchBase]] = {
    "letter": LetterTouch, "email": EmailTouch, "task": TaskTouch, "webhook": WebhookTouch}


class PhaseBlock(_Strict):
    phase: Phase
    label: str | None = Field(None, description="Display name, e.g. \"Bevestigen\"")
    touches: list[Touch] = Field(default_factory=list)

    @property
    def title(self) -> str:
        return self.label or self.phase.capitalize()


class Journey(_Strict):
    """One onboarding journey. `journey` is its stable id; the content hash is its version."""

    journey: Slug
    name: str
    description: str | None = None
    locale: str = "nl_NL"
    timezone: str = "Europe/Amsterdam"
    length: int = Field(100, ge=1, le=730)
    calendar: Calendar = Field(default_factory=Calendar)
    send_window: str = "09:00-17:00"
    letters: LetterSettings = Field(default_factory=LetterSettings)
    sender: Sender = Field(default_factory=lambda: Sender(name="{{ deal.owner.name }}"))
    phases: list[PhaseBlock] = Field(min_length=1)
    exit_on: list[Literal["deal.cancelled", "contact.opted_out"]] = Field(default_factory=lambda: list(EXIT_EVENTS))

    @field_validator("send_window")
    @classmethod
    def _window(cls, value: str) -> str:
        parts = str(value).split("-")
        if len(parts) != 2:
            raise ValueError(f"{value!r} is not a window; write it as \"09:00-17:00\"")
        start, end = (parse_clock(p) for p in parts)
        if start >= end:
            raise ValueError(f"the window {value!r} ends before it starts; the start comes first, e.g. \"09:00-17:00\"")
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

    def version(self) -> str:
        """A short content hash: a journey in flight keeps the version it started with."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def json_schema() -> dict[str, Any]:
    schema = Journey.model_json_schema()
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "hundred journey"
    return schema
