"""The ledger: hundred's record of what happened (journeys, touches, deliveries, letters, events).

SQLite file under HUNDRED_HOME by default, PostgreSQL by HUNDRED_DATABASE_URL; migrated with
Alembic on open. Imports only the core and SQLAlchemy/Alembic (never Prefect or the web app).
The rows it answers in, and their states, have their home in hundred/service/records.py.
"""

from hundred.adapters.ledger.db import HEAD, LedgerError
from hundred.adapters.ledger.store import Ledger, default_url
from hundred.service.records import NewTouch

__all__ = ["HEAD", "Ledger", "LedgerError", "NewTouch", "default_url"]
