"""The `hundred` command line: one Typer app (app.py) and the modules that register its commands.

- journeys.py: validate, schema, plan, preview (the marketer's; never import the runtime stack)
- operate.py: simulate, up, deal-closed, status, cancel, retry, task done (operators)
- printroom.py: letters … (print staff)
- intake.py: intake …, import (the CRM's way in)
"""

from hundred.cli import intake, journeys, operate, printroom  # noqa: F401  (each registers its commands on `app`)
from hundred.cli.app import app, main, use_command_class

use_command_class(app)

__all__ = ["app", "main"]
