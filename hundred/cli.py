"""The `hundred` command line: thin wrappers around the core, with errors a person can act on.

Exit codes: 0 success, 1 a problem in the user's input (with a message that names what to fix),
2 a usage error. No traceback reaches a marketer; `--debug` shows one for developers. Commands
that need no Prefect never import it, so `hundred validate` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

# pydantic scans every installed distribution's entry points for plugins the first time a model
# is built: a quarter of `hundred validate`'s start-up with Prefect's dependencies installed.
# hundred uses no pydantic plugins; an operator can still opt in by setting the variable.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer  # noqa: E402  (after the environment above)

from hundred.cli_paths import JOURNEYS_DIR, UserError, input_file, journey_files, output_path, resolve_journey, shown, write_error
from hundred.problems import Invalid

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="hundred: every closed deal becomes a 100-day onboarding journey.")


class _Plain:
    """Plain line output; rich is imported only where a table needs it, to keep validate fast."""

    def __init__(self, stream_name: str):
        self.stream_name = stream_name

    def print(self, text: str) -> None:
        print(text, file=getattr(sys, self.stream_name), flush=True)


out = _Plain("stdout")
err = _Plain("stderr")
_state = {"debug": False}




def _check_lang(value: Optional[str]) -> Optional[str]:
    """`--lang nl`, `en`, `nl_NL`, `en-GB`: a language babel knows, else a usage error (exit 2)."""
    if value is None:
        return None
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value.strip().replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        raise typer.BadParameter(f"unknown language '{value}'; use a language code such as nl, en or nl_NL") from None
    return value.strip().replace("-", "_")


# `--lang` of the commands a marketer reads (plan, preview, simulate); --json output never changes.
LangOption = Annotated[Optional[str], typer.Option(
    "--lang", callback=_check_lang,
    help="Language of the table and pages (nl, en, nl_NL ...); default: the journey's locale. Not --json.")]


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for unexpected errors.")] = False) -> None:
    _state["debug"] = debug


@app.command()
def validate(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Journey files or folders (default: journeys/).")] = None,
    templates: Annotated[Optional[Path], typer.Option(help="Templates folder (default: templates/ beside journeys/).")] = None,
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
    from hundred.shorten import clip_quoted
    from hundred.validate import check_file

    files = journey_files(paths or [JOURNEYS_DIR])
    failed = 0
    ids: dict[str, Path] = {}
    report = []
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
                out.print(_ok_line(path, checked))
    if as_json:
        print(json.dumps({"ok": not failed, "strict": strict, "files": report,
                          "errors": sum(len(f["errors"]) for f in report),
                          "warnings": sum(len(f["warnings"]) for f in report)}, indent=2, ensure_ascii=False))
    elif failed:
        why = " (warnings fail with --strict)" if strict and any(not f["errors"] and f["warnings"] for f in report) else ""
        err.print(f"{failed} of {len(files)} journey file{'s' if len(files) != 1 else ''} "
                  f"{'has' if failed == 1 else 'have'} problems{why}")
    if failed:
        raise typer.Exit(1)


def _ok_line(path: Path, checked) -> str:
    j = checked.journey
    counts: dict[str, int] = {}
    for _, touch in j.touches():
        counts[touch.channel] = counts.get(touch.channel, 0) + 1
    mix = ", ".join(f"{n} {ch}{'s' if n != 1 else ''}" for ch, n in sorted(counts.items()))
    line = f"ok  {path}: {j.journey} ({j.name}): {len(j.phases)} phases, {len(j.touches())} touches ({mix}), version {j.version()}"
    if checked.warnings:
        line += f"; {len(checked.warnings)} warning{'s' if len(checked.warnings) != 1 else ''}"
    if checked.silenced:
        line += "; silenced: " + ", ".join(f"{s['rule']} ({s['reason']})" for s in checked.silenced)
    return line


def _file_json(path: Path, checked, bad: bool) -> dict:
    j = checked.journey if checked.ok else None
    return {"file": str(path), "ok": not bad, "journey": j.journey if j else None, "version": j.version() if j else None,
            "errors": [p.to_json() for p in checked.problems],
            "warnings": checked.lint if checked.ok else [],
            "silenced": checked.silenced if checked.ok else []}


def _duplicate_id(path: Path, journey_id: str, first: Path):
    """Two files claiming one journey id would make `hundred plan first-100-days` ambiguous."""
    import re

    from hundred.problems import Problem

    text = path.read_text(encoding="utf-8")
    match = re.search(r"^journey:", text, re.MULTILINE)
    line = text.count("\n", 0, match.start()) + 1 if match else 1
    return Problem(str(path), line, 1, f"journey id '{journey_id}' is already used by {first}",
                   "give each journey file its own 'journey:' id")


@app.command()
def schema() -> None:
    """Print the JSON Schema of a journey, for editors that complete and check YAML keys.

    \b
    Example:
      hundred schema > hundred/journey.schema.json
    """
    from hundred.journey import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def _load(journey: str, deal: Path):
    model, templates_dir, deal_model, _ = _load_linted(journey, deal, lint=False)
    return model, templates_dir, deal_model


def _load_linted(journey: str, deal: Path, lint: bool = True):
    """Journey, templates folder, deal, and the Coleman linter's warnings (as JSON, for the timeline)."""
    from hundred.validate import load_checked

    path = resolve_journey(journey)
    input_file(deal, "--deal", "a deal file (JSON)")  # every path is checked before any work is done
    checked = load_checked(path, lint=lint)
    return checked.journey, checked.templates_dir, read_deal(deal), checked.lint


def read_deal(deal: Path):
    """A deal file as a Deal, or one UserError line per problem, each naming its field."""
    from hundred.deal import DealError, load_deal

    input_file(deal, "--deal", "a deal file (JSON)")
    try:
        return load_deal(deal)
    except DealError as exc:
        raise UserError(str(exc)) from None


@app.command()
def plan(
    journey: Annotated[str, typer.Argument(help="Journey file or id, e.g. journeys/first-100-days.yaml")],
    deal: Annotated[Path, typer.Option("--deal", help="Deal payload (JSON), as the CRM sends it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON (a stable contract).")] = False,
    html: Annotated[Optional[Path], typer.Option("--html", help="Also write a self-contained timeline page.")] = None,
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
    from hundred.planner import plan as make_plan
    from hundred.timeline import plan_zones

    if html:
        output_path(html, "--html", folder=False)
    model, _, deal_model, warnings = _load_linted(journey, deal, lint=bool(html))
    result = make_plan(model, deal_model)
    data = result.to_json()
    if html:
        from hundred.timeline import render_timeline_html

        try:
            html.parent.mkdir(parents=True, exist_ok=True)
            page = render_timeline_html(data, warnings=warnings, lang=lang, **plan_zones(result))
            html.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise write_error("--html", html, exc) from None
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from hundred.i18n import words

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
    from hundred.preview import render_preview

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
        err.print(f"{len(result.problems)} problem{'s' if len(result.problems) != 1 else ''} in this preview")
        raise typer.Exit(1)


@app.command()
def up(
    demo: Annotated[bool, typer.Option("--demo", help="Submit the example deal and show its journey live.")] = False,
    day_seconds: Annotated[Optional[float], typer.Option("--day-seconds", min=0.01,
                           help="Compress time: one journey day lasts this many seconds.")] = None,
    port: Annotated[int, typer.Option("--port", help="Web app port.")] = 8000,
    prefect_port: Annotated[int, typer.Option("--prefect-port", help="Local Prefect server port.")] = 4200,
) -> None:
    """Run hundred here: a local Prefect server, the journey flows and the web app, until Ctrl-C.

    State lives in HUNDRED_HOME (default .hundred/): the ledger, the outbox, Prefect's database and
    the logs. A part that stops is restarted. One `up` per HUNDRED_HOME.

    \b
    Examples:
      hundred up --demo --day-seconds 5
      hundred up --port 8080 --prefect-port 4300
    """
    from hundred.up import main as run_up  # imports Prefect only once the server is up

    code = run_up(demo=demo, day_seconds=day_seconds, port=port, prefect_port=prefect_port)
    if code:
        raise typer.Exit(code)


def _print_plan(data: dict, w, zones: dict) -> None:
    """The plan as a table in `w`'s language; each time says the zone it is in, each note is said
    by its kind (both from plan_zones)."""
    import shutil
    from datetime import datetime

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from hundred.timeline import CHANNELS, zone_label
    from hundred.timeline_notes import SHORT, note_text

    closed = datetime.fromisoformat(data["closed_at"])
    title = w("{name} · {customer} · deal {deal} · closed {closed}", name=data["name"], customer=data["customer"],
              deal=data["deal"], closed=_closed_words(w, closed, data["timezone"]))
    table = Table(title=escape(title), title_justify="left", header_style="bold")
    for column in (w("day"), w("date"), w("time"), w("time zone"), w("phase"), w("touch"), w("channel"), w("notes")):
        table.add_column(column, justify="right" if column == w("day") else "left")
    labels = {p["phase"]: p["label"] for p in data["phases"]}
    for t in data["touches"]:
        due = datetime.fromisoformat(t["due"])
        zone = zone_label(w, zones["zones"].get(t["touch"]), due, data["timezone"], zones["contact_timezone"])
        notes = "; ".join(note_text(n, w) for n in zones["notes"].get(t["touch"], t["notes"]))
        title_cell = f"{escape(t['touch'])}\n[dim]{escape(t['title'])}[/dim]" if t["title"] else escape(t["touch"])
        table.add_row(w.number(t["day"]), w.date(due, SHORT + " y"), w.time(due), zone,
                      escape(labels.get(t["phase"], t["phase"])), title_cell,
                      w(CHANNELS[t["channel"]][0]) if t["channel"] in CHANNELS else t["channel"], escape(notes))
    Console(highlight=False, width=max(100, shutil.get_terminal_size((150, 24)).columns)).print(table)


def _closed_words(w, closed, zone_name: str) -> str:
    """The close time in the journey's zone, naming it (as the timeline page's header does)."""
    from zoneinfo import ZoneInfo

    from hundred.timeline_notes import SHORT

    local = closed.astimezone(ZoneInfo(zone_name))
    return w("{date}, {time} ({zone})", date=w.date(local, SHORT + " y"), time=w.time(local), zone=zone_name)


def main() -> None:
    """Console entry point: user errors print a message, unexpected ones a single line."""
    try:
        app()  # standalone: click prints usage errors and exits 2 itself
    except Invalid as exc:
        from hundred.shorten import clip_quoted

        for problem in exc.problems:
            err.print(clip_quoted(str(problem)))
        sys.exit(1)
    except UserError as exc:
        from hundred.shorten import clip_quoted

        err.print(clip_quoted(str(exc)))
        sys.exit(1)
    except OSError as exc:  # a file that went away or cannot be read, after the checks above
        err.print(f"{shown(exc.filename or '')}: {exc.strerror or exc}".lstrip(": "))
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if _state["debug"]:
            raise
        err.print(f"unexpected error: {type(exc).__name__}: {exc} (run again with --debug for details)")
        sys.exit(1)


from hundred import cli_runtime  # noqa: E402,F401  (registers simulate, status, cancel and task on `app`)
from hundred import cli_letters  # noqa: E402,F401  (registers the print room's `letters` commands)
from hundred import cli_intake  # noqa: E402,F401  (registers `intake` and `import`: the CRM's way in)

if __name__ == "__main__":
    from hundred.cli import main as _main  # the package's own module, on which every command is registered

    _main()
