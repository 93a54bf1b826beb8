"""What a template sees: the deal's parts plus `journey`, `touch` and `sender` (README: "For marketers").

Built in one place so the planner's titles, the preview and the runtime render the same text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hundred.deals.model import Deal
from hundred.journeys.model import Journey
from hundred.templating import sandbox as templating


def merge_context(
    journey: Journey, deal: Deal, touch: Any = None, phase: str | None = None, on: date | None = None
) -> dict[str, Any]:
    ctx = deal.merge_context()
    ctx["journey"] = {"id": journey.journey, "name": journey.name, "locale": journey.locale}
    ctx["touch"] = {
        "id": getattr(touch, "id", None),
        "phase": phase,
        "channel": getattr(touch, "channel", None),
        "day": getattr(touch, "day", None),
        "date": on,
    }
    sender_name = templating.render(journey.sender.name, ctx, "sender.name", journey.locale)
    sender_title = (
        templating.render(journey.sender.title, ctx, "sender.title", journey.locale)
        if journey.sender.title
        else (deal.owner.title or "")
    )
    ctx["sender"] = {"name": sender_name, "title": sender_title}
    return ctx
