"""Adapters: hundred's ports met by real things (the SQL ledger, the channels, Prefect, the print
files). Only `hundred.bootstrap` and the entry points import them; they import the core and the
service's ports and records, never the other way round."""
