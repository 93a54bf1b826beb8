"""A batch's files under letters/batches/<batch-id>/: the batch PDF (cover sheet, letters in
print order, a separator before mail abroad, duplex padding), the manifest CSV and the label sheet.

Everything is rendered from the ledger's stored inputs and the batch row, never from a clock or a
template, so rendering a batch again gives the same bytes.
"""

from __future__ import annotations

import csv
from collections import Counter
from typing import Any

from hundred.service.ports import BatchPlace
from hundred.service.printroom.copies import batch_day, letter_of, style_of, write_atomically
from hundred.service.printroom.order import country, is_domestic
from hundred.service.printroom.problems import batch_warnings, papers
from hundred.service.records import BatchEntry, BatchResult, BatchRow, LetterRow

MANIFEST_COLUMNS = (
    "sequence",
    "letter",
    "deal",
    "touch",
    "name",
    "postcode",
    "city",
    "country",
    "first_page",
    "last_page",
    "seed",
    "problems",
)


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote (OWASP)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def summary(rows: list[LetterRow]) -> dict[str, Any]:
    """Counts for the cover and the flow's artifact."""
    domestic = [r for r in rows if is_domestic(r)]
    abroad = Counter(country(r) for r in rows if not is_domestic(r))
    envelopes = Counter(str(r.layout.get("envelope")) for r in rows)
    return {
        "letters": len(rows),
        "domestic": len(domestic),
        "abroad": sum(abroad.values()),
        "countries": dict(sorted(abroad.items())),
        "home": sorted({str(r.layout.get("sender_country", "NL")) for r in rows}),
        "papers": dict(papers(rows)),
        "envelopes": dict(envelopes),
    }


def write_batch(
    room: BatchPlace, batch: BatchRow, entries: list[tuple[BatchEntry, LetterRow]], *, labels: bool
) -> BatchResult:
    from hundred.adapters.printfiles import sheets  # lazy: reportlab loads only when a batch is drawn
    from hundred.rendering.handwriting.render import render_batch  # lazy: reportlab loads only when a letter is drawn

    rows = [row for _, row in entries]
    printed_on = batch_day(batch, room.tz)  # the batch's day, stored: re-renders stay identical
    jobs = [(letter_of(r, printed_on), style_of(r)) for r in rows]
    counts = summary(rows)
    first_abroad = next((i for i, r in enumerate(rows) if not is_domestic(r)), None)
    separators = {}
    if first_abroad:  # not None and not 0: domestic letters come before it
        separators[first_abroad] = lambda canv: sheets.draw_separator(canv, batch.batch_id, counts)
    made_at = batch.created_at.astimezone(room.tz)
    warnings: list[str] = []

    def cover(canv: Any, problems: list[list[str]]) -> None:
        warnings[:] = batch_warnings(batch, entries, problems)
        sheets.draw_cover(canv, batch, counts, warnings, made_at=f"{made_at:%Y-%m-%d %H:%M} ({room.tz.key})")

    pdf = room.batch_path(batch.batch_id, "pdf")
    results = write_atomically(
        pdf, lambda fh: render_batch(jobs, fh, cover=cover, separators=separators, duplex=batch.duplex)
    )
    last = results[-1]
    pages = last.last_page + (1 if batch.duplex and (last.last_page - last.first_page + 1) % 2 else 0)

    manifest = room.batch_path(batch.batch_id, "manifest")

    def write_manifest(fh: Any) -> None:
        writer = csv.writer(fh)
        writer.writerow(MANIFEST_COLUMNS)
        for (entry, row), result in zip(entries, results, strict=False):
            a = row.address
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        entry.seq,
                        row.letter_id,
                        row.deal_id,
                        row.touch_id,
                        a.get("name") or a.get("company") or "",
                        a.get("postcode", ""),
                        a.get("city", ""),
                        country(row),
                        result.first_page,
                        result.last_page,
                        row.seed,
                        "; ".join(result.problems),
                    )
                ]
            )

    write_atomically(manifest, write_manifest, mode="w")
    label_path = None
    if labels:
        label_path = room.batch_path(batch.batch_id, "labels")
        write_atomically(label_path, lambda fh: sheets.draw_labels(fh, [(e.seq, r) for e, r in entries]))
    room.ledger.finish_batch(
        batch.batch_id,
        pages,
        {r.letter_id: (res.first_page, res.last_page) for r, res in zip(rows, results, strict=False)},
        warnings,
    )
    return BatchResult(batch.batch_id, len(rows), pages, pdf, manifest, label_path, list(warnings))
