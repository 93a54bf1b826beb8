"""How much hundred's deal-closed path costs on top of Prefect's own run creation.

Starts one local Prefect server (SQLite, a temporary home), registers hundred's deployments, then
for each of N deals of the shipped journey: hundred's `Runtime.deal_closed` (validate the deal,
load and plan the journey, write the ledger, create one scheduled run per ungated touch with its
idempotency key), and, alternating with it so both see the same server, the same number of runs
made with raw `create_flow_run_from_deployment` calls. Prints both rates and the overhead
(0.15 = hundred is 15 % slower than raw).

    python bench/schedule.py              # 50 deals
    python bench/schedule.py --deals 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hundred import bootstrap

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the same server starter the tests use

from prefect_server import start_prefect_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hundred-bench-") as tmp:
        root = Path(tmp)
        server = start_prefect_server(root / "prefect")
        try:
            result = run(server.api_url, root, args.deals)
        finally:
            server.stop()
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['deals']} deals, {result['runs']} scheduled runs each way")
    print(f"hundred deal-closed: {result['hundred_runs_per_s']:.1f} runs/s")
    print(f"raw Prefect calls:   {result['raw_runs_per_s']:.1f} runs/s")
    print(f"overhead:            {result['overhead'] * 100:.1f} %")


def run(api_url: str, root: Path, deals: int) -> dict:
    os.environ["PREFECT_API_URL"] = api_url
    os.environ["PREFECT_HOME"] = str(root / "prefect")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.client.orchestration import get_client
    from prefect.states import Scheduled

    from flows.serve import deployments
    from hundred.adapters.ledger import Ledger
    from hundred.adapters.prefect.scheduler import PrefectScheduler
    from hundred.service import deployments as names
    from hundred.service.settings import Settings

    for deployment in deployments():
        deployment.apply()
    example = json.loads((REPO / "examples" / "deal-nl.json").read_text(encoding="utf-8"))
    settings = Settings(
        home=root / "home", journeys_dir=REPO / "journeys", templates_dir=REPO / "templates", day_seconds=None
    )
    scheduler = PrefectScheduler(api_url)
    runtime = bootstrap.runtime(settings, ledger_=Ledger.open(settings.ledger_url), scheduler_=scheduler)
    deployment_id = scheduler.deployment_id(names.RUN_TOUCH)
    hundred_s = raw_s = 0.0
    runs = 0
    with get_client(sync_client=True) as client:
        for i in range(deals):
            payload = {**example, "id": f"BENCH-{i}", "closed_at": datetime.now(UTC).isoformat()}
            started = time.perf_counter()
            result = runtime.deal_closed(payload)
            hundred_s += time.perf_counter() - started
            made = sum(1 for t in result.touches if t.state == "scheduled")
            runs += made
            due = datetime.now(UTC) + timedelta(days=30)
            started = time.perf_counter()
            for n in range(made):
                client.create_flow_run_from_deployment(
                    deployment_id,
                    parameters={"deal": f"RAW-{i}", "touch": f"t{n}"},
                    state=Scheduled(scheduled_time=due),
                    idempotency_key=f"RAW-{i}/x/t{n}",
                    tags=[f"deal:RAW-{i}", "journey:x", "phase:affirm", f"touch:t{n}", "channel:email"],
                    name=f"RAW-{i} · t{n}",
                )
            raw_s += time.perf_counter() - started
    hundred_rate, raw_rate = runs / hundred_s, runs / raw_s
    return {
        "deals": deals,
        "runs": runs,
        "hundred_runs_per_s": round(hundred_rate, 2),
        "raw_runs_per_s": round(raw_rate, 2),
        "overhead": round(raw_rate / hundred_rate - 1, 3),
    }


if __name__ == "__main__":
    main()
