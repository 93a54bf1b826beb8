"""The `hundred` command line: one Typer app (app.py) and the modules that register its commands.

- journeys.py: validate, schema, plan, preview (the marketer's; never import the runtime stack)
- operate.py: simulate, up, deal-closed, status, cancel, retry, task done (operators)
- printroom.py: letters … (print staff)
- intake.py: intake …, import (the CRM's way in)
- report.py: report (how each journey is doing; `status DEAL` tells one customer's story)
- versions.py: journeys diff (journeys in flight and the versions they are on)
- studio.py: studio (the journey studio on 127.0.0.1)
- crm.py: crm check (connecting Pipedrive or HubSpot)
"""

import gc

# A command is a short process that builds many long-lived objects (models, parsed templates,
# SQLAlchemy's tables) and little cyclic garbage; at Python's default threshold (700) the collector
# re-walked them for ~50 ms of `validate` and ~150 ms of `simulate` (timed with gc.callbacks).
# Collect less often, as mypy does for the same reason; cycles are still collected.
gc.set_threshold(100_000, 50, 100)

from hundred.cli import crm, intake, journeys, operate, printroom, report, studio, versions  # noqa: E402, F401  (each registers its commands on `app`)
from hundred.cli.app import app, console, main, use_command_class  # noqa: E402

use_command_class(app)

__all__ = ["app", "console", "main"]
