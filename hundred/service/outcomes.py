"""What the runtime's operations come to: the values flows return, artifacts show and the CLI prints.

`touch_json` is the stable `hundred status --json` shape of one touch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hundred.service.records import TouchRow


@dataclass(frozen=True)
class TouchOutcome:
    deal: str
    touch: str
    state: str
    detail: str
    in_doubt: bool = False
    """Failed with an email that may have left: only an operator's look at the mail server's log
    settles it (`hundred retry --delivered` or `--not-delivered`); running it again changes nothing."""

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    def to_json(self) -> dict[str, Any]:
        return {"deal": self.deal, "touch": self.touch, "state": self.state, "detail": self.detail}


@dataclass(frozen=True)
class ClosedResult:
    deal: str
    journey: str
    version: str
    created: bool
    touches: list[TouchRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "deal": self.deal,
            "journey": self.journey,
            "version": self.version,
            "created": self.created,
            "touches": [touch_json(t) for t in self.touches],
        }

    def markdown(self) -> str:
        head = f"# {self.deal} · {self.journey} (version {self.version})\n\n" + (
            "" if self.created else "_Already started: nothing new scheduled._\n\n"
        )
        rows = "\n".join(
            f"| {t.touch_id} | {t.phase} | {t.channel} | {t.state} | {iso_utc(t.due) if t.due else 'after affirm'} |"
            for t in self.touches
        )
        return head + "| touch | phase | channel | state | due (UTC) |\n|---|---|---|---|---|\n" + rows + "\n"


@dataclass
class Report:
    """What `cancel` or `reconcile` did, for the operator and the Prefect artifact."""

    title: str
    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, line: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1
        self.lines.append(line)

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "counts": dict(self.counts), "lines": list(self.lines)}

    def markdown(self) -> str:
        body = "\n".join(f"- {line}" for line in self.lines) or "- nothing to repair"
        return f"# {self.title}\n\n{body}\n"


def touch_json(t: TouchRow) -> dict[str, Any]:
    """One touch in `hundred status --json` (a stable contract)."""
    return {
        "touch": t.touch_id,
        "phase": t.phase,
        "channel": t.channel,
        "due": iso_utc(t.due or t.planned_due),
        "state": t.state,
        "flow_run_id": t.flow_run_id,
        "error": t.error,
    }


def iso_utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None
