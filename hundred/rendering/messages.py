"""Rendered content → the email a person receives, as `email.message.EmailMessage` values.

The pure core of the email and task channels: no SMTP, no files. Everything that reaches a header
goes through `single_line` (a CR or LF can never start a new header; the deal model refuses them
upstream, this is the second line of defence) and addresses are built with
`email.headerregistry.Address`, so a display name is always quoted or encoded, never spliced in.

Bodies are quoted-printable and headers encoded words, so a message is plain 7-bit ASCII that any
SMTP server accepts without 8BITMIME or SMTPUTF8, and an `.eml` file any mail client opens. An
international domain (`jan@bäckerei.de`) goes out in its IDNA form (`xn--bckerei-5wa.de`). The one
exception: an address whose part before '@' is not ASCII (`jörg@example.de`) can only be written
in UTF-8 (RFC 6532); `needs_smtputf8` says so, and the email channel then sends it with SMTPUTF8,
or fails the touch when the server does not offer it.

`Auto-Submitted`: not set on the contact's email. It is written to read as a personal message
from the sender, and RFC 3834 would have the contact's out-of-office reply suppressed, which the
owner (Reply-To) wants to see. The owner's task email *is* machine-made, so it carries
`Auto-Submitted: auto-generated` and no vacation responder answers hundred.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from icalendar import Calendar, vCalAddress

from hundred.deals.checks import ascii_domain
from hundred.planning.identity import TouchKey
from hundred.rendering import invite as ics
from hundred.rendering.content import EmailContent, TaskContent, single_line
from hundred.rendering.invite import INVITE_LENGTH, PRODID, add_timezones  # noqa: F401  (one home: invite.py)


def address(addr_spec: str, display_name: str = "", what: str = "address") -> Address:
    """A checked `Address`: one mailbox, the domain in its IDNA (xn--) form; a non-ASCII local
    part is kept (the message then `needs_smtputf8`)."""
    single_line(addr_spec, what)
    single_line(display_name or "", f"{what} name")
    local, at, domain = addr_spec.strip().rpartition("@")
    if not at or not local or not domain or any(c in addr_spec for c in ' ,;<>"()'):
        raise ValueError(f"{what} {addr_spec!r} is not a single email address")
    try:
        domain = ascii_domain(domain)
    except ValueError as exc:
        raise ValueError(f"{what} {addr_spec!r} has an invalid domain: {exc}") from None
    try:
        return Address(display_name=display_name or "", username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{what} {addr_spec!r}: {exc}") from None


def needs_smtputf8(msg: EmailMessage) -> list[str]:
    """The addresses of `msg` whose part before '@' is not ASCII: such a message can only be sent
    with SMTPUTF8 (and written in UTF-8); [] for every other message."""
    found = []
    for name in ("From", "To", "Cc", "Reply-To"):
        header = msg[name]
        for addr in getattr(header, "addresses", ()) if header is not None else ():
            if not addr.username.isascii():
                found.append(addr.addr_spec)
    return found


def mailbox(spec: str, what: str = "mail_from") -> Address:
    """Parse a configured mailbox such as `hundred <hundred@example.com>` or a bare address."""
    single_line(spec, what)
    name, addr = parseaddr(spec)
    if not addr:
        raise ValueError(f"{what} {spec!r} is not an email address")
    return address(addr, name, what)


def mail_domain(mail_from: str) -> str:
    """The Message-ID domain when none is configured: the domain of the From address."""
    return mailbox(mail_from).domain


def _cte(text: str) -> str:
    """7bit for ASCII text with SMTP-legal lines (readable in an .eml), else quoted-printable."""
    return "7bit" if text.isascii() and all(len(x) <= 900 for x in text.splitlines()) else "quoted-printable"


def _headers(
    msg: EmailMessage, key: TouchKey, sender: Address, to: Address, subject: str, domain: str, now: datetime | None
) -> None:
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = single_line(subject, "subject")
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = key.message_id(domain)


def build_email(
    content: EmailContent, *, mail_from: str, domain: str | None = None, now: datetime | None = None
) -> EmailMessage:
    """The contact's email: From is the configured mailbox shown with the sender's name,
    Reply-To the owner, multipart/alternative text + HTML (text only when there is no HTML)."""
    if not content.to:
        raise ValueError(f"email {content.key.touch!r}: the deal has no contact email to send it to")
    configured = mailbox(mail_from)
    sender = Address(
        display_name=single_line(content.sender_name or configured.display_name, "sender name"),
        username=configured.username,
        domain=configured.domain,
    )
    msg = EmailMessage()
    _headers(
        msg,
        content.key,
        sender,
        address(content.to, content.to_name, "contact email"),
        content.subject,
        domain or configured.domain,
        now,
    )
    if content.reply_to:
        msg["Reply-To"] = address(content.reply_to, "", "reply-to (owner) email")
    msg.set_content(content.text, cte=_cte(content.text))
    if content.html:
        msg.add_alternative(content.html, subtype="html", cte=_cte(content.html))
    return msg


def build_task_email(
    content: TaskContent, *, mail_from: str, domain: str | None = None, now: datetime | None = None
) -> EmailMessage:
    """The owner's task: the brief as text and the invite attached as text/calendar
    (method REQUEST), so the owner's calendar offers to add it."""
    if not content.to:
        raise ValueError(f"task {content.key.touch!r}: the deal has no owner email to send the task to")
    now = now or datetime.now(UTC)
    sender = mailbox(mail_from)
    owner = address(content.to, content.to_name, "owner email")
    msg = EmailMessage()
    _headers(msg, content.key, sender, owner, content.title, domain or sender.domain, now)
    msg["Auto-Submitted"] = "auto-generated"
    lines = [content.brief.strip(), "", f"Due: {content.due:%Y-%m-%d %H:%M %Z}".rstrip()]
    if content.confirm:
        lines.append(f"When it is done: hundred task done {content.key.deal} {content.key.touch}")
    text = "\n".join(lines) + "\n"
    msg.set_content(text, cte=_cte(text))
    ics = as_request(
        content.ics,
        content.key,
        organizer=sender,
        attendee=owner,
        now=now,
        title=content.title,
        description=content.brief,
        start=content.due,
    )
    ics_text = ics.decode("utf-8")
    msg.add_attachment(
        ics_text, subtype="calendar", cte=_cte(ics_text), params={"method": "REQUEST"}, filename="invite.ics"
    )
    return msg


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo else value


def _cal_address(addr: Address, role: str | None = None) -> vCalAddress:
    cal_addr = vCalAddress(f"mailto:{addr.addr_spec}")
    if addr.display_name:
        cal_addr.params["cn"] = addr.display_name
    if role:
        cal_addr.params.update({"role": role, "partstat": "NEEDS-ACTION", "rsvp": "TRUE"})
    return cal_addr


def invite(
    key: TouchKey,
    *,
    title: str,
    description: str,
    start: datetime,
    organizer: Address | None = None,
    attendee: Address | None = None,
    now: datetime | None = None,
    length: timedelta = INVITE_LENGTH,
) -> bytes:
    """A VCALENDAR (METHOD:REQUEST) with one VEVENT, built by `invite.calendar` (one home for
    the VTIMEZONE, DTSTAMP and plain-text DESCRIPTION rules)."""
    return ics.calendar(
        key,
        title=title,
        brief=description,
        start=start,
        made_at=now or datetime.now(UTC),
        length=length,
        organizer=_cal_address(organizer) if organizer else None,
        attendee=_cal_address(attendee, "REQ-PARTICIPANT") if attendee else None,
    )


def as_request(
    ics: bytes | None,
    key: TouchKey,
    *,
    organizer: Address,
    attendee: Address,
    now: datetime,
    title: str,
    description: str,
    start: datetime,
) -> bytes:
    """The rendered invite made sendable: METHOD:REQUEST, UID = key.ics_uid, DTSTAMP now (in UTC),
    an ORGANIZER, the owner as ATTENDEE; times keep their zone and its VTIMEZONE. Without a
    rendered invite, one is built."""
    if not ics:
        return invite(
            key, title=title, description=description, start=start, organizer=organizer, attendee=attendee, now=now
        )
    try:
        cal = Calendar.from_ical(ics)
    except ValueError as exc:
        raise ValueError(f"task {key.touch!r}: the rendered invite is not valid iCalendar: {exc}") from None
    events = cal.walk("VEVENT")
    if len(events) != 1:
        raise ValueError(f"task {key.touch!r}: the rendered invite has {len(events)} events, not one")
    event = events[0]
    cal.pop("method", None)
    cal.add("method", "REQUEST")
    for name in ("uid", "dtstamp"):
        event.pop(name, None)
    event.add("uid", key.ics_uid)
    event.add("dtstamp", _utc(now))
    if "sequence" not in event:
        event.add("sequence", 0)
    if "organizer" not in event:
        event.add("organizer", _cal_address(organizer))
    if "attendee" not in event:
        event.add("attendee", _cal_address(attendee, "REQ-PARTICIPANT"))
    if "dtstart" in event:
        add_timezones(cal, event.decoded("dtstart").date())
    ical: bytes = cal.to_ical()  # icalendar is untyped
    return ical
