"""Prefect flows: thin adapters that call the hundred engine (arrive with the runtime issue)."""
