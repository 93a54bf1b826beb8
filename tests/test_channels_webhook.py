"""Webhook channel against a real HTTP server (http.server in a thread on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from deliverylog import Crash, CrashingLog, MemoryLog, log  # noqa: F401  (log is a fixture)

from hundred.adapters.channels import ChannelConfig, deliver
from hundred.adapters.channels.webhook import resolved_addresses_refused, sign, verify_signature
from hundred.planning.identity import TouchKey
from hundred.rendering.content import WebhookContent

KEY = TouchKey("D-1042", "onboarding", "v1", "crm-update")
SECRET = "whsec-test-1"
BODY = json.dumps({"deal": "D-1042", "touch": "crm-update", "note": "Grüße"}, ensure_ascii=False)


class Receiver:
    """Answers each POST with the next scripted (status, headers, delay); then 200. Keeps requests."""

    def __init__(self):
        self.script: list[tuple[int, dict[str, str], float]] = []
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append((self.path, dict(self.headers), body))
                    status, headers, delay = receiver.script.pop(0) if receiver.script else (200, {}, 0.0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/hundred"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def hook(url: str, secret_env: str | None = None) -> WebhookContent:
    return WebhookContent(KEY, url, BODY, secret_env)


def config(**changes) -> ChannelConfig:
    values = dict(
        webhook_secret=SECRET,
        allow_private_webhooks=True,
        webhook_attempts=4,
        webhook_backoff=0.05,
        webhook_timeout=2.0,
        webhook_deadline=10.0,
    )
    values.update(changes)
    return ChannelConfig(**values)


def test_signed_post_verifies(receiver, log):
    result = deliver(hook(receiver.url), log, config())
    assert result.state == "sent", result.detail
    ((path, headers, body),) = receiver.requests
    assert path == "/hooks/hundred" and body == BODY.encode("utf-8")
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == KEY.idempotency_key
    t, v1 = (part.split("=", 1)[1] for part in headers["X-Hundred-Signature"].split(","))
    assert abs(int(t) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)
    assert verify_signature(headers["X-Hundred-Signature"], body, SECRET)
    assert not verify_signature(headers["X-Hundred-Signature"], body + b" ", SECRET)
    assert not verify_signature(headers["X-Hundred-Signature"], body, "other secret")
    assert log.state(KEY.delivery_key("webhook")) == "sent"


def test_retries_on_503_then_succeeds_with_one_idempotency_key(receiver, log):
    receiver.script = [(503, {}, 0.0), (503, {}, 0.0)]
    result = deliver(hook(receiver.url), log, config())
    assert result.state == "sent" and "attempt 3" in result.detail
    assert len(receiver.requests) == 3
    assert {h["Idempotency-Key"] for _, h, _ in receiver.requests} == {KEY.idempotency_key}
    assert all(verify_signature(h["X-Hundred-Signature"], b, SECRET) for _, h, b in receiver.requests)


def test_retries_on_429_and_on_a_timeout(receiver, log):
    receiver.script = [(429, {"Retry-After": "0"}, 0.0), (200, {}, 1.0)]  # the second answers too late
    result = deliver(hook(receiver.url), log, config(webhook_timeout=0.3))
    assert result.state == "sent", result.detail
    assert len(receiver.requests) == 3
    assert {h["Idempotency-Key"] for _, h, _ in receiver.requests} == {KEY.idempotency_key}


def test_no_retry_on_400(receiver, log):
    receiver.script = [(400, {}, 0.0)]
    result = deliver(hook(receiver.url), log, config())
    assert result.state == "failed" and "HTTP 400" in result.detail and "refused by the receiver" in result.detail
    assert len(receiver.requests) == 1
    assert log.state(KEY.delivery_key("webhook")) == "failed"


def test_redirect_is_not_followed(receiver, log):
    receiver.script = [(302, {"Location": "http://169.254.169.254/latest/meta-data"}, 0.0)]
    result = deliver(hook(receiver.url), log, config())
    assert result.state == "failed" and "redirects are refused" in result.detail
    assert len(receiver.requests) == 1


def test_gives_up_within_the_budget_and_a_later_run_sends_again(receiver, log):
    receiver.script = [(500, {}, 0.0)] * 4
    started = time.monotonic()
    result = deliver(hook(receiver.url), log, config())
    assert result.state == "failed" and "retryable" in result.detail
    assert len(receiver.requests) == 4 and time.monotonic() - started < 5
    assert deliver(hook(receiver.url), log, config()).state == "sent"
    assert len(receiver.requests) == 5


def test_deadline_bounds_the_attempts(receiver):
    receiver.script = [(503, {"Retry-After": "30"}, 0.0)]
    started = time.monotonic()
    result = deliver(hook(receiver.url), MemoryLog(), config(webhook_deadline=2.0))
    assert result.state == "failed" and time.monotonic() - started < 2.5
    assert len(receiver.requests) == 1  # waiting 30 s would overrun the deadline


def test_left_sending_by_a_crash_is_sent_again_with_the_same_key(receiver, log):
    with pytest.raises(Crash):
        deliver(hook(receiver.url), CrashingLog(log, at="sent"), config())
    assert log.state(KEY.delivery_key("webhook")) == "sending"
    assert deliver(hook(receiver.url), log, config()).state == "sent"
    assert deliver(hook(receiver.url), log, config()).state == "already-sent"
    assert [h["Idempotency-Key"] for _, h, _ in receiver.requests] == [KEY.idempotency_key] * 2


def test_loopback_is_refused_unless_allowed(receiver, log):
    result = deliver(hook(receiver.url), log, config(allow_private_webhooks=False))
    assert result.state == "failed" and "127.0.0.1" in result.detail and "refused" in result.detail
    assert receiver.requests == []
    assert log.state(KEY.delivery_key("webhook")) == "failed"
    assert deliver(hook(receiver.url), log, config(allow_private_webhooks=True)).state == "sent"


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest",
        "http://[::1]:8080/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "ftp://example.com/",
        "file:///etc/passwd",
        "http:///nohost",
    ],
)
def test_non_public_or_non_http_targets_are_refused(url):
    assert resolved_addresses_refused(url) is not None


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Names in `answers` resolve to the next address of their list on each lookup."""
    real, asked = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        ip = answers[host][min(len(asked), len(answers[host])) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_request_is_pinned_to_the_checked_address(receiver, monkeypatch):
    """A name that answers differently on the second lookup (DNS rebinding) is not looked up again."""
    asked = fake_dns(monkeypatch, {"hooks.test": ["127.0.0.1", "10.255.255.1"]})
    port = receiver.server.server_address[1]
    result = deliver(
        hook(f"http://hooks.test:{port}/hooks/hundred"), MemoryLog(), config(webhook_timeout=1.0, webhook_attempts=1)
    )
    assert result.state == "sent", result.detail
    assert asked == ["hooks.test"]
    ((path, headers, _),) = receiver.requests
    assert headers["Host"] == f"hooks.test:{port}" and path == "/hooks/hundred"


def test_public_name_resolving_to_a_private_address_is_refused(receiver, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    port = receiver.server.server_address[1]
    result = deliver(hook(f"http://hooks.example.com:{port}/x"), MemoryLog(), config(allow_private_webhooks=False))
    assert result.state == "failed" and "resolves to 127.0.0.1" in result.detail
    assert receiver.requests == []


def test_public_address_passes():
    assert resolved_addresses_refused("https://93.184.215.14/hook") is None


def test_secret_from_the_touchs_secret_env(receiver):
    cfg = config(webhook_secret=None, environ={"CRM_SECRET": "crm-only"})
    assert deliver(hook(receiver.url, "CRM_SECRET"), MemoryLog(), cfg).state == "sent"
    ((_, headers, body),) = receiver.requests
    assert verify_signature(headers["X-Hundred-Signature"], body, "crm-only")


def test_missing_secret_fails_before_anything_is_sent(receiver):
    log = MemoryLog()
    assert deliver(hook(receiver.url), log, config(webhook_secret=None)).state == "failed"
    result = deliver(hook(receiver.url, "NOT_SET"), log, config(environ={}))
    assert result.state == "failed" and "NOT_SET" in result.detail
    assert receiver.requests == [] and log.state(KEY.delivery_key("webhook")) == "failed"


def test_signature_format_is_stable():
    assert sign(b"{}", "k", 1700000000) == (
        "t=1700000000,v1=" + hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    )
    assert not verify_signature(sign(b"{}", "k", 1700000000), b"{}", "k")  # too old
    assert verify_signature(sign(b"{}", "k", 1700000000), b"{}", "k", now=1700000100)
