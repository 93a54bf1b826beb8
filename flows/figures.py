"""The `journey-figures` flow: every morning, how each journey is doing, as a Prefect artifact.

One markdown artifact per journey, keyed `journey-figures-<journey>`, so the Prefect UI keeps each
journey's daily history under one key. The figures are the ones `/journeys` and `hundred report`
show (counted by SQL in the ledger: hundred/service/figures.py); this flow only writes them out.
Scheduled daily (flows/serve.py, prefect.yaml).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow
from prefect.artifacts import acreate_markdown_artifact


def figures_markdown(since_days: int | None = None) -> list[tuple[str, str]]:
    """(journey id, markdown) of every journey in the ledger, for the journeys received in the
    last `since_days` days (None: all)."""
    from hundred import bootstrap  # lazy: serving the deployments needs only Prefect
    from hundred.reports.figures.export import journey_markdown  # lazy: as above
    from hundred.service.figures import period_of  # lazy: as above

    service = bootstrap.figures(bootstrap.settings())
    since = (datetime.now(UTC) - timedelta(days=since_days)).date() if since_days else None
    report = service.report(period_of(since, None))
    return [(f.journey, journey_markdown(f, report.now, report.period)) for f in report.journeys]


@flow(name="journey-figures")
async def journey_figures(since_days: int | None = None) -> dict[str, Any]:
    """How each journey is doing: one markdown artifact per journey. `since_days` keeps only the
    journeys received in that many last days."""
    made = await asyncio.to_thread(figures_markdown, since_days)
    for journey, markdown in made:
        await acreate_markdown_artifact(
            markdown=markdown, key=f"journey-figures-{journey}", description=f"How journey {journey} is doing"
        )
    return {"journeys": [journey for journey, _ in made]}
