"""The names of hundred's Prefect deployments, in one place: the flows register them under these
names (`flows/serve.py`, `prefect.yaml`), the scheduler creates runs of them, and the web app's
health check waits for all of them.

`run-touch` is the retired per-touch deployment (one flow run per touch, before the ledger became
the calendar): its name stays here so reconcile can cancel the runs an older hundred left.
"""

DEAL_CLOSED = "deal-closed/deal-closed"
DELIVER = "deliver/deliver"
CANCEL_JOURNEY = "cancel-journey/cancel-journey"
RECONCILE = "reconcile/reconcile"
PRINT_BATCH = "print-batch/print-batch"
JOURNEY_FIGURES = "journey-figures/journey-figures"
ALL: tuple[str, ...] = (DEAL_CLOSED, DELIVER, CANCEL_JOURNEY, RECONCILE, PRINT_BATCH, JOURNEY_FIGURES)
RETIRED_RUN_TOUCH = "run-touch/run-touch"
