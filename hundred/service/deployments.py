"""The names of hundred's Prefect deployments, in one place: the flows register them under these
names (`flows/serve.py`, `prefect.yaml`), the schedulers create runs of them, and the web app's
health check waits for all of them. Never rename or delete `run-touch` while journeys are pending:
Prefect deletes a deployment's scheduled runs with it.
"""

DEAL_CLOSED = "deal-closed/deal-closed"
RUN_TOUCH = "run-touch/run-touch"
CANCEL_JOURNEY = "cancel-journey/cancel-journey"
RECONCILE = "reconcile/reconcile"
PRINT_BATCH = "print-batch/print-batch"
JOURNEY_FIGURES = "journey-figures/journey-figures"
ALL: tuple[str, ...] = (DEAL_CLOSED, RUN_TOUCH, CANCEL_JOURNEY, RECONCILE, PRINT_BATCH, JOURNEY_FIGURES)
