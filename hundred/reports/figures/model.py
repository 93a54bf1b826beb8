"""The figures of a journey (and of each of its versions), as the page, the exports and the
artifact show them. Plain data with `to_json()`: the `/journeys.json` and `hundred report --json`
contract (README: "How each journey is doing"). A count the ledger cannot know is None (JSON
null, "unknown" on the page), never 0: a bounce where no SMTP server said anything, a median of
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hundred.reports.figures.facts import Attention

PHASES = ("assess", "admit", "affirm", "activate", "acclimate", "accomplish", "adopt", "advocate")
TOUCH_STATES = (
    "planned",
    "waiting",
    "scheduled",
    "running",
    "delivered",
    "done",
    "skipped",
    "expired",
    "failed",
    "cancelled",
)


class Histogram(dict[int, int]):
    """Customers per journey day (or per number of days); medians are read from it."""

    def add(self, day: int, n: int) -> None:
        self[day] = self.get(day, 0) + n

    def merge(self, other: Histogram) -> None:
        for day, n in other.items():
            self.add(day, n)

    @property
    def total(self) -> int:
        return sum(self.values())

    def count_over(self, limit: int) -> int:
        return sum(n for day, n in self.items() if day > limit)

    def median(self) -> float | None:
        """The middle value (the mean of the two middle ones for an even count); None when empty."""
        total = self.total
        if not total:
            return None
        lo, hi = (total - 1) // 2, total // 2
        seen, low, high = 0, None, None
        for day in sorted(self):
            seen_next = seen + self[day]
            if low is None and lo < seen_next:
                low = day
            if hi < seen_next:
                high = day
                break
            seen = seen_next
        assert low is not None and high is not None
        return (low + high) / 2

    def to_json(self) -> list[dict[str, int]]:
        return [{"days": day, "count": n} for day, n in sorted(self.items())]


@dataclass
class PhaseFigure:
    phase: str
    label: str
    touches: int  # touches the journey has in this phase
    reached: int = 0  # customers who got at least one of them
    days: Histogram = field(default_factory=Histogram)

    @property
    def median_day(self) -> float | None:
        return self.days.median()

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "label": self.label,
            "touches": self.touches,
            "reached": self.reached,
            "median_day": self.median_day,
        }


@dataclass
class LetterFigure:
    states: dict[str, int] = field(default_factory=dict)  # queued, batched, printed, posted, withdrawn …
    on_time: int = 0  # posted by its print-by day
    late: int = 0  # posted after it: it arrives after its planned day
    overdue: int = 0  # not posted, print-by day over
    delays: Histogram = field(default_factory=Histogram)  # late ones: days after print-by

    @property
    def median_delay(self) -> float | None:
        return self.delays.median()

    def to_json(self) -> dict[str, Any]:
        return {
            **{s: self.states.get(s, 0) for s in ("queued", "batched", "printed", "posted", "withdrawn")},
            **{
                s: n
                for s, n in sorted(self.states.items())
                if s not in ("queued", "batched", "printed", "posted", "withdrawn")
            },
            "on_time": self.on_time,
            "late": self.late,
            "overdue": self.overdue,
            "median_delay_days": self.median_delay,
        }


@dataclass
class OwnerFigure:
    owner: str
    done: int = 0
    done_late: int = 0
    open: int = 0
    overdue: int = 0

    def add(self, state: str, late: bool, n: int) -> None:
        if state == "done":
            self.done += n
            self.done_late += n if late else 0
        elif state in ("planned", "scheduled", "running", "failed"):
            self.open += n
            self.overdue += n if late else 0

    def merge(self, other: OwnerFigure) -> None:
        self.done, self.done_late = self.done + other.done, self.done_late + other.done_late
        self.open, self.overdue = self.open + other.open, self.overdue + other.overdue

    def to_json(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "done": self.done,
            "done_late": self.done_late,
            "open": self.open,
            "overdue": self.overdue,
        }


@dataclass
class TaskFigure:
    owners: dict[str, OwnerFigure] = field(default_factory=dict)

    def owner(self, name: str) -> OwnerFigure:
        return self.owners.setdefault(name, OwnerFigure(name))

    @property
    def total(self) -> OwnerFigure:
        whole = OwnerFigure("")
        for one in self.owners.values():
            whole.merge(one)
        return whole

    def to_json(self) -> dict[str, Any]:
        total = self.total.to_json()
        total.pop("owner")
        return {**total, "owners": [o.to_json() for o in sorted(self.owners.values(), key=lambda o: o.owner)]}


@dataclass
class WebhookFigure:
    ok: int = 0  # the receiver answered 2xx
    failed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "failed": self.failed}


@dataclass
class EmailFigure:
    sent: int = 0  # accepted by the SMTP server, or written to the outbox
    failed: int = 0
    bounced: int = 0  # refused by the SMTP server with 5xx
    via_smtp: int = 0  # attempts that reached an SMTP server: without any, bounces are unknown

    @property
    def known_bounced(self) -> int | None:
        return self.bounced if self.via_smtp else None

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "bounced": self.known_bounced}


@dataclass
class TouchFigure:
    touch: str
    phase: str
    channel: str
    planned_day: int | None
    when: str | None = None
    referral: bool = False
    states: dict[str, int] = field(default_factory=dict)
    days: Histogram = field(default_factory=Histogram)
    errors: dict[str, int] = field(default_factory=dict)
    letters: LetterFigure | None = None
    tasks: TaskFigure | None = None
    webhooks: WebhookFigure | None = None
    emails: EmailFigure | None = None

    def count(self, state: str) -> int:
        return self.states.get(state, 0)

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def reached(self) -> int:
        return self.count("delivered") + self.count("done")

    @property
    def to_come(self) -> int:
        return self.count("planned") + self.count("scheduled")

    @property
    def median_day(self) -> float | None:
        return self.days.median()

    def to_json(self) -> dict[str, Any]:
        return {
            "touch": self.touch,
            "phase": self.phase,
            "channel": self.channel,
            "planned_day": self.planned_day,
            "when": self.when,
            "referral": self.referral,
            "states": {s: self.count(s) for s in TOUCH_STATES},
            "reached": self.reached,
            "median_day": self.median_day,
            "errors": [{"error": e, "count": n} for e, n in sorted(self.errors.items(), key=lambda x: -x[1])],
            "letters": self.letters.to_json() if self.letters else None,
            "tasks": self.tasks.to_json() if self.tasks else None,
            "webhooks": self.webhooks.to_json() if self.webhooks else None,
            "emails": self.emails.to_json() if self.emails else None,
        }


@dataclass
class SilenceFigure:
    limit_days: int
    longest: Histogram = field(default_factory=Histogram)
    over: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "limit_days": self.limit_days,
            "over": self.over,
            "median_longest_days": self.longest.median(),
            "longest": self.longest.to_json(),
        }


@dataclass
class AffirmFigure:
    limit_days: int
    days: Histogram = field(default_factory=Histogram)  # the day the first affirm touch reached them
    late: int = 0  # reached after the limit
    not_yet_late: int = 0  # not reached, and already past the limit

    @property
    def reached(self) -> int:
        return self.days.total

    def to_json(self) -> dict[str, Any]:
        return {
            "limit_days": self.limit_days,
            "reached": self.reached,
            "median_day": self.days.median(),
            "late": self.late,
            "not_yet_late": self.not_yet_late,
        }


@dataclass
class ReferralFigure:
    touches: list[str] = field(default_factory=list)
    days: Histogram = field(default_factory=Histogram)  # when the asks reached the customers
    received: dict[str, int] = field(default_factory=dict)  # by the touch that asked
    unprompted: int = 0  # referrals from customers no referral touch had reached yet

    @property
    def asked(self) -> int:
        return self.days.total

    @property
    def received_total(self) -> int:
        return sum(self.received.values()) + self.unprompted

    def to_json(self) -> dict[str, Any]:
        return {
            "touches": list(self.touches),
            "asked": self.asked,
            "median_day": self.days.median(),
            "received": self.received_total,
            "by_touch": [{"touch": t, "received": n} for t, n in sorted(self.received.items())],
            "unprompted": self.unprompted,
        }


@dataclass
class ColemanFigure:
    silence: SilenceFigure
    affirm: AffirmFigure
    referrals: ReferralFigure

    def to_json(self) -> dict[str, Any]:
        return {
            "silence": self.silence.to_json(),
            "affirm": self.affirm.to_json(),
            "referrals": self.referrals.to_json(),
        }


@dataclass
class Figures:
    """One journey's figures (`version` None: all its versions together) in the period."""

    journey: str
    version: str | None
    name: str
    locale: str
    timezone: str
    length: int
    phase_labels: dict[str, str]
    entered: int = 0
    states: dict[str, int] = field(default_factory=dict)  # active, completed, exited
    exit_reasons: dict[str, int] = field(default_factory=dict)
    funnel: list[PhaseFigure] = field(default_factory=list)
    touches: list[TouchFigure] = field(default_factory=list)
    coleman: ColemanFigure | None = None
    attention: list[Attention] = field(default_factory=list)
    versions: list[Figures] = field(default_factory=list)  # the journey's: one per version
    in_use: bool = False  # a version with customers on it now
    first_received: datetime | None = None

    def state(self, name: str) -> int:
        return self.states.get(name, 0)

    @property
    def owners(self) -> list[OwnerFigure]:
        """Every task of the journey by owner."""
        whole: dict[str, OwnerFigure] = {}
        for t in self.touches:
            for name, one in (t.tasks.owners if t.tasks else {}).items():
                whole.setdefault(name, OwnerFigure(name)).merge(one)
        return sorted(whole.values(), key=lambda o: o.owner)

    def to_json(self) -> dict[str, Any]:
        data = {
            "journey": self.journey,
            "version": self.version,
            "name": self.name,
            "locale": self.locale,
            "entered": self.entered,
            "active": self.state("active"),
            "completed": self.state("completed"),
            "exited": self.state("exited"),
            "exit_reasons": [
                {"reason": r, "count": n} for r, n in sorted(self.exit_reasons.items(), key=lambda x: (-x[1], x[0]))
            ],
            "funnel": [p.to_json() for p in self.funnel],
            "touches": [t.to_json() for t in self.touches],
            "tasks_by_owner": [o.to_json() for o in self.owners],
            "coleman": self.coleman.to_json() if self.coleman else None,
            "attention": [
                {
                    "deal": a.deal,
                    "touch": a.touch,
                    "why": a.why,
                    "since": a.since.isoformat() if a.since else None,
                    "detail": a.detail,
                }
                for a in self.attention
            ],
        }
        if self.version is None:
            data["versions"] = [{**v.to_json(), "in_use": v.in_use} for v in self.versions]
        return data
