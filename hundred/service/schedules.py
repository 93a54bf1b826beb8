"""When Prefect's own schedules run hundred's periodic flows: one home for both shapes.

`flows/serve.py` (the embedded shape) passes these to its deployments; in the pool shape
(`prefect deploy` from prefect.yaml) the reconcile flow keeps the deployments' schedules in line
with them (`PrefectScheduler.keep_schedules`), so changing the default journey's workdays or
`HUNDRED_RECONCILE_SECONDS` needs no edit of prefect.yaml.
"""

from __future__ import annotations

from hundred.service.ports import Schedules
from hundred.service.printroom.calendar import print_calendar
from hundred.service.settings import Settings


def schedules(settings: Settings) -> Schedules:
    """Reconcile on its interval; the print batch at the letters' cut-off on the default
    journey's workdays in its time zone (the flow skips that calendar's holidays)."""
    calendar = print_calendar(settings)
    return Schedules(settings.reconcile_seconds, settings.print_batch_cron or calendar.cron, calendar.timezone)
