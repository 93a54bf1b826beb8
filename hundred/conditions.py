"""A touch's `when:` judged for one deal: one verdict for the plan, the preview and the runtime.

A custom field the CRM did not send (`deal.fields.vip`) reads as empty, so the condition is false
rather than a crash, and the verdict says which field was missing: the plan shows "not set for
this deal" and the runtime judges again when the touch runs, on the deal data of that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from . import templating
from .context import merge_context
from .deal import Deal
from .journey import Journey


@dataclass(frozen=True)
class Verdict:
    value: bool | None          # None: cannot be judged (see error)
    note: str                   # for the plan: "true for this deal", "false for this deal: skipped", …
    error: str | None = None    # why it cannot be judged; the runtime fails the touch with it


def judge(journey: Journey, deal: Deal, touch: Any, phase: str, on: date) -> Verdict:
    if not touch.when:
        return Verdict(True, "")
    try:
        ctx = merge_context(journey, deal, touch, phase, on)
        result = templating.evaluate_condition(touch.when, ctx, touch.id, journey.locale)
    except templating.TemplateProblem as exc:
        return Verdict(None, f"cannot be judged yet: {exc.message}",
                       f"the condition of '{touch.id}' ({touch.when}) cannot be evaluated: {exc.message}")
    if result.missing:
        fields = ", ".join(result.missing)
        verb = "is" if len(result.missing) == 1 else "are"
        outcome = "true" if result.value else "false: skipped"
        return Verdict(result.value, f"{fields} {verb} not set for this deal: {outcome} unless it is set "
                                     f"before the touch runs")
    return Verdict(result.value, "true for this deal" if result.value else "false for this deal: skipped")
