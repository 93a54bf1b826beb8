"""Prefect as hundred's `Scheduler`: the one implementation, over Prefect's REST API with httpx.

The flows, the CLI, `hundred up` and the web app all schedule through this class (built by
`hundred.bootstrap`).

- `ensure_moment` makes the `deliver` runs of a moment (one per shard), keyed `deliver:<moment>:<k>`:
  Prefect dedupes idempotency keys per flow, so however many deals share a moment, it has one run
  (renamed to say how many touches it holds). When the moment's run has already started or ended
  (a touch stored just after its run looked), a fresh run keyed to this second takes what it missed.
- `ensure_deal_closed` does the same for the deals stored in a moment (`deal-closed:<moment>`).
- `stale_runs` / `take_over`: hundred's runs that a runner took and never finished (PENDING or
  RUNNING) are set SCHEDULED again, so a live runner runs them; claims make that safe.
- `retire_touch_runs` cancels the per-touch runs an older hundred scheduled.

How it speaks HTTP to the API (auth, the API version the server reports, retrying transient
answers) is api.py's.
"""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from hundred.adapters.prefect.api import PrefectAPI, PrefectAPIError, auth_headers
from hundred.adapters.prefect.known_runs import KnownRuns
from hundred.reports.counting import plural
from hundred.service import deployments
from hundred.service.ports import Schedules, StaleRun

BULK_LIMIT = 50  # the server's maximum per bulk call
PAGE = 200  # the server's default page limit
WAITING = ("SCHEDULED", "PENDING")  # a run that has not started: it will look at the ledger
AFTER_CHAIN = 8  # runs after a started one looked for in turn, before the newest is taken as it is


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"time {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _scheduled(at: datetime, message: str | None = None) -> dict[str, Any]:
    return {
        "type": "SCHEDULED",
        "name": "Scheduled",
        "message": message,
        "state_details": {"scheduled_time": _utc(at)},
        "data": None,
    }


def deliver_run_name(moment: datetime, touches: int, shard: int = 0, shards: int = 1) -> str:
    """What the Prefect UI shows for a moment's run: when, and how many touches it holds."""
    name = f"deliver · {moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC · {plural(touches, 'touch')}"
    return name + (f" · shard {shard + 1} of {shards}" if shards > 1 else "")


class PrefectScheduler(PrefectAPI):
    """hundred's `Scheduler` port on the Prefect server at `api_url` (…/api)."""

    def __init__(
        self,
        api_url: str,
        *,
        attempts: int = 4,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        if not api_url:
            raise ValueError("no Prefect API: set PREFECT_API_URL, or start hundred with `hundred up`")
        self.api_url = api_url.rstrip("/")
        self.attempts = attempts
        self._http = httpx.Client(
            base_url=self.api_url + "/", headers=auth_headers(), timeout=timeout, transport=transport
        )
        self._deployment_ids: dict[str, str | None] = {}
        self._versioned = False
        self._known = KnownRuns()  # (moment, deployment, shard, shards) → run

    # -- the Scheduler port ------------------------------------------------------------------------

    def ensure_moment(self, moment: datetime, *, touches: int, shards: int = 1) -> list[str]:
        """The moment's deliver runs, one per shard, made once; see the module docstring.

        A run this process already knows (`KnownRuns`) costs nothing, or one rename when its count
        is off by a tenth or more (`_worth_renaming`). Reconcile asks Prefect afresh (`forget`)
        for the moments of the coming hour, and so names their runs exactly."""
        iso = _utc(moment)
        ids = []
        for k in range(shards):
            name = deliver_run_name(moment, touches, k, shards)
            key = (moment, deployments.DELIVER, k, shards)
            with self._known.asking(key):
                known = self._known.get(key, moment)
                if known is None:
                    params = {"moment": iso, "shard": k, "shards": shards}
                    run = self._ensure(deployments.DELIVER, f"deliver:{iso}:{k}", moment, name, params, ["deliver"])
                    self._known.put(key, run, name, touches=touches)
                else:
                    run = known.run
                    if _worth_renaming(known.touches, touches):
                        self._call("PATCH", f"flow_runs/{_run_path(run)}", "rename run", json={"name": name})
                        self._known.put(key, run, name, touches=touches, learned=False)
            ids.append(run)
        self._known.prune()
        return ids

    def ensure_deal_closed(self, moment: datetime) -> str:
        """The run that starts the deals stored by `moment` (one per moment).

        Every webhook asks for it; a run this process already knows (`KnownRuns`) is not asked
        for again. Closer to its moment Prefect is asked, and a started run gets a successor."""
        key = (moment, deployments.DEAL_CLOSED, 0, 1)
        with self._known.asking(key):  # a burst of webhooks: one asks, the others find its answer
            known = self._known.get(key, moment)
            if known is not None:
                return known.run
            iso = _utc(moment)
            name = f"deal-closed · {moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
            run = self._ensure(
                deployments.DEAL_CLOSED, f"deal-closed:{iso}", moment, name, {"moment": iso}, ["deal-closed"]
            )
            self._known.put(key, run, name)
        self._known.prune()
        return run

    def stale_runs(self, since_before: datetime) -> list[StaleRun]:
        """hundred's runs a runner took (PENDING) or ran (RUNNING) since before `since_before`."""
        ids = {self.deployment_id(name): name for name in deployments.ALL}
        known = [i for i in ids if i]
        if not known:
            return []
        body = {
            "flow_runs": {"state": {"type": {"any_": ["PENDING", "RUNNING"]}}},
            "deployments": {"id": {"any_": known}},
            "limit": PAGE,
            "sort": "EXPECTED_START_TIME_ASC",
        }
        stale = []
        for run in self._call("POST", "flow_runs/filter", "read runs in flight", json=body) or []:
            state = run.get("state") or {}
            since = datetime.fromisoformat(str(state.get("timestamp")).replace("Z", "+00:00"))
            if since < since_before:
                phase: Literal["claimed", "running"] = "claimed" if state.get("type") == "PENDING" else "running"
                flow = (ids.get(run.get("deployment_id")) or "?/?").partition("/")[0]
                stale.append(StaleRun(str(run["id"]), flow, phase, since))
        return stale

    def take_over(self, run: StaleRun, reason: str) -> None:
        """The run is scheduled again; the tasks its dead process left Running (they never end on
        their own) are marked Crashed, so the Prefect UI shows each touch's live task once."""
        self._call(
            "POST",
            f"flow_runs/{_run_path(run.run_id)}/set_state",
            f"take over run {run.run_id}",
            json={"state": _scheduled(datetime.now(UTC), f"taken over: {reason}"), "force": True},
        )
        body = {
            "flow_runs": {"id": {"any_": [_run_path(run.run_id)]}},
            "task_runs": {"state": {"type": {"any_": ["PENDING", "RUNNING"]}}},
            "limit": 200,
        }
        for task_run in self._call("POST", "task_runs/filter", "read the run's tasks", json=body) or []:
            crashed = {"type": "CRASHED", "name": "Crashed", "message": f"its process died; {reason}"}
            self._call(
                "POST",
                f"task_runs/{task_run['id']}/set_state",
                f"mark task {task_run['id']} crashed",
                json={"state": crashed, "force": True},
            )

    def ended(self, run_ids: Collection[str]) -> set[str]:
        """Which runs have ended or are gone; ids that are not run ids (a test's) count as gone."""
        wanted = {str(r) for r in run_ids}
        ids = []
        for run_id in wanted:
            try:
                ids.append(_run_path(run_id))
            except ValueError:
                continue
        alive: set[str] = set()
        for i in range(0, len(ids), PAGE):
            chunk = ids[i : i + PAGE]
            body = {"flow_runs": {"id": {"any_": chunk}}, "limit": len(chunk)}
            for run in self._call("POST", "flow_runs/filter", "read runs", json=body) or []:
                if (run.get("state") or {}).get("type") in ("SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"):
                    alive.add(str(run["id"]))
        return wanted - alive

    def forget(self) -> None:
        self._known.forget()

    def retire_touch_runs(self) -> int:
        """Cancel the retired `run-touch` deployment's runs that have not started; how many."""
        deployment_id = self.deployment_id(deployments.RETIRED_RUN_TOUCH)
        if deployment_id is None:
            return 0
        body = {
            "flow_runs": {"state": {"type": {"any_": list(WAITING)}}},
            "deployments": {"id": {"any_": [deployment_id]}},
            "state": {
                "type": "CANCELLED",
                "name": "Cancelled",
                "message": "retired: the ledger delivers this touch in its moment's run",
            },
            "force": True,
            "limit": BULK_LIMIT,
        }
        cancelled = 0
        for _ in range(10_000):  # bounded: 50 a call
            results = self._call("POST", "flow_runs/bulk_set_state", "retire per-touch runs", json=body) or {}
            accepted = sum(1 for r in results.get("results", []) if r.get("status") == "ACCEPT")
            cancelled += accepted
            if not accepted:
                break
        return cancelled

    def keep_schedules(self, schedules: Schedules) -> list[str]:
        """reconcile's interval and the print batch's and figures' crons as hundred's settings say; what changed."""
        wanted: dict[str, dict[str, Any]] = {
            deployments.RECONCILE: {"interval": float(schedules.reconcile_seconds)},
            deployments.PRINT_BATCH: {"cron": schedules.print_batch_cron, "timezone": schedules.print_batch_timezone},
            deployments.JOURNEY_FIGURES: {"cron": schedules.figures_cron, "timezone": schedules.print_batch_timezone},
        }
        changed = []
        for name, want in wanted.items():
            deployment_id = self.deployment_id(name)
            if deployment_id is None:
                continue
            have = self._call("GET", f"deployments/{deployment_id}/schedules", f"read {name} schedules") or []
            if len(have) == 1 and have[0].get("active") and _same_schedule(have[0].get("schedule") or {}, want):
                continue
            for old in have:
                self._call("DELETE", f"deployments/{deployment_id}/schedules/{old['id']}", f"drop a {name} schedule")
            self._call(
                "POST",
                f"deployments/{deployment_id}/schedules",
                f"set {name}'s schedule",
                json=[{"active": True, "schedule": want}],
            )
            changed.append(f"{name}: schedule set to {want}")
        return changed

    # -- runs of any deployment ----------------------------------------------------------------------

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
        """A run of one of hundred's deployments (reconcile, cancel-journey …), now by default. A
        repeated key returns the first run."""
        run, _ = self._create(deployment, parameters, idempotency_key, name, tags or [], when or datetime.now(UTC))
        return str(run["id"])

    def submit_reconcile(self, reason: str = "start-up") -> str:
        """A `reconcile` run now (the supervisor's start-up pass; the deployment also runs on its interval)."""
        return self.create_run(deployments.RECONCILE, {}, name=f"reconcile · {reason}", tags=["reconcile"])

    def run_state(self, run_id: str) -> str | None:
        """The run's state type ("SCHEDULED", "COMPLETED", …), or None once it is gone."""
        run = self._call("GET", f"flow_runs/{_run_path(run_id)}", f"read run {run_id}", missing_ok=True)
        return None if run is None else (run.get("state") or {}).get("type")

    def runs(self, deployment: str, limit: int = PAGE) -> list[dict[str, Any]]:
        """The deployment's latest runs, the newest expected start first (for status pages and tests)."""
        deployment_id = self.deployment_id(deployment)
        if deployment_id is None:
            return []
        body = {"deployments": {"id": {"any_": [deployment_id]}}, "limit": limit, "sort": "EXPECTED_START_TIME_DESC"}
        return list(self._call("POST", "flow_runs/filter", f"read {deployment} runs", json=body) or [])

    # -- helpers -----------------------------------------------------------------------------------

    def _ensure(
        self, deployment: str, key: str, at: datetime, name: str, parameters: dict[str, Any], tags: list[str]
    ) -> str:
        run, created = self._create(deployment, parameters, key, name, tags, at)
        for _ in range(AFTER_CHAIN):
            if created or (run.get("state") or {}).get("type") in WAITING:
                break
            # it has started (or ended) and may not see what was just stored: a run after it, keyed
            # by the run it follows, so every caller that saw the same run shares one
            run, created = self._create(
                deployment, parameters, f"{key}:after:{run['id']}", name, tags, max(at, datetime.now(UTC))
            )
        if not created and run.get("name") != name:
            self._call("PATCH", f"flow_runs/{_run_path(str(run['id']))}", "rename run", json={"name": name})
        return str(run["id"])

    def _create(
        self,
        deployment: str,
        parameters: dict[str, Any],
        key: str | None,
        name: str | None,
        tags: list[str],
        at: datetime,
    ) -> tuple[dict[str, Any], bool]:
        deployment_id = self.deployment_id(deployment)
        if deployment_id is None:
            raise PrefectAPIError(
                f"no deployment {deployment} (is `hundred up` or a worker pool serving it?)",
                httpx.Response(404, text="deployment not found"),
            )
        body = {
            "state": _scheduled(at),
            "name": name,
            "parameters": parameters,
            "context": {},
            "tags": tags,
            "idempotency_key": key,
            "parent_task_run_id": None,
            "job_variables": None,
            "labels": {},
        }
        response = self._call(
            "POST", f"deployments/{deployment_id}/create_flow_run", f"create {deployment} run", json=body, raw=True
        )
        return response.json(), response.status_code == 201

    def deployment_id(self, name: str) -> str | None:
        """The deployment's id, None when the server has no such deployment."""
        if self._deployment_ids.get(name) is None:
            flow, _, deployment = name.partition("/")
            path = f"deployments/name/{urllib.parse.quote(flow, safe='')}/{urllib.parse.quote(deployment, safe='')}"
            found = self._call("GET", path, f"read deployment {name}", missing_ok=True)
            self._deployment_ids[name] = str(found["id"]) if found else None
        return self._deployment_ids[name]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PrefectScheduler:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _worth_renaming(named: int, touches: int) -> bool:
    """Whether a known run's name (`named` touches) is worth a call to say `touches`.

    Every deal a deal-closed run starts adds touches to its moments, and a big moment has a run per
    shard, each named with the moment's count: renaming them all for each deal made the cost of a
    deal grow with the deals before it (bench/soak.py: 266 ms a deal at 200 deals, 661 ms at
    1,000). A name within a tenth of the truth is left as it is; the next ask after
    `KNOWN_SECONDS`, and reconcile in the hour before the moment, name it exactly."""
    return abs(touches - named) * 10 >= max(named, 1)


def _same_schedule(have: dict[str, Any], want: dict[str, Any]) -> bool:
    if "interval" in want:
        interval: float = want["interval"]
        return have.get("interval") is not None and float(have["interval"]) == interval
    cron: str = want["cron"]
    timezone: str = want["timezone"]
    return cron == have.get("cron") and timezone == have.get("timezone")


def _run_path(run_id: str) -> str:
    """A run id is a UUID; anything else is refused before it reaches a URL."""
    return str(uuid.UUID(str(run_id)))
