"""Prefect flows: thin adapters that call hundred's runtime (see flows/journey.py).

Only this package and `hundred.up.supervisor` import Prefect. Importing `flows` itself imports nothing.
"""
