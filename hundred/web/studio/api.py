"""The studio page's requests: check the text, complete at the cursor, preview the touch under the
cursor, play, journeys in flight, sample deals, open and save a file, and the documents they made.

Each POST is JSON from the studio's own page (Origin and the `X-CSRF-Token` header checked) and at
most MAX_BODY bytes; the work runs in a thread (validate, plan, render and simulate are CPU-bound).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from hundred.deals.model import merge_field_tree
from hundred.journeys.model import json_schema
from hundred.service.ports import Ledger
from hundred.templating import sandbox as templating
from hundred.validation.completion import JourneyCompleter
from hundred.validation.validate import check_text
from hundred.web.studio.door import Door, StudioRefused, read_body
from hundred.web.studio.frames import Frames
from hundred.web.studio.html import studio_words
from hundred.web.studio.live import Live, journey_on_disk, template_users
from hundred.web.studio.samples import SampleProblem, choices, default_example, form_values, sample_deal
from hundred.web.studio.workspace import Conflict, NotInWorkspace, Workspace, unified_diff

MAX_BODY = 2 * 1024 * 1024  # a journey is at most 1 MB (validate's limit), in JSON


async def read_json(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise StudioRefused(415, "send JSON")
    body = await read_body(request, MAX_BODY, "the text is too large")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise StudioRefused(400, "malformed JSON") from None
    if not isinstance(data, dict):
        raise StudioRefused(400, "send a JSON object")
    return data


def _text(data: dict[str, Any], key: str = "text") -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise StudioRefused(400, f"'{key}' must be text")
    return value


class Buffer:
    """The file a request is about, resolved inside the workspace, and the journey it belongs to."""

    def __init__(self, workspace: Workspace, data: dict[str, Any]):
        try:
            self.path, self.kind = workspace.resolve(str(data.get("file", "")))
        except NotInWorkspace as exc:
            raise StudioRefused(404, str(exc)) from None
        self.name = workspace.name_of(self.path, self.kind)
        self.rel = self.name.split("/", 1)[1]
        self.journey_path: Path | None = self.path
        if self.kind == "template":
            try:
                self.journey_path, _ = workspace.resolve(str(data.get("journey", "")))
            except NotInWorkspace:
                self.journey_path = None


def build_api(door: Door, workspace: Workspace, frames: Frames, ledger: Callable[[], Ledger | None]) -> APIRouter:
    router = APIRouter()
    schema = json_schema()
    fields = merge_field_tree()
    filters = sorted(templating.environment("en_GB").filters)

    async def begin(request: Request) -> tuple[dict[str, Any], Live, Buffer, str]:
        """Every POST is about the open file: the caller checked, then its JSON, the studio's live
        side for this session, the file's buffer and its text."""
        sid = door.caller(request)
        door.check_post(request, sid)
        data = await read_json(request)
        return data, Live(workspace, ledger(), frames, sid, door.base), Buffer(workspace, data), _text(data)

    def journey_of(buffer: Buffer, text: str) -> Any:
        """The journey as typed (a journey buffer) or as saved (a template's); a refusal that says
        what to fix when it is not valid."""
        if buffer.kind == "journey":
            checked = check_text(text, buffer.path, workspace.templates_dir, lint=False)
            if not checked.ok:
                raise StudioRefused(422, "fix the journey's errors first")
            return checked.journey
        if not buffer.journey_path:
            raise StudioRefused(422, "open this template from its journey, so the studio knows which touch uses it")
        journey = journey_on_disk(buffer.journey_path, workspace.templates_dir)
        if journey is None:
            raise StudioRefused(422, "the journey this template belongs to has errors; fix and save it first")
        return journey

    def rehearsal(live: Live, data: dict[str, Any], buffer: Buffer, text: str) -> tuple[Any, Any]:
        """The journey to preview or play, and the sample deal to play it for."""
        journey = journey_of(buffer, text)
        try:
            return journey, live.deal(data.get("deal"), journey)
        except SampleProblem as exc:
            raise StudioRefused(422, str(exc)) from None

    @router.post("/api/check")
    async def check(request: Request) -> Response:
        data, live, buffer, text = await begin(request)
        if buffer.kind == "journey":
            answer = await run_in_threadpool(live.check_journey, buffer.path, text, data.get("deal"))
        else:
            journey = (
                await run_in_threadpool(journey_on_disk, buffer.journey_path, workspace.templates_dir)
                if buffer.journey_path
                else None
            )
            answer = await run_in_threadpool(live.check_template, buffer.rel, text, journey)
            if buffer.journey_path:
                answer.update(await run_in_threadpool(live.saved_timeline, buffer.journey_path, data.get("deal")))
        return JSONResponse(answer)

    @router.post("/api/complete")
    async def complete(request: Request) -> Response:
        data, _live, buffer, text = await begin(request)
        offset = data.get("offset")
        if buffer.kind != "journey" or not isinstance(offset, int):
            return JSONResponse({"from": 0, "options": []})
        completer = JourneyCompleter(schema, workspace.templates(), fields, filters)
        found = await run_in_threadpool(completer.complete, text, offset)
        return JSONResponse(found.to_json() if found else {"from": offset, "options": []})

    @router.post("/api/preview")
    async def preview(request: Request) -> Response:
        data, live, buffer, text = await begin(request)
        journey, deal = await run_in_threadpool(rehearsal, live, data, buffer, text)
        touch = data.get("touch")
        unsaved = {buffer.rel: text} if buffer.kind == "template" else None
        if buffer.kind == "template" and not isinstance(touch, str):
            users = template_users(journey, buffer.rel)
            touch = users[0][0] if users else None
        if not isinstance(touch, str):
            raise StudioRefused(422, "no touch of the journey uses this template")
        html = await run_in_threadpool(live.preview, journey, deal, touch, None, unsaved)
        return JSONResponse({"html": html, "touch": touch})

    @router.post("/api/play")
    async def play(request: Request) -> Response:
        data, live, buffer, text = await begin(request)
        journey, deal = await run_in_threadpool(rehearsal, live, data, buffer, text)
        holds = [h for h in data.get("holds") or [] if isinstance(h, str)][:100]
        html = await run_in_threadpool(live.play, journey, deal, holds)
        return JSONResponse({"html": html})

    @router.post("/api/flight")
    async def flight(request: Request) -> Response:
        data, live, buffer, text = await begin(request)
        journey = await run_in_threadpool(journey_of, buffer, text)
        html = await run_in_threadpool(live.flight, journey)
        return JSONResponse({"html": html, "version": journey.version()})

    @router.get("/api/deals")
    async def deals(request: Request, file: str = "", journey: str = "") -> Response:
        door.caller(request)
        name = journey or file
        try:
            path, kind = workspace.resolve(name)
        except NotInWorkspace as exc:
            raise StudioRefused(404, str(exc)) from None
        model = await run_in_threadpool(journey_on_disk, path, workspace.templates_dir) if kind == "journey" else None
        opened = ledger()
        listed = await run_in_threadpool(choices, workspace.examples_dir, opened, model.journey if model else None)
        example = default_example(workspace.examples_dir, model)
        try:
            form = form_values(await run_in_threadpool(sample_deal, None, workspace.examples_dir, None, model), model)
        except SampleProblem:
            form = {}
        return JSONResponse(
            {
                "choices": [{"key": c.key, "label": c.label} for c in listed],
                "default": f"example:{example.name}" if example else None,
                "form": form,
                "ledger": opened is not None,
            }
        )

    @router.get("/api/file")
    async def open_file(request: Request, file: str = "") -> Response:
        door.caller(request)
        try:
            opened = workspace.open(file)
        except NotInWorkspace as exc:
            raise StudioRefused(404, str(exc)) from None
        return JSONResponse(
            {
                "file": opened.name,
                "text": opened.text,
                "sha256": opened.sha256,
                "separator": opened.separator,
                "git": await run_in_threadpool(workspace.git_state, opened.path),
            }
        )

    @router.post("/api/save")
    async def save(request: Request) -> Response:
        data, live, buffer, text = await begin(request)
        base = data.get("base")
        if not isinstance(base, str):
            raise StudioRefused(400, "'base' must be the SHA-256 the page opened")
        if not data.get("allow_errors"):
            if buffer.kind == "journey":
                checked = await run_in_threadpool(check_text, text, buffer.path, workspace.templates_dir, lint=False)
                problems = [p.to_json() for p in checked.problems]
            else:
                journey = journey_on_disk(buffer.journey_path, workspace.templates_dir) if buffer.journey_path else None
                problems = (await run_in_threadpool(live.check_template, buffer.rel, text, journey))["diagnostics"]
            if problems:
                return JSONResponse({"saved": False, "problems": problems}, status_code=422)
        try:
            digest = await run_in_threadpool(workspace.save, buffer.name, text, base)
        except Conflict as exc:
            return JSONResponse(
                {
                    "saved": False,
                    "conflict": True,
                    "diff": unified_diff(exc.disk_text, text, buffer.name),
                    "disk_sha256": exc.disk_hash,
                },
                status_code=409,
            )
        except UnicodeEncodeError:
            raise StudioRefused(
                400, "the text holds a character that is not valid Unicode; nothing was saved"
            ) from None
        except OSError as exc:
            raise StudioRefused(500, f"cannot write {buffer.name}: {exc.strerror or exc}; nothing was saved") from None
        git = await run_in_threadpool(workspace.git_state, buffer.path)
        return JSONResponse({"saved": True, "sha256": digest, "git": git})

    @router.get("/frame/{key}")
    async def frame(request: Request, key: str) -> Response:
        sid = door.caller(request)
        found = frames.get(key, sid)
        if found is None:
            sw = studio_words(None)
            return Response(sw("This view has expired; edit or reload to draw it again."), 404, media_type="text/plain")
        headers = {"Content-Security-Policy": found.csp, "Cache-Control": "private, max-age=600"}
        if found.filename:
            headers["Content-Disposition"] = f'inline; filename="{found.filename}"'
        return Response(found.data, media_type=found.content_type, headers=headers)

    return router


__all__ = ["build_api", "MAX_BODY"]
