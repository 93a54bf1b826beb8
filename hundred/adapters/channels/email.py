"""Email out: over SMTP when `smtp_url` is set, else as `.eml` files in the outbox folder.

`smtp_url` forms: `smtp://host:25` (STARTTLS when the server offers it), `smtp://user:pass@host:587
?starttls=true` (STARTTLS required), `smtp://host:25?starttls=false` (never), `smtps://host:465`
(implicit TLS). `cafile=/path/ca.pem` trusts a private CA; certificates are always verified.
User and password are URL-decoded; credentials are never sent over an unencrypted connection unless
the URL says `starttls=false`.

The one ambiguous window: the delivery row is `pending` while connecting, STARTTLS, AUTH, MAIL FROM,
RCPT TO and the DATA command, and becomes `sending` (a compare-and-set: of two runs, one sends)
once the server has said "354 go ahead" and holds the message's text, just before the closing dot,
until the server's 250 is recorded as `sent`. Claiming there rather than before DATA leaves a kill
only the moment between the claim's commit and the dot's leaving (no round trip, no message bytes):
a run that dies before its claim is committed leaves a message without its closing dot, which an
SMTP server drops (RFC 5321: only the end-of-data mark makes it take the message), and the row
`pending`, so a retry sends. A run that dies (or loses the connection) after the claim leaves
`sending` behind, and the server may or may not have accepted the message. A retry does NOT send
again: it answers `uncertain`, naming the Message-ID to look up in the mail server's log. A clean
refusal (connection refused, TLS or AUTH failure, MAIL FROM / RCPT TO / DATA refused with a reply
code) means nothing was accepted: the row becomes `failed` and a retry sends.

The outbox has no such window: a file is written to a temporary name, then linked to
`<Message-ID local part>.eml`; an existing file means sent.

An address with a non-ASCII part before '@' (`jörg@bäckerei.de`; the domain itself always goes in
its xn-- form) needs SMTPUTF8 (RFC 6531): the message is written in UTF-8 and sent with the
SMTPUTF8 parameter when the server offers it; when it does not, nothing is sent and the touch
fails saying so (a clean refusal: a retry once the server offers it sends).
"""

from __future__ import annotations

import email.policy
import functools
import os
import re
import smtplib
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from hundred.adapters.channels.base import FAILED, PENDING, SENDING, SENT, ChannelConfig, begin, current_state
from hundred.planning.identity import TouchKey
from hundred.rendering import messages
from hundred.rendering.content import EmailContent, TaskContent
from hundred.service.ports import DeliveryLog, DeliveryResult

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    tls: str  # "implicit" | "starttls" (required) | "auto" (if offered) | "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp[s]://[user[:pass]@]host[:port][?starttls=true|false&cafile=PATH]` → SmtpTarget."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"smtp_url must start with smtp:// or smtps://, not {parts.scheme or url!r}://")
    if not parts.hostname:
        raise ValueError("smtp_url has no host")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "cafile"}
    if unknown:
        raise ValueError(f"smtp_url: unknown option(s) {', '.join(sorted(unknown))}; use starttls, cafile")
    starttls = query.get("starttls", "").lower()
    if starttls and starttls not in _TRUE | _FALSE:
        raise ValueError(f"smtp_url: starttls={starttls!r}; use true or false")
    if parts.scheme == "smtps":
        if starttls in _TRUE:
            raise ValueError("smtp_url: smtps:// is TLS from the start; starttls does not apply")
        tls = "implicit"
    else:
        tls = "starttls" if starttls in _TRUE else "none" if starttls in _FALSE else "auto"
    try:
        port = parts.port or (465 if tls == "implicit" else 25)
    except ValueError as exc:
        raise ValueError(f"smtp_url: {exc}") from None
    return SmtpTarget(
        parts.hostname,
        port,
        tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        query.get("cafile"),
    )


class SmtpRefused(Exception):
    """Nothing was accepted: connecting, TLS, AUTH, MAIL FROM, RCPT TO or DATA was refused."""


class SmtpUncertain(Exception):
    """The connection broke after DATA started: the server may have accepted the message."""


class NotClaimed(Exception):
    """`before_data` said no (another run holds the delivery): the transaction was abandoned."""


_tls_lock = threading.Lock()


def tls_context(cafile: str | None) -> ssl.SSLContext:
    """The verifying TLS context for a CA file (None: the system's), made once per process, and
    only for a connection that uses TLS: loading the CA store costs ~100 ms of CPU, more than the
    rest of a delivery, and the first touches of a run, eight threads at once, each made one before
    the lock (bench/burst.py)."""
    with _tls_lock:
        return _tls_context(cafile)


@functools.lru_cache(maxsize=8)
def _tls_context(cafile: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)


def _said(reply: bytes | str) -> str:
    """A server's reply as text (smtplib keeps it as bytes; its exceptions are typed as either)."""
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def smtp_send(
    target: SmtpTarget,
    sender: str,
    recipients: list[str],
    data: bytes,
    timeout: float = 30.0,
    before_data: Callable[[], bool] | None = None,
    smtputf8: list[str] | None = None,
) -> str:
    """One SMTP transaction; returns the server's final reply. Raises SmtpRefused or SmtpUncertain.

    `before_data` runs once the server has accepted sender and recipients, answered DATA with 354
    and been sent the message's text, just before the closing dot (the channel records `sending`
    there, so a failure up to then leaves the row `pending`); when it returns False, or raises, the
    connection is closed without the dot, so the server discards the message (NotClaimed, or the
    error). `smtputf8`: the addresses that need SMTPUTF8 (a server that does not offer it refuses,
    before anything is sent)."""
    where = f"{target.host}:{target.port}"
    try:
        conn: smtplib.SMTP
        if target.tls == "implicit":
            conn = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=tls_context(target.cafile))
        else:
            conn = smtplib.SMTP(target.host, target.port, timeout=timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpRefused(f"could not connect to the SMTP server {where}: {exc}") from exc
    data_started = False
    mid_data = False  # between the 354 and the server's answer to the closing dot
    try:
        conn.ehlo()
        encrypted = target.tls == "implicit"
        if target.tls == "starttls" or (target.tls == "auto" and conn.has_extn("starttls")):
            if not conn.has_extn("starttls"):
                raise SmtpRefused(f"the SMTP server {where} does not offer STARTTLS (smtp_url says starttls=true)")
            conn.starttls(context=tls_context(target.cafile))
            conn.ehlo()
            encrypted = True
        if target.username:
            if not encrypted and target.tls != "none":
                raise SmtpRefused(
                    f"the SMTP server {where} offers no TLS; not sending the password in clear "
                    "(add ?starttls=false to the smtp_url to allow it)"
                )
            conn.login(target.username, target.password or "")
        options: list[str] = []
        if smtputf8:
            if not conn.has_extn("smtputf8"):
                raise SmtpRefused(
                    f"the SMTP server {where} does not offer SMTPUTF8, which {', '.join(smtputf8)} needs (a non-ASCII "
                    "part before '@'); nothing was sent: ask the contact for another address, or use a server "
                    "that offers SMTPUTF8"
                )
            options = ["SMTPUTF8"] + (["BODY=8BITMIME"] if conn.has_extn("8bitmime") else [])
        code, reply = conn.mail(sender, options)
        if code != 250:
            raise SmtpRefused(f"MAIL FROM refused: {code} {reply.decode(errors='replace')}")
        for rcpt in recipients:
            code, reply = conn.rcpt(rcpt)
            if code not in (250, 251):
                raise SmtpRefused(f"RCPT TO {rcpt} refused: {code} {reply.decode(errors='replace')}")
        code, reply = conn.docmd("data")
        if code != 354:
            raise SmtpRefused(f"DATA refused: {code} {_said(reply)}")
        mid_data = True
        conn.send(dot_stuffed(data))  # all but the closing dot: without it, the server keeps nothing
        if before_data is not None and not before_data():
            raise NotClaimed()
        data_started = True
        conn.send(b".\r\n")
        code, reply = conn.getreply()
        mid_data = False
        if code != 250:
            raise SmtpRefused(f"message refused after DATA: {code} {_said(reply)}")
        return f"{code} {_said(reply)}"
    except (SmtpRefused, SmtpUncertain, NotClaimed):
        raise
    except (OSError, smtplib.SMTPException) as exc:
        if data_started:
            raise SmtpUncertain(f"connection to {where} broke after DATA started: {exc!r}") from exc
        raise SmtpRefused(f"SMTP with {where} failed before DATA: {exc!r}") from exc
    finally:
        _hang_up(conn, abandon=mid_data)


def dot_stuffed(data: bytes) -> bytes:
    """The message as DATA's body (RFC 5321 4.5.2), as smtplib's `data` sends it: a line that
    starts with '.' gets another, and it ends with CRLF; the closing '.' CRLF is sent apart."""
    body = re.sub(rb"(?m)^\.", b"..", data)
    return body if body.endswith(b"\r\n") else body + b"\r\n"


def _hang_up(conn: smtplib.SMTP, abandon: bool) -> None:
    """QUIT politely; mid-DATA, close instead: a QUIT there would be read as the message's text,
    and a connection closed before the closing dot makes the server drop the message."""
    if not abandon:
        try:
            conn.quit()
            return
        except (OSError, smtplib.SMTPException):
            pass
    conn.close()


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as sent and as stored: CRLF line ends, 7-bit; UTF-8 headers only when an
    address needs them (`messages.needs_smtputf8`)."""
    policy = email.policy.SMTPUTF8 if messages.needs_smtputf8(msg) else email.policy.SMTP
    return msg.as_bytes(policy=policy)


def outbox_name(message_id: str) -> str:
    """`<D-1.j.t@example.com>` → `D-1.j.t.eml` (the Message-ID's safe local part)."""
    return message_id.strip("<>").rpartition("@")[0] + ".eml"


def write_once(path: Path, data: bytes) -> bool:
    """Write `path` atomically unless it exists (tmp + fsync + link); False if it already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if the name exists: create-if-absent, atomically
        except FileExistsError:
            return False
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True
    finally:
        os.unlink(tmp)


def send_message(
    msg: EmailMessage,
    *,
    key: TouchKey,
    channel: str,
    log: DeliveryLog,
    config: ChannelConfig,
    data: bytes,
) -> DeliveryResult:
    """Deliver a built message once, recording pending → sending → sent | failed in `log`.
    `data`: the message's bytes (`message_bytes(msg)`), written out once by the caller, which
    had to write them to check that they could be: the bytes checked are the bytes sent."""
    message_id = str(msg["Message-ID"])
    sender = messages.mailbox(config.mail_from).addr_spec
    recipients = [a.addr_spec for a in msg["To"].addresses]
    try:
        target = parse_smtp_url(config.smtp_url) if config.smtp_url else None
    except ValueError as exc:
        return DeliveryResult("failed", f"not sent: {exc}", message_id)
    dkey, state = begin(log, key, channel, message_id)
    if state == SENT:
        return DeliveryResult("already-sent", f"already sent (Message-ID {message_id})", message_id)
    if target is None:
        return _to_outbox(data, dkey, message_id, log, config)
    if state == SENDING:
        return _uncertain(key, message_id, target, "an earlier run started sending it and did not record the outcome")

    claimed = []

    def claim() -> bool:  # compare-and-set: of two runs, one sends
        claimed.append(log.mark_delivery(dkey, SENDING, from_states=(PENDING, FAILED)))
        return claimed[0]

    try:
        reply = smtp_send(
            target,
            sender,
            recipients,
            data,
            timeout=config.smtp_timeout,
            before_data=claim,
            smtputf8=messages.needs_smtputf8(msg),
        )
    except NotClaimed:
        if current_state(log, key, channel, message_id) == SENT:
            return DeliveryResult("already-sent", f"already sent (Message-ID {message_id})", message_id)
        return _uncertain(key, message_id, target, "another run is sending it now")
    except SmtpRefused as exc:
        # only this run's own row: never overwrite another run's `sending`
        mine = (SENDING,) if claimed == [True] else (PENDING, FAILED)
        log.mark_delivery(dkey, FAILED, detail=str(exc), from_states=mine)
        return DeliveryResult("failed", f"not sent: {exc}", message_id)
    except SmtpUncertain as exc:
        return _uncertain(key, message_id, target, str(exc))
    detail = f"accepted by {target.host}:{target.port}: {reply}"
    log.mark_delivery(dkey, SENT, detail=detail, from_states=(SENDING,))
    return DeliveryResult("sent", detail, message_id)


def _uncertain(key: TouchKey, message_id: str, target: SmtpTarget, why: str) -> DeliveryResult:
    return DeliveryResult(
        "uncertain",
        f"may already have been delivered (Message-ID {message_id}); check the mail server's log "
        f"({target.host}), then `hundred retry {key.deal} {key.touch} --delivered` if it is there or "
        f"`--not-delivered` if it is not: {why}",
        message_id,
    )


def _to_outbox(data: bytes, dkey: str, message_id: str, log: DeliveryLog, config: ChannelConfig) -> DeliveryResult:
    path = Path(config.outbox_dir) / outbox_name(message_id)
    log.mark_delivery(dkey, SENDING, from_states=(PENDING, FAILED, SENDING))
    try:
        wrote = write_once(path, data)
    except OSError as exc:
        log.mark_delivery(dkey, FAILED, detail=f"could not write {path}: {exc}", from_states=(SENDING,))
        return DeliveryResult("failed", f"could not write {path}: {exc}", message_id)
    log.mark_delivery(dkey, SENT, detail=f"written to {path}", from_states=(SENDING,))
    if not wrote:
        return DeliveryResult("already-sent", f"already in the outbox: {path}", message_id)
    return DeliveryResult("sent", f"written to {path}", message_id)


def deliver_built(
    content: EmailContent | TaskContent,
    build: Callable[..., EmailMessage],
    what: str,
    *,
    channel: str,
    log: DeliveryLog,
    config: ChannelConfig,
) -> DeliveryResult:
    """Build the message (`build(content, mail_from=…, domain=…)`), then send it once. One that
    cannot be built (or written out: a header the policy refuses) fails before anything is
    recorded; its bytes are what is sent."""
    try:
        msg = build(content, mail_from=config.mail_from, domain=config.mail_domain)
        data = message_bytes(msg)
    except (ValueError, TypeError) as exc:
        return DeliveryResult("failed", f"cannot build the {what}: {exc}")
    return send_message(msg, key=content.key, channel=channel, log=log, config=config, data=data)


def deliver_email(content: EmailContent, log: DeliveryLog, config: ChannelConfig) -> DeliveryResult:
    """The contact's email, once."""
    return deliver_built(content, messages.build_email, "email", channel="email", log=log, config=config)
