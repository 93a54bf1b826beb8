"""The names of hundred's Prefect deployments, in one place: the flows register them under these
names (`flows/serve.py`, `prefect.yaml`), the scheduler creates runs of them, and the web app's
health check waits for all of them. And what hundred asks of the Prefect server they run on.

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

# Prefect records each task run from its client's events, by default one event per database
# transaction: in a burst of 400 touches it was 128 task runs behind 5 s after the runs had ended,
# so the UI showed deliveries late. A batch of up to 100 events, at least every second, kept up
# (bench/burst.py). `hundred up` starts its server with these (unless set), and the README asks
# the same of a pool's server.
SERVER_SETTINGS: dict[str, str] = {
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
}
