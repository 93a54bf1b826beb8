"""`hundred up`: a local Prefect server, hundred's served flows and the web app, supervised.

Parts, started in this order, each in its own process group with its output in
`HUNDRED_HOME/logs/<part>.log`:

1. `prefect` : `prefect server start` on 127.0.0.1 (PREFECT_HOME and its SQLite DB under
   `HUNDRED_HOME/prefect`); the next part starts once `/api/health` answers.
2. `serve`   : `python -m flows.serve` (all of hundred's deployments) against that server.
3. `web`     : the FastAPI app (uvicorn); `/healthz` is 200 once every part is up.

A part that exits is restarted with backoff (serve exits after a long API outage). Ctrl-C or
SIGTERM stops everything: SIGTERM to each part, then SIGKILL to its whole group after a timeout.
One `up` per home (an flock on `HUNDRED_HOME/up.lock`); `HUNDRED_HOME/up.json` tells operator
commands and the web app where things are (see `hundred.service.local`), including the journey
clock (`--day-seconds`) every command and deal on this home then keeps.

After a hard kill (power loss, the OOM killer) the next `up` is back within seconds: a port is
"in use" only when something answers on it (a socket in TIME_WAIT is not), and before serving,
the runs the dead `up` had taken (claimed or running) are taken over and their claims in the
ledger let go, so no deal or touch waits for a lease to run out. Every part's log is watched:
a traceback is said once per kind, and a part failing repeatedly shows as degraded (logwatch.py).
What `up` settles before the supervisor starts (the lock, the ports) is start.py's; one part's
process and its group, parts.py's.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TextIO

from hundred import bootstrap
from hundred.adapters.prefect.scheduler import PrefectScheduler
from hundred.reports.counting import plural
from hundred.service import deployments
from hundred.service.local import up_file, write_json_atomic
from hundred.service.no_prefect import NoPrefect
from hundred.up.demo import DemoView
from hundred.up.logwatch import LogWatch
from hundred.up.parts import Part

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]
DEMO_DEAL = REPO / "examples" / "deal-nl.json"
READY_TIMEOUT = 180.0  # first start on a slow box: DB migrations ~15 s, under load much more


class Say(Protocol):
    """How `up` speaks to the terminal: a line, on stdout unless a stream is named."""

    def __call__(self, text: str, stream: TextIO | None = None) -> None: ...


def say_to_terminal(text: str, stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout, flush=True)


def _parts_up(url: str) -> bool:
    """Every part of this `up` answers (a part whose log shows failures still counts as up here:
    the terminal has said what failed, and /healthz says degraded)."""
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            return False
    except (OSError, ValueError):
        return False
    parts = body.get("parts") or {}
    return bool(parts) and all(p.get("state") in ("up", "degraded") for p in parts.values())


def _http_status(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class Supervisor:
    def __init__(
        self,
        home: Path,
        port: int,
        prefect_port: int,
        day_seconds: float | None,
        demo: bool,
        say: Say = say_to_terminal,
    ):
        self.home, self.port, self.prefect_port = home, port, prefect_port
        self.day_seconds, self.demo, self.say = day_seconds, demo, say
        self.print_login = "password from HUNDRED_PRINT_PASSWORD"
        self.api_url = f"http://{HOST}:{prefect_port}/api"
        self.ui_url = f"http://{HOST}:{prefect_port}"
        self.web_url = f"http://{HOST}:{port}"
        self.stopping = False
        self.parts: dict[str, Part] = {}
        self.ready_at: float | None = None
        self.t0 = time.monotonic()
        self.demo_view: DemoView | None = None
        self.slow_warned = False
        self.reconcile_when_prefect_answers = False  # its server was restarted: what it missed is made good
        self.logs: LogWatch | None = None
        self.settings = bootstrap.settings(day_seconds=day_seconds) if day_seconds else bootstrap.settings()

    # -- set-up ------------------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "HUNDRED_HOME": str(self.home),
                "PREFECT_HOME": str(self.home / "prefect"),
                "PREFECT_API_URL": self.api_url,
                "PREFECT_UI_API_URL": self.api_url,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_UI_ENABLED": "true",
                "PREFECT_SERVER_API_HOST": HOST,
                "PREFECT_SERVER_API_PORT": str(self.prefect_port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "2")  # serve looks for due runs every 2 s
        # SQLite under load: let a writer wait for the lock instead of failing the request with
        # "database is locked" (the server retries, but logs a traceback each time)
        env.setdefault("PREFECT_SERVER_DATABASE_TIMEOUT", "30")
        env.setdefault("PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT", "30")
        for name, value in deployments.SERVER_SETTINGS.items():  # unless the operator set them
            env.setdefault(name, value)
        if self.day_seconds:
            env["HUNDRED_DAY_SECONDS"] = repr(float(self.day_seconds))
        return env

    def build_parts(self) -> None:
        env, logs, py = self.environment(), self.home / "logs", sys.executable
        self.parts = {
            "prefect": Part(
                "prefect",
                [py, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(self.prefect_port)],
                env,
                logs / "prefect.log",
            ),
            "serve": Part("serve", [py, "-m", "flows.serve"], env, logs / "serve.log"),
            "web": Part(
                "web",
                [
                    py,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "hundred.web:create_app",
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                env,
                logs / "web.log",
            ),
        }

    def write_state(self) -> None:
        health = self.logs.report() if self.logs else {}
        write_json_atomic(
            up_file(self.home),
            {
                "pid": os.getpid(),
                "home": str(self.home),
                "prefect_api_url": self.api_url,
                "prefect_ui_url": self.ui_url,
                "web_url": self.web_url,
                "day_seconds": self.day_seconds,
                "ready": self.ready_at is not None,
                "parts": {n: {**p.info(), **health.get(n, {})} for n, p in self.parts.items()},
            },
        )

    # -- running -----------------------------------------------------------------------------------

    def run(self) -> int:
        self.build_parts()
        self.logs = LogWatch({name: part.log for name, part in self.parts.items()}, self.say)
        self.say(f"starting hundred in {self.home} (logs in {self.home / 'logs'})")
        self.parts["prefect"].start()
        self.write_state()
        waiting_for_prefect = True
        last_health = 0.0
        while not self.stopping:
            self.watch()
            if waiting_for_prefect and _http_status(f"{self.api_url}/health") == 200:
                waiting_for_prefect = False
                self.say(f"  prefect server up ({time.monotonic() - self.t0:.1f} s)")
                self.take_over_runs()
                for name in ("serve", "web"):
                    self.parts[name].start()
                self.write_state()
            if time.monotonic() - last_health > 2.0:
                self.logs.poll()
                self.write_state()
                last_health = time.monotonic()
            if not waiting_for_prefect and self.ready_at is None:
                if _parts_up(f"{self.web_url}/healthz"):
                    self.on_ready()
                elif not self.slow_warned and time.monotonic() - self.t0 > READY_TIMEOUT:
                    self.slow_warned = True
                    self.say(
                        f"  still not up after {READY_TIMEOUT:.0f} s: see {self.web_url}/healthz "
                        f"and the logs in {self.home / 'logs'}",
                        sys.stderr,
                    )
            if self.reconcile_when_prefect_answers and self.ready_at is not None:
                self.prefect_is_back()
            if self.demo_view is not None:
                self.demo_view.poll()
            time.sleep(0.5)
        return 0

    def watch(self) -> None:
        """Restart a part that exited: 1, 2, 4 … 30 s backoff; a part that ran a minute resets it."""
        now, changed = time.monotonic(), False
        for part in self.parts.values():
            if part.state == "running" and (code := part.exited()) is not None:
                quick = now - part.started_at < 60
                part.failures = part.failures + 1 if quick else 1
                delay = min(30.0, 2.0 ** (part.failures - 1))
                part.state, part.restart_at, changed = "restarting", now + delay, True
                self.say(
                    f"  {part.name} exited with code {code}; restarting in {delay:.0f} s (log: {part.log})", sys.stderr
                )
            elif part.state == "restarting" and part.restart_at is not None and now >= part.restart_at:
                part.restarts += 1
                part.start()
                changed = True
                if part.name == "prefect":
                    self.reconcile_when_prefect_answers = True
        if changed:
            self.write_state()

    def take_over_runs(self) -> None:
        """Every run this home's Prefect shows as claimed or running belongs to a serve that is gone
        (a killed `up`): run each again now and let go of the claims it held in the ledger."""
        os.environ.update({"PREFECT_API_URL": self.api_url, "PREFECT_HOME": str(self.home / "prefect")})
        try:
            scheduler = self.scheduler()
            stale = scheduler.stale_runs(datetime.now(UTC))
            if not stale:
                return
            ledger = bootstrap.ledger(self.settings)
            for run in stale:
                scheduler.take_over(run, "the `hundred up` that ran it stopped")
            ledger.release_claims([r.run_id for r in stale])
            ledger.release_intake_claims([r.run_id for r in stale])
            self.say(f"  took over {plural(len(stale), 'run')} the last `up` left unfinished")
        except Exception as exc:  # reconcile takes them over after their lease; say so and carry on
            self.say(
                f"  could not take over unfinished runs now ({type(exc).__name__}: {exc}); "
                "reconcile will after their lease",
                sys.stderr,
            )

    def prefect_is_back(self) -> None:
        """Prefect's server was restarted: once it answers, a reconcile run makes good what failed
        while it was away (a journey started then left its touches planned, without a run), rather
        than waiting for the interval (15 minutes by default)."""
        if _http_status(f"{self.api_url}/health") != 200:
            return
        self.reconcile_when_prefect_answers = False
        try:
            self.scheduler().submit_reconcile("prefect is back")
            self.say("  prefect is back: reconcile submitted")
        except Exception as exc:  # the interval schedule will catch up; say so and carry on
            self.say(f"  reconcile after prefect's restart not submitted: {type(exc).__name__}: {exc}", sys.stderr)

    def on_ready(self) -> None:
        self.ready_at = time.monotonic()
        self.reconcile_when_prefect_answers = False  # the start-up reconcile below covers it
        self.write_state()
        hooks = (
            f"{self.web_url}/hooks/deal-closed"
            if self.settings.webhook_secret
            else "closed: set HUNDRED_WEBHOOK_SECRET to let the CRM in"
        )
        self.say(
            f"hundred is up ({self.ready_at - self.t0:.1f} s)\n"
            f"  Prefect UI  {self.ui_url}\n"
            f"  web app     {self.web_url}  (health: {self.web_url}/healthz)\n"
            f"  print room  {self.web_url}/print  ({self.print_login})\n"
            f"  webhooks    {hooks}\n"
            f"  home        {self.home}\n"
            + (f"  clock       one journey day lasts {self.day_seconds:g} s\n" if self.day_seconds else "")
            + "Ctrl-C stops everything."
        )
        os.environ.update({"PREFECT_API_URL": self.api_url, "PREFECT_HOME": str(self.home / "prefect")})
        try:
            self.scheduler().submit_reconcile()
        except Exception as exc:  # the 15-minute schedule will catch up; say so and carry on
            self.say(f"  start-up reconcile not submitted: {type(exc).__name__}: {exc}", sys.stderr)
        if self.demo:
            self.start_demo()

    def scheduler(self) -> PrefectScheduler:
        """Prefect on the local server (PREFECT_API_URL points at it once it is up)."""
        scheduler = bootstrap.scheduler(bootstrap.settings())
        if isinstance(scheduler, NoPrefect):  # only before the server is up: PREFECT_API_URL is set after
            raise RuntimeError(f"no Prefect API known yet (the server should answer at {self.api_url})")
        return scheduler

    def start_demo(self) -> None:
        """The example deal goes in as any deal does (the intake: one path, one clock)."""
        now = datetime.now(UTC)
        payload = json.loads(DEMO_DEAL.read_text(encoding="utf-8"))
        payload["id"] = f"DEMO-{now:%Y%m%d-%H%M%S}"
        payload["closed_at"] = now.isoformat(timespec="seconds")
        answer = bootstrap.intake(self.settings).closed(json.dumps(payload), source="demo")
        if answer.status >= 300:
            self.say(f"demo: the example deal was refused: {answer.body}", sys.stderr)
            return
        self.say(
            f"demo: deal {payload['id']} stored (intake {answer.body.get('intake')}); "
            + (
                f"one journey day lasts {self.day_seconds:g} s\n"
                if self.day_seconds
                else "it runs in real time (add --day-seconds 5 to watch it in minutes)\n"
            )
            + f"  follow it in the Prefect UI: {self.ui_url}/runs"
        )
        self.demo_view = DemoView(payload["id"], now, self.day_seconds, self.api_url)

    def stop(self) -> None:
        self.stopping = True
        for name in ("web", "serve", "prefect"):
            part = self.parts.get(name)
            if part and part.proc is not None:
                part.stop()
        self.parts.clear()


__all__ = ["Supervisor", "say_to_terminal"]
