"""hundred.rendering.messages: the emails a contact and an owner receive, parsed back as a mail client would."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from hundred.planning.identity import TouchKey
from hundred.rendering import messages
from hundred.rendering.content import EmailContent, TaskContent

KEY = TouchKey("D-1042", "onboarding", "v1", "welcome")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


def contact_email(**changes) -> EmailContent:
    values = dict(
        key=KEY,
        to="anna@example.nl",
        to_name="Anna de Vries, CEO",
        subject="Welkom bij Ács, Anna",
        text="Hallo Anna — welkom!\n",
        html="<!DOCTYPE html><html><body><p>Hallo Anna — welkom!</p></body></html>",
        sender_name="Jörg Müller",
        reply_to="jorg@acme.nl",
    )
    values.update(changes)
    return EmailContent(**values)


def task(**changes) -> TaskContent:
    values = dict(
        key=KEY,
        to="jorg@acme.nl",
        to_name="Jörg Müller",
        title="Bel Anna",
        brief="Vraag hoe de eerste week ging.\n\nTelefoon: 06 1234",
        ics=b"",
        due=DUE,
        confirm=True,
    )
    values.update(changes)
    return TaskContent(**values)


def content(part) -> str:
    """A part's text as a client shows it (line ends normalised)."""
    return part.get_content().replace("\r\n", "\n")


def received(msg) -> email.message.EmailMessage:
    """The message as a client parses it after SMTP (CRLF, 7-bit)."""
    raw = msg.as_bytes(policy=email.policy.SMTP)
    assert all(b < 128 for b in raw), "the message is 7-bit: any server takes it"
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_contact_email_headers_and_both_parts():
    msg = received(messages.build_email(contact_email(), mail_from="hundred <hello@acme.nl>", now=NOW))
    assert msg["From"].addresses[0].display_name == "Jörg Müller"
    assert msg["From"].addresses[0].addr_spec == "hello@acme.nl"
    assert msg["To"].addresses[0].display_name == "Anna de Vries, CEO"
    assert msg["To"].addresses[0].addr_spec == "anna@example.nl"
    assert msg["Reply-To"].addresses[0].addr_spec == "jorg@acme.nl"
    assert msg["Subject"] == "Welkom bij Ács, Anna"
    assert msg["Message-ID"] == KEY.message_id("acme.nl")
    assert msg["Date"].datetime == NOW
    assert "Auto-Submitted" not in msg  # a personal email: out-of-office replies should reach the owner
    assert msg.get_content_type() == "multipart/alternative"
    assert content(msg.get_body(("plain",))) == "Hallo Anna — welkom!\n"
    assert "<p>Hallo Anna — welkom!</p>" in content(msg.get_body(("html",)))


def test_message_id_domain_is_configurable_and_stable():
    a = messages.build_email(contact_email(), mail_from="hello@acme.nl", domain="mail.acme.nl")
    b = messages.build_email(contact_email(subject="Another"), mail_from="hello@acme.nl", domain="mail.acme.nl")
    assert a["Message-ID"] == b["Message-ID"] == KEY.message_id("mail.acme.nl")


def test_text_only_email_without_html():
    msg = received(messages.build_email(contact_email(html=""), mail_from="hello@acme.nl"))
    assert msg.get_content_type() == "text/plain"
    assert content(msg) == "Hallo Anna — welkom!\n"


@pytest.mark.parametrize(
    "field, value",
    [
        ("subject", "Hallo\r\nBcc: everyone@example.com"),
        ("subject", "Hallo\nX-Evil: 1"),
        ("to_name", "Anna\r\nBcc: everyone@example.com"),
        ("sender_name", "Jörg\nBcc: x@example.com"),
        ("to", "anna@example.nl\r\nBcc: x@example.com"),
        ("to", "anna@example.nl, boss@example.com"),
        ("reply_to", "jorg@acme.nl\nBcc: x@example.com"),
        ("to", ""),
        ("to", "not an address"),
        ("to", "jörg@exa mple.nl"),
    ],
)
def test_no_line_break_or_second_address_reaches_a_header(field, value):
    with pytest.raises(ValueError):
        messages.build_email(contact_email(**{field: value}), mail_from="hello@acme.nl")


def test_task_title_with_line_break_is_refused():
    with pytest.raises(ValueError, match="line break"):
        messages.build_task_email(task(title="Bel\r\nBcc: x@example.com"), mail_from="hello@acme.nl")


def test_mail_from_is_checked():
    with pytest.raises(ValueError):
        messages.build_email(contact_email(), mail_from="hundred <hello@acme.nl>\r\nBcc: x@example.com")
    assert messages.mail_domain("hundred <hello@acme.nl>") == "acme.nl"


def test_international_domain_is_punycoded():
    msg = received(messages.build_email(contact_email(to="anna@exämple.nl"), mail_from="hello@acme.nl"))
    assert msg["To"].addresses[0].addr_spec == "anna@xn--exmple-cua.nl"
    built = messages.build_email(contact_email(to="jan@Bäckerei.de"), mail_from="hello@acme.nl")
    assert built["To"].addresses[0].addr_spec == "jan@xn--bckerei-5wa.de"
    assert messages.needs_smtputf8(built) == []  # an IDNA domain alone is plain ASCII on the wire


def test_a_non_ascii_local_part_is_kept_and_the_message_needs_smtputf8():
    built = messages.build_email(contact_email(to="jörg@bäckerei.de"), mail_from="hello@acme.nl")
    assert messages.needs_smtputf8(built) == ["jörg@xn--bckerei-5wa.de"]
    raw = built.as_bytes(policy=email.policy.SMTPUTF8)
    assert "To: Anna <jörg@xn--bckerei-5wa.de>".encode() in raw or "jörg@xn--bckerei-5wa.de".encode() in raw


def invite_of(msg) -> tuple[Calendar, email.message.EmailMessage]:
    parts = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return Calendar.from_ical(parts[0].get_content()), parts[0]


def test_task_email_carries_the_brief_and_a_request_invite():
    msg = received(messages.build_task_email(task(), mail_from="hundred <hello@acme.nl>", now=NOW))
    assert msg["To"].addresses[0].addr_spec == "jorg@acme.nl"
    assert msg["Subject"] == "Bel Anna"
    assert msg["Message-ID"] == KEY.message_id("acme.nl")
    assert msg["Auto-Submitted"] == "auto-generated"
    body = content(msg.get_body(("plain",)))
    assert "Vraag hoe de eerste week ging." in body and "hundred task done D-1042 welcome" in body
    cal, part = invite_of(msg)
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "invite.ics"
    assert str(cal["METHOD"]) == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == KEY.ics_uid
    assert event.decoded("DTSTAMP") == NOW
    assert event.decoded("DTSTART") == DUE
    assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"  # the planned zone, with its VTIMEZONE
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)
    assert str(event["ORGANIZER"]) == "mailto:hello@acme.nl"
    assert str(event["ATTENDEE"]) == "mailto:jorg@acme.nl"
    assert str(event["SUMMARY"]) == "Bel Anna"


def test_rendered_invite_is_made_a_request_with_the_touch_uid():
    rendered = messages.invite(
        TouchKey("other", "j", "v", "t"), title="Bel Anna", description="brief", start=DUE, now=NOW - timedelta(days=3)
    )
    cal = Calendar.from_ical(rendered)
    cal.pop("METHOD")
    msg = received(messages.build_task_email(task(ics=cal.to_ical()), mail_from="hello@acme.nl", now=NOW))
    cal, _ = invite_of(msg)
    (event,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == KEY.ics_uid
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["ORGANIZER"]) == "mailto:hello@acme.nl"


def test_task_without_owner_email_cannot_be_sent():
    with pytest.raises(ValueError, match="no owner email"):
        messages.build_task_email(task(to=None), mail_from="hello@acme.nl")


def test_task_with_confirm_false_does_not_ask_to_be_marked_done():
    msg = received(messages.build_task_email(task(confirm=False), mail_from="hello@acme.nl"))
    assert "task done" not in content(msg.get_body(("plain",)))
