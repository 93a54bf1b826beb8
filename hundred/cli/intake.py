"""The CRM intake's commands: `intake list`, `intake replay`, `intake retry` and `import`.

Registered on the one `hundred` app by `cli.py`; everything heavy is imported inside a command.
They reach the ledger (HUNDRED_HOME / HUNDRED_DATABASE_URL) and Prefect's REST API (PREFECT_API_URL
or the running `hundred up`); without Prefect, accepted deals are stored pending and `intake
retry` submits them later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hundred.cli.app import app, err, out
from hundred.cli.paths import UserError, input_file, shown, user_error
from hundred.reports.counting import plural

if TYPE_CHECKING:  # types only: the runtime stack stays out of `hundred validate`
    from hundred.service.intake import Intake

intake_app = typer.Typer(
    help="What the CRM sent: list, replay a dead letter, retry pending deals.", no_args_is_help=True
)
app.add_typer(intake_app, name="intake")


def _intake(must_exist: bool = True) -> Intake:
    from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`
    from hundred.cli.operate import _ledger  # lazy: as above

    return bootstrap.intake(bootstrap.settings(), ledger_=_ledger(must_exist=must_exist))


@intake_app.command("list")
def intake_list(
    state: Annotated[
        str,
        typer.Option("--state", help="Only this state: pending, started, applied, held, dead, or all."),
    ] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON (with the raw bodies).")] = False,
) -> None:
    """What the CRM sent, oldest first: each delivery's state, deal and, for a dead letter, why.

    \b
    Examples:
      hundred intake list
      hundred intake list --state dead --json
    """
    from hundred.service.records import INTAKE_STATES  # lazy: keeps `hundred validate` fast

    if state != "all" and state not in INTAKE_STATES:
        raise UserError(f"--state: '{state}' is not one of {', '.join(INTAKE_STATES)}, all")
    intake = _intake()
    rows = intake.ledger.intakes(states=None if state == "all" else [state], limit=100_000)
    if as_json:
        print(json.dumps([{**r.to_json(), "raw": r.raw} for r in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        out.print("nothing received" + ("" if state == "all" else f" in state {state}"))
        return
    for r in rows:
        out.print(
            f"{r.intake_id}  {r.received_at:%Y-%m-%d %H:%M:%S}  {r.kind:<14} {r.state:<9} "
            f"{r.deal_id or '-':<16} {r.source}" + (f"\n    {r.reason}" if r.reason else "")
        )


@intake_app.command("replay")
def intake_replay(
    intake_id: Annotated[str, typer.Argument(help="The intake id (from `hundred intake list`), e.g. in-3f2a9c1b0d4e.")],
) -> None:
    """Send a dead letter (or a pending deal) through the intake again, after a fix.

    A deal whose journey was missing starts once the journey has been added; a won deal from
    Pipedrive or HubSpot is fetched from the CRM's API again; one that is still refused stays a
    dead letter with the new reason (exit 1).

    \b
    Example:
      hundred intake replay in-3f2a9c1b0d4e
    """
    intake = _intake()
    try:
        answer = intake.replay(intake_id)
    except LookupError as exc:
        raise user_error(exc) from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if answer.status >= 300:
        for e in answer.body.get("errors", []):
            err.print(f"{intake_id}: {e['field'] or 'body'}: {e['message']}")
        raise UserError(f"{intake_id} is still a dead letter")
    body = answer.body
    waiting = body.get("state") in ("pending", "submitted") and not body.get("run") and not body.get("reason")
    out.print(
        f"{intake_id}: {body.get('state')}"
        + (f" (deal {body['deal']})" if body.get("deal") else "")
        + (f", run {body['run']}" if body.get("run") else "")
        + (f": {body['reason']}" if body.get("reason") else "")
        + ("; not started yet: no Prefect API answers (start hundred with `hundred up`)" if waiting else "")
    )


@intake_app.command("retry")
def intake_retry() -> None:
    """Make sure the running system starts every stored deal that has not started (those stored
    while Prefect was unreachable, the won deals from Pipedrive or HubSpot that wait for the CRM's
    API), and apply cancels whose deal has started since. Safe to repeat: a deal starts one journey
    however often it is handed over.

    \b
    Example:
      hundred intake retry
    """
    intake = _intake()
    rows = intake.retry_pending()
    waiting = [r for r in rows if r.state in ("pending", "submitted")]
    for r in rows:
        out.print(f"{r.intake_id}  {r.state:<9} {r.deal_id}" + (f"  {r.reason}" if r.reason else ""))
    if waiting:
        run = intake.ensure_run()
        out.print(
            f"{plural(len(waiting), 'stored deal')} "
            + (
                f"to be started by deal-closed run {run}"
                if run
                else "still waiting: no Prefect API answers (start hundred with `hundred up`)"
            )
        )
    if not rows:
        out.print("nothing pending")


@app.command("import")
def import_deals(
    path: Annotated[
        Path, typer.Argument(help="CSV file: a header row of deal columns (README: For the CRM), one deal a row.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and report; store nothing.")] = False,
) -> None:
    """Backfill closed deals from a CSV file: each good row starts its journey like a webhook would.

    Columns: id, closed_at, journey, amount, currency, product, segment, owner.name, owner.email,
    contact.first_name, contact.last_name, contact.email, contact.phone, contact.locale,
    contact.timezone, company.name, address.street, address.postcode, address.city, address.state,
    address.country, fields.<name>. Bad rows are reported by line (`deals.csv:7: contact.first_name:
    is blank`) and kept as dead letters; good rows still go in. Exit 1 when any row was bad.

    \b
    Examples:
      hundred import deals.csv --dry-run
      hundred import deals.csv
    """
    from rich.console import Console  # lazy: rich loads only for the commands that draw tables or bars
    from rich.progress import Progress  # lazy: as above

    from hundred.deals.flat import (
        read_rows,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )
    from hundred.service.no_prefect import (
        NoPrefect,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    input_file(path, "", "a CSV file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{shown(path)}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the CSV as UTF-8"
        ) from None
    except OSError as exc:
        raise UserError(f"{shown(path)}: cannot read: {exc.strerror or exc}") from None
    rows = list(read_rows(text))
    if dry_run:
        from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`

        intake = bootstrap.intake(bootstrap.settings(), ledger_=bootstrap.memory_ledger(), scheduler_=NoPrefect())
    else:
        intake = _intake(must_exist=False)
    counts = {"accepted": 0, "pending": 0, "duplicate": 0, "bad": 0, "kept": 0}
    problems: list[str] = []
    # the bar is for a person watching (on stderr, only at a terminal): piped output stays the summary
    bar = Console(stderr=True)
    with Progress(console=bar, transient=True, disable=not rows or not bar.is_terminal) as progress:
        task = progress.add_task(f"importing {path.name}" if not dry_run else f"checking {path.name}", total=len(rows))
        for line, deal, problem in rows:
            progress.advance(task)
            if problem:
                problems.append(f"{path}:{line}: {problem}")
                counts["bad"] += 1
                continue
            answer = intake.closed(
                json.dumps(deal, ensure_ascii=False), data=deal, source=f"import {path.name}:{line}", dry_run=dry_run
            )
            if answer.status >= 300:
                counts["bad"] += 1
                counts["kept"] += 1 if answer.body.get("duplicate") else 0
                problems += [f"{path}:{line}: {e['field'] or 'row'}: {e['message']}" for e in answer.body["errors"]]
            elif answer.body.get("duplicate"):
                counts["duplicate"] += 1
            elif answer.body.get("run") is None and not dry_run:
                counts["pending"] += 1
                intake.scheduler = NoPrefect()  # Prefect did not answer: store the rest without waiting on it
            else:
                counts["accepted"] += 1
    for problem_line in problems:
        err.print(problem_line)
    verb = "would be accepted" if dry_run else "accepted"
    summary = f"{path}: {counts['accepted']} {verb}" + (
        f", {counts['pending']} stored pending (Prefect unreachable: `hundred intake retry` hands them over)"
        if counts["pending"]
        else ""
    )
    summary += (f", {counts['duplicate']} already imported" if counts["duplicate"] else "") + f", {counts['bad']} bad"
    kept = counts["kept"]
    summary += f" ({kept} already kept as {'a dead letter' if kept == 1 else 'dead letters'})" if kept else ""
    out.print(summary + (" (dry run: nothing stored)" if dry_run else ""))
    if counts["bad"]:
        raise typer.Exit(1)
