"""The ledger's counted buckets (facts.py) → each journey's figures (model.py).

Figures are made per version, against that version's own journey (its touches, its phases' labels,
its linter thresholds: a journey in flight keeps the version it started with), then added up per
journey: counts add, histograms merge, and the journey's medians are read from the merged
histograms. The loops here run over buckets and journey versions, never over customers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from hundred.journeys.model import Journey
from hundred.reports.figures.facts import FigureFacts, Key, VersionInfo
from hundred.reports.figures.model import (
    PHASES,
    AffirmFigure,
    ColemanFigure,
    EmailFigure,
    Figures,
    Histogram,
    LetterFigure,
    PhaseFigure,
    ReferralFigure,
    SilenceFigure,
    TaskFigure,
    TouchFigure,
    WebhookFigure,
)

T = TypeVar("T")
_MODELS: dict[tuple[str, str, str], Journey] = {}


def journey_of(info: VersionInfo) -> Journey:
    """The version's journey, parsed once per process (a version is a content hash of what
    customers get; its linter thresholds are not in it, so they are part of the cache key)."""
    key = (info.journey, info.version, repr(info.snapshot.get("lint")))
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) > 256:
            _MODELS.clear()
        model = _MODELS[key] = Journey.model_validate(info.snapshot)
    return model


def _by_key(rows: Iterable[T], key: Callable[[T], Key]) -> dict[Key, list[T]]:
    out: dict[Key, list[T]] = defaultdict(list)
    for row in rows:
        out[key(row)].append(row)
    return out


def _key(row: Any) -> Key:
    return (row.journey, row.version)


def version_figures(info: VersionInfo, facts: FigureFacts, grouped: dict[str, dict[Key, list[Any]]]) -> Figures:
    journey = journey_of(info)
    key = (info.journey, info.version)
    labels: dict[str, str] = {str(b.phase): b.title for b in journey.phases}
    fig = Figures(
        journey=info.journey,
        version=info.version,
        name=journey.name,
        locale=journey.locale,
        timezone=journey.timezone,
        length=journey.length,
        phase_labels=labels,
        in_use=info.active > 0,
        first_received=info.first_received,
    )
    for row in grouped["journeys"].get(key, []):
        fig.entered += row.n
        fig.states[row.state] = fig.states.get(row.state, 0) + row.n
        if row.state == "exited":
            reason = row.exit_reason or ""
            fig.exit_reasons[reason] = fig.exit_reasons.get(reason, 0) + row.n

    touches: dict[str, TouchFigure] = {}
    for block, touch in journey.touches():
        t = TouchFigure(
            touch.id,
            block.phase,
            touch.channel,
            touch.day,
            when=touch.when,
            referral=bool(getattr(touch, "referral", False)),
        )
        t.letters = LetterFigure() if touch.channel == "letter" else None
        t.tasks = TaskFigure() if touch.channel == "task" else None
        t.webhooks = WebhookFigure() if touch.channel == "webhook" else None
        t.emails = EmailFigure() if touch.channel == "email" else None
        touches[touch.id] = t
    for row in grouped["touches"].get(key, []):
        if row.touch in touches:
            t = touches[row.touch]
            t.states[row.state] = t.states.get(row.state, 0) + row.n
    phase_days: dict[str, Histogram] = defaultdict(Histogram)
    for row in grouped["days"].get(key, []):
        if row.kind == "touch" and row.what in touches:
            touches[row.what].days.add(row.day, row.n)
        elif row.kind == "phase":
            phase_days[row.what].add(row.day, row.n)
    for row in grouped["errors"].get(key, []):
        if row.touch in touches:
            touches[row.touch].errors[row.error] = touches[row.touch].errors.get(row.error, 0) + row.n
    for row in grouped["letters"].get(key, []):
        letters = touches[row.touch].letters if row.touch in touches else None
        if letters is None:
            continue
        letters.states[row.state] = letters.states.get(row.state, 0) + row.n
        if row.delay is not None:
            if row.delay > 0:
                letters.late += row.n
                letters.delays.add(row.delay, row.n)
            else:
                letters.on_time += row.n
        letters.overdue += row.n if row.overdue else 0
    for row in grouped["tasks"].get(key, []):
        tasks = touches[row.touch].tasks if row.touch in touches else None
        if tasks is not None:
            tasks.owner(row.owner).add(row.state, row.late, row.n)
    for row in grouped["deliveries"].get(key, []):
        sent = touches.get(row.touch)
        if sent is None or row.channel != sent.channel:
            continue  # a task's reminder mail is the task's, not an email touch's
        if sent.webhooks is not None:
            if row.state == "sent":
                sent.webhooks.ok += row.n
            elif row.state == "failed":
                sent.webhooks.failed += row.n
        if sent.emails is not None:
            if row.state == "sent":
                sent.emails.sent += row.n
            elif row.state == "failed":
                sent.emails.failed += row.n
                sent.emails.bounced += row.n if row.bounced else 0
            sent.emails.via_smtp += row.n if row.smtp else 0
    fig.touches = list(touches.values())

    for phase in PHASES:
        n_touches = sum(1 for t in fig.touches if t.phase == phase)
        days = phase_days.get(phase, Histogram())
        fig.funnel.append(PhaseFigure(phase, labels.get(phase, phase.capitalize()), n_touches, days.total, days))

    silence = SilenceFigure(journey.lint.silence.days)
    for row in grouped["silences"].get(key, []):
        silence.longest.add(row.days, row.n)
    silence.over = silence.longest.count_over(silence.limit_days)
    affirm = AffirmFigure(journey.lint.affirm_early.days, days=Histogram(phase_days.get("affirm", {})))
    affirm.late = affirm.days.count_over(affirm.limit_days)
    if any(t.phase == "affirm" for t in fig.touches):
        not_yet = Histogram()
        for row in grouped["affirm_late"].get(key, []):
            not_yet.add(row.day, row.n)
        affirm.not_yet_late = not_yet.count_over(affirm.limit_days)
    referrals = ReferralFigure([t.touch for t in fig.touches if t.referral])
    for t in fig.touches:
        if t.referral:
            referrals.days.merge(t.days)
    for row in grouped["referrals"].get(key, []):
        if row.touch is None or row.touch not in touches:
            referrals.unprompted += row.n
        else:
            referrals.received[row.touch] = referrals.received.get(row.touch, 0) + row.n
    fig.coleman = ColemanFigure(silence, affirm, referrals)
    fig.attention = list(grouped["attention"].get(key, []))
    return fig


def _add_touch(into: TouchFigure, one: TouchFigure) -> None:
    for state, n in one.states.items():
        into.states[state] = into.states.get(state, 0) + n
    into.days.merge(one.days)
    for error, n in one.errors.items():
        into.errors[error] = into.errors.get(error, 0) + n
    if into.letters is not None and one.letters is not None:
        for state, n in one.letters.states.items():
            into.letters.states[state] = into.letters.states.get(state, 0) + n
        into.letters.on_time += one.letters.on_time
        into.letters.late += one.letters.late
        into.letters.overdue += one.letters.overdue
        into.letters.delays.merge(one.letters.delays)
    if into.tasks is not None and one.tasks is not None:
        for name, owner in one.tasks.owners.items():
            into.tasks.owner(name).merge(owner)
    if into.webhooks is not None and one.webhooks is not None:
        into.webhooks.ok += one.webhooks.ok
        into.webhooks.failed += one.webhooks.failed
    if into.emails is not None and one.emails is not None:
        into.emails.sent += one.emails.sent
        into.emails.failed += one.emails.failed
        into.emails.bounced += one.emails.bounced
        into.emails.via_smtp += one.emails.via_smtp


def _blank_like(t: TouchFigure) -> TouchFigure:
    return TouchFigure(
        t.touch,
        t.phase,
        t.channel,
        t.planned_day,
        t.when,
        t.referral,
        letters=LetterFigure() if t.letters is not None else None,
        tasks=TaskFigure() if t.tasks is not None else None,
        webhooks=WebhookFigure() if t.webhooks is not None else None,
        emails=EmailFigure() if t.emails is not None else None,
    )


def journey_figures(versions: list[Figures]) -> Figures:
    """A journey's figures: its versions added up. `versions` oldest first; the newest one names
    the journey, orders its touches and sets the linter's thresholds shown."""
    newest = versions[-1]
    fig = Figures(
        journey=newest.journey,
        version=None,
        name=newest.name,
        locale=newest.locale,
        timezone=newest.timezone,
        length=newest.length,
        phase_labels=dict(newest.phase_labels),
        versions=list(versions),
        in_use=any(v.in_use for v in versions),
        first_received=min((v.first_received for v in versions if v.first_received), default=None),
    )
    touches: dict[str, TouchFigure] = {}
    for v in reversed(versions):
        for t in v.touches:
            touches.setdefault(t.touch, _blank_like(t))
    funnel = {p.phase: PhaseFigure(p.phase, p.label, p.touches) for p in newest.funnel}
    assert newest.coleman is not None
    silence = SilenceFigure(newest.coleman.silence.limit_days)
    affirm = AffirmFigure(newest.coleman.affirm.limit_days)
    referrals = ReferralFigure([t for t, f in touches.items() if f.referral])
    for v in versions:
        fig.entered += v.entered
        for state, n in v.states.items():
            fig.states[state] = fig.states.get(state, 0) + n
        for reason, n in v.exit_reasons.items():
            fig.exit_reasons[reason] = fig.exit_reasons.get(reason, 0) + n
        for t in v.touches:
            _add_touch(touches[t.touch], t)
        for p in v.funnel:
            funnel[p.phase].reached += p.reached
            funnel[p.phase].days.merge(p.days)
        assert v.coleman is not None
        silence.longest.merge(v.coleman.silence.longest)
        silence.over += v.coleman.silence.over
        affirm.days.merge(v.coleman.affirm.days)
        affirm.late += v.coleman.affirm.late
        affirm.not_yet_late += v.coleman.affirm.not_yet_late
        referrals.days.merge(v.coleman.referrals.days)
        for touch, n in v.coleman.referrals.received.items():
            referrals.received[touch] = referrals.received.get(touch, 0) + n
        referrals.unprompted += v.coleman.referrals.unprompted
        fig.attention += v.attention
    fig.touches = list(touches.values())
    fig.funnel = [funnel[p] for p in PHASES]
    fig.coleman = ColemanFigure(silence, affirm, referrals)
    fig.attention.sort(key=lambda a: (a.why, -(a.since.timestamp() if a.since else 0), a.deal))
    return fig


def figures(facts: FigureFacts, journey: str | None = None, version: str | None = None) -> list[Figures]:
    """Every journey's figures (or one journey's), each with its versions; `version` keeps only
    that version of the journey in the total."""
    grouped = {name: _by_key(getattr(facts, name), _key) for name in (*FigureFacts.COUNTED, "attention")}
    per_journey: dict[str, list[Figures]] = defaultdict(list)
    for info in sorted(facts.versions, key=lambda v: (v.journey, v.first_received or facts.now)):
        if journey is not None and info.journey != journey:
            continue
        if version is not None and info.version != version:
            continue
        per_journey[info.journey].append(version_figures(info, facts, grouped))
    return [journey_figures(vs) for _, vs in sorted(per_journey.items())]
