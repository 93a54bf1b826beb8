"""`hundred journeys …`: journeys in flight and the versions they are on (`journeys diff`).

A journey in flight keeps the version it started with; `journeys diff` says, for each version that
active journeys are on, how many deals are on it, where they are, and what the journey file
changes against it (touches added, removed, moved, reworded, gate changes). It only reads the
ledger (HUNDRED_HOME or HUNDRED_DATABASE_URL); no Prefect is needed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from hundred.cli.app import LangOption, UserError, app, out
from hundred.cli.paths import resolve_journey, shown

journeys_app = typer.Typer(help="Journeys in flight: what an edit changes for them.", no_args_is_help=True)
app.add_typer(journeys_app, name="journeys")


@journeys_app.command("diff")
def diff(
    journey: Annotated[str, typer.Argument(help="Journey file or id, e.g. first-100-days")],
    from_version: Annotated[
        str | None,
        typer.Option("--from", help="Only this version (or the start of its id); default: every version in flight."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions and changes as JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """What the journey file changes against each version that journeys in flight are on.

    For each version: how many deals are on it, where they are (their next touch), and every
    change: touches added, removed, moved (day, time, phase), reworded (subject, title, template),
    otherwise changed, what the affirm gate waits for, and journey-wide settings. Each change says
    for how many of those deals it is still ahead. Template text is read when a touch runs, so it
    is never a difference between versions.

    \b
    Examples:
      hundred journeys diff first-100-days
      hundred journeys diff journeys/first-100-days.yaml --from 3117a1456f0d
      hundred journeys diff first-100-days --json
    """
    from hundred.cli.operate import _ledger  # lazy: the runtime stack stays out of `hundred validate`
    from hundred.rendering.i18n import words  # lazy: keeps `hundred validate` and `plan` fast
    from hundred.reports.changes import ahead_text, change_line  # lazy: as above
    from hundred.service import in_flight  # lazy: as above
    from hundred.service.runtime import utcnow  # lazy: as above
    from hundred.validation.validate import load_checked  # lazy: as above

    path = resolve_journey(journey)
    current = load_checked(path, lint=False).journey
    assert current is not None
    ledger = _ledger()
    flights = in_flight.versions_in_flight(ledger, current.journey, utcnow)
    if from_version:
        flights = [f for f in flights if f.version.startswith(from_version)]
        if not flights:
            old = in_flight.snapshot_of(ledger, current.journey, from_version)
            if old is None:
                raise UserError(
                    f"--from {from_version}: no journey of '{current.journey}' started on that version in this ledger"
                )
            flights = [in_flight.VersionInFlight(old.version(), old)]
    reports = in_flight.reports(flights, current)
    if as_json:
        print(
            json.dumps(
                {
                    "journey": current.journey,
                    "file": str(path),
                    "version": current.version(),
                    "versions": [r.to_json() for r in reports],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    w = words(lang or current.locale, "changes")
    out.print(
        w(
            "{journey} ({name}): {file} is version {version}",
            journey=current.journey,
            name=current.name,
            file=shown(path),
            version=current.version(),
        )
    )
    if not reports:
        out.print(w("No journeys are in flight on another version."))
    for report in reports:
        _print_version(w, report, change_line, ahead_text)


def _print_version(w: Any, report: Any, change_line: Any, ahead_text: Any) -> None:
    from hundred.rendering.i18n import words  # lazy: keeps `hundred validate` and `plan` fast
    from hundred.reports.story import state_word  # lazy: as above

    flight = report.flight
    out.print("")
    out.print(
        w.plural(
            "version {version}: {n} deal in flight",
            "version {version}: {n} deals in flight",
            len(flight.deals),
            version=flight.version,
        )
    )
    if flight.deals:
        states = words(str(w.locale), "simulate")
        where = " · ".join(
            w.plural(
                "{n} at {touch} ({state})",
                "{n} at {touch} ({state})",
                n,
                touch=t or "—",
                state=state_word(states, s) if s else "—",
            )
            for t, s, n in flight.next_touches()
        )
        out.print("  " + w("where they are: {where}", where=where))
    if report.diff.same:
        out.print("  " + w("the file is this version: nothing changes"))
        return
    width = max(len(change_line(w, c).label) for c in report.diff.changes)
    for c in report.diff.changes:
        line = change_line(w, c)
        ahead = f" — {ahead_text(w, c, flight.ahead(c), len(flight.deals))}" if flight.deals else ""
        out.print(f"  {line.label:<{width}}  {line.text}{ahead}")
