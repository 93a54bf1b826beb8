"""`hundred up`: the local Prefect server, hundred's flows and the web app, supervised (supervisor.py,
one part's process in parts.py), started by start.py's `main`; the demo's live view (demo.py)."""

from hundred.up.start import main
from hundred.up.supervisor import Supervisor

__all__ = ["Supervisor", "main"]
