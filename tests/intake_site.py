"""A hundred home and the web app under uvicorn for the intake tests, and signed requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from home_files import HELLO, always_open_journey, write_home
from web_site import Served

SECRET = "whsec-test-0123456789"
OLD_SECRET = "whsec-old-9876543210"
HUBSPOT_SECRET = "hubspot-app-secret-42"
PIPEDRIVE_AUTH = "hundred:pipedrive-pass-77"
JOURNEY = always_open_journey(
    "first-100-days",
    "Intake test",
    """\
  - phase: admit
    touches:
      - {id: hello, day: 1, channel: email, subject: "Hallo", template: emails/hello.html, when: "deal.segment != 'C'"}
  - phase: affirm
    touches:
      - {id: later, day: 40, channel: email, subject: "Later", template: emails/hello.html}
""",
)


def make_home(root: Path, **settings: Any) -> Any:
    from hundred.service.settings import Settings

    write_home(root, "first-100-days.yaml", JOURNEY, {"emails/hello.html": HELLO})
    values = dict(
        home=root / "home",
        journeys_dir=root / "journeys",
        templates_dir=root / "templates",
        webhook_secret=f"{SECRET},{OLD_SECRET}",
        hubspot_secret=HUBSPOT_SECRET,
        pipedrive_auth=PIPEDRIVE_AUTH,
        print_password="not-used-here-123",
    )
    values.update(settings)
    home = Settings(**values)
    home.home.mkdir(parents=True, exist_ok=True)
    return home


def env_of(settings: Any, api_url: str | None) -> dict[str, str]:
    env = {
        "HUNDRED_HOME": str(settings.home),
        "HUNDRED_JOURNEYS_DIR": str(settings.journeys_dir),
        "HUNDRED_TEMPLATES_DIR": str(settings.templates_dir),
    }
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


@dataclass
class App:
    served: Served
    settings: Any

    @property
    def url(self) -> str:
        return self.served.url

    def post(
        self,
        path: str,
        body: bytes | dict[str, Any],
        *,
        secret: str = SECRET,
        at: float | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        from hundred.adapters.channels.signing import sign

        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sig = signature if signature is not None else sign(raw, secret, int(at if at is not None else time.time()))
        all_headers = {"content-type": "application/json", "X-Hundred-Signature": sig, **(headers or {})}
        return httpx.post(self.url + path, content=raw, headers=all_headers, timeout=60)

    def post_at_once(self, path: str, body: bytes, times: int) -> list[httpx.Response]:
        """The same delivery `times` times, released together (a CRM retrying while the first is in flight)."""
        return at_once(lambda: self.post(path, body), times, timeout=60)

    def stop(self) -> None:
        self.served.stop()


def at_once(send: Callable[[], httpx.Response], times: int, timeout: float) -> list[httpx.Response]:
    """`send()` from `times` threads released together; the answers, as they came (each thread
    waited for at most `timeout` seconds)."""
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(times)

    def one() -> None:
        barrier.wait()
        answers.append(send())

    threads = [threading.Thread(target=one) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return answers


def serve(settings: Any, intake: Any = None) -> App:
    from hundred.web import create_app

    return App(Served(create_app(settings.home, settings=settings.model_copy(), intake=intake)), settings)


def hubspot_headers(url: str, body: bytes, *, secret: str = HUBSPOT_SECRET, at_ms: int | None = None) -> dict[str, str]:
    import base64

    ts = str(at_ms if at_ms is not None else int(time.time() * 1000))
    mac = hmac.new(secret.encode(), b"POST" + url.encode() + body + ts.encode(), hashlib.sha256).digest()
    return {
        "content-type": "application/json",
        "X-HubSpot-Signature-v3": base64.b64encode(mac).decode(),
        "X-HubSpot-Request-Timestamp": ts,
    }


def start_stored(settings: Any, ledger: Any, holder: str = "test-deal-closed-run") -> list[Any]:
    """What a `deal-closed` run does: claim the stored deals and start each one's journey (here
    with the simulator's scheduler, so no Prefect run is needed to watch the outcome)."""
    from datetime import timedelta

    from hundred import bootstrap
    from hundred.service.intake import DEAL_KINDS
    from hundred.service.simulate import VirtualScheduler

    runtime = bootstrap.runtime(settings, ledger_=ledger, scheduler_=VirtualScheduler())
    intake = bootstrap.intake(settings, ledger_=ledger, scheduler_=VirtualScheduler())
    rows = ledger.claim_intakes(
        holder=holder, now=runtime.now(), lease=timedelta(minutes=10), limit=1000, kinds=DEAL_KINDS
    )
    return [intake.start(row, runtime) for row in rows]
