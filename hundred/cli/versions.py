"""`hundred journeys …`: journeys in flight and the versions they are on (`journeys diff`, `upgrade`).

A journey in flight keeps the version it started with; `journeys diff` says, for each version that
active journeys are on, how many deals are on it, where they are, and what the journey file
changes against it (touches added, removed, moved, reworded, gate changes). It only reads the
ledger (HUNDRED_HOME or HUNDRED_DATABASE_URL); no Prefect is needed. `journeys upgrade` moves the
journeys on one version to the file's (hundred/service/upgrade.py), or with --dry-run says per deal
what that would change; it asks Prefect for the deliver runs of the new moments when it answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from hundred.cli.app import LangOption, app, out
from hundred.cli.paths import UserError, resolve_journey, shown

if TYPE_CHECKING:  # types only: keeps `hundred validate` and `plan` fast (bench/validate.py)
    from hundred.journeys.diff import Change
    from hundred.rendering.i18n import Words
    from hundred.reports.changes import ChangeLine
    from hundred.service.in_flight import VersionReport

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
    from hundred.service.ports import utcnow  # lazy: as above
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


def _print_version(
    w: Words,
    report: VersionReport,
    change_line: Callable[[Words, Change], ChangeLine],
    ahead_text: Callable[[Words, Change, int, int], str],
) -> None:
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


@journeys_app.command("upgrade")
def upgrade(
    journey: Annotated[str, typer.Argument(help="Journey file or id, e.g. first-100-days")],
    from_version: Annotated[
        str,
        typer.Option(
            "--from", help="The version the journeys to move are on (or the start of its id), as `diff` says."
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say, per deal, what would change.")] = False,
    wait: Annotated[
        float,
        typer.Option("--wait", min=0, help="Seconds to wait for a deal whose touch is being delivered right now."),
    ] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print what changes per deal as JSON.")] = False,
    lang: LangOption = None,
) -> None:
    """Move the journeys in flight on an older version to the journey file's version.

    What has gone out stays as it is: a touch delivered (or done, posted, skipped, expired) is never
    sent again or taken back, nor is a letter in the print room or a task with its owner. What is
    still ahead follows the file: a removed touch is cancelled; an added one is planned from the
    deal's start with the usual timing rules; a moved one (day, time, phase, or a journey-wide
    setting) is re-timed; a reworded one goes out with its new words. A moment that has already
    passed runs at once, or expires when it is later than its expires_after or the backfill grace
    (HUNDRED_BACKFILL_GRACE_DAYS, counted from the upgrade). The affirm gate is judged again: no
    referral goes out before every affirm touch of the new version is complete. Each deal is moved
    all at once and the ledger records it (`journey.upgraded`); a deal whose touch is being
    delivered is waited for (--wait), else left for the next run. Exit 1 when a deal stayed behind.

    \b
    Examples:
      hundred journeys diff first-100-days
      hundred journeys upgrade first-100-days --from 8c3bfb090b5d --dry-run
      hundred journeys upgrade first-100-days --from 8c3bfb --lang en
      hundred journeys upgrade journeys/first-100-days.yaml --from 8c3bfb --json
    """
    from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`
    from hundred.cli.operate import _ledger  # lazy: as above
    from hundred.rendering.i18n import words  # lazy: as above
    from hundred.reports.upgrade import report_lines  # lazy: as above
    from hundred.service.upgrade import UpgradeError, Upgrader  # lazy: as above
    from hundred.validation.validate import load_checked  # lazy: as above

    path = resolve_journey(journey)
    checked = load_checked(path, lint=False)
    current = checked.journey
    assert current is not None
    settings = bootstrap.settings()
    runtime = bootstrap.runtime(
        settings, ledger_=_ledger(), scheduler_=bootstrap.scheduler(settings, attempts=2, timeout=10.0)
    )
    try:
        templates = checked.templates_dir or settings.templates_dir
        report = Upgrader(runtime).run(current, templates, from_version, dry_run=dry_run, wait=wait)
    except UpgradeError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        print(json.dumps({"file": str(path), **report.to_json()}, indent=2, ensure_ascii=False))
    else:
        w = words(lang or current.locale, "changes")
        out.print(
            w(
                "{journey} ({name}): version {before} → {after} ({file})",
                journey=current.journey,
                name=current.name,
                before=report.before,
                after=report.after,
                file=shown(path),
            )
        )
        for line in report_lines(w, report, current.timezone):
            out.print(line)
    if not report.complete:
        raise typer.Exit(1)
