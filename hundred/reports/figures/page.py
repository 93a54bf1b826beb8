"""The figures as pages: `/journeys` (how each journey is doing) and one customer's 100 days.

Pure presentation: figures (model.py) and a story (story.py) in, HTML out. The journeys page is
a plain server-rendered page with SVG charts, each beside the table of its numbers, and no
script; its stylesheet is inlined and allowed by `STYLE_HASH` in the Content-Security-Policy
the web app sends. The deal page is `plan --html`'s timeline (hundred/reports/timeline) with what
really happened drawn over the plan, and the events, letters and waits after it.

Words are the `figures` catalog's (hundred/rendering/locales/<lang>/LC_MESSAGES/figures.po), in
each journey's language: a page with a Dutch and an English journey says each in its own.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from hundred.rendering.i18n import Words, words
from hundred.reports.figures import charts
from hundred.reports.figures.charts import N_
from hundred.reports.figures.model import Figures
from hundred.reports.figures.story import DealStory, TouchStory
from hundred.reports.timeline.page import plan_zones, render_timeline_html
from hundred.reports.timeline.words import SHORT, verdict_text

CSS = resources.files("hundred.reports.figures").joinpath("figures.css").read_text(encoding="utf-8")
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
DOMAIN = "figures"

CHANNEL_WORDS = {"letter": N_("letter"), "email": N_("email"), "task": N_("task"), "webhook": N_("webhook")}
WHY_WORDS = {
    "failed": N_("failed"),
    "task-overdue": N_("task overdue"),
    "letter-overdue": N_("letter not posted by its print-by day"),
}
NAV_WORDS = (N_("Print room"),)  # the web app's links to its other parts
QUICK = ((N_("Last 7 days"), 7), (N_("Last 30 days"), 30), (N_("Last 90 days"), 90), (N_("All"), None))


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    def load(name: str) -> str:
        return resources.files("hundred.reports.figures").joinpath(name).read_text(encoding="utf-8")

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


@dataclass(frozen=True)
class Links:
    """Where the pages point (the web app's routes)."""

    base: str = "/journeys"
    query: dict[str, str] = field(default_factory=dict)  # the period and language kept on every link

    def _q(self, **more: str | None) -> str:
        params = {k: v for k, v in {**self.query, **more}.items() if v}
        return "?" + urlencode(params) if params else ""

    def journeys(self) -> str:
        return self.base + self._q(version=None)

    def journey(self, journey: str) -> str:
        return f"{self.base}/{quote(journey, safe='')}" + self._q(version=None)

    def version(self, journey: str, version: str) -> str:
        return f"{self.base}/{quote(journey, safe='')}" + self._q(version=version)

    def deal(self, journey: str, deal: str) -> str:
        return f"{self.base}/{quote(journey, safe='')}/deals/{quote(deal, safe='')}" + self._q(
            since=None, until=None, version=None
        )

    def lookup(self, journey: str) -> str:
        return f"{self.base}/{quote(journey, safe='')}/deals"

    def export(self, kind: str) -> str:
        return f"{self.base}.{kind}" + self._q(lang=None)


@dataclass(frozen=True)
class Chrome:
    """The page's frame from the web app: the session's logout form, and links to its other parts."""

    logged_in: bool = False
    csrf: str = ""
    nav: Sequence[dict[str, str]] = ()


class _Journey:
    """One journey's figures, with the helpers its section needs, in its own language."""

    def __init__(self, fig: Figures, w: Words, zone: ZoneInfo | None):
        self.fig, self.w, self.zone = fig, w, zone
        c = fig.coleman
        assert c is not None
        self.exit_reasons = sorted(fig.exit_reasons.items(), key=lambda x: (-x[1], x[0]))
        self.funnel_svg = charts.funnel(
            f"funnel-{fig.journey}", w, w("Customers reached per phase"), fig.funnel, fig.entered
        )
        self.touches_svg = charts.touch_outcomes(
            f"touches-{fig.journey}", w, w("What happened to each touch"), fig.touches
        )
        self.silence_svg = charts.silences(
            f"silence-{fig.journey}",
            w,
            w("Customers by their longest silence"),
            c.silence.longest,
            c.silence.limit_days,
        )
        self.silence_rows = charts.silence_rows(c.silence.longest, c.silence.limit_days)
        self.letters = [t for t in fig.touches if t.letters is not None]
        self.tasks = [t for t in fig.touches if t.tasks is not None]
        self.emails = [t for t in fig.touches if t.emails is not None]
        self.webhooks = [t for t in fig.touches if t.webhooks is not None]
        self.errors = [(t.touch, e, n) for t in fig.touches for e, n in sorted(t.errors.items(), key=lambda x: -x[1])]

    def num(self, value: float | None) -> str:
        return self.w.number(value) if value is not None else "–"

    def day(self, value: float | None) -> str:
        return self.w("day {n}", n=self.w.number(value)) if value is not None else "–"

    def days(self, value: float | None) -> str:
        if value is None:
            return "–"
        if float(value).is_integer():
            return self.w.plural("{n} day", "{n} days", int(value))
        return self.w("{n} days", n=self.w.number(value))  # a median between two whole days

    def count(self, value: int | None) -> Markup | str:
        if value is None:
            return Markup('<span class="unknown">{}</span>').format(self.w("unknown"))
        return self.w.number(value)

    def share(self, n: int, of: int) -> str:
        return f"{self.w.number(round(n * 100 / of))} %" if of else "–"

    def date(self, iso: str | None) -> str:
        try:
            return self.w.date(date.fromisoformat(str(iso)[:10]), "medium")
        except ValueError:
            return str(iso or "–")

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return "–"
        return self.w.date(moment.astimezone(self.zone) if self.zone else moment, "medium")


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return None


def render_journeys_page(
    journeys: Sequence[Figures],
    *,
    now: datetime,
    since: date | None,
    until: date | None,
    lang: str | None = None,
    links: Links | None = None,
    chrome: Chrome | None = None,
    one: bool = False,
    version: str | None = None,
    today: date | None = None,
) -> str:
    """The figures page. `lang` (a `?lang=` choice) speaks every part in that language; without
    it each journey speaks its own, and the frame the first journey's (English when there is
    none)."""
    links = links or Links()
    w = words(lang or (journeys[0].locale if journeys else None), DOMAIN)
    sections = [_Journey(f, words(lang or f.locale, DOMAIN), _zone(f.timezone)) for f in journeys]
    today = today or now.date()
    quick = []
    for label, n in QUICK:
        start = today.toordinal() - n + 1 if n else None
        q_since = date.fromordinal(start).isoformat() if start else None
        href = links.journeys() if not one else links.journey(journeys[0].journey) if journeys else links.journeys()
        base = href.split("?")[0]
        params = {k: v for k, v in {**links.query, "since": q_since, "until": None}.items() if v}
        quick.append(
            {
                "label": label,
                "href": base + ("?" + urlencode(params) if params else ""),
                "current": (since.isoformat() if since else None) == q_since and until is None,
            }
        )
    title = w("How each journey is doing") if not one or not journeys else journeys[0].name
    zone = _zone(journeys[0].timezone) if journeys else None
    return (
        _env()
        .get_template("journeys.html.j2")
        .render(
            css=Markup(CSS),
            w=w,
            title=title,
            one=one,
            journeys=sections,
            links=links,
            chrome=chrome or Chrome(),
            since=since.isoformat() if since else "",
            until=until.isoformat() if until else "",
            version=version,
            lang_param=lang or "",
            period_text=_period_text(w, since, until),
            now_text=w.datetime(now, "medium", tzinfo=zone),
            form_action=links.journey(journeys[0].journey).split("?")[0] if one and journeys else links.base,
            quick=quick,
            exports={"json": links.export("json"), "csv": links.export("csv")},
            segments=charts.SEGMENTS,
            channel_words=CHANNEL_WORDS,
            why_words=WHY_WORDS,
        )
    )


def _period_text(w: Words, since: date | None, until: date | None) -> str:
    if since and until:
        return w("from {since} up to and including {until}", since=w.date(since), until=w.date(until))
    if since:
        return w("since {since}", since=w.date(since))
    if until:
        return w("up to and including {until}", until=w.date(until))
    return w("at any time")


# -- one customer ------------------------------------------------------------------------------------


def happened(story: DealStory, t: TouchStory, w: Words) -> dict[str, Any]:
    """What happened to one touch, for the timeline's overlay: where, of what kind, in words."""

    def on(d: date | None, n: int | None) -> str:
        return w("{date} (day {n})", date=w.date(d, SHORT), n=n) if d is not None else ""

    reached = {
        "letter": N_("posted {when}"),
        "email": N_("sent {when}"),
        "webhook": N_("sent {when}"),
        "task": N_("done {when}"),
    }
    if t.reached:
        text = w(reached.get(t.channel, "done {when}"), when=on(t.actual_date, t.actual_day))
        if t.late_days:
            text += ", " + w.plural("{n} day late", "{n} days late", t.late_days)
        return {"day": t.arrives_day, "kind": "late" if t.late_days else "on-time", "text": text}
    if t.state in ("skipped", "expired"):
        label = w("skipped") if t.state == "skipped" else w("expired")
        why = verdict_text(words(w.locale.language, "timeline"), t.detail) if t.detail else ""
        return {"day": t.actual_day, "kind": "skipped", "text": f"{label}: {why}" if why else label}
    if t.state == "failed":
        return {"day": t.actual_day, "kind": "failed", "text": w("failed: {error}", error=t.detail or "")}
    if t.state == "cancelled":
        return {
            "day": t.actual_day,
            "kind": "cancelled",
            "text": w("cancelled {when}", when=on(t.actual_date, t.actual_day)),
        }
    wait = next((x for x in story.waiting if x.touch == t.touch), None)
    if wait is None:
        return {"day": None, "kind": "open", "text": w("not yet")}
    text = waiting_text(wait, w)
    return {"day": story.today if wait.overdue else None, "kind": "late" if wait.overdue else "open", "text": text}


def waiting_text(wait: Any, w: Words) -> str:
    """A wait in words: on whom or what, and since or until when."""
    when = w("{date} (day {n})", date=w.date(wait.date, SHORT), n=wait.day) if wait.date is not None else ""
    if wait.on == "gate":
        holding = ", ".join(f"{tid} ({w(state)})" for tid, state in wait.blockers)
        return (
            w("waits for the affirm phase: {touches}", touches=holding) if holding else w("waits for the affirm phase")
        )
    if wait.on == "print-room":
        state = w(wait.detail) if wait.detail else ""
        if wait.overdue:
            return w("overdue in the print room ({state}): print by {when}", state=state, when=when)
        return w("in the print room ({state}): print by {when}", state=state, when=when)
    if wait.on == "owner":
        if wait.overdue:
            return w("overdue: {owner} has not marked it done; it was due {when}", owner=wait.detail or "", when=when)
        return w("with {owner}, due {when}", owner=wait.detail or "", when=when)
    if wait.on == "day":
        if wait.overdue:
            return w("overdue: due {when}, not run yet", when=when)
        return w("planned for {when}", when=when)
    return w("failed, waits for an operator: {error}", error=wait.detail or "")


def render_deal_page(
    story: DealStory, *, lang: str | None = None, back: tuple[str, str] | None = None, chrome: Chrome | None = None
) -> str:
    """One customer's 100 days: the plan's timeline with what happened drawn over it, then what
    waits, the letters and the events. `back`: (label, href) of the journey's figures."""
    w = words(lang or story.journey.locale, DOMAIN)
    if story.plan is None:
        raise ValueError(f"deal {story.facts.deal}: its stored deal no longer validates, so there is no plan to draw")
    data = story.plan.to_json()
    actual = {t.touch: happened(story, t, w) for t in story.touches}
    nav = _env().get_template("deal_nav.html.j2").render(w=w, back=back, chrome=chrome or Chrome())
    extra = (
        _env()
        .get_template("deal.html.j2")
        .render(
            w=w,
            wn=w.plural,
            s=story,
            f=story.facts,
            waiting_text=waiting_text,
            day=SHORT,
            zone=_zone(story.journey.timezone),
        )
    )
    return render_timeline_html(
        data,
        lang=lang,
        actual=actual,
        nav=Markup(nav),
        extra=Markup(extra),
        **plan_zones(story.plan),
    )
