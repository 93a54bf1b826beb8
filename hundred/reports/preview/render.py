"""Render every touch of a journey for one deal into a folder a marketer can open.

Letters become PDFs in the real handwriting (plus a PNG of the first page), emails `.html` + `.txt`,
tasks `.md` + `.ics`, webhooks their JSON body; `index.html` shows every touch inline in date order
(preview_index.py) and `timeline.html` is the plan's timeline with links to each file. The rendering
itself is `rendering.render_touch`, the same call delivery makes; this module only writes files,
through `PreviewFolder`, which clears what an earlier preview wrote and never touches anything else
(preview_files.py). A touch that cannot be rendered for this deal (no postal address for a letter,
a field the deal lacks) gets its own problem; the others still render, so one gap never hides the
rest.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hundred.deals.model import Deal
from hundred.journeys.model import Journey
from hundred.planning.notes import PROBLEM, Note
from hundred.planning.planner import Plan, PlannedTouch, plan
from hundred.rendering.content import EmailContent, LetterContent, Rendered, TaskContent, WebhookContent
from hundred.rendering.i18n import Words, words
from hundred.rendering.touch import render_touch
from hundred.reports.preview.files import PreviewFolder
from hundred.reports.preview.index import index_html
from hundred.reports.preview.model import INDEX, TIMELINE, Preview, TouchPreview
from hundred.reports.preview.thumbs import WIDTH_PX
from hundred.reports.timeline.page import plan_zones, render_timeline_html
from hundred.templating import sandbox as templating

SUFFIXES = {"letter": (".pdf", ".png"), "email": (".html", ".txt"), "task": (".md", ".ics"), "webhook": (".json",)}


def _stem(touch: str) -> str:
    """A touch's file names; a touch called "index" or "timeline" must not overwrite those pages."""
    return f"{touch}-touch" if f"{touch}.html" in (INDEX, TIMELINE) else touch


def render_preview(
    journey: Journey,
    deal: Deal,
    templates_dir: Path,
    out: Path,
    warnings: list[dict[str, Any]] | None = None,
    lang: str | None = None,
) -> Preview:
    """`warnings`: the Coleman linter's (`Checked.lint`), listed on the index and marked on the
    timeline. `lang`: the index's language ("nl", "en_GB"), overriding the journey's `locale:`
    (`--lang`). Raises `PreviewRefused` (an OSError) before writing anything when `out` holds a
    file under one of the preview's names that no earlier preview wrote."""
    the_plan = plan(journey, deal)
    folder = PreviewFolder(out)
    folder.claim(
        [INDEX, TIMELINE] + [_stem(t.touch) + s for t in the_plan.touches for s in SUFFIXES.get(t.channel, ())]
    )
    results: list[TouchPreview] = []
    finished = False
    try:
        for item in the_plan.touches:
            result, files = render_one(journey, deal, item, templates_dir)
            for name, data, listed in files:
                written = folder.write(name, data)
                if listed:
                    result.files.append(written)
            results.append(result)
        w = words(lang or journey.locale, "preview")
        folder.write(TIMELINE, _timeline_html(the_plan, results, w, warnings))
        index = folder.write(INDEX, _index_html(the_plan, results, w, warnings))
        removed = folder.finish()
        finished = True
    finally:
        if not finished:
            folder.save()
    return Preview(out, index, results, removed)


def render_one(
    journey: Journey,
    deal: Deal,
    item: PlannedTouch,
    templates_dir: Path,
    *,
    unsaved: Mapping[str, str] | None = None,
    thumb_width: int = WIDTH_PX,
) -> tuple[TouchPreview, list[tuple[str, bytes | str, bool]]]:
    """One planned touch rendered as `preview` shows it, and its files as (name, content, listed:
    linked from the page; a letter's PNG is shown, not linked). A problem of this touch (no postal
    address, a template that fails for this deal) is kept in the result, never raised. `unsaved`:
    template texts being edited (the studio), rendered in place of the files."""
    result = TouchPreview(item.touch, item.channel)
    files: list[tuple[str, bytes | str, bool]] = []
    try:
        content = render_touch(
            journey, deal, item.touch, item.due, templates_dir, print_by=item.print_by, unsaved=unsaved
        )
        result.content = content
        files = _files(content, _stem(item.touch), result, thumb_width)
    except templating.TemplateProblem as exc:
        result.problems.append(str(exc) + (f" ({exc.hint})" if exc.hint else ""))
    except ValueError as exc:
        result.problems.append(str(exc))
    return result, files


def _files(content: Rendered, name: str, result: TouchPreview, thumb_width: int) -> list[tuple[str, bytes | str, bool]]:
    if isinstance(content, LetterContent):
        from hundred.rendering.handwriting import render_letters  # lazy: reportlab loads only when a letter is drawn
        from hundred.reports.preview.thumbs import thumbnail  # lazy: PDFium loads only when a thumbnail is drawn

        buffer = io.BytesIO()
        for rendered in render_letters([content.letter], content.style, buffer):
            result.problems.extend(rendered.problems)
        pdf = buffer.getvalue()
        thumb = thumbnail(pdf, thumb_width)
        result.thumbnail = (f"{name}.png", thumb.width, thumb.height, thumb.pages)
        return [(f"{name}.pdf", pdf, True), (f"{name}.png", thumb.png, False)]
    if isinstance(content, EmailContent):
        if not content.to:
            result.problems.append("the deal has no contact.email; this email cannot be sent")
        to = content.to or "(no email address on the deal)"
        return [
            (f"{name}.html", content.html, True),
            (f"{name}.txt", f"To: {to}\nSubject: {content.subject}\n\n{content.text.strip()}\n", True),
        ]
    if isinstance(content, TaskContent):
        brief = content.brief if content.brief.lstrip().startswith("# ") else f"# {content.title}\n\n{content.brief}"
        return [(f"{name}.md", brief.rstrip() + "\n", True), (f"{name}.ics", content.ics, True)]
    if isinstance(content, WebhookContent):
        return [(f"{name}.json", content.body, True)]
    return []


def _links(results: list[TouchPreview]) -> dict[str, list[tuple[str, str]]]:
    return {r.touch: [(p.suffix.lstrip(".").upper(), p.name) for p in r.files] for r in results}


def _timeline_html(the_plan: Plan, results: list[TouchPreview], w: Words, warnings: list[dict[str, Any]] | None) -> str:

    data = the_plan.to_json()
    extra = plan_zones(the_plan)
    for r in results:
        extra["notes"][r.touch] += [Note(PROBLEM, {"what": problem}) for problem in r.problems]
    return render_timeline_html(
        data,
        title=f"{w('Preview')} · {data['name']}",
        links=_links(results),
        warnings=warnings,
        lang=str(w.locale),
        **extra,
    )


def _index_html(the_plan: Plan, results: list[TouchPreview], w: Words, warnings: list[dict[str, Any]] | None) -> str:

    return index_html(the_plan, results, w, timeline=TIMELINE, warnings=warnings)


__all__ = ["Preview", "TouchPreview", "render_preview", "render_one", "INDEX", "TIMELINE"]
