"""Prefect as hundred's scheduler (scheduler.py): runs of hundred's deployments over Prefect's REST
API. The flows themselves are Prefect's entrypoints in the top-level `flows` package."""
