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

from .cli_paths import JOURNEYS_DIR, UserError, input_file, journey_files, output_path, resolve_journey, shown, write_error
from .problems import Invalid

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
    from .shorten import clip_quoted
    from .validate import check_file

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

    from .problems import Problem

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
    from .journey import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def _load(journey: str, deal: Path):
    model, templates_dir, deal_model, _ = _load_linted(journey, deal, lint=False)
    return model, templates_dir, deal_model


def _load_linted(journey: str, deal: Path, lint: bool = True):
    """Journey, templates folder, deal, and the Coleman linter's warnings (as JSON, for the timeline)."""
    from .validate import load_checked

    path = resolve_journey(journey)
    input_file(deal, "--deal", "a deal file (JSON)")  # every path is checked before any work is done
    checked = load_checked(path, lint=lint)
    return checked.journey, checked.templates_dir, read_deal(deal), checked.lint


def read_deal(deal: Path):
    """A deal file as a Deal, or one UserError line per problem, each naming its field."""
    from .deal import DealError, load_deal

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
) -> None:
    """Show when every touch of a journey happens for one customer.

    \b
    Examples:
      hundred plan journeys/first-100-days.yaml --deal examples/deal-nl.json
      hundred plan first-100-days --deal examples/deal-nl.json --json
      hundred plan first-100-days --deal examples/deal-nl.json --html plan.html
    """
    from .planner import plan as make_plan

    if html:
        output_path(html, "--html", folder=False)
    model, _, deal_model, warnings = _load_linted(journey, deal, lint=bool(html))
    result = make_plan(model, deal_model)
    data = result.to_json()
    if html:
        from .timeline import render_timeline_html

        try:
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(render_timeline_html(data, warnings=warnings), encoding="utf-8")
        except OSError as exc:
            raise write_error("--html", html, exc) from None
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    _print_plan(data)
    if html:
        out.print(f"timeline written to {html}")


@app.command()
def preview(
    journey: Annotated[str, typer.Argument(help="Journey file or id, e.g. journeys/first-100-days.yaml")],
    deal: Annotated[Path, typer.Option("--deal", help="Deal payload (JSON), as the CRM sends it.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the rendered touches into.")],
) -> None:
    """Render every touch for one customer: letters as PDF, emails, task briefs and invites.

    Writes OUT/<touch-id>.pdf (letters), .html and .txt (emails), .md and .ics (tasks), and
    OUT/index.html: the timeline with a link to each file. A touch that cannot be rendered for
    this deal is reported; the others still render. Exit 1 when any touch has a problem.

    \b
    Examples:
      hundred preview journeys/first-100-days.yaml --deal examples/deal-nl.json --out preview/
      hundred preview first-100-days-en --deal examples/deal-en.json --out preview-en/
    """
    from .preview import render_preview

    output_path(out_dir, "--out", folder=True)
    model, templates_dir, deal_model, warnings = _load_linted(journey, deal)
    try:
        result = render_preview(model, deal_model, templates_dir, out_dir, warnings=warnings)
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
    from .up import main as run_up  # imports Prefect only once the server is up

    code = run_up(demo=demo, day_seconds=day_seconds, port=port, prefect_port=prefect_port)
    if code:
        raise typer.Exit(code)


def _print_plan(data: dict) -> None:
    import shutil
    from datetime import datetime

    from rich.console import Console
    from rich.table import Table

    from .planner import short_day

    table = Table(title=f"{data['name']} · {data['customer']} · deal {data['deal']} · closed {data['closed_at'][:16].replace('T', ' ')}",
                  title_justify="left", header_style="bold")
    for column in ("day", "date", "time", "phase", "touch", "channel", "notes"):
        table.add_column(column, justify="right" if column == "day" else "left")
    labels = {p["phase"]: p["label"] for p in data["phases"]}
    for t in data["touches"]:
        due = datetime.fromisoformat(t["due"])
        zone = due.strftime("%z")
        zone = f"UTC{zone[:3]}" + (f":{zone[3:]}" if zone[3:] != "00" else "")
        table.add_row(str(t["day"]), f"{short_day(due.date())} {due.year}", f"{due:%H:%M} {zone}",
                      labels.get(t["phase"], t["phase"]), f"{t['touch']}\n[dim]{t['title']}[/dim]" if t["title"] else t["touch"],
                      t["channel"], "; ".join(t["notes"]))
    Console(highlight=False, width=max(100, shutil.get_terminal_size((150, 24)).columns)).print(table)


def main() -> None:
    """Console entry point: user errors print a message, unexpected ones a single line."""
    try:
        app()  # standalone: click prints usage errors and exits 2 itself
    except Invalid as exc:
        from .shorten import clip_quoted

        for problem in exc.problems:
            err.print(clip_quoted(str(problem)))
        sys.exit(1)
    except UserError as exc:
        from .shorten import clip_quoted

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


from . import cli_runtime  # noqa: E402,F401  (registers simulate, status, cancel and task on `app`)
from . import cli_letters  # noqa: E402,F401  (registers the print room's `letters` commands)
from . import cli_intake  # noqa: E402,F401  (registers `intake` and `import`: the CRM's way in)

if __name__ == "__main__":
    from hundred.cli import main as _main  # the package's own module, on which every command is registered

    _main()
