"""`python -m flows.serve`: serve hundred's six deployments from this process (the embedded shape).

Each flow run executes in its own subprocess. `hundred up` runs this under a supervisor that
restarts it when it exits (serve gives up after a few minutes without the Prefect API).

- `pause_on_shutdown=False`: serve would otherwise pause its deployments when it stops, and the
  15-minute reconcile schedule would stay paused after a restart. (Touch runs are explicit runs;
  pausing never stopped them, and redeploying never deletes them.)
- Never delete or rename these deployments while journeys are pending: deleting a deployment
  deletes its scheduled runs. Do not also `prefect deploy` the same names to a work pool against
  the same server (see prefect.yaml for the scale-out shape).
- HUNDRED_SERVE_LIMIT caps concurrent flow runs (default 8: each run is a ~85 MB subprocess).
"""

from __future__ import annotations

import os

from prefect import serve
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from flows.figures import journey_figures
from flows.journey import RECONCILE_EVERY, cancel_journey, deal_closed, reconcile, run_touch
from flows.print_batch import print_batch

FIGURES_CRON = "0 7 * * *"  # every morning, before the working day: how each journey is doing


def print_batch_schedule() -> Cron:
    """Workday mornings at the letters' cut-off, in the default journey's time zone
    (e.g. "0 10 * * 1-5" in Europe/Amsterdam); the flow skips its calendar's holidays."""
    from hundred.service.printroom.calendar import print_calendar  # lazy: keep serving light
    from hundred.service.settings import Settings  # lazy: as above

    calendar = print_calendar(Settings())
    return Cron(calendar.cron, timezone=calendar.timezone)


def figures_schedule() -> Cron:
    """Every morning at 07:00 in the default journey's time zone (the print room's calendar)."""
    from hundred.service.printroom.calendar import print_calendar  # lazy: keep serving light
    from hundred.service.settings import Settings  # lazy: as above

    return Cron(FIGURES_CRON, timezone=print_calendar(Settings()).timezone)


def deployments() -> list:
    """The six deployments; flow runs import `flows.journey` by module path, from any directory."""
    module = {"entrypoint_type": EntrypointType.MODULE_PATH}
    return [
        deal_closed.to_deployment(name="deal-closed", description="A closed deal starts its journey.", **module),
        run_touch.to_deployment(name="run-touch", description="One touch of one customer's journey.", **module),
        cancel_journey.to_deployment(name="cancel-journey", description="Stop a deal's journey.", **module),
        reconcile.to_deployment(
            name="reconcile",
            interval=RECONCILE_EVERY,
            **module,
            description="Repair what the ledger expects and Prefect lacks.",
        ),
        print_batch.to_deployment(
            name="print-batch",
            schedule=print_batch_schedule(),
            **module,
            description="Workday mornings: the day's print batch of letters.",
        ),
        journey_figures.to_deployment(
            name="journey-figures",
            schedule=figures_schedule(),
            **module,
            description="Every morning: how each journey is doing, one artifact per journey.",
        ),
    ]


def main() -> None:
    limit = int(os.environ.get("HUNDRED_SERVE_LIMIT", "8"))
    serve(*deployments(), pause_on_shutdown=False, limit=limit, print_starting_message=False)


if __name__ == "__main__":
    main()
