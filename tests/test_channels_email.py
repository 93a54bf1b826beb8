"""Email and task channels against a real SMTP server (aiosmtpd on 127.0.0.1), and the outbox.

Every delivery test runs with the in-memory DeliveryLog and with the real ledger (deliverylog.log).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import ipaddress
import ssl
import time
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult
from deliverylog import Crash, CrashingLog, MemoryLog, log  # noqa: F401  (log is a fixture)
from icalendar import Calendar
from ports import free_port
from smtp_inbox import Inbox, smtp  # noqa: F401 (smtp is a fixture)

from hundred.adapters.channels import ChannelConfig, deliver, parse_smtp_url
from hundred.planning.identity import TouchKey
from hundred.rendering.content import EmailContent, TaskContent

KEY = TouchKey("D-1042", "onboarding", "v1", "welcome")
TASK_KEY = TouchKey("D-1042", "onboarding", "v1", "call")
MAIL_FROM = "hundred <hello@acme.nl>"


def contact_email(key: TouchKey = KEY) -> EmailContent:
    return EmailContent(
        key,
        "anna@example.nl",
        "Anna de Vries",
        "Welkom, Anna",
        "Hallo Anna!\n",
        "<html><body><p>Hallo Anna!</p></body></html>",
        "Jörg Müller",
        "jorg@acme.nl",
    )


def owner_task() -> TaskContent:
    due = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    return TaskContent(TASK_KEY, "jorg@acme.nl", "Jörg Müller", "Bel Anna", "Vraag hoe het gaat.", b"", due, True)


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost / 127.0.0.1 (cert.pem doubles as the CA file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def server_context(cert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    return context


def check_login(logins: list[str]):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret:/@"
        logins.append(f"{mechanism}:{auth_data.login.decode()}:{ok}")
        return AuthResult(success=ok, handled=False)

    return authenticator


def config(tmp_path: Path, smtp_url: str | None, **changes) -> ChannelConfig:
    return ChannelConfig(
        mail_from=MAIL_FROM,
        smtp_url=smtp_url,
        outbox_dir=tmp_path / "outbox",
        smtp_timeout=changes.pop("smtp_timeout", 5.0),
        **changes,
    )


def test_email_arrives_with_the_headers_a_person_sees(smtp, log, tmp_path):
    inbox, port = smtp()
    result = deliver(contact_email(), log, config(tmp_path, f"smtp://127.0.0.1:{port}"))
    assert result.state == "sent" and result.message_id == KEY.message_id("acme.nl")
    ((mail_from, rcpts, msg),) = inbox.messages
    assert mail_from == "hello@acme.nl" and rcpts == ["anna@example.nl"]
    assert str(msg["From"]) == "Jörg Müller <hello@acme.nl>"
    assert str(msg["To"]) == "Anna de Vries <anna@example.nl>"
    assert str(msg["Reply-To"]) == "jorg@acme.nl"
    assert msg["Subject"] == "Welkom, Anna"
    assert msg["Message-ID"] == KEY.message_id("acme.nl")
    assert msg.get_body(("plain",)).get_content().strip() == "Hallo Anna!"
    assert "<p>Hallo Anna!</p>" in msg.get_body(("html",)).get_content()
    assert log.state(KEY.delivery_key("email")) == "sent"


def test_task_reaches_the_owner_with_an_invite(smtp, log, tmp_path):
    inbox, port = smtp()
    result = deliver(owner_task(), log, config(tmp_path, f"smtp://127.0.0.1:{port}"))
    assert result.state == "sent"
    ((_, rcpts, msg),) = inbox.messages
    assert rcpts == ["jorg@acme.nl"] and msg["Subject"] == "Bel Anna"
    assert "Vraag hoe het gaat." in msg.get_body(("plain",)).get_content()
    (invite,) = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert invite.get_param("method") == "REQUEST"
    cal = Calendar.from_ical(invite.get_content())
    (event,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "REQUEST" and str(event["UID"]) == TASK_KEY.ics_uid
    assert abs(event.decoded("DTSTAMP") - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert log.state(TASK_KEY.delivery_key("task")) == "sent"


def test_starttls_with_credentials(smtp, cert, log, tmp_path):
    logins: list[str] = []
    inbox, port = smtp(
        tls_context=server_context(cert),
        require_starttls=True,
        authenticator=check_login(logins),
        auth_require_tls=True,
    )
    url = f"smtp://mailer:s3cret%3A%2F%40@localhost:{port}?starttls=true&cafile={cert[0]}"
    result = deliver(contact_email(), log, config(tmp_path, url))
    assert result.state == "sent", result.detail
    assert len(inbox.messages) == 1 and logins[-1].endswith(":mailer:True")


def test_implicit_tls(smtp, cert, log, tmp_path):
    inbox, port = smtp(ssl_context=server_context(cert))
    result = deliver(contact_email(), log, config(tmp_path, f"smtps://localhost:{port}?cafile={cert[0]}"))
    assert result.state == "sent", result.detail
    assert len(inbox.messages) == 1


def test_untrusted_certificate_is_a_clean_failure(smtp, cert, log, tmp_path):
    inbox, port = smtp(tls_context=server_context(cert), require_starttls=True)
    result = deliver(contact_email(), log, config(tmp_path, f"smtp://localhost:{port}?starttls=true"))
    assert result.state == "failed" and "CERTIFICATE_VERIFY_FAILED" in result.detail
    assert inbox.messages == [] and log.state(KEY.delivery_key("email")) == "failed"


def test_wrong_password_fails_and_password_never_goes_out_in_clear(smtp, cert, log, tmp_path):
    logins: list[str] = []
    inbox, port = smtp(tls_context=server_context(cert), authenticator=check_login(logins))
    url = f"smtp://mailer:wrong@localhost:{port}?starttls=true&cafile={cert[0]}"
    result = deliver(contact_email(), log, config(tmp_path, url))
    assert result.state == "failed" and "535" in result.detail
    assert logins and all(entry.endswith(":mailer:False") for entry in logins)
    plain_logins: list[str] = []
    plain, plain_port = smtp(authenticator=check_login(plain_logins), auth_require_tls=False)
    url = f"smtp://mailer:s3cret%3A%2F%40@127.0.0.1:{plain_port}"
    result = deliver(contact_email(), log, config(tmp_path, url))
    assert result.state == "failed" and "password in clear" in result.detail
    assert plain_logins == [] and inbox.messages == plain.messages == []


def test_crash_between_pending_and_send_then_retry_sends_once(smtp, log, tmp_path):
    """The claim fails after the server holds the message's text: it never gets the closing dot,
    keeps nothing, and the connection is closed at once (a QUIT would be read as text and hang)."""
    inbox, port = smtp()
    cfg = config(tmp_path, f"smtp://127.0.0.1:{port}", smtp_timeout=20)
    started = time.monotonic()
    with pytest.raises(Crash):
        deliver(contact_email(), CrashingLog(log, at="sending"), cfg)
    assert time.monotonic() - started < 5
    time.sleep(0.3)
    assert log.state(KEY.delivery_key("email")) == "pending" and inbox.messages == []
    assert deliver(contact_email(), log, cfg).state == "sent"
    assert deliver(contact_email(), log, cfg).state == "already-sent"
    assert len(inbox.messages) == 1


def test_a_run_killed_hard_before_its_claim_leaves_nothing_at_the_server(smtp, tmp_path):
    """SIGKILL while claiming: the kernel closes the socket after the message's text but before
    the closing dot, so the server drops it, and a retry (the row still `pending`) sends it once."""
    import subprocess
    import sys

    inbox, port = smtp()
    script = (
        "import os, signal, sys\n"
        "from hundred.adapters.channels.email import SmtpTarget, smtp_send\n"
        "claim = lambda: os.kill(os.getpid(), signal.SIGKILL) if sys.argv[2] == 'kill' else True\n"
        "smtp_send(SmtpTarget('127.0.0.1', int(sys.argv[1]), 'none'), 'a@acme.nl', ['b@example.nl'],\n"
        "          b'Message-ID: <m@acme.nl>\\r\\nSubject: hi\\r\\n\\r\\nHallo\\r\\n', before_data=claim)\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(port), "kill"], timeout=60)
    assert killed.returncode == -9
    time.sleep(0.5)
    assert inbox.messages == []
    subprocess.run([sys.executable, "-c", script, str(port), "claim"], timeout=60, check=True)
    assert [str(r.message["Subject"]) for r in inbox.messages] == ["hi"]


def test_lines_that_start_with_a_dot_arrive_as_written(smtp, log, tmp_path):
    inbox, port = smtp()
    content = contact_email()
    dotted = dataclasses.replace(content, text=".. dots lead this line\n.\nand a lone dot above\n")
    assert deliver(dotted, log, config(tmp_path, f"smtp://127.0.0.1:{port}")).state == "sent"
    (received,) = inbox.messages
    plain = received.message.get_body(("plain",)).get_content()
    assert plain.replace("\r\n", "\n").startswith(".. dots lead this line\n.\nand a lone dot above\n")


def test_crash_after_the_server_accepted_is_uncertain_not_resent(smtp, log, tmp_path):
    """The one ambiguous window: accepted by the server, killed before `sent` was recorded."""
    inbox, port = smtp()
    cfg = config(tmp_path, f"smtp://127.0.0.1:{port}")
    with pytest.raises(Crash):
        deliver(contact_email(), CrashingLog(log, at="sent"), cfg)
    assert len(inbox.messages) == 1 and log.state(KEY.delivery_key("email")) == "sending"
    result = deliver(contact_email(), log, cfg)
    assert result.state == "uncertain"
    assert "may already have been delivered" in result.detail and KEY.message_id("acme.nl") in result.detail
    assert "check the mail server's log" in result.detail
    assert len(inbox.messages) == 1


class RacedLog(MemoryLog):
    """Another run claims the delivery between this run's begin_delivery and its DATA."""

    def begin_delivery(self, key, *args, **kwargs):
        row = super().begin_delivery(key, *args, **kwargs)
        if self.rows[key].state == "pending":
            self.rows[key].state = "sending"
        return row


def test_two_runs_racing_send_once(smtp, tmp_path):
    inbox, port = smtp()
    result = deliver(contact_email(), RacedLog(), config(tmp_path, f"smtp://127.0.0.1:{port}"))
    assert result.state == "uncertain" and "another run is sending it now" in result.detail
    assert inbox.messages == []


def test_connection_lost_after_data_is_uncertain(smtp, log, tmp_path):
    """The server takes longer than our timeout to answer DATA, then accepts anyway."""
    inbox = Inbox()
    inbox.data_delay = 1.0
    _, port = smtp(inbox)
    cfg = config(tmp_path, f"smtp://127.0.0.1:{port}", smtp_timeout=0.3)
    result = deliver(contact_email(), log, cfg)
    assert result.state == "uncertain" and "after DATA started" in result.detail
    assert inbox.arrived.wait(5)
    assert deliver(contact_email(), log, config(tmp_path, f"smtp://127.0.0.1:{port}")).state == "uncertain"
    time.sleep(0.2)
    assert len(inbox.messages) == 1 and log.state(KEY.delivery_key("email")) == "sending"


def test_sent_is_never_sent_again(smtp, log, tmp_path):
    inbox, port = smtp()
    cfg = config(tmp_path, f"smtp://127.0.0.1:{port}")
    results = [deliver(contact_email(), log, cfg).state for _ in range(3)]
    assert results == ["sent", "already-sent", "already-sent"] and len(inbox.messages) == 1


@pytest.mark.parametrize("refusal", ["rcpt", "data"])
def test_clean_refusal_fails_and_a_retry_sends(smtp, log, tmp_path, refusal):
    inbox, port = smtp()
    if refusal == "rcpt":
        inbox.refuse_rcpt = "550 5.1.1 no such user"
    else:
        inbox.refuse_data = "554 5.7.1 rejected as spam"
    cfg = config(tmp_path, f"smtp://127.0.0.1:{port}")
    result = deliver(contact_email(), log, cfg)
    assert result.state == "failed" and ("550" in result.detail or "554" in result.detail)
    assert log.state(KEY.delivery_key("email")) == "failed" and inbox.messages == []
    inbox.refuse_rcpt = inbox.refuse_data = None
    assert deliver(contact_email(), log, cfg).state == "sent"
    assert len(inbox.messages) == 1


def test_connection_refused_fails_retryably(log, tmp_path):
    result = deliver(contact_email(), log, config(tmp_path, f"smtp://127.0.0.1:{free_port()}"))
    assert result.state == "failed" and "could not connect" in result.detail
    assert log.state(KEY.delivery_key("email")) == "failed"


def test_outbox_writes_one_eml_and_a_second_delivery_none(log, tmp_path):
    cfg = config(tmp_path, None)
    first, second = deliver(contact_email(), log, cfg), deliver(contact_email(), log, cfg)
    assert (first.state, second.state) == ("sent", "already-sent")
    (path,) = (tmp_path / "outbox").iterdir()
    assert path.name == "D-1042.onboarding.welcome.eml"
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["Message-ID"] == KEY.message_id("acme.nl") and msg["Subject"] == "Welkom, Anna"
    assert log.state(KEY.delivery_key("email")) == "sent"


def test_outbox_file_left_by_a_crashed_run_counts_as_sent(tmp_path):
    log = MemoryLog()
    cfg = config(tmp_path, None)
    with pytest.raises(Crash):
        deliver(contact_email(), CrashingLog(log, at="sent"), cfg)
    assert log.state(KEY.delivery_key("email")) == "sending"
    assert deliver(contact_email(), log, cfg).state == "already-sent"
    assert len(list((tmp_path / "outbox").iterdir())) == 1
    assert log.state(KEY.delivery_key("email")) == "sent"


def test_outbox_task_has_its_invite(log, tmp_path):
    assert deliver(owner_task(), log, config(tmp_path, None)).state == "sent"
    (path,) = (tmp_path / "outbox").iterdir()
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert [p.get_content_type() for p in msg.iter_attachments()] == ["text/calendar"]


def test_unbuildable_email_fails_before_anything_is_recorded(tmp_path):
    log = MemoryLog()
    bad = EmailContent(KEY, "", "Anna", "Hi", "t", "", "S", None)
    result = deliver(bad, log, config(tmp_path, None))
    assert result.state == "failed" and "no contact email" in result.detail
    assert log.rows == {}


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://mail.acme.nl", ("mail.acme.nl", 25, "auto", None, None)),
        ("smtp://u%40x:p%3Aw@mail.acme.nl:587?starttls=true", ("mail.acme.nl", 587, "starttls", "u@x", "p:w")),
        ("smtp://mail.acme.nl:2525?starttls=false", ("mail.acme.nl", 2525, "none", None, None)),
        ("smtps://mail.acme.nl", ("mail.acme.nl", 465, "implicit", None, None)),
    ],
)
def test_smtp_url_forms(url, expected):
    target = parse_smtp_url(url)
    assert (target.host, target.port, target.tls, target.username, target.password) == expected
    assert "p:w" not in repr(target)


@pytest.mark.parametrize(
    "url", ["http://mail.acme.nl", "smtp://", "smtp://h?starttls=maybe", "smtps://h?starttls=true", "smtp://h?tls=1"]
)
def test_bad_smtp_url_is_refused(url):
    with pytest.raises(ValueError):
        parse_smtp_url(url)


def test_channels_import_only_the_core():
    import subprocess
    import sys

    code = (
        "import sys, hundred.rendering.messages; assert not {'smtplib', 'httpx'} & set(sys.modules), 'core'; "
        "import hundred.adapters.channels, hundred.adapters.channels.webhook; "
        "bad = {m for m in sys.modules if m.split('.')[0] in ('prefect', 'sqlalchemy', 'fastapi')"
        " or m.startswith(('hundred.adapters.ledger', 'hundred.service.settings', 'hundred.service.runtime'))}; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_connection_without_tls_loads_no_certificate_store(smtp, log, tmp_path):
    """Loading the CA store costs ~100 ms of CPU: only a connection that uses TLS pays it."""
    from hundred.adapters.channels.email import _tls_context

    inbox, port = smtp()
    _tls_context.cache_clear()
    assert deliver(contact_email(), log, config(tmp_path, f"smtp://127.0.0.1:{port}")).state == "sent"
    assert len(inbox.messages) == 1 and _tls_context.cache_info().currsize == 0
