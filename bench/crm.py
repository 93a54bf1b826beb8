"""The CRMs' way in: how fast a stock webhook is answered, and what a won deal's enrichment costs.

    .venv/bin/python bench/crm.py                    # 200 Pipedrive webhooks, 5 HubSpot batches of 100, 50 deals enriched
    .venv/bin/python bench/crm.py --api-ms 80 --json

1. Webhooks: the web app under uvicorn (real HTTP, SQLite ledger), Pipedrive's v1 webhook for N
   different won deals from 8 threads (p50/p95 answer time), and HubSpot batches of 100 won-deal
   events (each answered after its 100 intake rows are stored). Goals: a Pipedrive webhook under
   250 ms at p95 with 8 at once; a HubSpot batch of 100 under 1 s (the CRMs wait seconds, not
   minutes, before they count a delivery as failed and send it again).
   Neither calls the CRM's API: the stand-ins' request counts must stay 0.
2. Enrichment: the stored events fetched from the local Pipedrive stand-in (each answer delayed
   by --api-ms, as a real API across the internet is) and mapped: seconds per deal one at a time
   (the deal, then person, organisation and owner at once: two round trips), and deals per second
   from 8 threads under HUNDRED_CRM_MAX_CONCURRENT (4). The first deal also pays for the country
   index (the stand-in's organisation is in "Nederland": babel's territory names in every
   language, built once per process; an English name does not need it).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the package from a checkout; the tests' stand-ins and web app

import httpx  # noqa: E402
from crm_standins import PD_DEALS, StandIn  # noqa: E402
from intake_site import PIPEDRIVE_AUTH, hubspot_headers, make_home, serve  # noqa: E402

EXAMPLES = ROOT / "examples" / "crm"
THREADS = 8


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def pipedrive_body(deal_id: int) -> bytes:
    body = json.loads((EXAMPLES / "pipedrive-deal-won.json").read_text(encoding="utf-8"))
    body["current"]["id"] = body["previous"]["id"] = body["meta"]["id"] = deal_id
    return json.dumps(body).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=200, help="Pipedrive webhooks (default 200)")
    parser.add_argument("--batches", type=int, default=5, help="HubSpot batches of 100 events (default 5)")
    parser.add_argument("--deals", type=int, default=50, help="deals enriched (default 50)")
    parser.add_argument("--api-ms", type=float, default=50.0, help="the stand-in API's delay per answer (default 50)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from hundred import bootstrap
    from hundred.service.enrichment import enrich
    from hundred.service.intake import NoPrefect

    pipedrive, hubspot = StandIn("pipedrive"), StandIn("hubspot")
    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_home(
            Path(tmp),
            pipedrive_api_url=pipedrive.url,
            pipedrive_api_token=pipedrive.token,
            hubspot_api_url=hubspot.url,
            hubspot_token=hubspot.token,
        )
        intake = bootstrap.intake(settings, scheduler_=NoPrefect())
        app = serve(settings, intake=intake)
        auth = httpx.BasicAuth(*PIPEDRIVE_AUTH.split(":", 1))
        try:
            with httpx.Client(timeout=30, auth=auth) as client:

                def post(deal_id: int) -> float:
                    started = time.perf_counter()
                    response = client.post(app.url + "/hooks/pipedrive", content=pipedrive_body(deal_id))
                    assert response.status_code == 202, response.text
                    return time.perf_counter() - started

                post(1)  # warm up
                with ThreadPoolExecutor(THREADS) as pool:
                    times = list(pool.map(post, range(10_000, 10_000 + args.webhooks)))
            batch_times = []
            template = json.loads((EXAMPLES / "hubspot-deal-won.json").read_text(encoding="utf-8"))[0]
            for b in range(args.batches):
                events = [{**template, "objectId": 5_000_000 + b * 100 + i, "eventId": b * 100 + i} for i in range(100)]
                raw = json.dumps(events).encode()
                url = app.url + "/hooks/hubspot"
                started = time.perf_counter()
                response = httpx.post(url, content=raw, headers=hubspot_headers(url, raw), timeout=60)
                batch_times.append(time.perf_counter() - started)
                assert response.status_code == 202 and len(response.json()["stored"]) == 100, response.text
        finally:
            app.stop()
        result["pipedrive_webhook_p50_ms"] = round(statistics.median(times) * 1000, 1)
        result["pipedrive_webhook_p95_ms"] = round(percentile(times, 0.95) * 1000, 1)
        result["hubspot_batch_of_100_median_s"] = round(statistics.median(batch_times), 3)
        result["hubspot_batch_of_100_max_s"] = round(max(batch_times), 3)
        result["crm_api_calls_while_answering"] = len(pipedrive.seen) + len(hubspot.seen)

        rows = []
        for n in range(args.deals):
            PD_DEALS[20_000 + n] = {**copy.deepcopy(PD_DEALS[4711]), "id": 20_000 + n}
            answer = intake.crm_webhook("pipedrive", pipedrive_body(20_000 + n))
            rows.append(intake.ledger.intake(answer.body["intake"]))
        api = bootstrap.crm(settings, "pipedrive")
        pipedrive.delay = args.api_ms / 1000
        started = time.perf_counter()
        enrich(rows[0], api, settings)
        result["first_deal_s"] = round(time.perf_counter() - started, 3)
        one = []
        for row in rows[1:6]:
            started = time.perf_counter()
            enrich(row, api, settings)
            one.append(time.perf_counter() - started)
        result["deal_s"] = round(statistics.median(one), 3)
        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda row: enrich(row, api, settings), rows))
        elapsed = time.perf_counter() - started
        result["deals_per_s"] = round(len(rows) / elapsed, 1)
        result["most_calls_in_flight"] = pipedrive.most_in_flight
        result["api_ms"] = args.api_ms
    pipedrive.close()
    hubspot.close()
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"Pipedrive webhook: p50 {result['pipedrive_webhook_p50_ms']} ms, p95 {result['pipedrive_webhook_p95_ms']} ms "
        f"({args.webhooks} from {THREADS} threads); HubSpot batch of 100: median {result['hubspot_batch_of_100_median_s']} s, "
        f"worst {result['hubspot_batch_of_100_max_s']} s; CRM API calls while answering: {result['crm_api_calls_while_answering']}"
    )
    print(
        f"enrichment at {args.api_ms:g} ms per API answer: first deal {result['first_deal_s']} s (builds the country "
        f"index), then {result['deal_s']} s a deal; {result['deals_per_s']} deals/s from {THREADS} threads, at most "
        f"{result['most_calls_in_flight']} calls in flight"
    )


if __name__ == "__main__":
    main()
