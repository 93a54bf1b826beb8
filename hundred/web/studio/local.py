"""`hundred studio`'s app: the studio on 127.0.0.1, entered with the token in the URL it prints.

`uvicorn --factory hundred.web.studio.local:create_local_app`; the command line sets
HUNDRED_STUDIO_TOKEN (random per run) before it starts uvicorn in its own process. No Prefect is
needed: the ledger (HUNDRED_HOME or HUNDRED_DATABASE_URL) is read when there is one, for deals to
sample and for journeys in flight, and never created.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from hundred.service.settings import Settings
from hundred.web.studio import BASE, ExistingLedger, build_studio_app
from hundred.web.studio.door import studio_auth
from hundred.web.studio.workspace import Workspace

TOKEN_ENV = "HUNDRED_STUDIO_TOKEN"


def create_local_app(settings: Settings | None = None, token: str | None = None) -> FastAPI:
    settings = settings or Settings()
    token = token or os.environ.get(TOKEN_ENV)
    workspace = Workspace(Path(settings.journeys_dir), Path(settings.templates_dir))
    auth = studio_auth(settings.studio_password, settings.studio_password_hash, settings.studio_secret)
    settings.studio_password = None
    app = FastAPI(title="hundred studio", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount(BASE, build_studio_app(workspace, auth, ExistingLedger(settings), url_token=token))

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(BASE + "/", status_code=303)

    return app


__all__ = ["create_local_app", "TOKEN_ENV"]
