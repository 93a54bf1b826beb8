"""The four kinds of touch a phase holds (letter, email, task, webhook), told apart by `channel`;
what they share (day, time, condition, expiry) is `_TouchBase`. Rules that need the journey around a
touch live in touch_rules.py and validation/journey_rules.py.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, field_validator

from hundred.journeys.fields import DURATION, OneLine, Slug, StrictModel, TemplateName, parse_clock, parse_duration


class _TouchBase(StrictModel):
    id: Slug = Field(description="Stable identity of the touch; never rename a touch that is in flight")
    day: StrictInt = Field(description="Journey day: 0 is the day the deal closed")
    at: StrictStr | None = Field(
        None, description='Local time of day, "HH:MM", inside the send window; default: the start of the send window'
    )
    when: StrictStr | None = Field(
        None, max_length=1000, description="Condition evaluated when the touch runs, e.g. \"deal.segment != 'C'\""
    )
    description: StrictStr | None = Field(None, max_length=5000)
    referral: StrictBool = Field(
        False, description="A referral request: never scheduled before the affirm phase is complete"
    )
    expires_after: StrictStr | None = Field(
        None,
        json_schema_extra={"pattern": DURATION.pattern},
        description='Skip the touch (state expired) when it cannot run within this time of its planned moment: "2d", "12h", "30m"',
    )

    @field_validator("expires_after")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def expires_after_delta(self) -> timedelta | None:
        return parse_duration(self.expires_after) if self.expires_after else None

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
    title: OneLine | None = Field(
        None,
        description='What the marketer calls this letter in plans and previews, e.g. "Handwritten thank-you letter"; never printed',
    )
    template: TemplateName


class EmailTouch(_TouchBase):
    channel: Literal["email"]
    subject: OneLine
    template: TemplateName


class TaskTouch(_TouchBase):
    channel: Literal["task"]
    to: Literal["owner"] = "owner"
    title: OneLine
    template: TemplateName
    confirm: StrictBool = Field(True, description="True: the owner marks the task done; false: it completes when sent")


class WebhookTouch(_TouchBase):
    channel: Literal["webhook"]
    url: StrictStr = Field(pattern=r"^https?://\S+$", max_length=2000)
    secret_env: StrictStr | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=100,
        description="Environment variable holding the signing secret",
    )
    template: TemplateName | None = None


Touch = Annotated[LetterTouch | EmailTouch | TaskTouch | WebhookTouch, Field(discriminator="channel")]
TOUCH_MODELS: dict[str, type[_TouchBase]] = {
    "letter": LetterTouch,
    "email": EmailTouch,
    "task": TaskTouch,
    "webhook": WebhookTouch,
}
