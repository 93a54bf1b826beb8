"""The `print-batch` flow: every workday morning at the letters' cut-off, the day's print batch.

Scheduled by cron on the default journey's workdays in its time zone (flows/serve.py, prefect.yaml);
a holiday or closed day of that journey's calendar is skipped here (cron cannot know holidays).
The work is `hundred.service.printroom.PrintRoom.make_batch`; a markdown artifact summarises the batch.
"""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import flow
from prefect.artifacts import acreate_markdown_artifact


def batch_markdown(result: Any, summary: dict[str, Any] | None, day: str, calendar_source: str) -> str:
    """The artifact: what was batched, where the files are, what needs a person."""
    if not result.letters:
        lines = [f"# Print batch · {day}", "", "No letters to print today."]
    else:
        counts = summary or {}  # None only when the batch's rows could not be read back
        abroad = ", ".join(f"{c} {n}" for c, n in counts.get("countries", {}).items())
        lines = [
            f"# Print batch {result.batch_id} · {day}",
            "",
            "| | |",
            "|---|---|",
            f"| letters | {result.letters} (domestic {counts.get('domestic', 0)}, abroad {counts.get('abroad', 0)}"
            + (f": {abroad}" if abroad else "")
            + ") |",
            f"| pages | {result.pages} |",
            f"| PDF | `{result.pdf}` |",
            f"| manifest | `{result.manifest}` |",
        ]
        if result.labels:
            lines.append(f"| labels | `{result.labels}` |")
        lines += [
            "",
            f"Print at 100 %, then `hundred letters mark-printed {result.batch_id}`; after posting, "
            f"`hundred letters mark-posted {result.batch_id}`.",
        ]
    if result.problems:
        lines += ["", f"## Problems ({len(result.problems)})", ""] + [f"- {p}" for p in result.problems[:50]]
    lines += ["", f"_Calendar: {calendar_source}_"]
    return "\n".join(lines)


def make_todays_batch(duplex: bool, labels: bool, force: bool, clock: Any = None) -> tuple[dict[str, Any], str]:
    """Make today's batch unless today is closed in the default journey's calendar; (result, markdown)."""
    from hundred import bootstrap  # lazy: serving the deployments needs only Prefect
    from hundred.adapters.printfiles.files import summary  # lazy: as above
    from hundred.service.printroom.calendar import print_calendar  # lazy: as above

    settings = bootstrap.settings()
    calendar = print_calendar(settings)
    ledger = bootstrap.ledger(settings) if clock is None else bootstrap.clocked_ledger(settings, clock)
    try:
        room = bootstrap.print_room(settings, ledger_=ledger, timezone=calendar.timezone)
        today = room.today()
        closed = calendar.closed_reason(today)
        if closed and not force:
            note = f"{today.isoformat()} is not a workday ({closed}): no batch; the next workday's takes these letters"
            return {"batch": None, "letters": 0, "skipped": note}, f"# Print batch · {today.isoformat()}\n\n{note}"
        result = room.make_batch(until=today, duplex=duplex, labels=labels)
        rows = [row for _, row in ledger.batch_entries(result.batch_id)] if result.batch_id else []
        data = {**result.to_json(), "problems": result.problems}
        return data, batch_markdown(result, summary(rows) if rows else None, today.isoformat(), calendar.source)
    finally:
        if clock is not None:
            ledger.close()


@flow(name="print-batch")
async def print_batch(duplex: bool = False, labels: bool = False, force: bool = False) -> dict[str, Any]:
    """The day's print batch: every queued letter due today, one PDF with cover and manifest.
    `force` makes one on a closed day too."""
    data, markdown = await asyncio.to_thread(make_todays_batch, duplex, labels, force)
    await acreate_markdown_artifact(markdown=markdown, key="print-batch", description="The day's print batch")
    return data
