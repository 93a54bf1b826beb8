"""The `hundred` command line: one Typer app (app.py) and the modules that register its commands.

- journeys.py: validate, schema, plan, preview (the marketer's; never import the runtime stack)
- operate.py: simulate, up, deal-closed, status, cancel, retry, task done (operators)
- printroom.py: letters … (print staff)
- intake.py: intake …, import (the CRM's way in)
- report.py: report (how each journey is doing; `status DEAL` tells one customer's story)
"""

from hundred.cli import intake, journeys, operate, printroom, report  # noqa: F401  (each registers its commands on `app`)
from hundred.cli.app import app, main

__all__ = ["app", "main"]
