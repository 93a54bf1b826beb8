"""The marketer's commands: `validate`, `schema`, `plan` and `preview` (fast: no runtime stack)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hundred.cli.app import LangOption, _load_linted, app, err, out
from hundred.cli.paths import JOURNEYS_DIR, journey_files, output_path, write_error
from hundred.reports.counting import plural

if TYPE_CHECKING:  # types only: a runtime import here would slow `hundred validate` (bench/validate.py)
    from datetime import datetime

    from hundred.journeys.model import Journey
    from hundred.journeys.problems import Problem
    from hundred.rendering.i18n import Words
    from hundred.validation.validate import Checked


@app.command()
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="Journey files or folders (default: journeys/).")] = None,
    templates: Annotated[
        Path | None, typer.Option(help="Templates folder (default: templates/ beside journeys/).")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1): for CI.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print errors, warnings and silenced rules as JSON.")] = False,
) -> None:
    """Check journeys: YAML, phases, touches, days, templates and merge fields, and Coleman's method.

    Prints one line per valid journey, or every problem as file:line:col with a hint. Warnings
    (the Coleman linter: phases, affirm-early, silence, mail, referral-late, condition-gap) do not
    fail unless --strict; a journey silences a rule with a reason under 'lint: ignore:'.

    \b
    Examples:
      hundred validate
      hundred validate --strict journeys/first-100-days.yaml
      hundred validate --json
    """
    from hundred.journeys.shorten import (
        clip_quoted,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )
    from hundred.validation.validate import (
        check_file,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    files = journey_files(paths or [JOURNEYS_DIR])
    failed = 0
    ids: dict[str, Path] = {}
    report: list[dict[str, Any]] = []
    for path in files:
        checked = check_file(path, templates)
        if checked.ok and checked.journey and checked.journey.journey in ids:
            checked.problems.append(_duplicate_id(path, checked.journey.journey, ids[checked.journey.journey]))
        bad = not checked.ok or (strict and bool(checked.warnings))
        failed += bad
        report.append(_file_json(path, checked, bad))
        if as_json:
            continue
        for problem in checked.problems:
            err.print(clip_quoted(str(problem)))
        for warning in checked.warnings if checked.ok else []:  # lint.py keeps its quotes short itself
            err.print(str(warning))
        if checked.ok and checked.journey:
            ids[checked.journey.journey] = path
            if not bad:
                out.print(_ok_line(path, checked.journey, checked))
    if as_json:
        print(
            json.dumps(
                {
                    "ok": not failed,
                    "strict": strict,
                    "files": report,
                    "errors": sum(len(f["errors"]) for f in report),
                    "warnings": sum(len(f["warnings"]) for f in report),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    elif failed:
        why = (
            " (warnings fail with --strict)"
            if strict and any(not f["errors"] and f["warnings"] for f in report)
            else ""
        )
        err.print(f"{failed} of {plural(len(files), 'journey file')} {'has' if failed == 1 else 'have'} problems{why}")
    if failed:
        raise typer.Exit(1)


def _ok_line(path: Path, j: Journey, checked: Checked) -> str:
    counts: dict[str, int] = {}
    for _, touch in j.touches():
        counts[touch.channel] = counts.get(touch.channel, 0) + 1
    mix = ", ".join(plural(n, ch) for ch, n in sorted(counts.items()))
    line = f"ok  {path}: {j.journey} ({j.name}): {len(j.phases)} phases, {len(j.touches())} touches ({mix}), version {j.version()}"
    if checked.warnings:
        line += f"; {plural(len(checked.warnings), 'warning')}"
    if checked.silenced:
        line += "; silenced: " + ", ".join(f"{s['rule']} ({s['reason']})" for s in checked.silenced)
    return line


def _file_json(path: Path, checked: Checked, bad: bool) -> dict[str, Any]:
    j = checked.journey if checked.ok else None
    return {
        "file": str(path),
        "ok": not bad,
        "journey": j.journey if j else None,
        "version": j.version() if j else None,
        "errors": [p.to_json() for p in checked.problems],
        "warnings": checked.lint if checked.ok else [],
        "silenced": checked.silenced if checked.ok else [],
    }


def _duplicate_id(path: Path, journey_id: str, first: Path) -> Problem:
    """Two files claiming one journey id would make `hundred plan first-100-days` ambiguous."""
    import re  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)

    from hundred.journeys.problems import (
        Problem,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    text = path.read_text(encoding="utf-8")
    match = re.search(r"^journey:", text, re.MULTILINE)
    line = text.count("\n", 0, match.start()) + 1 if match else 1
    return Problem(
        str(path),
        line,
        1,
        f"journey id '{journey_id}' is already used by {first}",
        "give each journey file its own 'journey:' id",
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema of a journey, for editors that complete and check YAML keys.

    \b
    Example:
      hundred schema > hundred/journey.schema.json
    """
    from hundred.journeys.model import (
        json_schema,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@app.command()
def plan(
    journey: Annotated[str, typer.Argument(help="Journey file or id, e.g. journeys/first-100-days.yaml")],
    deal: Annotated[Path, typer.Option("--deal", help="Deal payload (JSON), as the CRM sends it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON (a stable contract).")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained timeline page.")] = None,
    lang: LangOption = None,
) -> None:
    """Show when every touch of a journey happens for one customer.

    \b
    Examples:
      hundred plan journeys/first-100-days.yaml --deal examples/deal-nl.json
      hundred plan first-100-days --deal examples/deal-nl.json --json
      hundred plan first-100-days --deal examples/deal-nl.json --html plan.html
      hundred plan first-100-days --deal examples/deal-nl.json --lang en
    """
    from hundred.planning.planner import (
        plan as make_plan,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )
    from hundred.reports.timeline.page import (
        plan_zones,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    if html:
        output_path(html, "--html", folder=False)
    model, _, deal_model, warnings = _load_linted(journey, deal, lint=bool(html))
    result = make_plan(model, deal_model)
    data = result.to_json()
    if html:
        from hundred.reports.timeline.page import (
            render_timeline_html,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
        )

        try:
            html.parent.mkdir(parents=True, exist_ok=True)
            page = render_timeline_html(data, warnings=warnings, lang=lang, **plan_zones(result))
            html.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise write_error("--html", html, exc) from None
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from hundred.rendering.i18n import (
        words,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    w = words(lang or model.locale, "timeline")
    _print_plan(data, w, plan_zones(result))
    if html:
        out.print(w("timeline written to {path}", path=html))


@app.command()
def preview(
    journey: Annotated[str, typer.Argument(help="Journey file or id, e.g. journeys/first-100-days.yaml")],
    deal: Annotated[Path, typer.Option("--deal", help="Deal payload (JSON), as the CRM sends it.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the rendered touches into.")],
    lang: LangOption = None,
) -> None:
    """Render every touch for one customer: letters as PDF, emails, task briefs and invites.

    Writes OUT/<touch-id>.pdf and .png (letters), .html and .txt (emails), .md and .ics (tasks),
    .json (webhooks), OUT/index.html: every touch shown inline in date order, and
    OUT/timeline.html. A second preview into OUT removes only the files the first one wrote.
    A touch that cannot be rendered for this deal is reported; the others still render. Exit 1
    when any touch has a problem.

    \b
    Examples:
      hundred preview journeys/first-100-days.yaml --deal examples/deal-nl.json --out preview/
      hundred preview first-100-days-en --deal examples/deal-en.json --out preview-en/
      hundred preview first-100-days --deal examples/deal-nl.json --out preview/ --lang en
    """
    from hundred.reports.preview.render import (
        render_preview,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    output_path(out_dir, "--out", folder=True)
    model, templates_dir, deal_model, warnings = _load_linted(journey, deal)
    try:
        result = render_preview(model, deal_model, templates_dir, out_dir, warnings=warnings, lang=lang)
    except OSError as exc:
        raise write_error("--out", out_dir, exc) from None
    for t in result.touches:
        files = ", ".join(p.name for p in t.files) or "-"
        mark = "ok " if not t.problems else "!! "
        out.print(f"{mark} {t.touch:<24} {t.channel:<8} {files}")
        for problem in t.problems:
            err.print(f"    {t.touch}: {problem}")
    out.print(f"open {result.index}")
    if result.problems:
        err.print(f"{plural(len(result.problems), 'problem')} in this preview")
        raise typer.Exit(1)


def _print_plan(data: dict[str, Any], w: Words, zones: dict[str, Any]) -> None:
    """The plan as a table in `w`'s language; each time says the zone it is in, each note is said
    by its kind (both from plan_zones)."""
    import shutil  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    from datetime import datetime  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)

    from rich.console import Console  # lazy: rich loads only for the commands that draw tables or bars
    from rich.markup import escape  # lazy: rich loads only for the commands that draw tables or bars
    from rich.table import Table  # lazy: rich loads only for the commands that draw tables or bars

    from hundred.reports.timeline.layout import (  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
        zone_label,
    )
    from hundred.reports.timeline.legend import (  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
        CHANNELS,
    )
    from hundred.reports.timeline.words import (  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
        SHORT,
        note_text,
    )

    closed = datetime.fromisoformat(data["closed_at"])
    title = w(
        "{name} · {customer} · deal {deal} · closed {closed}",
        name=data["name"],
        customer=data["customer"],
        deal=data["deal"],
        closed=_closed_words(w, closed, data["timezone"]),
    )
    table = Table(title=escape(title), title_justify="left", header_style="bold")
    for column in (w("day"), w("date"), w("time"), w("time zone"), w("phase"), w("touch"), w("channel"), w("notes")):
        table.add_column(column, justify="right" if column == w("day") else "left")
    labels = {p["phase"]: p["label"] for p in data["phases"]}
    for t in data["touches"]:
        due = datetime.fromisoformat(t["due"])
        zone = zone_label(w, zones["zones"].get(t["touch"]), due, data["timezone"], zones["contact_timezone"])
        notes = "; ".join(note_text(n, w) for n in zones["notes"].get(t["touch"], t["notes"]))
        title_cell = f"{escape(t['touch'])}\n[dim]{escape(t['title'])}[/dim]" if t["title"] else escape(t["touch"])
        table.add_row(
            w.number(t["day"]),
            w.date(due, SHORT + " y"),
            w.time(due),
            zone,
            escape(labels.get(t["phase"], t["phase"])),
            title_cell,
            w(CHANNELS[t["channel"]][0]) if t["channel"] in CHANNELS else t["channel"],
            escape(notes),
        )
    Console(highlight=False, width=max(100, shutil.get_terminal_size((150, 24)).columns)).print(table)


def _closed_words(w: Words, closed: datetime, zone_name: str) -> str:
    """The close time in the journey's zone, naming it (as the timeline page's header does)."""
    from zoneinfo import ZoneInfo  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)

    from hundred.reports.timeline.words import (
        SHORT,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    local = closed.astimezone(ZoneInfo(zone_name))
    return w("{date}, {time} ({zone})", date=w.date(local, SHORT + " y"), time=w.time(local), zone=zone_name)
