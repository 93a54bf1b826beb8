"""A touch's `when:` judged for one deal: one verdict for the plan, the preview and the runtime.

A custom field the CRM did not send (`deal.fields.vip`) reads as empty, so the condition is false
rather than a crash, and the verdict says which field was missing: the plan shows "not set for
this deal" and the runtime judges again when the touch runs, on the deal data of that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from hundred.deals.model import Deal
from hundred.journeys.model import Journey
from hundred.planning.notes import FALSE, NOT_SET, TRUE, UNJUDGED, Note
from hundred.templating import sandbox as templating
from hundred.templating.context import merge_context


@dataclass(frozen=True)
class Verdict:
    value: bool | None  # None: cannot be judged (see error)
    reason: Note | None  # for the plan, as data: true / false / not set / cannot be judged (plan_notes.py)
    error: str | None = None  # why it cannot be judged; the runtime fails the touch with it

    @property
    def note(self) -> str:
        """The verdict in English ("true for this deal", "false for this deal: skipped", …)."""
        return str(self.reason) if self.reason else ""


def judge(journey: Journey, deal: Deal, touch: Any, phase: str, on: date) -> Verdict:
    if not touch.when:
        return Verdict(True, None)
    try:
        ctx = merge_context(journey, deal, touch, phase, on)
        result = templating.evaluate_condition(touch.when, ctx, touch.id, journey.locale)
    except templating.TemplateProblem as exc:
        return Verdict(
            None,
            Note(UNJUDGED, {"why": exc.message}),
            f"the condition of '{touch.id}' ({touch.when}) cannot be evaluated: {exc.message}",
        )
    if result.missing:
        return Verdict(result.value, Note(NOT_SET, {"fields": tuple(result.missing), "value": bool(result.value)}))
    return Verdict(result.value, Note(TRUE if result.value else FALSE))
