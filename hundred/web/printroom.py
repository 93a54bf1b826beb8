"""The print room page: the queue, batches, and what print staff do with them (`/print`).

Server-rendered HTML (Jinja2 templates shipped in the package, no scripts, no build step), laid
out for a tablet, in the print staff's language. The app's one dependency (hundred/web/guard.py)
lets nobody in without a login and checks every form's CSRF token and Origin; each POST takes a
declared form model (hundred/web/forms.py). Marking letters posted calls `PrintRoom.mark_posted`,
whose `on_posted` is the runtime's `letter_posted` on Prefect's scheduler, so the touch completes
and the affirm gate opens (the referral is scheduled on Prefect).

Letter ids contain '/', so they travel as a query parameter or a form field and are only ever
looked up in the ledger, never turned into a path; batch ids are checked against a strict pattern
and must exist before a file is served.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from hundred import bootstrap
from hundred.adapters.ledger import Ledger as SqlLedger
from hundred.adapters.prefect.api import PrefectAPIError
from hundred.adapters.prefect.scheduler import PrefectScheduler
from hundred.rendering.i18n import Words
from hundred.service.no_prefect import NoPrefect
from hundred.service.outcomes import TouchOutcome
from hundred.service.printroom import PrintRoom, Refusal
from hundred.service.records import LETTER_STATES, BatchRow, LetterRow
from hundred.service.settings import Settings
from hundred.web.forms import BatchForm, CsrfForm, LetterForm, SpoilForm
from hundred.web.guard import Caller, Door, Guard, Refused, valid_batch_id, valid_letter_id
from hundred.web.views import N_, Views, day_text

log = logging.getLogger("hundred.web")
# The states as the page says them (`w(row.state)`); listed so the catalog test finds them.
STATE_WORDS = (N_("queued"), N_("batched"), N_("printed"), N_("posted"), N_("withdrawn"), N_("made"))
KINDS = {
    "pdf": ("application/pdf", "pdf"),
    "manifest": ("text/csv; charset=utf-8", "csv"),
    "labels": ("application/pdf", "labels.pdf"),
}


class Services:
    """The ledger, the runtime and the print room, opened on first use (the ledger may not exist
    when the web app starts, and the Prefect API is found in up.json or PREFECT_API_URL)."""

    def __init__(self, home: Path, settings: Settings, printroom: PrintRoom | None = None):
        self.home, self.settings = home, settings
        self._printroom = printroom
        self._lock = threading.Lock()
        self.ledger: SqlLedger | None = None
        self._scheduler: PrefectScheduler | NoPrefect | None = None

    def printroom(self) -> PrintRoom:
        with self._lock:
            if self._printroom is None:
                self.ledger = bootstrap.ledger(self.settings)
                self._printroom = bootstrap.print_room(self.settings, ledger_=self.ledger, on_posted=self.on_posted)
            return self._printroom

    def letter(self, letter_id: str) -> LetterRow | None:
        room = self.printroom()
        ledger = self.ledger if self.ledger is not None else getattr(room, "ledger", None)
        return ledger.letter(letter_id) if ledger is not None else None

    def on_posted(self, letter_id: str) -> TouchOutcome | None:
        """The runtime completes the touch; the gate it opens schedules on Prefect over REST.

        Without a Prefect API the letter is not marked posted (the page says why). When Prefect
        fails after the touch completed, the released touches stay `planned` and the next
        reconcile schedules them: the letter stays posted, the failure is logged."""
        api = bootstrap.prefect_api(self.settings)
        if not api:
            raise Refusal(
                "no Prefect API (start hundred with `hundred up`, or set PREFECT_API_URL), "
                "so posting cannot complete the letter's touch; nothing was marked posted"
            )
        with self._lock:
            if self._scheduler is None or self._scheduler.api_url != api.rstrip("/"):
                self._scheduler = bootstrap.scheduler(self.settings)
            scheduler = self._scheduler
        ledger = self.ledger if self.ledger is not None else self.printroom().ledger
        try:
            return bootstrap.runtime(self.settings, ledger_=ledger, scheduler_=scheduler).letter_posted(letter_id)
        except (PrefectAPIError, httpx.HTTPError) as exc:
            log.warning("letter %s posted; scheduling what it releases failed (reconcile will): %s", letter_id, exc)
            return None


def build_router(guard: Guard, views: Views, services: Services) -> APIRouter:
    router = APIRouter()

    def done(
        request: Request, caller: Caller, text: str, data: dict[str, Any], to: str = "/print", *also: tuple[str, str]
    ) -> Response:
        """A script gets JSON; a person is sent back to the page (post/redirect/get)."""
        if caller.kind == "token":
            return JSONResponse({"ok": True, "message": text, **data})
        views.flash(caller.sid, text)
        for kind, more in also:
            views.flash(caller.sid, more, kind)
        return RedirectResponse(to, status_code=303)

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kwargs)

    async def act(to: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A state change; the print room's refusal (ValueError, LookupError) is shown, not a 500."""
        try:
            return await call(fn, *args, **kwargs)
        except Refusal as exc:
            raise Refused(409, exc.text, back=to, **exc.values) from None
        except (ValueError, LookupError) as exc:
            # the message as written: a KeyError's repr quotes are not part of it
            text = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)
            raise Refused(409, text, back=to) from None

    def known_batch(batch_id: str) -> BatchRow:
        if not valid_batch_id(batch_id):
            raise Refused(404, "no such batch")
        batch = services.printroom().batch(batch_id)
        if batch is None:
            raise Refused(404, "no such batch")
        return batch

    def known_letter(letter_id: str | None) -> LetterRow:
        row = services.letter(letter_id) if letter_id and valid_letter_id(letter_id) else None
        if row is None:
            raise Refused(404, "no such letter")
        return row

    def letters(w: Words, n: int) -> str:
        return w.plural("{n} letter", "{n} letters", n)

    @router.get("/print", response_class=HTMLResponse)
    async def page(request: Request, caller: Door) -> Response:
        room = await call(services.printroom)
        today = await call(room.today)
        queue = await call(room.queue, today)
        due_now = sum(d.count for d in queue if d.day is None or d.day <= today)
        return views.page(
            request,
            "print.html.j2",
            caller,
            tz=room.tz,
            title="Print room",
            today=today,
            queue=queue,
            next_due=None if due_now else await call(room.next_due, today),
            batches=await call(room.batches),
            in_batches=[row for state in ("batched", "printed") for row in await call(room.letters, state)],
        )

    @router.get("/print/letter", response_class=HTMLResponse)
    async def letter_page(request: Request, caller: Door, id: str = "") -> Response:
        row = await call(known_letter, id)
        room = await call(services.printroom)
        dated = await call(room.dated, row)
        return views.page(
            request,
            "letter.html.j2",
            caller,
            tz=room.tz,
            title="Letter {letter}",
            letter=row,
            dated_on=await call(room.print_day, row),
            text=dated.body,
        )

    @router.get("/print/letter.pdf")
    async def letter_pdf(id: str = "") -> Response:
        row = await call(known_letter, id)
        pdf = await call(services.printroom().preview, row.letter_id)
        return Response(
            pdf, media_type="application/pdf", headers={"Content-Disposition": 'inline; filename="letter-preview.pdf"'}
        )

    @router.get("/print/batches/{batch_id}/{kind}")
    async def batch_file(batch_id: str, kind: str) -> Response:
        if kind not in KINDS:
            raise Refused(404, "no such file")
        await call(known_batch, batch_id)
        try:
            path = Path(await call(services.printroom().batch_file, batch_id, kind))
        except (LookupError, ValueError, OSError):
            raise Refused(404, "this batch has no such file") from None
        if not path.is_file():
            raise Refused(404, "this batch has no such file")
        media, suffix = KINDS[kind]
        return FileResponse(
            path, media_type=media, filename=f"{batch_id}.{suffix}", content_disposition_type="attachment"
        )

    @router.post("/print/batches")
    async def make_batch(request: Request, caller: Door, form: Annotated[BatchForm, Form()]) -> Response:
        room = services.printroom()
        result = await act("/print", room.make_batch, until=form.until, duplex=form.duplex, labels=form.labels)
        w = views.words(request)
        data = _plain(result, room.tz)
        if not result.letters:
            day = form.until or await call(room.today)
            later = await call(room.next_due, day)
            data["next_due"] = later.day.isoformat() if later and later.day else None
            text = w("Nothing to print: no queued letter is due by {day}.", day=day_text(w, day))
            if later is not None and later.day is not None:
                text += " " + w.plural(
                    "The next letter is due by {day}.",
                    "The next {n} letters are due by {day}.",
                    later.count,
                    day=day_text(w, later.day),
                )
            return done(request, caller, text, data)
        made = w(
            "Batch {batch} made: {letters}, {pages}. Download the PDF below.",
            batch=result.batch_id,
            letters=letters(w, result.letters),
            pages=w.plural("{n} page", "{n} pages", result.pages),
        )
        data["warnings"] = list(result.problems)
        warned: tuple[tuple[str, str], ...] = ()
        if result.problems:
            warned = (
                (
                    "warning",
                    w.plural(
                        "Its cover sheet lists {n} warning: read it beside the batch below before you print.",
                        "Its cover sheet lists {n} warnings: read them beside the batch below before you print.",
                        len(result.problems),
                    ),
                ),
            )
        return done(request, caller, made, data, "/print", *warned)

    @router.post("/print/batches/{batch_id}/printed")
    async def mark_printed(
        request: Request, batch_id: str, caller: Door, form: Annotated[CsrfForm, Form()]
    ) -> Response:
        await call(known_batch, batch_id)
        n = await act("/print", services.printroom().mark_printed, batch_id)
        w = views.words(request)
        text = (
            w("Batch {batch}: {letters} marked printed.", batch=batch_id, letters=letters(w, n))
            if n
            else w("Batch {batch}: nothing left to mark printed (its letters are printed or posted).", batch=batch_id)
        )
        return done(request, caller, text, {"batch": batch_id, "letters": n})

    @router.post("/print/batches/{batch_id}/posted")
    async def mark_batch_posted(
        request: Request, batch_id: str, caller: Door, form: Annotated[CsrfForm, Form()]
    ) -> Response:
        await call(known_batch, batch_id)
        posted = await act("/print", services.printroom().mark_posted, batch_id=batch_id)
        w = views.words(request)
        text = (
            w("Batch {batch}: {letters} marked posted.", batch=batch_id, letters=letters(w, len(posted)))
            if posted
            else w("Batch {batch}: nothing left to mark posted (its letters are posted or spoiled).", batch=batch_id)
        )
        return done(request, caller, text, {"batch": batch_id, "posted": list(posted)})

    @router.post("/print/letter/posted")
    async def mark_letter_posted(request: Request, caller: Door, form: Annotated[LetterForm, Form()]) -> Response:
        row = await call(known_letter, form.letter)
        to = _letter_url(row.letter_id)
        posted = await act(to, services.printroom().mark_posted, letter_id=row.letter_id)
        w = views.words(request)
        text = (
            w("Letter {letter} marked posted.", letter=row.letter_id)
            if posted
            else w("Letter {letter} was not marked posted (it is {state}).", letter=row.letter_id, state=w(row.state))
        )
        return done(request, caller, text, {"posted": list(posted)}, to)

    @router.post("/print/letter/spoil")
    async def spoil(request: Request, caller: Door, form: Annotated[SpoilForm, Form()]) -> Response:
        row = await call(known_letter, form.letter)
        w = views.words(request)
        reason = form.reason[:200] or w("spoiled in the print room")
        to = _letter_url(row.letter_id)
        await act(to, services.printroom().spoil, row.letter_id, reason)
        text = w(
            "Letter {letter} spoiled ({reason}): it is back in the queue for the next batch.",
            letter=row.letter_id,
            reason=reason,
        )
        return done(request, caller, text, {"letter": row.letter_id}, to)

    @router.post("/print/letter/reprint")
    async def reprint(caller: Door, form: Annotated[LetterForm, Form()]) -> Response:
        row = await call(known_letter, form.letter)
        path = Path(await call(services.printroom().reprint, row.letter_id))
        return FileResponse(
            path, media_type="application/pdf", filename="reprint.pdf", content_disposition_type="attachment"
        )

    @router.get("/print/api/letters")
    async def api_letters(state: str | None = None) -> Response:
        if state is not None and state not in LETTER_STATES:
            raise Refused(400, "unknown state {state}; one of {states}", state=state, states=", ".join(LETTER_STATES))
        room = services.printroom()
        rows = await call(room.letters, state)
        return JSONResponse({"letters": [_plain(r, room.tz) for r in rows]})

    @router.get("/print/api/batches")
    async def api_batches() -> Response:
        room = services.printroom()
        rows = await call(room.batches)
        return JSONResponse({"timezone": room.zone, "batches": [_plain(b, room.tz) for b in rows]})

    return router


def _letter_url(letter_id: str) -> str:
    return "/print/letter?id=" + quote(letter_id, safe="")


def _plain(value: Any, tz: tzinfo) -> dict[str, Any]:
    """A row or result as JSON-safe data (dataclass, object with to_json, or mapping); moments in
    the print room's zone (ISO 8601 with its offset)."""
    if hasattr(value, "to_json"):
        data = value.to_json()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = dataclasses.asdict(value)
    else:
        data = dict(value)
    return {
        k: (
            v.astimezone(tz).isoformat()
            if isinstance(v, datetime)
            else v.isoformat()
            if isinstance(v, date)
            else str(v)
            if isinstance(v, Path)
            else v
        )
        for k, v in data.items()
    }
