"""The print room's forms, declared: each POST route takes one as `Annotated[Form, Form()]` and
FastAPI parses and validates it (a bad field is a 400 that names it, see site.py). Every form of a
browser session carries the session's CSRF token; the door checks it (hundred/web/guard.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CsrfForm(BaseModel):
    """A form with nothing but its CSRF token (marking a batch printed or posted, logging out)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    csrf: str = Field("", max_length=200)


class BatchForm(CsrfForm):
    """Make a batch: letters due by `until` (default today in the print room's zone)."""

    until: date | None = None
    duplex: bool = False
    labels: bool = False

    @field_validator("until", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError("the date must look like 2026-12-01") from None
        return value

    @field_validator("duplex", "labels", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> Any:
        """A checkbox sends "on" when ticked and nothing when not."""
        return value if isinstance(value, bool) else str(value).lower() in ("on", "true", "1", "yes")


class LetterForm(CsrfForm):
    """An action on one letter (post it, reprint it): the letter id travels as a field, never a path."""

    letter: str = Field(min_length=1, max_length=300)


class SpoilForm(LetterForm):
    reason: str = Field("", max_length=1000)


class LoginForm(CsrfForm):
    password: str = Field("", max_length=1024)
    next: str = Field("/print", max_length=512)


__all__ = ["BatchForm", "CsrfForm", "LetterForm", "LoginForm", "SpoilForm"]
