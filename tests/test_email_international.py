"""International addresses from real CRM data, against aiosmtpd with and without
SMTPUTF8: an IDNA domain goes out as xn--; a non-ASCII part before '@' goes out with SMTPUTF8
when the server offers it, else nothing is sent and the touch fails saying why."""

from __future__ import annotations

import email
import email.policy

from deliverylog import log  # noqa: F401  (a fixture)
from test_channels_email import KEY, Inbox, config, smtp  # noqa: F401  (smtp is a fixture)

from hundred.adapters.channels import deliver
from hundred.rendering.content import EmailContent


class RawInbox(Inbox):
    """Keeps each message as received, parsed as UTF-8 (RFC 6532 headers), and the MAIL options."""

    def __init__(self):
        super().__init__()
        self.raw: list[tuple[list[str], list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        text = envelope.original_content.decode("utf-8")
        parsed = email.message_from_string(text, policy=email.policy.default)
        self.raw.append((list(envelope.mail_options), list(envelope.rcpt_tos), parsed))
        return await super().handle_DATA(server, session, envelope)


def to(address: str) -> EmailContent:
    return EmailContent(
        KEY, address, "Jörg Bäcker", "Willkommen", "Hallo Jörg!\n", "<p>Hallo Jörg!</p>", "Sanne", "sanne@example.nl"
    )


def test_an_international_domain_is_sent_in_its_idna_form_to_any_server(smtp, log, tmp_path):
    inbox, port = smtp(enable_SMTPUTF8=False)
    result = deliver(to("jan@bäckerei.de"), log, config(tmp_path, f"smtp://127.0.0.1:{port}"))
    assert result.state == "sent", result.detail
    ((_, rcpts, msg),) = inbox.messages
    assert rcpts == ["jan@xn--bckerei-5wa.de"]
    assert msg["To"].addresses[0].addr_spec == "jan@xn--bckerei-5wa.de"


def test_a_non_ascii_local_part_goes_out_with_smtputf8_when_the_server_offers_it(smtp, log, tmp_path):
    inbox, port = smtp(RawInbox(), enable_SMTPUTF8=True)
    result = deliver(to("jörg@bäckerei.de"), log, config(tmp_path, f"smtp://127.0.0.1:{port}"))
    assert result.state == "sent", result.detail
    ((options, rcpts, msg),) = inbox.raw
    assert "SMTPUTF8" in options and rcpts == ["jörg@xn--bckerei-5wa.de"]
    assert msg["To"].addresses[0].addr_spec == "jörg@xn--bckerei-5wa.de"
    assert msg["To"].addresses[0].display_name == "Jörg Bäcker"
    assert log.state(KEY.delivery_key("email")) == "sent"


def test_without_smtputf8_the_touch_fails_with_a_clear_reason_and_nothing_is_sent(smtp, log, tmp_path):
    inbox, port = smtp(enable_SMTPUTF8=False)
    result = deliver(to("jörg@bäckerei.de"), log, config(tmp_path, f"smtp://127.0.0.1:{port}"))
    assert result.state == "failed"
    assert "does not offer SMTPUTF8" in result.detail and "jörg@xn--bckerei-5wa.de" in result.detail
    assert "nothing was sent" in result.detail
    assert inbox.messages == [] and log.state(KEY.delivery_key("email")) == "failed"


def test_the_outbox_keeps_a_non_ascii_address_as_utf8(log, tmp_path):
    result = deliver(to("jörg@bäckerei.de"), log, config(tmp_path, None))
    assert result.state == "sent", result.detail
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    msg = email.message_from_string(eml.read_text(encoding="utf-8"), policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == "jörg@xn--bckerei-5wa.de"
