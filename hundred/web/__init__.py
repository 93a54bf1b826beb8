"""hundred's web app (FastAPI): the print room (`/print`, behind its login), the CRM's webhooks
(`/hooks/*`) and `GET /healthz`. One dependency guards every route (hundred/web/guard.py).

It never imports Prefect's flow machinery or `flows`: it learns about the other parts from the
supervisor's `HUNDRED_HOME/up.json` and checks them over plain HTTP.
"""

from hundred.web.app import create_app

__all__ = ["create_app"]
