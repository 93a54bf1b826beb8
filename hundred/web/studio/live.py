"""What the studio shows while a marketer types, each made by the command that makes it elsewhere:

- diagnostics: `validate`'s errors and the Coleman linter's warnings for the text as typed
  (`check_text`), or for a template the checks validate runs on template files;
- the timeline exactly as `plan --html` draws it (lint bands included) for the sample deal;
- the touch under the cursor as `preview` renders it (`render_one` and the index's card);
- "play": `simulate` with holds, told as `simulate` tells it;
- the journeys in flight per version and what the text changes for them (`journeys diff`), with
  what `journeys upgrade --dry-run` would say per deal once the text is saved.

Nothing here judges a journey itself: the browser and this module only carry the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hundred import bootstrap
from hundred.deals.model import Deal, merge_field_tree
from hundred.journeys.model import Journey
from hundred.journeys.problems import Problem
from hundred.journeys.source import SourceMap
from hundred.planning.planner import plan
from hundred.rendering.i18n import words
from hundred.reports.changes import ahead_text, change_line
from hundred.reports.preview.index import touch_card
from hundred.reports.preview.render import render_one
from hundred.reports.story import state_word, story
from hundred.reports.timeline.page import plan_zones, render_timeline_html
from hundred.reports.upgrade import report_lines
from hundred.service import in_flight
from hundred.service.no_prefect import NoPrefect
from hundred.service.ports import Ledger, utcnow
from hundred.service.runtime import Runtime
from hundred.service.simulate import simulate
from hundred.service.upgrade import Upgrader
from hundred.validation.templates import TemplateChecker, field_hint
from hundred.validation.validate import Checked, check_file, check_text
from hundred.web.studio.frames import EMAIL_CSP, FILE_CSP, PDF_CSP, TIMELINE_CSP, Frames
from hundred.web.studio.html import render, studio_words
from hundred.web.studio.samples import SampleProblem, sample_deal
from hundred.web.studio.workspace import Workspace

THUMB_PX = 720  # drawn at 360 CSS px: sharp on a 2x screen


@dataclass
class Live:
    """One request's view of the studio: the files, the ledger (None: there is none), the frame
    store and the session the documents are made for."""

    workspace: Workspace
    ledger: Ledger | None
    frames: Frames
    sid: str
    base: str  # the studio's URL prefix, e.g. /studio

    def frame_url(self, data: bytes | str, content_type: str, csp: str, filename: str | None = None) -> str:
        return f"{self.base}/frame/{self.frames.put(self.sid, data, content_type, csp, filename)}"

    # -- the journey being edited ----------------------------------------------------------------

    def check_journey(self, path: Path, text: str, deal_spec: Any) -> dict[str, Any]:
        checked = check_text(text, path, self.workspace.templates_dir)
        answer: dict[str, Any] = {
            "ok": checked.ok,
            "version": checked.journey.version() if checked.ok and checked.journey else None,
            "diagnostics": [diagnostic(p) for p in checked.problems]
            + [diagnostic(p) for p in (checked.warnings if checked.ok else [])],
            "touches": touch_ranges(checked),
            "timeline": None,
            "deal_problem": None,
        }
        if checked.ok and checked.journey is not None:
            try:
                deal = self.deal(deal_spec, checked.journey)
                answer["timeline"] = self.timeline(checked, deal)
            except SampleProblem as exc:
                answer["deal_problem"] = str(exc)
            except Exception as exc:  # a view that cannot be drawn must not hide the diagnostics
                answer["deal_problem"] = f"the timeline cannot be drawn for this deal: {exc}"
        return answer

    def deal(self, spec: Any, journey: Journey | None) -> Deal:
        return sample_deal(spec, self.workspace.examples_dir, self.ledger, journey)

    def timeline(self, checked: Checked, deal: Deal) -> str:
        assert checked.journey is not None
        the_plan = plan(checked.journey, deal)
        page = render_timeline_html(the_plan.to_json(), warnings=checked.lint, **plan_zones(the_plan))
        return self.frame_url(page, "text/html; charset=utf-8", TIMELINE_CSP)

    def saved_timeline(self, journey_path: Path, deal_spec: Any) -> dict[str, Any]:
        """The saved journey's timeline (a template's text does not move any touch)."""
        checked = check_file(journey_path, self.workspace.templates_dir)
        if not checked.ok or checked.journey is None:
            return {"timeline": None, "deal_problem": None}
        try:
            return {"timeline": self.timeline(checked, self.deal(deal_spec, checked.journey)), "deal_problem": None}
        except Exception as exc:  # a view that cannot be drawn must not hide the diagnostics
            return {"timeline": None, "deal_problem": str(exc)}

    # -- a template being edited -----------------------------------------------------------------

    def check_template(self, name: str, text: str, journey: Journey | None) -> dict[str, Any]:
        """The checks validate runs on a template file, on the text as typed; each problem at its
        line when it is in this template, else at line 1 naming the file it is in."""
        locale = journey.locale if journey else "nl_NL"
        fields = merge_field_tree()
        checker = TemplateChecker(self.workspace.templates_dir, locale, fields, lambda bad: field_hint(fields, bad))
        issues = checker.check(name, source=text)
        users = template_users(journey, name)
        if not issues and any(channel == "webhook" for _, channel in users):
            issues = checker.check_json_body(name)
        shown = f"{self.workspace.templates_dir.name}/{name}"
        diagnostics = [
            {
                "line": i.line if i.template == name and i.line else 1,
                "col": i.col if i.template == name and i.line else 1,
                "severity": "error",
                "message": i.message,
                "hint": i.hint,
                "rule": None,
                "file": shown,
            }
            for i in issues
        ]
        return {"ok": not issues, "diagnostics": diagnostics, "users": [t for t, _ in users]}

    # -- the touch under the cursor --------------------------------------------------------------

    def preview(
        self,
        journey: Journey,
        deal: Deal,
        touch_id: str,
        lang: str | None = None,
        unsaved: dict[str, str] | None = None,
    ) -> str:
        """The touch's card as `preview`'s index shows it, as an HTML fragment for the page."""
        the_plan = plan(journey, deal)
        item = next((t for t in the_plan.touches if t.touch == touch_id), None)
        w = words(lang or journey.locale, "preview")
        sw = studio_words(lang or journey.locale)
        if item is None:
            return render("fragments/note.html.j2", text=sw("This touch is not in the journey any more."))
        result, files = render_one(
            journey, deal, item, self.workspace.templates_dir, unsaved=unsaved, thumb_width=THUMB_PX
        )
        card = touch_card(the_plan, result, w)
        urls = {}
        for name, data, _ in files:
            suffix = name.rsplit(".", 1)[-1]
            if suffix == "png":
                urls["png"] = self.frame_url(data, "image/png", FILE_CSP)
            elif suffix == "pdf":
                urls["pdf"] = self.frame_url(data, "application/pdf", PDF_CSP, filename=name)
            elif suffix == "html":
                urls["html"] = self.frame_url(data, "text/html; charset=utf-8", EMAIL_CSP)
            elif suffix == "txt":
                urls["txt"] = self.frame_url(data, "text/plain; charset=utf-8", FILE_CSP)
        return render("fragments/card.html.j2", c=card, urls=urls, w=w, sw=sw)

    # -- play ------------------------------------------------------------------------------------

    def play(self, journey: Journey, deal: Deal, holds: list[str], lang: str | None = None) -> str:
        known = {t.id for _, t in journey.touches()}
        held = {h for h in holds if h in known}
        result = simulate(journey, deal, self.workspace.templates_dir, bootstrap.memory_ledger, held)
        heading, lines = story(journey, deal, result.events, lang)
        return render(
            "fragments/play.html.j2",
            heading=heading,
            lines=lines,
            held=sorted(held),
            sw=studio_words(lang or journey.locale),
        )

    # -- journeys in flight ----------------------------------------------------------------------

    def dry_run(self, journey: Journey, version: str, deals: int, cw: Any) -> str | None:
        return _dry_run_text(self, journey, version, deals, cw)

    def flight(self, journey: Journey, lang: str | None = None) -> str:
        sw = studio_words(lang or journey.locale)
        if self.ledger is None:
            return render("fragments/flight.html.j2", sw=sw, reports=[], no_ledger=True, version=journey.version())
        flights = in_flight.versions_in_flight(self.ledger, journey.journey, utcnow)
        reports = in_flight.reports(flights, journey)
        cw = words(lang or journey.locale, "changes")
        states = words(lang or journey.locale, "simulate")
        shown = []
        for report in reports:
            f = report.flight
            shown.append(
                {
                    "version": f.version,
                    "deals": len(f.deals),
                    "where": [(t, state_word(states, s) if s else "", n) for t, s, n in f.next_touches()],
                    "same": report.diff.same,
                    "changes": [
                        (change_line(cw, c), ahead_text(cw, c, f.ahead(c), len(f.deals))) for c in report.diff.changes
                    ],
                    "dry_run": None if report.diff.same else self.dry_run(journey, f.version, len(f.deals), cw),
                }
            )
        return render(
            "fragments/flight.html.j2",
            sw=sw,
            cw=cw,
            reports=shown,
            no_ledger=False,
            version=journey.version(),
            journey_id=journey.journey,
        )


DRY_RUN_DEALS = 50  # more deals on a version: the studio names the command instead of running it


def _dry_run_text(live: Live, journey: Journey, version: str, deals: int, cw: Any) -> str | None:
    """What `hundred journeys upgrade --from VERSION --dry-run` would print for this text, were
    it saved (its lines, without the first); None for a version with too many deals to show here."""
    if live.ledger is None or deals > DRY_RUN_DEALS:
        return None
    runtime = Runtime(live.ledger, NoPrefect(), bootstrap.settings())  # a dry run asks no scheduler
    report = Upgrader(runtime).run(journey, live.workspace.templates_dir, version, dry_run=True)
    return "\n".join(report_lines(cw, report, journey.timezone)).strip("\n")


def journey_on_disk(path: Path, templates_dir: Path) -> Journey | None:
    """The saved journey a template is edited with (its language, its touches), if it is valid."""
    checked = check_file(path, templates_dir, lint=False)
    return checked.journey if checked.ok else None


def template_users(journey: Journey | None, name: str) -> list[tuple[str, str]]:
    """(touch id, channel) of the touches whose template is `name` (or its HTML twin's `.txt`)."""
    if journey is None:
        return []
    out = []
    for _, touch in journey.touches():
        used = getattr(touch, "template", None)
        if used and (used == name or str(Path(used).with_suffix(".txt")) == name):
            out.append((touch.id, touch.channel))
    return out


def diagnostic(p: Problem) -> dict[str, Any]:
    return {
        "line": p.line,
        "col": p.col,
        "severity": p.severity,
        "message": p.message,
        "hint": p.hint,
        "rule": p.rule,
        "file": p.file,
    }


def touch_ranges(checked: Checked) -> list[dict[str, Any]]:
    """Each touch's first and last line in the text, so the page knows which touch the cursor is in."""
    data, smap = checked.data, checked.smap
    if not isinstance(data, dict) or not isinstance(smap, SourceMap) or not isinstance(data.get("phases"), list):
        return []
    spans: dict[tuple[Any, ...], list[int]] = {}
    for table in (smap.values, smap.keys):
        for path, mark in table.items():
            if len(path) >= 4 and path[0] == "phases" and path[2] == "touches":
                span = spans.setdefault(tuple(path[:4]), [mark.line, mark.line])
                span[0], span[1] = min(span[0], mark.line), max(span[1], mark.line)
    out = []
    for loc, (first, last) in sorted(spans.items(), key=lambda x: x[1][0]):
        _, i, _, j = loc
        try:
            touch = data["phases"][i]["touches"][j]
        except (IndexError, KeyError, TypeError):
            continue
        if isinstance(touch, dict) and isinstance(touch.get("id"), str):
            out.append(
                {
                    "id": touch["id"],
                    "line": first,
                    "end": last,
                    "channel": touch.get("channel") if isinstance(touch.get("channel"), str) else None,
                    "template": touch.get("template") if isinstance(touch.get("template"), str) else None,
                }
            )
    return out


__all__ = ["Live", "diagnostic", "touch_ranges", "template_users", "journey_on_disk"]
