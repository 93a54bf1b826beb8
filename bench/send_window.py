"""The window a hard kill can fall into while an email is sent: from the commit of its `sending`
claim to the message's closing dot handed to the kernel.

A run killed inside that window leaves the row `sending` while the SMTP server never took the
message: the touch waits in doubt for the operator instead of being sent. Outside it, a kill either
leaves the row `pending` (the server drops a message without its dot, a retry sends) or the message
is at the server. So the shorter the window, the fewer touches a crash puts in doubt.

It sends N emails from T threads of one process through the real channel code and ledger (SQLite)
to a real SMTP server (aiosmtpd), while B processes burn CPU as a busy host would, and times each
touch's window by watching the claim's commit and smtplib's socket sends.

    python bench/send_window.py [--touches 400] [--threads 16] [--burners 2] [--json]

--json prints one line: {"touches", "threads", "burners", "window_ms_p50", "window_ms_p99",
"window_ms_max", "window_ms_mean"}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the package from a checkout; the tests' SMTP server

from smtp_inbox import Inbox  # noqa: E402

from hundred.adapters.channels import ChannelConfig, deliver  # noqa: E402
from hundred.adapters.ledger import Ledger  # noqa: E402
from hundred.planning.identity import TouchKey  # noqa: E402
from hundred.rendering.content import EmailContent  # noqa: E402

_dot_sent: dict[int, float] = {}  # thread → when its last closing dot went to the kernel
_claimed: dict[int, float] = {}  # thread → when its last `sending` claim was committed
_socket_send = smtplib.SMTP.send


def _watched_send(self: smtplib.SMTP, data: bytes | str) -> None:
    _socket_send(self, data)
    if isinstance(data, bytes) and (data.endswith(b"\r\n.\r\n") or data == b".\r\n"):
        _dot_sent[threading.get_ident()] = time.monotonic()


class WatchedLedger:
    """The ledger, noting when each `sending` claim has been committed."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def begin_delivery(self, *args, **kwargs):
        return self.ledger.begin_delivery(*args, **kwargs)

    def mark_delivery(self, key, state, detail=None, from_states=None):
        done = self.ledger.mark_delivery(key, state, detail=detail, from_states=from_states)
        if state == "sending" and done:
            _claimed[threading.get_ident()] = time.monotonic()
        return done

    def __getattr__(self, name):
        return getattr(self.ledger, name)


def _burn() -> None:
    while True:
        pass


def measure(touches: int, threads: int, burners: int) -> list[float]:
    smtplib.SMTP.send = _watched_send  # type: ignore[method-assign]
    inbox = Inbox().start()
    folder = Path(tempfile.mkdtemp(prefix="send-window-"))
    log = WatchedLedger(Ledger.open(f"sqlite:///{folder}/ledger.db"))
    config = ChannelConfig(
        smtp_url=f"smtp://127.0.0.1:{inbox.port}?starttls=false", outbox_dir=folder, mail_from="h <h@acme.nl>"
    )
    windows: list[float] = []
    lock = threading.Lock()

    def send(keys: list[TouchKey]) -> None:
        me = threading.get_ident()
        for key in keys:
            content = EmailContent(
                key, "anna@example.nl", "Anna", "Hallo", "Hallo Anna\n", "<p>Hallo Anna</p>", "Jörg", "jorg@acme.nl"
            )
            _claimed.pop(me, None)
            result = deliver(content, log, config)
            assert result.state == "sent", result
            with lock:
                windows.append((_dot_sent[me] - _claimed[me]) * 1000)

    keys = [TouchKey(f"D-{n}", "first-100-days", "v1", "hello") for n in range(touches)]
    hogs = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(burners)]
    for hog in hogs:
        hog.start()
    workers = [threading.Thread(target=send, args=(keys[n::threads],)) for n in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        for hog in hogs:
            hog.terminate()
        inbox.stop()
    assert len(inbox.messages) == touches, len(inbox.messages)
    return sorted(windows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--touches", type=int, default=400)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--burners", type=int, default=2, help="processes that keep the CPU busy")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    windows = measure(args.touches, args.threads, args.burners)
    figures = {
        "touches": args.touches,
        "threads": args.threads,
        "burners": args.burners,
        "window_ms_p50": round(windows[len(windows) // 2], 3),
        "window_ms_p99": round(windows[int(len(windows) * 0.99)], 3),
        "window_ms_max": round(windows[-1], 3),
        "window_ms_mean": round(statistics.mean(windows), 3),
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"{args.touches} emails from {args.threads} threads, {args.burners} CPU burners: from the claim's commit to "
        f"the closing dot, median {figures['window_ms_p50']} ms, p99 {figures['window_ms_p99']} ms, "
        f"max {figures['window_ms_max']} ms, mean {figures['window_ms_mean']} ms"
    )


if __name__ == "__main__":
    main()
