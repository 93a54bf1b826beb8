"""The whole way in: signed webhooks to the app, deal-closed runs executed by `flows.serve` on the
session Prefect server: the same deal delivered at once, and in two versions, is one journey."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import deal_payload
from intake_site import env_of, make_home, serve
from prefect_server import wait_for

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def test_deliveries_at_once_and_a_corrected_payload_start_one_journey(tmp_path, hundred_deployments):
    from hundred.adapters.ledger import Ledger

    settings = make_home(tmp_path)
    closed = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    payload = deal_payload(closed_at=closed, id="E2E-IN-1", journey="first-100-days")
    raw = json.dumps(payload).encode()
    app = serve(settings)
    try:
        with hundred_deployments.serve(settings.home, env=env_of(settings, hundred_deployments.api_url)) as served:
            answers = app.post_at_once("/hooks/deal-closed", raw, 6)
            corrected = app.post("/hooks/deal-closed", {**payload, "product": "Jaarabonnement Plus"})
            assert [a.status_code for a in answers] == [202] * 6 and corrected.status_code == 202
            assert len({a.json()["run"] for a in answers}) == 1 and corrected.json()["run"] != answers[0].json()["run"]
            ledger = Ledger.open(settings.ledger_url)

            def both_runs_done() -> bool:
                states = [
                    httpx.get(f"{hundred_deployments.api_url}/flow_runs/{r}", timeout=10).json()["state"]["type"]
                    for r in (answers[0].json()["run"], corrected.json()["run"])
                ]
                return states == ["COMPLETED", "COMPLETED"]

            wait_for(both_runs_done, 120, "both deal-closed runs", served.proc, served.log, 0.5)
            journeys = [j for j in ledger.journeys() if j.deal_id == "E2E-IN-1"]
            assert len(journeys) == 1 and journeys[0].state == "active"
            assert {t.touch_id: t.state for t in ledger.touches("E2E-IN-1")} == {
                "hello": "scheduled",
                "later": "scheduled",
            }
            ledger.close()
    finally:
        app.stop()
