"""`hundred letters …`: the print room on the command line (the service is `hundred.service.printroom`).

A letter moves queued → batched (`letters batch`) → printed (`mark-printed`) → posted
(`mark-posted`, which completes its touch and may open the affirm gate); a cancelled journey's
queued letter is withdrawn. `spoil` sends a damaged copy back to the queue for the next batch;
`reprint` renders one letter again, as its batch printed it. `unlock` lets print staff log in to
the page again after too many wrong passwords. Times are the print room's (the default journey's
time zone), and say so. Registered on the one `hundred` app by `cli.py`; everything heavy is
imported inside a command.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hundred.cli import operate as cli_runtime
from hundred.cli.app import app, err, out
from hundred.cli.paths import UserError, refused

if TYPE_CHECKING:  # types only: the runtime stack stays out of `hundred validate`
    from hundred.service.printroom.service import PrintRoom
    from hundred.service.runtime import Runtime

letters_app = typer.Typer(
    help="The print room: batches of letters, printed, posted, spoiled, reprinted; its login unlocked.",
    no_args_is_help=True,
)
app.add_typer(letters_app, name="letters")


def _room(runtime: Runtime | None = None) -> PrintRoom:
    """The print room on this home's ledger; posting goes through the runtime when one is given."""
    from hundred import bootstrap  # lazy: the runtime stack stays out of `hundred validate`

    ledger = runtime.ledger if runtime is not None else cli_runtime._ledger()
    return bootstrap.print_room(
        bootstrap.settings(), ledger_=ledger, on_posted=runtime.letter_posted if runtime is not None else None
    )


def _count(n: int, one: str, many: str) -> str:
    """ "1 letter", "2 letters": the print room's English words (hundred/rendering/i18n.py)."""
    from hundred.rendering.i18n import words  # lazy: babel costs a tenth of `hundred validate`

    return words("en", "printroom").plural(one, many, n)


@letters_app.command("list")
def letters_list(
    state: Annotated[str | None, typer.Option("--state", help="queued, batched, printed, posted or withdrawn.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON (a stable contract).")] = False,
) -> None:
    """The print queue, most urgent first.

    \b
    Examples:
      hundred letters list
      hundred letters list --state queued --json
    """
    from hundred.service.records import LETTER_STATES  # lazy: keeps `hundred validate` fast

    if state is not None and state not in LETTER_STATES:
        raise UserError(f"--state {state}: not a letter state; one of {', '.join(LETTER_STATES)}")
    rows = cli_runtime._ledger().letters(state=state)
    data = {
        "letters": [
            {
                "letter": r.letter_id,
                "deal": r.deal_id,
                "touch": r.touch_id,
                "state": r.state,
                "print_by": r.print_by.isoformat() if r.print_by else None,
                "postcode": r.address.get("postcode"),
                "country": r.address.get("country"),
                "batch": r.batch_id,
            }
            for r in rows
        ]
    }
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not rows:
        out.print("no letters" + (f" in state {state}" if state else ""))
    for r in data["letters"]:
        out.print(
            f"{r['letter']:<36} {r['state']:<9} print by {r['print_by']}  {r['postcode'] or ''} "
            f"{r['country'] or ''}" + (f"  batch {r['batch']}" if r["batch"] else "")
        )


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--date {value}: not a date; write it as YYYY-MM-DD, e.g. 2026-12-01") from None


@letters_app.command("batch")
def letters_batch(
    day: Annotated[
        str | None, typer.Option("--date", help="Take letters due to print by this day (default today).")
    ] = None,
    duplex: Annotated[
        bool, typer.Option("--duplex", help="Pad with blank backs so every letter starts on a new sheet.")
    ] = False,
    labels: Annotated[
        bool, typer.Option("--labels", help="Also write an address label sheet (Avery L7160 / 5160).")
    ] = False,
    again: Annotated[
        str | None, typer.Option("--again", help="Write an existing batch's files again (identical bytes).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"batch", "letters", "pages", "pdf", "manifest", "labels"}.')
    ] = False,
) -> None:
    """Make today's print batch: every queued letter due by --date in one PDF, in postcode order.

    The PDF has a cover sheet, domestic letters first, then mail abroad after a separator; a
    manifest CSV lists every letter with its pages. An empty queue is not an error.

    \b
    Examples:
      hundred letters batch
      hundred letters batch --date 2026-12-01 --duplex --labels
      hundred letters batch --json
      hundred letters batch --again 20261201-0800-3fa1
    """
    until = _parse_day(day)
    room = _room()
    with refused(LookupError):
        result = (
            room.render_batch(again, labels=labels or None)
            if again
            else room.make_batch(until=until, duplex=duplex, labels=labels)
        )
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    if not result.letters:
        asked = until or room.today()
        later = room.next_due(asked)
        out.print(
            f"no letters to print by {asked.isoformat()}"
            + (
                f"; the next {_count(later.count, '{n} letter is', '{n} letters are')} due by "
                f"{later.day.isoformat()}: hundred letters batch --date {later.day.isoformat()}"
                if later is not None and later.day is not None
                else ""
            )
        )
    else:
        out.print(
            f"batch {result.batch_id}: {_count(result.letters, '{n} letter', '{n} letters')}, "
            f"{_count(result.pages, '{n} page', '{n} pages')}"
        )
        for kind, path in (("pdf", result.pdf), ("manifest", result.manifest), ("labels", result.labels)):
            if path:
                out.print(f"  {kind:<9} {path}")
    for problem in result.problems:
        err.print(f"problem: {problem}")


@letters_app.command("batches")
def letters_batches(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Recent print batches, newest first, with when each was made (in the print room's time zone,
    named) and how many warnings its cover lists.

    \b
    Examples:
      hundred letters batches
      hundred letters batches --json
    """
    room = _room()
    rows = room.batches()
    data: dict[str, Any] = {  # the --json contract
        "timezone": room.zone,
        "batches": [
            {
                "batch": b.batch_id,
                "state": b.state,
                "letters": b.letters,
                "pages": b.pages,
                "made": b.created_at.astimezone(room.tz).isoformat(),
                "duplex": b.duplex,
                "labels": b.labels,
                "warnings": list(b.warnings or []),
            }
            for b in rows
        ],
    }
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not rows:
        out.print("no batches yet")
    for b, row in zip(data["batches"], rows, strict=True):
        letters = _count(b["letters"], "{n} letter", "{n} letters")
        pages = _count(b["pages"], "{n} page", "{n} pages")
        warned = _count(len(b["warnings"]), "{n} warning", "{n} warnings") if b["warnings"] else ""
        out.print(
            f"{b['batch']:<22} {b['state']:<8} {letters:>12} {pages:>10}  "
            f"made {row.created_at.astimezone(room.tz):%Y-%m-%d %H:%M} ({room.zone})"
            + (f"  {warned}" if warned else "")
        )


@letters_app.command("mark-printed")
def letters_mark_printed(batch: Annotated[str, typer.Argument(help="The batch id, e.g. 20261201-0800-3fa1.")]) -> None:
    """Say a batch came off the printer: its letters are printed (waiting to be posted).

    \b
    Example:
      hundred letters mark-printed 20261201-0800-3fa1
    """
    with refused(LookupError):
        n = _room().mark_printed(batch)
    out.print(
        f"batch {batch}: {_count(n, '{n} letter', '{n} letters')} printed"
        if n
        else f"batch {batch}: nothing left to mark printed"
    )


@letters_app.command("mark-posted")
def letters_mark_posted(
    target: Annotated[
        str | None, typer.Argument(help="A batch id, or a letter id such as D-1042/thank-you-letter.")
    ] = None,
    deal: Annotated[str | None, typer.Option("--deal", help="Every unposted letter of this deal.")] = None,
) -> None:
    """Say letters went in the post: each touch is delivered, which may open the affirm gate.

    \b
    Examples:
      hundred letters mark-posted 20261201-0800-3fa1
      hundred letters mark-posted D-1042/thank-you-letter
      hundred letters mark-posted --deal D-1042
    """
    if bool(target) == bool(deal):
        err.print("name one batch or letter, or --deal D")
        raise typer.Exit(2)
    runtime = cli_runtime._runtime()
    room = _room(runtime)
    with refused():
        if deal:
            ids = [
                r.letter_id for r in room.ledger.letters(deal_id=deal) if r.state in ("queued", "batched", "printed")
            ]
            if not ids:
                raise UserError(f"deal {deal} has no letters waiting to be posted")
            posted = [i for lid in ids for i in room.mark_posted(letter_id=lid)]
        elif target is not None and room.batch(target) is not None:
            posted = room.mark_posted(batch_id=target)
            if not posted:
                out.print(f"batch {target}: nothing left to post")
        else:
            posted = room.mark_posted(letter_id=target)
            if not posted:
                out.print(f"{target}: already posted")
    for letter_id in posted:
        row = room.ledger.letter(letter_id)
        touch = room.ledger.touch(row.deal_id, row.touch_id) if row else None
        out.print(f"{letter_id}: posted ({row.touch_id if row else '?'} {touch.state if touch else 'unknown'})")


@letters_app.command("spoil")
def letters_spoil(
    letter: Annotated[str, typer.Argument(help="The letter id, e.g. D-1042/thank-you-letter.")],
    reason: Annotated[str, typer.Option("--reason", help="What happened to the printed copy.")] = "spoiled",
) -> None:
    """A printed copy is damaged or lost: the letter goes back into the queue for the next batch.

    \b
    Example:
      hundred letters spoil D-1042/thank-you-letter --reason "printer jam"
    """
    with refused():
        _room().spoil(letter, reason)
    out.print(f"{letter}: spoiled ({reason}); back in the queue for the next batch")


@letters_app.command("reprint")
def letters_reprint(
    letter: Annotated[str, typer.Argument(help="The letter id, e.g. D-1042/thank-you-letter.")],
) -> None:
    """Render one letter again now, identical to the first print, and print the PDF's path.

    Its state does not change: post it with the rest of its batch.

    \b
    Example:
      hundred letters reprint D-1042/thank-you-letter
    """
    with refused():
        path = _room().reprint(letter)
    out.print(str(path))


@letters_app.command("alignment")
def letters_alignment(
    paper: Annotated[str, typer.Option("--paper", help="A4 or letter.")] = "A4",
    output: Annotated[
        Path | None, typer.Option("--out", help="Where to write the PDF (default letters/alignment-<paper>.pdf).")
    ] = None,
) -> None:
    """A one-page test print: the windows of DL, C5 and US #10 envelopes drawn to scale, labelled.

    Print it at 100 %, fold it, and hold it in your envelopes before the first batch; the 100 mm
    ruler shows whether the printer scaled the page.

    \b
    Examples:
      hundred letters alignment
      hundred letters alignment --paper letter --out alignment.pdf
    """
    from hundred.adapters.printfiles.sheets import draw_alignment  # lazy: reportlab loads only when a batch is drawn
    from hundred.rendering.handwriting.model import PAPERS  # lazy: reportlab loads only when a letter is drawn
    from hundred.service.printroom.service import (
        write_atomically,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )
    from hundred.service.settings import (
        Settings,  # lazy: keeps `hundred validate` and `plan` fast (measured: bench/validate.py)
    )

    chosen = next((p for p in PAPERS if p.lower() == paper.lower()), None)
    if chosen is None:
        raise UserError(f"--paper {paper}: use one of {', '.join(PAPERS)}")
    path = output or Path(Settings().letters_dir) / f"alignment-{chosen}.pdf"
    try:
        write_atomically(Path(path), lambda fh: draw_alignment(fh, chosen))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    out.print(str(path))


@letters_app.command("unlock")
def letters_unlock() -> None:
    """Let print staff log in again now: after 5 wrong passwords from one address (or 50 in all)
    the print room refuses even the right one for 15 minutes; this ends that lockout.

    The web app of this HUNDRED_HOME forgets the wrong passwords it counted (at the next login
    attempt, no restart). Where the web app runs on another host (scale-out), run it there.

    \b
    Example:
      hundred letters unlock
    """
    from hundred.service.local import unlock_print_room  # lazy: keeps `hundred validate` fast
    from hundred.service.settings import Settings  # lazy: keeps `hundred validate` fast

    home = Settings().home
    try:
        unlock_print_room(home)
    except OSError as exc:
        raise UserError(f"cannot write to {home}: {exc.strerror or exc}") from None
    out.print(f"print room unlocked: the web app on {home} accepts the right password again")
