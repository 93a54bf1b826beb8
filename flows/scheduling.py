"""Prefect as hundred's scheduler: one flow run of `run-touch/run-touch` per touch, at its due time.

`PrefectScheduler` implements `hundred.runtime.Scheduler` with Prefect's synchronous client:

- `schedule` creates the touch's run with the touch's idempotency key. Prefect dedupes keys per
  *flow* (a unique index on flow id + key), so a second call for the same touch returns the first
  run unchanged, whatever time, tags or name it passes.
- `cancel_deal` moves the deal's SCHEDULED runs (Late is a SCHEDULED state) to Cancelled with the
  server's `bulk_set_state`, 50 at a time. Cancelled runs keep their keys, so a late re-send of the
  same touch cannot schedule it again.
- `run_state` is the run's state type, or None once the run is gone (deleted runs free their key).

SQLite answers "database is locked" as 503 under load; the client retries 503 itself, and the
calls here retry a few more times on top of that. Nothing here starts an ephemeral Prefect server:
without an API URL the scheduler refuses with a message a person can act on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY, PREFECT_API_URL
from prefect.states import Scheduled

from hundred import deployments
from hundred.deal_run import deal_closed_run
from hundred.prefect_rest import STATES_PER_CALL, chunks, retrying
from hundred.identity import TouchKey

TOUCH_DEPLOYMENT = deployments.RUN_TOUCH
DEAL_CLOSED_DEPLOYMENT = deployments.DEAL_CLOSED
RECONCILE_DEPLOYMENT = deployments.RECONCILE
CANCEL_DEPLOYMENT = deployments.CANCEL_JOURNEY
BULK_LIMIT = 50  # the server's maximum per bulk call

log = logging.getLogger("hundred.scheduling")
T = TypeVar("T")

# Deployment ids per (API URL, deployment name), once per process: a deployment's id is stable
# for as long as it exists, and it must never be deleted while journeys are pending (deleting a
# deployment deletes its scheduled runs).
_deployment_ids: dict[tuple[str, str], UUID] = {}


class NoPrefectAPI(RuntimeError):
    """No Prefect API to talk to: neither PREFECT_API_URL nor a running `hundred up`."""


def _transient(exc: BaseException) -> bool:
    """Worth another try: SQLite busy (503, or 500 'database is locked'), a restarting server."""
    if isinstance(exc, PrefectHTTPStatusError):
        code = exc.response.status_code
        return code in (502, 503, 504) or (code == 500 and "database is locked" in exc.response.text)
    return isinstance(exc, (httpx.TransportError, httpx.TimeoutException))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"due time {moment.isoformat()} has no time zone")
    return moment.astimezone(timezone.utc)


class PrefectScheduler:
    """hundred's `Scheduler` on a Prefect server (`api_url`, else PREFECT_API_URL).

    One HTTP client per scheduler, opened on first use and kept (thread-safe); `close()` ends it.
    """

    def __init__(self, api_url: str | None = None, *, touch_deployment: str = TOUCH_DEPLOYMENT,
                 attempts: int = 4):
        self.api_url = (api_url or PREFECT_API_URL.value() or "").rstrip("/")
        self.touch_deployment = touch_deployment
        self.attempts = attempts
        self._client: SyncPrefectClient | None = None

    # -- the Scheduler protocol ------------------------------------------------------------------

    def schedule(self, key: TouchKey, due: datetime, phase: str, channel: str) -> str:
        """The touch's flow run, created once; a repeat returns the existing run's id."""
        deployment_id = self.deployment_id(self.touch_deployment)
        run = self._retry(lambda: self.client.create_flow_run_from_deployment(
            deployment_id,
            parameters={"deal": key.deal, "touch": key.touch},
            state=Scheduled(scheduled_time=_utc(due)),
            idempotency_key=key.idempotency_key,
            tags=key.tags(phase, channel),
            name=key.flow_run_name,
        ), f"schedule {key.idempotency_key}")
        return str(run.id)

    def cancel_deal(self, deal_id: str, reason: str) -> int:
        """Cancel every run tagged `deal:<id>` that has not started: SCHEDULED (and Late), and
        PENDING (a runner has already fetched it ahead of its time); the number cancelled."""
        body = {
            "flow_runs": {"tags": {"all_": [f"deal:{deal_id}"]}, "state": {"type": {"any_": ["SCHEDULED", "PENDING"]}}},
            "state": {"type": "CANCELLED", "name": "Cancelled", "message": reason or "journey cancelled"},
            "force": True,
            "limit": BULK_LIMIT,
        }
        cancelled = 0
        for _ in range(10_000):  # a deal has tens of touches; the bound only stops a runaway loop
            response = self._retry(lambda: self.client.request("POST", "/flow_runs/bulk_set_state", json=body),
                                   f"cancel deal {deal_id}")
            results = response.json().get("results", [])
            accepted = sum(1 for r in results if r.get("status") == "ACCEPT")
            cancelled += accepted
            if not results:
                break
            if not accepted:  # every run refused (e.g. SQLite busy): stop rather than spin
                log.warning("cancel deal %s: %d runs could not be cancelled this time: %s", deal_id,
                            len(results), "; ".join(str((r.get("details") or {}).get("reason", "")) for r in results[:3]))
                break
        return cancelled

    def run_state(self, run_id: str) -> str | None:
        """The run's state type ("SCHEDULED", "RUNNING", "COMPLETED", …), None when it is gone."""
        try:
            run = self._retry(lambda: self.client.read_flow_run(UUID(str(run_id))), f"read run {run_id}")
        except ObjectNotFound:
            return None
        return run.state.type.value if run.state else None

    def run_states(self, run_ids: list[str]) -> dict[str, str | None]:
        """Many runs' state types, 200 per call (the server's page limit); a run that is gone is None."""
        found: dict[str, str | None] = dict.fromkeys(run_ids)
        for chunk in chunks(run_ids, STATES_PER_CALL):
            flt = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(str(r)) for r in chunk]))
            runs = self._retry(lambda: self.client.read_flow_runs(flow_run_filter=flt, limit=len(chunk)),
                               f"read {len(chunk)} runs")
            for run in runs:
                found[str(run.id)] = run.state.type.value if run.state else None
        return found

    def retry(self, run_id: str, at: datetime) -> None:
        """Run the same flow run again at `at` (forced: its process died while it was Running)."""
        self._retry(lambda: self.client.set_flow_run_state(
            UUID(str(run_id)), Scheduled(scheduled_time=_utc(at)), force=True), f"retry run {run_id}")

    # -- helpers -----------------------------------------------------------------------------------

    @property
    def client(self) -> SyncPrefectClient:
        if self._client is None:
            if not self.api_url:
                raise NoPrefectAPI("no Prefect API: set PREFECT_API_URL, or start hundred with `hundred up`")
            client = SyncPrefectClient(self.api_url, auth_string=PREFECT_API_AUTH_STRING.value(),
                                       api_key=PREFECT_API_KEY.value())
            client.__enter__()
            self._client = client
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.__exit__(None, None, None)
            self._client = None

    def __enter__(self) -> "PrefectScheduler":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _retry(self, call: Callable[[], T], what: str) -> T:
        return retrying(call, what, self.attempts, transient=_transient)

    def deployment_id(self, name: str) -> UUID:
        cache_key = (self.api_url, name)
        if cache_key not in _deployment_ids:
            deployment = self._retry(lambda: self.client.read_deployment_by_name(name), f"read deployment {name}")
            _deployment_ids[cache_key] = deployment.id
        return _deployment_ids[cache_key]

    def create_run(self, deployment: str, parameters: dict[str, Any], *, idempotency_key: str | None = None,
                   name: str | None = None, tags: list[str] | None = None, when: datetime | None = None) -> str:
        """A run of any of hundred's deployments (deal-closed, reconcile, cancel-journey), now by default."""
        deployment_id = self.deployment_id(deployment)
        state = Scheduled(scheduled_time=_utc(when or datetime.now(timezone.utc)))
        run = self._retry(lambda: self.client.create_flow_run_from_deployment(
            deployment_id, parameters=parameters, state=state, idempotency_key=idempotency_key,
            name=name, tags=tags), f"create {deployment} run")
        return str(run.id)


def submit_deal_closed(payload: dict[str, Any], received_at: datetime | None = None, *,
                       api_url: str | None = None) -> str:
    """Start a closed deal's journey: one `deal-closed` run per deal id and payload (key
    `deal-closed:<id>:<payload hash>`).

    A repeated submission of the same payload returns the first run, so the CRM may re-send freely;
    a corrected payload after a refused one gets a run of its own (the ledger still starts one
    journey per deal, whatever the number of runs). The run records the deal, writes its plan to
    the ledger and schedules the touches.
    """
    run = deal_closed_run(payload, received_at or datetime.now(timezone.utc))
    with PrefectScheduler(api_url) as scheduler:
        return scheduler.create_run(DEAL_CLOSED_DEPLOYMENT, run.parameters, idempotency_key=run.idempotency_key,
                                    name=run.name, tags=run.tags)


def submit_reconcile(*, api_url: str | None = None, reason: str = "start-up") -> str:
    """A `reconcile` run now (the supervisor's start-up pass; the deployment also runs every 15 min)."""
    with PrefectScheduler(api_url) as scheduler:
        return scheduler.create_run(RECONCILE_DEPLOYMENT, {}, name=f"reconcile · {reason}", tags=["reconcile"])
