"""What an edit changes against a journey version that customers are on: touch by touch.

A journey in flight keeps the version it started with (`JourneyRow.snapshot`), so before a marketer
saves or upgrades, they want to know what differs between that version and the file: touches
added, removed, moved (day, time or phase), reworded (subject, title, template), otherwise
changed (channel, condition, recipient ...), what the affirm gate waits for, and journey-wide
settings that move every date (calendar, send window, post times). Compared as the journeys'
JSON (`model_dump`), keyed by touch id, the touch's identity in flight. Template *text* is not part
of a version (it is read when a touch runs), so it never shows here.

The changes are data (`Change`); `hundred/reports/changes.py` says them in a language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hundred.journeys.model import GATE_PHASE, Journey

TIMING = ("day", "at")
WORDING = ("subject", "title", "template")
GATE_KEYS = ("referral",)
NOT_SHOWN = ("id", "channel")  # identity (id), and a channel change is its own kind
SETTINGS_SKIPPED = ("phases", "lint", "journey", "description")  # lint is not part of a version
KINDS = ("added", "removed", "moved", "reworded", "channel", "changed", "gate", "settings")


@dataclass(frozen=True)
class Change:
    """One difference. `kind` is one of KINDS; `touch` names the touch (None for the gate's
    composition and for settings); `fields` are (key, before, after) with None for "not set"."""

    kind: str
    touch: str | None = None
    phase: str | None = None
    fields: tuple[tuple[str, Any, Any], ...] = ()
    day: int | None = None  # the touch's journey day in the new version (in the old one when removed)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "touch": self.touch,
            "phase": self.phase,
            "day": self.day,
            "fields": [{"field": k, "before": b, "after": a} for k, b, a in self.fields],
        }


@dataclass
class JourneyDiff:
    before: str  # version
    after: str
    changes: list[Change] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.changes

    def to_json(self) -> dict[str, Any]:
        return {"from": self.before, "to": self.after, "changes": [c.to_json() for c in self.changes]}


def _touches(journey: Journey) -> dict[str, tuple[str, dict[str, Any]]]:
    data = journey.model_dump(mode="json")
    return {t["id"]: (block["phase"], t) for block in data["phases"] for t in block["touches"]}


def _affirm(journey: Journey) -> list[str]:
    return [t.id for block, t in journey.touches() if block.phase == GATE_PHASE]


def diff_journeys(before: Journey, after: Journey) -> JourneyDiff:
    """Every difference from `before` (a version in flight) to `after` (the file, or the text being
    edited), in the order of `after`'s touches, removed ones where they stood."""
    result = JourneyDiff(before.version(), after.version())
    if result.before == result.after:
        return result
    old, new = _touches(before), _touches(after)
    changes = result.changes
    for tid, (phase, touch) in new.items():
        if tid not in old:
            changes.append(Change("added", tid, phase, _shown(touch), touch["day"]))
            continue
        old_phase, was = old[tid]
        changes.extend(_touch_changes(tid, old_phase, was, phase, touch))
    for tid, (phase, touch) in old.items():
        if tid not in new:
            changes.append(Change("removed", tid, phase, _shown(touch, gone=True), touch["day"]))
    was_waiting, now_waiting = _affirm(before), _affirm(after)
    if was_waiting != now_waiting:
        changes.append(Change("gate", None, GATE_PHASE, (("waits_for", was_waiting, now_waiting),)))
    changes.extend(_settings(before, after))
    return result


def _shown(touch: dict[str, Any], gone: bool = False) -> tuple[tuple[str, Any, Any], ...]:
    """What a marketer recognises an added or removed touch by: its channel and words."""
    keys = [k for k in ("channel", *WORDING) if touch.get(k) is not None]
    return tuple((k, touch[k], None) if gone else (k, None, touch[k]) for k in keys)


def _touch_changes(tid: str, old_phase: str, was: dict[str, Any], phase: str, now: dict[str, Any]) -> list[Change]:
    keys = [k for k in dict.fromkeys([*was, *now]) if k not in ("id",) and was.get(k) != now.get(k)]
    out: list[Change] = []
    day = now["day"]
    if was.get("channel") != now.get("channel"):
        out.append(Change("channel", tid, phase, (("channel", was.get("channel"), now.get("channel")),), day))
    moved = tuple((k, was.get(k), now.get(k)) for k in TIMING if k in keys)
    if old_phase != phase:
        moved = (("phase", old_phase, phase), *moved)
    if moved:
        out.append(Change("moved", tid, phase, moved, day))
    worded = tuple((k, was.get(k), now.get(k)) for k in WORDING if k in keys)
    if worded:
        out.append(Change("reworded", tid, phase, worded, day))
    gate = tuple((k, was.get(k), now.get(k)) for k in GATE_KEYS if k in keys)
    if gate or ((old_phase == "advocate") != (phase == "advocate")):
        out.append(Change("gate", tid, phase, gate or (("phase", old_phase, phase),), day))
    rest = tuple((k, was.get(k), now.get(k)) for k in keys if k not in (*TIMING, *WORDING, *GATE_KEYS, *NOT_SHOWN))
    if rest:
        out.append(Change("changed", tid, phase, rest, day))
    return out


def _settings(before: Journey, after: Journey) -> list[Change]:
    """Journey-wide keys that change when (or how) every touch goes out."""
    a, b = before.model_dump(mode="json"), after.model_dump(mode="json")
    changed = []
    for key in dict.fromkeys([*a, *b]):
        if key in SETTINGS_SKIPPED or a.get(key) == b.get(key):
            continue
        if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
            for sub in dict.fromkeys([*a[key], *b[key]]):
                if a[key].get(sub) != b[key].get(sub):
                    changed.append((f"{key}.{sub}", a[key].get(sub), b[key].get(sub)))
        else:
            changed.append((key, a.get(key), b.get(key)))
    return [Change("settings", None, None, tuple(changed))] if changed else []


__all__ = ["Change", "JourneyDiff", "diff_journeys", "KINDS"]
