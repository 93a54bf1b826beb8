"""serve does not live on idle when Prefect's API stops answering.

Prefect's runner stops polling for good after three failed polls in a row; the process would stay
up and take no run again. serve's watchdog exits instead, so `hundred up` (or the pool's
supervisor) starts a fresh one. The Prefect server here is frozen with SIGSTOP: alive, listening,
answering nothing, as a stalled database leaves it.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from prefect_server import start_prefect_server

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def test_serve_exits_when_prefect_stops_answering_so_that_it_is_started_again(tmp_path):
    server = start_prefect_server(tmp_path / "prefect")
    frozen = False
    try:
        with server.serve(
            tmp_path / "home", env={"HUNDRED_SERVE_STALE_SECONDS": "15"}, expect_tracebacks=True
        ) as served:
            time.sleep(3)
            assert served.proc.poll() is None  # polling: the watchdog leaves it alone
            os.killpg(server.proc.pid, signal.SIGSTOP)
            frozen = True
            stopped = time.monotonic()
            code = served.proc.wait(120)
            waited = time.monotonic() - stopped
            text = served.log.read_text(errors="replace")
        assert code != 0, text[-2000:]
        assert "has not polled Prefect for" in text and "exiting so that it is started again" in text, text[-2000:]
        assert 15 <= waited < 60, waited
    finally:
        if frozen:
            os.killpg(server.proc.pid, signal.SIGCONT)
        server.stop()
