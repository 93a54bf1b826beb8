"""Prefect flows: thin adapters that call hundred's runtime (see flows/journey.py).

Only this package imports Prefect's Python package: hundred speaks to Prefect's REST API over HTTP
(hundred/adapters/prefect) and `hundred up` starts Prefect's server as a process. Importing `flows`
itself imports nothing.
"""
