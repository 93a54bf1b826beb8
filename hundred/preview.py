"""Render every touch of a journey for one deal into a folder a marketer can open.

Letters become PDFs in the real handwriting, emails `.html` + `.txt`, tasks `.md` + `.ics`, webhooks
their JSON body; `index.html` is the plan's timeline with links to each file. The rendering itself
is `rendering.render_touch`, the same call delivery makes; this module only writes files. A touch
that cannot be rendered for this deal (no postal address for a letter, a field the deal lacks) gets
its own problem; the others still render, so one gap never hides the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import templating
from .deal import Deal
from .journey import Journey
from .planner import Plan, plan
from .rendering import EmailContent, LetterContent, Rendered, TaskContent, WebhookContent, render_touch


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


def render_preview(journey: Journey, deal: Deal, templates_dir: Path, out: Path,
                   warnings: list[dict] | None = None, lang: str | None = None) -> Preview:
    """`warnings`: the Coleman linter's (`Checked.lint`), marked on the index's timeline.
    `lang`: the index's language ("nl", "en_GB"), overriding the journey's `locale:` (`--lang`)."""
    out.mkdir(parents=True, exist_ok=True)
    the_plan = plan(journey, deal)
    results: list[TouchPreview] = []
    for item in the_plan.touches:
        result = TouchPreview(item.touch, item.channel)
        try:
            content = render_touch(journey, deal, item.touch, item.due, templates_dir, print_by=item.print_by)
            _write(content, out, result)
        except templating.TemplateProblem as exc:
            result.problems.append(str(exc) + (f" ({exc.hint})" if exc.hint else ""))
        except ValueError as exc:
            result.problems.append(str(exc))
        results.append(result)
    index = out / "index.html"
    index.write_text(_index_html(the_plan, results, warnings), encoding="utf-8")
    return Preview(out, index, results)


def _write(content: Rendered, out: Path, result: TouchPreview) -> None:
    name = content.key.touch
    if isinstance(content, LetterContent):
        from .letters import render_letters

        path = out / f"{name}.pdf"
        for rendered in render_letters([content.letter], content.style, path):
            result.problems.extend(rendered.problems)
        result.files.append(path)
    elif isinstance(content, EmailContent):
        if not content.to:
            result.problems.append("the deal has no contact.email; this email cannot be sent")
        to = content.to or "(no email address on the deal)"
        (out / f"{name}.html").write_text(content.html, encoding="utf-8")
        (out / f"{name}.txt").write_text(f"To: {to}\nSubject: {content.subject}\n\n{content.text.strip()}\n",
                                         encoding="utf-8")
        result.files += [out / f"{name}.html", out / f"{name}.txt"]
    elif isinstance(content, TaskContent):
        (out / f"{name}.md").write_text(f"# {content.title}\n\n{content.brief}\n", encoding="utf-8")
        (out / f"{name}.ics").write_bytes(content.ics)
        result.files += [out / f"{name}.md", out / f"{name}.ics"]
    elif isinstance(content, WebhookContent):
        (out / f"{name}.json").write_text(content.body, encoding="utf-8")
        result.files.append(out / f"{name}.json")


def _index_html(the_plan: Plan, results: list[TouchPreview], warnings: list[dict] | None = None) -> str:
    from .timeline import render_timeline_html

    data = the_plan.to_json()
    by_id = {r.touch: r for r in results}
    for t in data["touches"]:
        for problem in by_id[t["touch"]].problems:
            t["notes"].append(f"problem: {problem}")
    links = {r.touch: [(p.suffix.lstrip(".").upper(), p.name) for p in r.files] for r in results}
    return render_timeline_html(data, title=f"Preview · {data['name']}", links=links, warnings=warnings)


__all__ = ["Preview", "TouchPreview", "render_preview"]
