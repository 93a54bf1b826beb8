"""One touch + one deal → what the customer (or owner, or CRM) receives, as values.

`preview` writes these to files, the channels deliver them and the print queue keeps a letter's
rendering inputs: all three call `render_touch`, so what a marketer previews is what is sent.
Nothing here writes a file or talks to a server. Template text is read from disk on every call,
so a fixed typo reaches customers whose journey is already in flight.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from icalendar import vCalAddress

from hundred.deals.model import Deal
from hundred.journeys.model import Journey
from hundred.planning.identity import TouchKey
from hundred.rendering import invite
from hundred.rendering.content import CannotRender, EmailContent, LetterContent, Rendered, TaskContent, WebhookContent
from hundred.templating import sandbox as templating
from hundred.templating.context import merge_context


@dataclass(frozen=True)
class _Job:
    """One touch to render, with the merge context it is rendered with."""

    journey: Journey
    deal: Deal
    touch: Any
    key: TouchKey
    due: datetime
    templates_dir: Path
    ctx: dict[str, Any]
    unsaved: Mapping[str, str] = field(default_factory=dict)

    def render(self, name: str) -> str:
        """A template file of this touch; errors name `templates/<name>` and the line. A template
        in `unsaved` (the studio: text being edited) is rendered from that text, with what it
        includes or extends read from the templates folder as usual."""
        if name in self.unsaved:
            return templating.render(
                self.unsaved[name],
                self.ctx,
                f"templates/{name}",
                self.journey.locale,
                templates_dir=self.templates_dir,
            )
        return templating.render_file(self.templates_dir / name, self.ctx, f"templates/{name}", self.journey.locale)

    def exists(self, name: str) -> bool:
        return name in self.unsaved or (self.templates_dir / name).exists()

    def inline(self, source: str, what: str) -> str:
        return templating.render(source, self.ctx, f"{self.touch.id}.{what}", self.journey.locale)


def touch_key(journey: Journey, deal: Deal, touch_id: str) -> TouchKey:
    return TouchKey(deal.id, journey.journey, journey.version(), touch_id)


def render_touch(
    journey: Journey,
    deal: Deal,
    touch_id: str,
    due: datetime,
    templates_dir: Path,
    *,
    print_by: date | None = None,
    made_at: datetime | None = None,
    unsaved: Mapping[str, str] | None = None,
) -> Rendered:
    """Render one touch for one deal; raises TemplateProblem or CannotRender with the reason.
    `unsaved`: template name → text being edited, rendered in place of that file (the studio)."""
    block, touch = next((b, t) for b, t in journey.touches() if t.id == touch_id)
    ctx = merge_context(journey, deal, touch, block.phase, dated(touch.channel, due, print_by))
    job = _Job(journey, deal, touch, touch_key(journey, deal, touch_id), due, templates_dir, ctx, dict(unsaved or {}))
    if touch.channel == "letter":
        return LetterContent(job.key, build_letter(job), letter_style(journey), print_by)
    if touch.channel == "email":
        return _email(job)
    if touch.channel == "task":
        return _task(job, made_at or datetime.now(UTC), block.phase)
    return _webhook(job, block.phase)


def dated(channel: str, due: datetime, print_by: date | None) -> date:
    """`touch.date`: the day the touch happens. A letter happens the day it is printed (its
    print-by day), not the day it arrives; the print room re-dates a copy printed on another day
    (letters/dating.py). Preview and delivery both come through here: one rule."""
    if channel == "letter" and print_by is not None:
        return print_by
    return due.date()


def letter_style(journey: Journey) -> Any:
    from hundred.rendering.handwriting.model import (
        LetterStyle,  # lazy: reportlab loads only when a letter is drawn; not the renderer: reportlab loads only to draw
    )

    s = journey.letters
    return LetterStyle(
        paper=s.paper,
        envelope=s.envelope,
        hand=s.hand,
        ink=s.ink,
        return_address=s.return_address,
        sender_country=journey.home_country(),
        locale=journey.locale,
    )


def postal_address(deal: Deal) -> Any:
    from hundred.rendering.handwriting.model import (
        PostalAddress,  # lazy: reportlab loads only when a letter is drawn; not the renderer: reportlab loads only to draw
    )

    if deal.address is None:
        return None
    a = deal.address
    name = f"{deal.contact.first_name} {deal.contact.last_name}".strip()
    return PostalAddress(
        name=name,
        company=deal.company.name if deal.company else None,
        street=a.street,
        postcode=a.postcode,
        city=a.city,
        state=a.state,
        country=a.country,
    )


def build_letter(job: _Job) -> Any:
    from hundred.rendering.handwriting.model import (
        Letter,  # lazy: reportlab loads only when a letter is drawn; not the renderer: reportlab loads only to draw
    )

    address = postal_address(job.deal)
    if address is None:  # window or label: either way the letter has to reach someone
        raise CannotRender("the deal has no postal address; a letter needs address.street, postcode and city")
    body = job.render(job.touch.template)
    sender = job.ctx["sender"]
    return Letter(
        letter_id=job.key.reference,
        body=body.strip("\n"),
        signer=sender["name"],
        address=address,
        seed=job.key.seed,
        signer_title=sender["title"] or None,
    )


def _email(job: _Job) -> EmailContent:
    touch, deal = job.touch, job.deal
    subject = job.inline(touch.subject, "subject")
    body = job.render(touch.template)
    if templating.is_html(touch.template):
        twin = Path(touch.template).with_suffix(".txt")
        text = job.render(str(twin)) if job.exists(str(twin)) else html_to_text(body)
        page = (
            body
            if "<html" in body.lower()
            else (
                f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(subject)}</title></head>'
                f"<body>{body}</body></html>"
            )
        )
    else:
        text = body
        page = f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><pre>{html.escape(body)}</pre></body></html>'
    name = f"{deal.contact.first_name} {deal.contact.last_name}".strip()
    return EmailContent(
        job.key,
        deal.contact.email or "",
        name,
        subject,
        text.strip() + "\n",
        page,
        job.ctx["sender"]["name"],
        deal.owner.email,
    )


def _task(job: _Job, made_at: datetime, phase: str) -> TaskContent:
    touch, deal = job.touch, job.deal
    title = job.inline(touch.title, "title")
    brief = one_title(job.render(touch.template).strip())
    attendee = None
    if deal.owner.email:
        attendee = vCalAddress(f"mailto:{deal.owner.email}")
        attendee.params["cn"] = deal.owner.name
    ics = invite.calendar(
        job.key,
        title=title,
        brief=brief,
        start=invite.in_zone(job.due, job.journey.timezone),
        made_at=made_at,
        categories=[f"phase:{phase}", f"deal:{deal.id}"],
        attendee=attendee,
    )
    return TaskContent(job.key, deal.owner.email, deal.owner.name, title, brief, ics, job.due, bool(touch.confirm))


def one_title(brief: str) -> str:
    """The brief without a top heading of its own: the touch's `title:` is the task's one title
    (email subject, invite SUMMARY, the heading `preview` writes), so a `# …` first line in the
    template would be a second one."""
    first, _, rest = brief.partition("\n")
    if re.match(r"#\s", first):
        return rest.strip()
    return brief


def _webhook(job: _Job, phase: str) -> WebhookContent:
    touch = job.touch
    body = (
        job.render(touch.template)
        if touch.template
        else json.dumps(
            {
                "deal": job.deal.id,
                "journey": job.journey.journey,
                "touch": touch.id,
                "phase": phase,
                "due": job.due.isoformat(),
            },
            indent=2,
        )
    )
    return WebhookContent(job.key, touch.url, body, touch.secret_env)


def html_to_text(markup: str) -> str:
    """A readable plain-text part when a template has no .txt twin (paragraphs kept, tags dropped)."""
    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", markup)
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|div|h[1-6]|li|tr)>", "\n\n", text)
    text = re.sub(r"(?i)<li\b[^>]*>", "- ", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()
