"""Rules on single touch values that need the journey around them, kept out of the validator's
cross-journey rules (validation/journey_rules.py).

Each returns `(key, message, hint)` for the touch key at fault; `journey_rules.Rules.touch` locates it.
Pure: the webhook check reads the setting from the environment and does no DNS (see urlsafety).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import available_timezones

from hundred.journeys.fields import parse_clock
from hundred.journeys.problems import Problem
from hundred.journeys.shorten import clip
from hundred.journeys.webhook_urls import ENV as URL_ENV, allow_private_webhooks, check_webhook_url

PEOPLE_CHANNELS = ("email", "task", "letter")  # they go out in the send window; a webhook at any hour
MAX_PROBLEMS = 50  # per file: more only bury the first one, which often explains the rest


def window_of(value: Any) -> tuple[time, time] | None:
    try:
        start, end = (parse_clock(part) for part in str(value).split("-"))
    except ValueError:
        return None
    return (start, end) if start < end else None


def touch_problems(touch: dict[str, Any], where: str, send_window: Any) -> Iterator[tuple[str, str, str]]:
    at, channel = touch.get("at"), touch.get("channel")
    window = window_of(send_window)
    if isinstance(at, str) and channel in PEOPLE_CHANNELS and window is not None:
        try:
            clock: time | None = parse_clock(at)
        except ValueError:
            clock = None  # the model reports the format
        start, end = window
        if clock is not None and not start <= clock < end:
            last = (datetime.combine(date.min, end) - timedelta(minutes=1)).time()
            what = "the post is planned" if channel == "letter" else f"the {channel} goes out"
            yield (
                "at",
                f"at {at} of {where} is outside the send window {start:%H:%M}-{end:%H:%M}",
                f"{what} in the send window: use a time from {start:%H:%M} to {last:%H:%M}, or widen send_window",
            )
    url = touch.get("url")
    if channel == "webhook" and isinstance(url, str) and re.match(r"https?://\S+$", url):  # else the model says
        reason = check_webhook_url(url, allow_private_webhooks())
        if reason:
            yield (
                "url",
                f"webhook url of {where} is refused: {clip(reason, 160)}",
                f"use the receiver's public https:// address; for a receiver on your own network set {URL_ENV}=1",
            )


def capped(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    last = problems[MAX_PROBLEMS - 1]
    return problems[:MAX_PROBLEMS] + [
        Problem(
            last.file,
            last.line,
            last.col,
            f"and {len(problems) - MAX_PROBLEMS} more problems after this one",
            "fix the ones above and validate again",
        )
    ]


def zone_hint(zone: str) -> str:
    """`Amsterdam` → `Europe/Amsterdam`: only on the error path, as listing zones reads the disk."""

    wanted = zone.strip().replace(" ", "_").lower()
    matches = sorted(z for z in available_timezones() if z.lower().rsplit("/", 1)[-1] == wanted)
    if matches:
        return f"did you mean '{matches[0]}'?"
    return "use an IANA name such as Europe/Amsterdam or America/New_York"
