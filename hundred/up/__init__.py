"""`hundred up`: the local Prefect server, hundred's flows and the web app, supervised (supervisor.py);
the demo's live view (demo.py)."""

from hundred.up.supervisor import Supervisor, main

__all__ = ["Supervisor", "main"]
