"""`hundred studio [JOURNEY]`: the journey studio on this machine, in the browser.

Serves the studio (hundred/web/studio) on 127.0.0.1 with uvicorn and prints its address with a
random token, as Jupyter does: whoever opens that address gets in, nobody else on the machine.
No Prefect is needed; the ledger is read when there is one.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
import urllib.parse
from typing import Annotated

import typer

from hundred.cli.app import app, err, out
from hundred.cli.paths import JOURNEYS_DIR, UserError, resolve_journey

FIRST_PORT = 8700
TRIES = 30


def _bind(host: str, port: int | None) -> socket.socket:
    """A listening socket: `port` when given, else the first free one from 8700 on."""
    ports = [port] if port is not None else list(range(FIRST_PORT, FIRST_PORT + TRIES))
    for candidate in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError:
            sock.close()
            continue
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    if port is not None:
        raise UserError(f"--port {port}: that port is in use; choose another, or leave --port out")
    raise UserError(f"no free port from {FIRST_PORT} to {FIRST_PORT + TRIES - 1}; choose one with --port")


@app.command()
def studio(
    journey: Annotated[str | None, typer.Argument(help="Journey to open (file or id); default: the list.")] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port on 127.0.0.1 (default: the first free from 8700).")
    ] = None,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open the page in the browser.")] = True,
) -> None:
    """Edit journeys and their templates in the browser, and see what they do as you type.

    The page checks the text as you type (validate's errors, the Coleman linter's warnings, in
    place and in a list), draws the timeline for a sample deal, shows the touch under the cursor
    as `preview` renders it, plays `simulate` with holds, and says what an edit changes for
    journeys in flight. It saves exactly what you typed, and refuses to overwrite a file that
    changed on disk since you opened it. Ctrl-C stops it.

    Only this machine can reach it (127.0.0.1), and only with the token in the address it prints.

    \b
    Examples:
      hundred studio
      hundred studio first-100-days
      hundred studio journeys/first-100-days-en.yaml --port 8800 --no-browser
    """
    import uvicorn  # lazy: the web server loads only for `hundred studio`

    target = "/studio/"
    if journey is not None:
        path = resolve_journey(journey)
        try:
            inside = path.resolve().relative_to(JOURNEYS_DIR.resolve())
        except ValueError:
            raise UserError(f"{path}: the studio opens journeys in {JOURNEYS_DIR}/ only") from None
        target = "/studio/edit?" + urllib.parse.urlencode({"file": f"{JOURNEYS_DIR.name}/{inside}"})
    token = secrets.token_urlsafe(24)
    os.environ["HUNDRED_STUDIO_TOKEN"] = token
    sock = _bind("127.0.0.1", port)
    host, bound = sock.getsockname()[:2]
    config = uvicorn.Config(
        "hundred.web.studio.local:create_local_app", factory=True, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise UserError("the studio did not start (see the messages above)")
    joiner = "&" if "?" in target else "?"
    url = f"http://{host}:{bound}{target}{joiner}token={token}"
    out.print("hundred studio is running; open this address (it carries the token that lets you in):")
    out.print(f"  {url}")
    out.print("Ctrl-C stops it.")
    if browser:
        import webbrowser  # lazy: only to open the page

        try:
            webbrowser.open(url)
        except Exception:  # no browser on this machine: the address above is enough
            err.print("could not open a browser; open the address above")
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(10)
        err.print("stopped")
