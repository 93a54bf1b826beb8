"""The studio's pages: the journeys (`/studio/`) and the editor (`/studio/edit?file=…`).

The editor page is server-rendered in the journey's language and carries what the script needs as
a JSON data block (the text as opened, its SHA-256 and line breaks, the CSRF token, the page's
words); the script and stylesheet are the committed editor bundle, served from this package under
a Content-Security-Policy that allows nothing else (styles CodeMirror adds carry the page's nonce).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from hundred.deals.model import merge_field_tree
from hundred.journeys.source import YamlProblem, load_yaml
from hundred.templating import sandbox as templating
from hundred.validation.template_scan import includes
from hundred.web.studio.door import Door, StudioRefused
from hundred.web.studio.html import page, static_file, studio_words
from hundred.web.studio.live import journey_on_disk, template_users
from hundred.web.studio.workspace import NotInWorkspace, Workspace

# The words the script shows (its own messages); the page fills them in from the catalog.
SCRIPT_WORDS = (
    "Checking…",
    "No problems.",
    "{n} problem",
    "{n} problems",
    "{n} warning",
    "{n} warnings",
    "line {line}",
    "hint: {hint}",
    "Saved.",
    "Saving…",
    "Unsaved changes",
    "All changes saved",
    "The file changed on disk since you opened it. This is how yours differs from it:",
    "Save mine over it",
    "Load the file from disk (your changes are lost)",
    "This text has problems:",
    "Save anyway",
    "Keep editing",
    "Drawing…",
    "The timeline is drawn when the journey has no errors.",
    "Move the cursor into a touch to see it here.",
    "Rendering {touch}…",
    "Playing…",
    "Could not reach the studio: {why}",
    "Leave the page? Your changes are not saved.",
    "committed",
    "uncommitted changes",
    "not in git yet",
    "not in a git repository",
    "git is not installed",
    "Sample deal: {deal}",
)
GIT_WORDS = {
    "clean": "committed",
    "modified": "uncommitted changes",
    "untracked": "not in git yet",
    "no-repo": "not in a git repository",
    "no-git": "git is not installed",
}


def _json_block(data: Any) -> str:
    """JSON safe inside <script type="application/json"> (no `</script>` can end it early)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def related_templates(workspace: Workspace, journey_text: str) -> list[str]:
    """The templates a journey's touches name (read tolerantly: the file may have errors), their
    `.txt` twins and what they extend or include, as workspace names, in the journey's order."""
    try:
        data, _ = load_yaml(journey_text)
    except YamlProblem:
        return []
    names: list[str] = []
    blocks = data.get("phases") if isinstance(data, dict) else None
    for block in blocks if isinstance(blocks, list) else []:
        touches = block.get("touches") if isinstance(block, dict) else None
        for touch in touches if isinstance(touches, list) else []:
            name = touch.get("template") if isinstance(touch, dict) else None
            if isinstance(name, str):
                names += [name, str(Path(name).with_suffix(".txt"))]
    known = set(workspace.templates())
    out: list[str] = []
    for name in dict.fromkeys(names):
        if name not in known or name in out:
            continue
        out.append(name)
        try:
            tree = templating.parse((workspace.templates_dir / name).read_text(encoding="utf-8"), name)
        except (OSError, UnicodeDecodeError, templating.TemplateProblem):
            continue
        out += [t for _, t, _ in includes(tree) if isinstance(t, str) and t in known and t not in out]
    return [f"{workspace.templates_dir.name}/{n}" for n in out]


def build_pages(door: Door, workspace: Workspace, default_locale: str | None) -> APIRouter:
    router = APIRouter()

    @router.get("/")
    async def journeys(request: Request) -> Response:
        entered = door.token_entry(request)
        if entered is not None:
            return entered
        sid = door.caller(request)
        listed = []
        for jid, path in workspace.journeys():
            model = await run_in_threadpool(journey_on_disk, path, workspace.templates_dir)
            listed.append(
                {
                    "id": jid,
                    "file": workspace.name_of(path, "journey"),
                    "name": model.name if model else None,
                    "locale": model.locale if model else None,
                    "touches": len(model.touches()) if model else None,
                    "version": model.version() if model else None,
                }
            )
        locale = next((str(j["locale"]) for j in listed if j["locale"]), default_locale)
        sw = studio_words(locale)
        return page(
            "index.html.j2",
            sw,
            door.base,
            journeys=listed,
            csrf=door.auth.csrf_token(sid),
            folder=workspace.journeys_dir.name,
        )

    @router.get("/edit")
    async def edit(request: Request, file: str = "", journey: str = "") -> Response:
        entered = door.token_entry(request)
        if entered is not None:
            return entered
        sid = door.caller(request)
        try:
            opened = workspace.open(file)
        except NotInWorkspace as exc:
            raise StudioRefused(404, str(exc)) from None
        if opened.kind == "journey":
            journey_file = opened.name
            journey_text = opened.text
        else:
            journey_file = journey or _first_user(workspace, opened.name)
            try:
                journey_text = workspace.open(journey_file).text if journey_file else ""
            except NotInWorkspace:
                journey_file, journey_text = "", ""
        model = (
            await run_in_threadpool(journey_on_disk, workspace.resolve(journey_file)[0], workspace.templates_dir)
            if journey_file
            else None
        )
        sw = studio_words(model.locale if model else default_locale)
        rel = opened.name.split("/", 1)[1]
        config = {
            "base": door.base,
            "csrf": door.auth.csrf_token(sid),
            "file": opened.name,
            "kind": opened.kind,
            "journey": journey_file,
            "text": opened.text,
            "sha256": opened.sha256,
            "separator": opened.separator,
            "git": await run_in_threadpool(workspace.git_state, opened.path),
            "lang": sw.lang,
            "fields": merge_field_tree(),
            "users": [t for t, _ in template_users(model, rel)] if opened.kind == "template" else [],
            "touches": [t.id for _, t in model.touches()] if model else [],
            "words": {text: sw(text) for text in SCRIPT_WORDS},
            "git_words": {k: sw(v) for k, v in GIT_WORDS.items()},
        }
        files = [journey_file] + related_templates(workspace, journey_text) if journey_file else [opened.name]
        if opened.name not in files:
            files.append(opened.name)
        return page(
            "edit.html.j2",
            sw,
            door.base,
            opened=opened,
            journey=model,
            journey_file=journey_file,
            files=files,
            config=_json_block(config),
            csrf=config["csrf"],
            git=sw(GIT_WORDS.get(str(config["git"]), "")),
        )

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        try:
            data, _ = static_file(name)
        except LookupError:
            return Response("not found", 404, media_type="text/plain")
        kind = {"js": "text/javascript", "css": "text/css", "txt": "text/plain"}[name.rsplit(".", 1)[-1]]
        return Response(
            data,
            media_type=f"{kind}; charset=utf-8",
            headers={"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"},
        )

    return router


def _first_user(workspace: Workspace, template_name: str) -> str:
    """The first journey whose touches name this template (its language and deal are used)."""
    rel = template_name.split("/", 1)[1]
    for _, path in workspace.journeys():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if template_name in related_templates(workspace, text) or rel in text:
            return workspace.name_of(path, "journey")
    return ""


__all__ = ["build_pages", "related_templates", "SCRIPT_WORDS"]
