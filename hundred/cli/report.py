"""`hundred report`: how each journey is doing, from the ledger (the figures `/journeys` shows).

Registered on the one `hundred` app by `hundred.cli`. Reads only the ledger (HUNDRED_HOME or
HUNDRED_DATABASE_URL): no Prefect needed, nothing changes.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from hundred.cli.app import LangOption, app, out
from hundred.cli.paths import UserError

if TYPE_CHECKING:  # types only: the runtime stack stays out of `hundred validate`
    from hundred.service.figures import JourneyFigures

_JOURNEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; write it as 2026-12-01", param_hint=option) from None


def figures_service() -> JourneyFigures:
    """The figures on this home's ledger; a clear error when there is none."""
    from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`
    from hundred.cli.operate import _ledger  # lazy: the command modules import each other only when run

    return bootstrap.figures(bootstrap.settings(), ledger_=_ledger())


@app.command()
def report(
    journey: Annotated[
        str | None, typer.Argument(help="A journey id, e.g. first-100-days (default: every one).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only journeys received on or after this date (2026-12-01).")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only journeys received on or before this date.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Only this version of the journey.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON (a stable contract).")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print one figure per row: journey,version,section,item,figure,value.")
    ] = False,
    lang: LangOption = None,
) -> None:
    """How each journey is doing: entered, active, completed and exited; how far customers got per
    phase; what happened to every touch (late letters, overdue tasks, bounces, webhooks); and
    Coleman's checks on real data (long silences, a late affirm, referral asks and referrals).

    The same figures as the web page /journeys and /journeys.json. Days are journey days: day 0
    is the day the deal closed.

    \b
    Examples:
      hundred report
      hundred report first-100-days --since 2026-11-01
      hundred report first-100-days --json
      hundred report --csv > journeys.csv
    """
    from hundred.reports.figures.export import (  # lazy: the runtime stack stays out of `hundred validate`
        report_csv,
        report_json,
    )
    from hundred.reports.figures.text import figures_text  # lazy: as above
    from hundred.service.figures import period_of  # lazy: as above

    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv", param_hint="--csv")
    if journey is not None and not _JOURNEY.fullmatch(journey):
        raise UserError(f"'{journey}' is not a journey id (letters, digits and dashes, e.g. first-100-days)")
    start, end = _day(since, "--since"), _day(until, "--until")
    if start and end and end < start:
        raise UserError(f"--until {end} is before --since {start}")
    result = figures_service().report(period_of(start, end), journey, version)
    if journey is not None and not result.journeys:
        which = f"version {version} of journey '{journey}'" if version else f"journey '{journey}'"
        raise UserError(f"the ledger has no customer on {which}; `hundred report` lists the journeys it has")
    if as_json:
        print(json.dumps(report_json(result.journeys, result.now, result.period), indent=2, ensure_ascii=False))
        return
    if as_csv:
        print(report_csv(result.journeys), end="")
        return
    if not result.journeys:
        out.print("no journeys yet")
        return
    for i, fig in enumerate(result.journeys):
        if i:
            out.print("")
        out.print(figures_text(fig, lang))
