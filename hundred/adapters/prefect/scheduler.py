"""Prefect as hundred's `Scheduler`: the one implementation, over Prefect's REST API with httpx.

The flows, the CLI, `hundred up` and the web app all schedule through this class (built by
`hundred.bootstrap`). It speaks HTTP rather than importing Prefect's client, so the web app (the
print room marks letters posted, which may open the affirm gate and schedule the referral) never
pays for importing Prefect; the API version it announces is the one the server reports
(`GET /api/version`), never a constant that can drift from the installed Prefect.

- `schedule` creates the touch's run with the touch's idempotency key. Prefect dedupes keys per
  *flow* (a unique index on flow id + key), so a second call for the same touch returns the first
  run unchanged, whatever time, tags or name it passes.
- `cancel_deal` moves the deal's SCHEDULED runs (Late is a SCHEDULED state) and PENDING ones to
  Cancelled with the server's `bulk_set_state`, 50 at a time; Cancelled runs keep their keys, so
  a late re-send of the same touch cannot schedule it again.
- `run_state(s)` is a run's state type, or None once the run is gone (deleted runs free their key).

Transient answers (502/503/504, SQLite's "database is locked", a restarting server) are retried
with jittered backoff. Auth as Prefect's client: PREFECT_API_AUTH_STRING (Basic) wins over
PREFECT_API_KEY (Bearer).
"""

from __future__ import annotations

import base64
import logging
import os
import random
import time
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from hundred.planning.identity import TouchKey
from hundred.service import deployments
from hundred.service.deal_run import deal_closed_run

TOUCH_DEPLOYMENT = deployments.RUN_TOUCH
BULK_LIMIT = 50  # the server's maximum per bulk call
log = logging.getLogger("hundred.scheduler")
T = TypeVar("T")


class PrefectAPIError(RuntimeError):
    """The Prefect API refused a call (the status and the server's words are in the message)."""

    def __init__(self, what: str, response: httpx.Response):
        self.status_code = response.status_code
        super().__init__(f"{what}: Prefect API answered {response.status_code}: {response.text[:300]}")


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, PrefectAPIError):
        return exc.status_code in (502, 503, 504) or (exc.status_code == 500 and "database is locked" in str(exc))
    return isinstance(exc, (httpx.TransportError, httpx.TimeoutException))


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"due time {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _scheduled(at: datetime) -> dict[str, Any]:
    return {
        "type": "SCHEDULED",
        "name": "Scheduled",
        "message": None,
        "state_details": {"scheduled_time": _utc(at)},
        "data": None,
    }


def _auth_headers() -> dict[str, str]:
    headers = {}
    auth_string, api_key = os.environ.get("PREFECT_API_AUTH_STRING"), os.environ.get("PREFECT_API_KEY")
    if auth_string:
        headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()
    elif api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


class PrefectScheduler:
    """hundred's `Scheduler` port on the Prefect server at `api_url` (…/api)."""

    def __init__(
        self,
        api_url: str,
        *,
        touch_deployment: str = TOUCH_DEPLOYMENT,
        attempts: int = 4,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        if not api_url:
            raise ValueError("no Prefect API: set PREFECT_API_URL, or start hundred with `hundred up`")
        self.api_url = api_url.rstrip("/")
        self.touch_deployment = touch_deployment
        self.attempts = attempts
        self._http = httpx.Client(
            base_url=self.api_url + "/", headers=_auth_headers(), timeout=timeout, transport=transport
        )
        self._deployment_ids: dict[str, str] = {}
        self._versioned = False

    # -- the Scheduler protocol ------------------------------------------------------------------

    def schedule(self, key: TouchKey, due: datetime, phase: str, channel: str) -> str:
        """The touch's flow run, created once; a repeat returns the existing run's id (Prefect
        dedupes the idempotency key per flow)."""
        body = {
            "state": _scheduled(due),
            "name": key.flow_run_name,
            "parameters": {"deal": key.deal, "touch": key.touch},
            "context": {},
            "tags": key.tags(phase, channel),
            "idempotency_key": key.idempotency_key,
            "parent_task_run_id": None,
            "job_variables": None,
            "labels": {},
        }
        deployment_id = self.deployment_id(self.touch_deployment)
        run = self._call("POST", f"deployments/{deployment_id}/create_flow_run", f"schedule {key}", json=body)
        return str(run["id"])

    def cancel_deal(self, deal_id: str, reason: str) -> int:
        """Cancel the deal's runs that have not started (SCHEDULED, Late, PENDING); how many."""
        body = {
            "flow_runs": {"tags": {"all_": [f"deal:{deal_id}"]}, "state": {"type": {"any_": ["SCHEDULED", "PENDING"]}}},
            "state": {"type": "CANCELLED", "name": "Cancelled", "message": reason or "journey cancelled"},
            "force": True,
            "limit": BULK_LIMIT,
        }
        cancelled = 0
        for _ in range(10_000):  # bounded: a deal has tens of touches
            results = self._call("POST", "flow_runs/bulk_set_state", f"cancel deal {deal_id}", json=body)
            results = (results or {}).get("results", [])
            accepted = sum(1 for r in results if r.get("status") == "ACCEPT")
            cancelled += accepted
            if not results:
                break
            if not accepted:  # every run refused (e.g. SQLite busy): say so and stop rather than spin
                log.warning(
                    "cancel deal %s: %d runs could not be cancelled this time: %s",
                    deal_id,
                    len(results),
                    "; ".join(str((r.get("details") or {}).get("reason", "")) for r in results[:3]),
                )
                break
        return cancelled

    def run_state(self, run_id: str) -> str | None:
        """The run's state type, or None once the run is gone."""
        run = self._call("GET", f"flow_runs/{_run_path(run_id)}", f"read run {run_id}", missing_ok=True)
        if run is None:
            return None
        return (run.get("state") or {}).get("type")

    def run_states(self, run_ids: list[str]) -> dict[str, str | None]:
        """Many runs' state types, 200 per request; a run that is gone is None."""
        found: dict[str, str | None] = dict.fromkeys(run_ids)
        for chunk in chunks(run_ids, STATES_PER_CALL):
            body = {"flow_runs": {"id": {"any_": [_run_path(r) for r in chunk]}}, "limit": len(chunk)}
            for run in self._call("POST", "flow_runs/filter", "read runs", json=body) or []:
                found[str(run["id"])] = (run.get("state") or {}).get("type")
        return found

    def retry(self, run_id: str, at: datetime) -> None:
        self._call(
            "POST",
            f"flow_runs/{_run_path(run_id)}/set_state",
            f"retry run {run_id}",
            json={"state": _scheduled(at), "force": True},
        )

    def create_run(
        self,
        deployment: str,
        parameters: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        name: str | None = None,
        tags: list[str] | None = None,
        when: datetime | None = None,
    ) -> str:
        """A run of one of hundred's deployments (e.g. deal-closed), now by default; the same call as
        A repeated key returns the first run."""
        body = {
            "state": _scheduled(when or datetime.now(UTC)),
            "name": name,
            "parameters": parameters,
            "context": {},
            "tags": tags or [],
            "idempotency_key": idempotency_key,
            "parent_task_run_id": None,
            "job_variables": None,
            "labels": {},
        }
        deployment_id = self.deployment_id(deployment)
        run = self._call("POST", f"deployments/{deployment_id}/create_flow_run", f"create {deployment} run", json=body)
        return str(run["id"])

    def submit_deal_closed(self, payload: dict[str, Any], received_at: datetime | None = None) -> str:
        """A `deal-closed` run for the deal, keyed `deal-closed:<id>:<payload hash>` (a re-sent
        payload returns the first run; the ledger starts one journey per deal in any case)."""
        run = deal_closed_run(payload, received_at or datetime.now(UTC))
        return self.create_run(
            deployments.DEAL_CLOSED, run.parameters, idempotency_key=run.idempotency_key, name=run.name, tags=run.tags
        )

    def submit_reconcile(self, reason: str = "start-up") -> str:
        """A `reconcile` run now (the supervisor's start-up pass; the deployment also runs on its interval)."""
        return self.create_run(deployments.RECONCILE, {}, name=f"reconcile · {reason}", tags=["reconcile"])

    # -- helpers -----------------------------------------------------------------------------------

    def _announce_version(self) -> None:
        """Send the X-PREFECT-API-VERSION the server itself reports, as Prefect's client does."""
        if self._versioned:
            return
        response = retrying(lambda: self._http.get("version"), "read the Prefect API version", self.attempts)
        if response.status_code == 200:
            self._http.headers["X-PREFECT-API-VERSION"] = str(response.json())
        self._versioned = True

    def deployment_id(self, name: str) -> str:
        if name not in self._deployment_ids:
            flow, _, deployment = name.partition("/")
            path = f"deployments/name/{urllib.parse.quote(flow, safe='')}/{urllib.parse.quote(deployment, safe='')}"
            self._deployment_ids[name] = str(self._call("GET", path, f"read deployment {name}")["id"])
        return self._deployment_ids[name]

    def _call(self, method: str, path: str, what: str, *, json: Any = None, missing_ok: bool = False) -> Any:
        self._announce_version()

        def once() -> Any:
            response = self._http.request(method, path, json=json)
            if missing_ok and response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise PrefectAPIError(what, response)
            return response.json() if response.content else None

        return retrying(once, what, self.attempts)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PrefectScheduler:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _run_path(run_id: str) -> str:
    """A run id is a UUID; anything else is refused before it reaches a URL."""
    return str(uuid.UUID(str(run_id)))


STATES_PER_CALL = 200  # the Prefect server's default page limit


def chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def retrying(
    call: Callable[[], T],
    what: str,
    attempts: int = 4,
    *,
    transient: Callable[[BaseException], bool] = lambda exc: _transient(exc),
    base_delay: float = 0.5,
) -> T:
    """`call()`, retried with jittered backoff while `transient(error)` says another try may work
    (SQLite busy, a restarting server)."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not transient(exc):
                raise
            delay = base_delay * 2 ** (attempt - 1) * (1 + random.random() / 2)
            log.warning("%s: %s; retrying in %.1fs (%d/%d)", what, exc, delay, attempt, attempts - 1)
            time.sleep(delay)
    raise AssertionError("unreachable")
