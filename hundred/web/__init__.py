"""hundred's web app (FastAPI). Today: `GET /healthz`; intake and the print room come later.

It never imports Prefect or `flows`: it learns about the other parts from the supervisor's
`HUNDRED_HOME/up.json` and checks them over plain HTTP.
"""

from hundred.web.app import create_app

__all__ = ["create_app"]
