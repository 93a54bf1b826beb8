"""`hundred crm check pipedrive|hubspot [--deal ID]`: connect a CRM and see what hundred makes of it.

Registered on the one `hundred` app by `hundred.cli`; the runtime stack is imported inside the
command. Reads the CRM's API only (no ledger, no Prefect, nothing sent or stored).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hundred.cli.app import app, out
from hundred.cli.paths import UserError

crm_app = typer.Typer(help="Connect a CRM (Pipedrive, HubSpot): check its token and mapping.", no_args_is_help=True)
app.add_typer(crm_app, name="crm")
CRMS = ("pipedrive", "hubspot")


@crm_app.command("check")
def crm_check(
    vendor: Annotated[str, typer.Argument(help="pipedrive or hubspot", metavar="CRM")],
    deal: Annotated[
        str | None, typer.Option("--deal", help="The CRM's id of a won deal to try (default: the latest won deal).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {crm, ok, checks, deal_id, deal, problems, notes} as JSON.")
    ] = False,
) -> None:
    """Check the CRM's API token and the field mapping against the real API, and print the deal
    hundred would build from a won deal (or what is missing and where to fix it). Sends nothing,
    stores nothing. Exit 1 when something needs fixing.

    Reads HUNDRED_PIPEDRIVE_API_TOKEN and HUNDRED_PIPEDRIVE_API_URL, or HUNDRED_HUBSPOT_TOKEN (and
    HUNDRED_HUBSPOT_WON_STAGES), and the mapping (HUNDRED_CRM_MAPPING, default: the shipped one).

    \b
    Examples:
      hundred crm check pipedrive
      hundred crm check hubspot --deal 9823471102
      hundred crm check pipedrive --json
    """
    from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`
    from hundred.service.crm_check import check  # lazy: as above

    if vendor not in CRMS:
        raise typer.BadParameter(f"'{vendor}' is not a CRM hundred connects: pipedrive or hubspot", param_hint="CRM")
    settings = bootstrap.settings()
    try:
        api = bootstrap.crm(settings, vendor)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    report = check(vendor, api, settings, deal)
    if as_json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        for finding in report.findings:
            out.print(f"{'✓' if finding.ok else '✗'} {finding.what}: {finding.detail}")
        for problem in report.problems:
            out.print(f"  - {problem}")
        for note in report.notes:
            out.print(f"  note: {note}")
        if report.deal is not None:
            out.print("the deal hundred would build:" if report.ok else "the deal as built so far:")
            out.print(json.dumps(report.deal, indent=2, ensure_ascii=False))
    if not report.ok:
        raise typer.Exit(1)
