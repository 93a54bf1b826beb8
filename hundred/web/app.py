"""The FastAPI app. `uvicorn --factory hundred.web:create_app` (HUNDRED_HOME from the environment)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from hundred.service import deployments
from hundred.service.figures import JourneyFigures
from hundred.service.intake import Intake
from hundred.service.local import UP_FILE
from hundred.service.printroom.service import PrintRoom
from hundred.service.settings import Settings
from hundred.web.guard import door
from hundred.web.hooks import IntakeServices, build_hooks_router
from hundred.web.journeys import install_journeys
from hundred.web.site import PrintRoomSite
from hundred.web.studio import mount_studio

DEPLOYMENTS = deployments.ALL
TIMEOUT = 2.0


def _get_json(url: str) -> tuple[int, Any]:
    """(status, parsed body) of a GET; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (OSError, ValueError):
        return 0, None


def _alive(pid: object) -> bool:  # as up.json says it
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prefect(api: str | None, part: dict[str, Any]) -> dict[str, Any]:
    if not api:
        return {"state": "unknown", "detail": "no Prefect API in up.json"}
    status, _ = _get_json(f"{api}/health")
    if status == 200 and part.get("state", "running") == "running":
        return {"state": "up", "url": api}
    return {
        "state": "down" if status != 200 else part.get("state", "unknown"),
        "detail": f"{api}/health answered {status or 'nothing'}",
        "url": api,
    }


def _polled_since(last_polled: object, started: object) -> bool:  # as up.json says them
    """This serve process has polled (a READY left by the previous one does not count)."""
    if not isinstance(started, (int, float)):
        return True
    try:
        polled = datetime.fromisoformat(str(last_polled).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return False
    return polled >= started - 1.0


def _serve(api: str | None, part: dict[str, Any]) -> dict[str, Any]:
    """Up when its process lives and Prefect shows all of hundred's deployments ready (serve polls them)."""
    if part.get("state") != "running" or not _alive(part.get("pid")):
        return {"state": part.get("state", "unknown"), "detail": "serve process is not running"}
    if not api:
        return {"state": "unknown", "detail": "no Prefect API"}
    waiting = []
    for name in DEPLOYMENTS:
        status, body = _get_json(f"{api}/deployments/name/{urllib.parse.quote(name)}")
        if (
            status != 200
            or not isinstance(body, dict)
            or body.get("status") != "READY"
            or not _polled_since(body.get("last_polled"), part.get("started"))
        ):
            waiting.append(name)
    if waiting:
        return {"state": "starting", "detail": "waiting for " + ", ".join(waiting)}
    return {"state": "up", "deployments": list(DEPLOYMENTS)}


def health(home: Path) -> tuple[bool, dict[str, Any]]:
    """Each part's state; ok when every part is up."""
    try:
        up = json.loads((home / UP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        up = {}
    parts_in = up.get("parts") or {}
    api = up.get("prefect_api_url")
    parts = {
        "prefect": _prefect(api, parts_in.get("prefect") or {}),
        "serve": _serve(api, parts_in.get("serve") or {}),
        "web": {"state": "up"},
    }
    for name, part in parts.items():
        known = parts_in.get(name) or {}
        if "restarts" in known:
            part["restarts"] = known["restarts"]
        if known.get("recent_failures"):  # hundred up read tracebacks in this part's log
            part["recent_failures"] = known["recent_failures"]
            part["last_failure"] = known.get("last_failure")
            part["log"] = known.get("log")
            if known.get("degraded") and part["state"] == "up":
                part["state"] = "degraded"
                part["detail"] = f"{known['recent_failures']} tracebacks in its log lately; see {known.get('log')}"
    ok = all(p["state"] == "up" for p in parts.values())
    states = {p["state"] for p in parts.values()}
    status = "ok" if ok else "degraded" if states <= {"up", "degraded"} else "starting"
    return ok, {
        "status": status,
        "parts": parts,
        "urls": {k: up[k] for k in ("prefect_ui_url", "web_url") if k in up},
    }


def create_app(
    home: Path | None = None,
    *,
    settings: Settings | None = None,
    printroom: PrintRoom | None = None,
    intake: Intake | None = None,
    figures: JourneyFigures | None = None,
) -> FastAPI:
    """The app; `settings` (default: from the environment) and `printroom` (default: a PrintRoom
    on the home's ledger, posting through the runtime) and `intake` (default: hundred.service.intake.Intake on
    that ledger and Prefect's REST API) and `figures` (default: the journeys' figures on that ledger) can
    be handed in by tests. The CRM's hooks are in hooks.py; the journeys' figures in journeys.py."""
    home = Path(home or os.environ.get("HUNDRED_HOME") or ".hundred").absolute()
    if settings is None:
        settings = Settings(home=home)
    site = PrintRoomSite(home, settings, printroom)
    # One door for every route: closed unless its path is declared public (hundred/web/guard.py).
    app = FastAPI(title="hundred", docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(door)])
    app.state.guard = site.guard  # the journeys' figures are behind this door for now (web/marketer.py)
    site.install(app)
    install_journeys(app, home, settings, figures)

    app.state.intake_services = IntakeServices(home, settings, intake)
    app.include_router(build_hooks_router(app.state.intake_services))
    mount_studio(app, settings)  # /studio, behind HUNDRED_STUDIO_PASSWORD (hundred/web/studio)

    @app.get("/healthz")
    def healthz() -> JSONResponse:  # sync: FastAPI runs it in a thread, the checks may block
        ok, body = health(home)
        return JSONResponse(body, status_code=200 if ok else 503)

    return app
