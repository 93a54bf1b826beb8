"""Render every touch of a journey for one deal into a folder a marketer can open.

Letters become PDFs in the real handwriting, emails `.html` + `.txt`, tasks `.md` + `.ics`, webhooks
their JSON body; `index.html` is the plan's timeline with links to each file. A touch that cannot be
rendered for this deal (no postal address for a letter, a field the deal lacks) gets its own problem;
the others still render, so one gap never hides the rest.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from . import templating
from .context import merge_context
from .deal import Deal
from .journey import Journey
from .planner import Plan, PlannedTouch, plan


@dataclass
class TouchPreview:
    touch: str
    channel: str
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Preview:
    out: Path
    index: Path
    touches: list[TouchPreview]

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(t.touch, p) for t in self.touches for p in t.problems]


@dataclass(frozen=True)
class _Job:
    """One touch to render, with the merge context it is rendered with."""

    journey: Journey
    deal: Deal
    touch: Any
    item: PlannedTouch
    templates_dir: Path
    ctx: dict[str, Any]

    def render(self, name: str) -> str:
        """A template file of this touch, rendered; errors name `templates/<name>` and the line."""
        return templating.render_file(self.templates_dir / name, self.ctx, f"templates/{name}", self.journey.locale)

    def inline(self, source: str, what: str) -> str:
        return templating.render(source, self.ctx, f"{self.touch.id}.{what}", self.journey.locale)


def letter_style(journey: Journey) -> Any:
    from .letters import LetterStyle

    s = journey.letters
    return LetterStyle(paper=s.paper, envelope=s.envelope, hand=s.hand, ink=s.ink,
                       return_address=s.return_address, sender_country=_home_country(journey))


def _home_country(journey: Journey) -> str:
    region = journey.calendar.holidays
    if region:
        return re.split(r"[/-]", region)[0].upper()
    return journey.locale.split("_")[-1].upper() if "_" in journey.locale else "NL"


def postal_address(deal: Deal) -> Any:
    from .letters import PostalAddress

    if deal.address is None:
        return None
    a = deal.address
    name = f"{deal.contact.first_name} {deal.contact.last_name}".strip()
    return PostalAddress(name=name, company=deal.company.name if deal.company else None, street=a.street,
                         postcode=a.postcode, city=a.city, state=a.state, country=a.country)


def build_letter(job: _Job) -> Any:
    """The Letter for one letter touch; raises TemplateProblem or ValueError with the reason."""
    from .letters import Letter

    address = postal_address(job.deal)
    if address is None:  # window or label: either way the letter has to reach someone
        raise ValueError("the deal has no postal address; a letter needs address.street, postcode and city")
    body = job.render(job.touch.template)
    sender = job.ctx["sender"]
    return Letter(letter_id=f"{job.deal.id}/{job.touch.id}", body=body.strip("\n"), signer=sender["name"],
                  address=address, signer_title=sender["title"] or None)


def render_preview(journey: Journey, deal: Deal, templates_dir: Path, out: Path) -> Preview:
    out.mkdir(parents=True, exist_ok=True)
    the_plan = plan(journey, deal)
    touches = {t.id: (block, t) for block, t in journey.touches()}
    results: list[TouchPreview] = []
    for item in the_plan.touches:
        block, touch = touches[item.touch]
        result = TouchPreview(item.touch, item.channel)
        try:
            ctx = merge_context(journey, deal, touch, item.phase, item.due.date())
            renderer = {"letter": _letter, "email": _email, "task": _task, "webhook": _webhook}[item.channel]
            renderer(_Job(journey, deal, touch, item, templates_dir, ctx), out, result)
        except templating.TemplateProblem as exc:
            result.problems.append(str(exc) + (f" ({exc.hint})" if exc.hint else ""))
        except ValueError as exc:
            result.problems.append(str(exc))
        results.append(result)
    index = out / "index.html"
    index.write_text(_index_html(the_plan, results, out), encoding="utf-8")
    return Preview(out, index, results)


def _letter(job: _Job, out: Path, result: TouchPreview) -> None:
    from .letters import render_letters

    path = out / f"{job.touch.id}.pdf"
    rendered = render_letters([build_letter(job)], letter_style(job.journey), path)
    result.files.append(path)
    for r in rendered:
        result.problems.extend(r.problems)


def _email(job: _Job, out: Path, result: TouchPreview) -> None:
    touch, deal = job.touch, job.deal
    subject = job.inline(touch.subject, "subject")
    body = job.render(touch.template)
    twin = Path(touch.template).with_suffix(".txt")
    if templating.is_html(touch.template):
        text = job.render(str(twin)) if (job.templates_dir / twin).exists() else html_to_text(body)
        page = body if "<html" in body.lower() else (
            f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(subject)}</title></head>"
            f"<body>{body}</body></html>")
    else:
        text, page = body, f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><pre>{html.escape(body)}</pre></body></html>"
    to = deal.contact.email or "(no email address on the deal)"
    if not deal.contact.email:
        result.problems.append("the deal has no contact.email; this email cannot be sent")
    (out / f"{touch.id}.html").write_text(page, encoding="utf-8")
    (out / f"{touch.id}.txt").write_text(f"To: {to}\nSubject: {subject}\n\n{text.strip()}\n", encoding="utf-8")
    result.files += [out / f"{touch.id}.html", out / f"{touch.id}.txt"]


def _task(job: _Job, out: Path, result: TouchPreview) -> None:
    from icalendar import Calendar, Event, vCalAddress

    touch, deal, item = job.touch, job.deal, job.item
    title = job.inline(touch.title, "title")
    brief = job.render(touch.template)
    md = out / f"{touch.id}.md"
    md.write_text(f"# {title}\n\n{brief.strip()}\n", encoding="utf-8")
    cal = Calendar()
    cal.add("prodid", "-//hundred//onboarding journeys//EN")
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", f"{deal.id}/{job.journey.journey}/{touch.id}@hundred")
    event.add("summary", title)
    event.add("dtstart", item.due)
    event.add("dtend", item.due + timedelta(minutes=30))
    event.add("dtstamp", deal.closed_at)
    event.add("description", brief.strip())
    event.add("categories", [f"phase:{item.phase}", f"deal:{deal.id}"])
    if deal.owner.email:
        attendee = vCalAddress(f"mailto:{deal.owner.email}")
        attendee.params["cn"] = deal.owner.name
        event.add("attendee", attendee)
    cal.add_component(event)
    ics = out / f"{touch.id}.ics"
    ics.write_bytes(cal.to_ical())
    result.files += [md, ics]


def _webhook(job: _Job, out: Path, result: TouchPreview) -> None:
    touch, item = job.touch, job.item
    body = (job.render(touch.template) if touch.template else json.dumps(
        {"deal": job.deal.id, "journey": job.journey.journey, "touch": touch.id, "phase": item.phase,
         "due": item.due.isoformat()}, indent=2))
    path = out / f"{touch.id}.json"
    path.write_text(body, encoding="utf-8")
    result.files.append(path)


def html_to_text(markup: str) -> str:
    """A readable plain-text part when a template has no .txt twin (paragraphs kept, tags dropped)."""
    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", markup)
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|div|h[1-6]|li|tr)>", "\n\n", text)
    text = re.sub(r"(?i)<li\b[^>]*>", "- ", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


def _index_html(the_plan: Plan, results: list[TouchPreview], out: Path) -> str:
    from .timeline import render_timeline_html

    data = the_plan.to_json()
    by_id = {r.touch: r for r in results}
    for t in data["touches"]:
        for problem in by_id[t["touch"]].problems:
            t["notes"].append(f"problem: {problem}")
    links = {r.touch: [(p.suffix.lstrip(".").upper(), p.name) for p in r.files] for r in results}
    return render_timeline_html(data, title=f"Preview · {data['name']}", links=links)
