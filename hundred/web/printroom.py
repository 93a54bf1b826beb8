"""The print room page: the queue, batches, and what print staff do with them (`/print`).

Server-rendered HTML (Jinja2 templates shipped in the package, no scripts, no build step), laid
out for a tablet. Everything here goes through `Guard.caller` first (hundred/web/guard.py), and
every form POST through `Guard.form` (CSRF token + Origin). Marking letters posted calls
`PrintRoom.mark_posted`, whose `on_posted` is the runtime's `letter_posted` on Prefect's scheduler,
so the touch completes and the affirm gate opens (the referral is scheduled on Prefect).

Letter ids contain '/', so they travel as a query parameter or a form field and are only ever
looked up in the ledger, never turned into a path; batch ids are checked against a strict pattern
and must exist before a file is served.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from hundred import bootstrap
from hundred.adapters.prefect.scheduler import PrefectAPIError
from hundred.web.guard import Caller, Guard, Refused, valid_batch_id, valid_letter_id
from hundred.web.views import Views

log = logging.getLogger("hundred.web")
KINDS = {
    "pdf": ("application/pdf", "pdf"),
    "manifest": ("text/csv; charset=utf-8", "csv"),
    "labels": ("application/pdf", "labels.pdf"),
}


class Services:
    """The ledger, the runtime and the print room, opened on first use (the ledger may not exist
    when the web app starts, and the Prefect API is found in up.json or PREFECT_API_URL)."""

    def __init__(self, home: Path, settings: Any, printroom: Any = None):
        self.home, self.settings = home, settings
        self._printroom = printroom
        self._lock = threading.Lock()
        self.ledger: Any = None
        self._scheduler: Any = None

    def printroom(self) -> Any:
        with self._lock:
            if self._printroom is None:
                self.ledger = bootstrap.ledger(self.settings)
                self._printroom = bootstrap.print_room(self.settings, ledger_=self.ledger, on_posted=self.on_posted)
            return self._printroom

    def letter(self, letter_id: str) -> Any:
        room = self.printroom()
        ledger = self.ledger if self.ledger is not None else getattr(room, "ledger", None)
        return ledger.letter(letter_id) if ledger is not None else None

    def on_posted(self, letter_id: str) -> Any:
        """The runtime completes the touch; the gate it opens schedules on Prefect over REST.

        Without a Prefect API the letter is not marked posted (ValueError: the page says why). When
        Prefect fails after the touch completed, the released touches stay `planned` and the next
        reconcile schedules them: the letter stays posted, the failure is logged."""
        api = bootstrap.prefect_api(self.settings)
        if not api:
            raise ValueError(
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

    def done(caller: Caller, text: str, data: dict[str, Any], to: str = "/print") -> Response:
        """A script gets JSON; a person is sent back to the page (post/redirect/get)."""
        if caller.kind == "token":
            return JSONResponse({"ok": True, "message": text, **data})
        views.flash(caller.sid, text)
        return RedirectResponse(to, status_code=303)

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, *args, **kwargs)

    async def act(caller: Caller, to: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A state change; the print room's refusal (ValueError, LookupError) is shown, not a 500."""
        try:
            return await call(fn, *args, **kwargs)
        except (ValueError, LookupError) as exc:
            raise Refused(409, str(exc).strip("'\""), back=to) from None

    def known_batch(batch_id: str) -> Any:
        if not valid_batch_id(batch_id):
            raise Refused(404, "no such batch")
        batch = services.printroom().batch(batch_id)
        if batch is None:
            raise Refused(404, "no such batch")
        return batch

    def known_letter(letter_id: str | None) -> Any:
        row = services.letter(letter_id) if valid_letter_id(letter_id) else None
        if row is None:
            raise Refused(404, "no such letter")
        return row

    @router.get("/print", response_class=HTMLResponse)
    async def page(request: Request) -> Response:
        caller = guard.caller(request)
        room = await call(services.printroom)
        today = await call(room.today)
        queue = await call(room.queue, today)
        batches = await call(room.batches)
        in_batches = [row for state in ("batched", "printed") for row in await call(room.letters, state)]
        return views.page(
            request,
            "print.html.j2",
            caller,
            title="Print room",
            today=today,
            queue=queue,
            batches=batches,
            in_batches=in_batches,
            flashes=views.take_flashes(caller.sid),
        )

    @router.get("/print/letter", response_class=HTMLResponse)
    async def letter_page(request: Request, id: str = "") -> Response:
        caller = guard.caller(request)
        row = await call(known_letter, id)
        return views.page(
            request,
            "letter.html.j2",
            caller,
            title=f"Letter {row.letter_id}",
            letter=row,
            flashes=views.take_flashes(caller.sid),
        )

    @router.get("/print/letter.pdf")
    async def letter_pdf(request: Request, id: str = "") -> Response:
        guard.caller(request)
        row = await call(known_letter, id)
        pdf = await call(services.printroom().preview, row.letter_id)
        return Response(
            pdf, media_type="application/pdf", headers={"Content-Disposition": 'inline; filename="letter-preview.pdf"'}
        )

    @router.get("/print/batches/{batch_id}/{kind}")
    async def batch_file(request: Request, batch_id: str, kind: str) -> Response:
        guard.caller(request)
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
    async def make_batch(request: Request) -> Response:
        caller = guard.caller(request)
        form = await guard.form(request, caller)
        until = None
        if form.get("until"):
            try:
                until = date.fromisoformat(form["until"])
            except ValueError:
                raise Refused(400, "the date must look like 2026-12-01") from None
        result = await act(
            caller,
            "/print",
            services.printroom().make_batch,
            until=until,
            duplex=form.get("duplex") == "on",
            labels=form.get("labels") == "on",
        )
        data = _plain(result)
        letters = data.get("letters", 0)
        if not letters:
            return done(caller, "Nothing to print: no queued letter is due by then.", data)
        return done(
            caller,
            f"Batch {data.get('batch')} made: {letters} letters, {data.get('pages')} pages. Download the PDF below.",
            data,
        )

    @router.post("/print/batches/{batch_id}/printed")
    async def mark_printed(request: Request, batch_id: str) -> Response:
        caller = guard.caller(request)
        await guard.form(request, caller)
        await call(known_batch, batch_id)
        n = await act(caller, "/print", services.printroom().mark_printed, batch_id)
        return done(caller, f"Batch {batch_id}: {n} letters marked printed.", {"batch": batch_id, "letters": n})

    @router.post("/print/batches/{batch_id}/posted")
    async def mark_batch_posted(request: Request, batch_id: str) -> Response:
        caller = guard.caller(request)
        await guard.form(request, caller)
        await call(known_batch, batch_id)
        posted = await act(caller, "/print", services.printroom().mark_posted, batch_id=batch_id)
        return done(
            caller,
            f"Batch {batch_id}: {len(posted)} letters marked posted.",
            {"batch": batch_id, "posted": list(posted)},
        )

    @router.post("/print/letter/posted")
    async def mark_letter_posted(request: Request) -> Response:
        caller = guard.caller(request)
        form = await guard.form(request, caller)
        row = await call(known_letter, form.get("letter"))
        posted = await act(
            caller, _letter_url(row.letter_id), services.printroom().mark_posted, letter_id=row.letter_id
        )
        return done(
            caller,
            f"Letter {row.letter_id} marked posted."
            if posted
            else f"Letter {row.letter_id} was not marked posted (it is {row.state}).",
            {"posted": list(posted)},
            to=_letter_url(row.letter_id),
        )

    @router.post("/print/letter/spoil")
    async def spoil(request: Request) -> Response:
        caller = guard.caller(request)
        form = await guard.form(request, caller)
        row = await call(known_letter, form.get("letter"))
        reason = (form.get("reason") or "").strip()[:200] or "spoiled in the print room"
        await act(caller, _letter_url(row.letter_id), services.printroom().spoil, row.letter_id, reason)
        return done(
            caller,
            f"Letter {row.letter_id} spoiled ({reason}): it is back in the queue for the next batch.",
            {"letter": row.letter_id},
            to=_letter_url(row.letter_id),
        )

    @router.post("/print/letter/reprint")
    async def reprint(request: Request) -> Response:
        caller = guard.caller(request)
        form = await guard.form(request, caller)
        row = await call(known_letter, form.get("letter"))
        path = Path(await call(services.printroom().reprint, row.letter_id))
        return FileResponse(
            path, media_type="application/pdf", filename="reprint.pdf", content_disposition_type="attachment"
        )

    @router.get("/print/api/letters")
    async def api_letters(request: Request, state: str | None = None) -> Response:
        guard.caller(request)
        if state is not None and state not in ("queued", "batched", "printed", "posted", "spoiled"):
            raise Refused(400, "unknown state")
        rows = await call(services.printroom().letters, state)
        return JSONResponse({"letters": [_plain(r) for r in rows]})

    @router.get("/print/api/batches")
    async def api_batches(request: Request) -> Response:
        guard.caller(request)
        return JSONResponse({"batches": [_plain(b) for b in await call(services.printroom().batches)]})

    return router


def _letter_url(letter_id: str) -> str:

    return "/print/letter?id=" + quote(letter_id, safe="")


def _plain(value: Any) -> dict[str, Any]:
    """A row or result as JSON-safe data (dataclass, object with to_json, or mapping)."""

    if hasattr(value, "to_json"):
        data = value.to_json()
    elif dataclasses.is_dataclass(value):
        data = dataclasses.asdict(value)
    else:
        data = dict(value)
    return {
        k: (v.isoformat() if isinstance(v, (date, datetime)) else str(v) if isinstance(v, Path) else v)
        for k, v in data.items()
    }
