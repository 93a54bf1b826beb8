"""The preview's `index.html`: every touch as the customer (or the owner, or the CRM) gets it, in
date order, on one page, in the journey's language.

A marketer checking a journey wants to read the letters, the emails and the briefs, not open a dozen
files. So each touch is shown inline: a letter as a thumbnail of its real first page (linking to the
PDF), an email with its From, To and Subject and its HTML body in a sandboxed `<iframe srcdoc>` (no
scripts, no forms, no navigation of this page; the plain-text twin one click away), a task's
Markdown brief as HTML (raw HTML in the brief is shown as text, never run), a webhook's body as
pretty-printed JSON. The words around them come from `i18n.words(locale, "preview")`; dates from
babel. The page loads nothing from the network and runs no script; its Content-Security-Policy
allows only its own folder's images and inline styles.

Everything from the journey, the templates and the CRM is escaped by jinja2's autoescape; the only
markup passed through unescaped is markdown-it's output, rendered with HTML disabled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from hundred.rendering.content import EmailContent, LetterContent, TaskContent, WebhookContent
from hundred.rendering.i18n import Words, words
from hundred.reports.timeline.legend import CHANNELS, OTHER_CHANNEL, PHASE_COLOURS
from hundred.reports.timeline.words import note_text

if TYPE_CHECKING:
    from hundred.planning.planner import Plan, PlannedTouch
    from hundred.reports.preview.model import TouchPreview

# The channel names, written out so the catalog extractor (and a translator) sees them.
CHANNEL_WORDS = {"letter": "Letter", "email": "Email", "task": "Task", "webhook": "Webhook"}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    text = resources.files("hundred.reports.preview").joinpath("index.html.j2").read_text(encoding="utf-8")
    return _env().from_string(text)


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt  # lazy: markdown-it loads only when a brief is rendered

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def brief_html(text: str, title: str, top: int = 4) -> Markup:
    """A task brief as HTML: raw HTML in it escaped, a first heading that repeats the title left
    out, and headings moved down so the brief's first level is `<h{top}>` under the card's title."""
    md = _markdown()
    tokens = md.parse(text)
    if (
        len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[1].content.strip().casefold() == title.strip().casefold()
    ):
        tokens = tokens[3:]
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    shift = top - min(levels) if levels else 0
    for t in tokens:
        if t.type in ("heading_open", "heading_close"):
            t.tag = f"h{max(1, min(6, int(t.tag[1]) + shift))}"
    return Markup(md.renderer.render(tokens, md.options, {}))


def pretty_json(body: str) -> str:
    """A webhook body indented for reading; as written when it is not JSON (validate says why)."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _mailbox(name: str | None, address: str | None) -> str:
    if name and address:
        return f"{name} <{address}>"
    return address or name or ""


@dataclass
class Card:
    """One touch as the index shows it."""

    id: str
    anchor: str
    channel: str
    channel_label: str
    colour: str
    title: str
    phase_label: str
    phase_colour: str
    date_long: str
    date_short: str
    time: str | None
    day: int
    description: str | None
    notes: list[str]
    problems: list[str]
    skipped: bool
    files: dict[str, str] = field(default_factory=dict)  # suffix → file name
    fields: list[tuple[str, str]] = field(default_factory=list)  # (label, value) shown as a <dl>
    body: dict[str, Any] = field(default_factory=dict)


def _card(
    result: TouchPreview, item: PlannedTouch, start: date, labels: dict[str, str], w: Words, notes: Words
) -> Card:
    channel = result.channel
    label, colour = CHANNELS.get(channel, OTHER_CHANNEL)
    letter = channel == "letter"
    card = Card(
        id=item.touch,
        anchor=f"touch-{item.touch}",
        channel=channel,
        channel_label=w(CHANNEL_WORDS.get(channel, label)),
        colour=colour,
        title=item.title or item.touch,
        phase_label=labels.get(item.phase, item.phase),
        phase_colour=PHASE_COLOURS.get(item.phase, "#8a94a3"),
        date_long=w.date(item.due, "EEEE d MMMM y"),
        date_short=w.date(item.due, "EEE d MMM"),
        time=None if letter else w.time(item.due),
        day=(item.due.date() - start).days,
        description=item.description,
        problems=list(result.problems),
        skipped=item.condition_met is False,
        notes=[note_text(n, notes) for n in item.notes],
        files={p.suffix.lstrip("."): p.name for p in result.files},
    )
    content = result.content
    if isinstance(content, LetterContent):
        card.fields.append((w("Arrives"), card.date_long))
        if item.print_by:
            card.fields.append((w("Printed and posted"), w.date(item.print_by, "EEEE d MMMM y")))
        if result.thumbnail:
            name, width, height, pages = result.thumbnail
            card.body = {
                "png": name,
                "width": width,
                "height": height,
                "pages": w.plural("{n} page", "{n} pages", pages),
                "alt": w("First page of the letter: {title}", title=card.title),
            }
    elif isinstance(content, EmailContent):
        card.fields += [
            (w("From"), content.sender_name),
            (w("To"), _mailbox(content.to_name, content.to) or w("(no email address on the deal)")),
        ]
        if content.reply_to:
            card.fields.append((w("Reply-To"), content.reply_to))
        card.fields.append((w("Subject"), content.subject))
        card.title = content.subject
        card.body = {"srcdoc": content.html, "frame_title": w("Email: {subject}", subject=content.subject)}
    elif isinstance(content, TaskContent):
        card.title = content.title
        card.fields.append((w("For"), _mailbox(content.to_name, content.to)))
        card.fields.append((w("Done when"), w("the owner marks it done") if content.confirm else w("it is sent")))
        card.body = {"brief": brief_html(content.brief, content.title)}
    elif isinstance(content, WebhookContent):
        card.fields.append((w("Sent to"), f"POST {content.url}"))
        if content.secret_env:
            card.fields.append((w("Signed with"), content.secret_env))
        card.body = {"json": pretty_json(content.body)}
    return card


def touch_card(the_plan: Plan, result: TouchPreview, w: Words) -> Card:
    """One touch's card exactly as the index shows it (the studio shows the touch under the cursor)."""
    item = next(t for t in the_plan.touches if t.touch == result.touch)
    labels: dict[str, str] = {block.phase: block.title for block in the_plan.journey.phases}
    return _card(result, item, the_plan.start_date, labels, w, words(str(w.locale), "timeline"))


def index_html(
    the_plan: Plan,
    results: list[TouchPreview],
    w: Words,
    *,
    timeline: str | None,
    warnings: list[dict[str, Any]] | None = None,
) -> str:
    """The whole page. `results` are in the plan's (date) order; `timeline` is the file name of
    the full timeline page beside it."""
    journey, deal = the_plan.journey, the_plan.deal
    labels: dict[str, str] = {block.phase: block.title for block in journey.phases}
    items = {t.touch: t for t in the_plan.touches}
    notes = words(str(w.locale), "timeline")  # the planner's notes, said as the timeline says them
    cards = [_card(r, items[r.touch], the_plan.start_date, labels, w, notes) for r in results]
    customer = str(the_plan.to_json()["customer"])
    flagged = {
        str(x["mark"]["touch"]): x
        for x in warnings or []
        if isinstance(x, dict) and isinstance(x.get("mark"), dict) and x["mark"].get("touch")
    }
    listed = [
        {"rule": str(x.get("rule") or ""), "message": str(x.get("message") or ""), "hint": str(x.get("hint") or "")}
        for x in warnings or []
        if isinstance(x, dict)
    ]
    counts = {ch: sum(1 for c in cards if c.channel == ch) for ch in _COUNT_WORDS}
    summary = [w.plural(*_COUNT_WORDS[ch], n) for ch, n in counts.items() if n]
    closed_local = deal.closed_at.astimezone(ZoneInfo(journey.timezone))
    return _template().render(
        w=w,
        lang=w.lang,
        journey=journey,
        deal=deal,
        customer=customer,
        cards=cards,
        closed=f"{w.date(closed_local, 'EEEE d MMMM y')}, {w.time(closed_local)}",
        summary=", ".join(summary),
        timeline=timeline,
        warnings=listed,
        flagged={k: str(v.get("rule") or "") for k, v in flagged.items()},
        problems=sum(len(c.problems) for c in cards),
    )


_COUNT_WORDS = {
    "letter": ("{n} letter", "{n} letters"),
    "email": ("{n} email", "{n} emails"),
    "task": ("{n} task", "{n} tasks"),
    "webhook": ("{n} webhook", "{n} webhooks"),
}


__all__ = ["index_html", "touch_card", "brief_html", "pretty_json", "Card"]
