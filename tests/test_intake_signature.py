"""hundred's webhook signature: one format for the webhooks hundred sends and those it receives."""

from __future__ import annotations

from hundred.adapters.channels.signing import secrets_of, sign, verify_signature


def test_sign_and_verify_with_rotation_and_the_time_window():
    body = b'{"id": "D-1"}'
    header = sign(body, "old", 1_800_000_000)
    assert verify_signature(header, body, "new,old", now=1_800_000_000 + 299)
    assert not verify_signature(header, body, "new", now=1_800_000_000)
    assert not verify_signature(header, body, "new,old", now=1_800_000_000 + 301)
    assert not verify_signature(header, body, "new,old", now=1_800_000_000 - 301)
    assert not verify_signature(header, body + b" ", "old", now=1_800_000_000)
    assert not verify_signature(None, body, "old") and not verify_signature("v1=abc", body, "old")
    assert secrets_of(" a, ,b ") == ["a", "b"] and secrets_of(None) == []


def test_the_webhook_channel_signs_with_the_first_secret_in_the_same_format():
    from hundred.adapters.channels import webhook
    from hundred.adapters.channels.base import ChannelConfig

    assert webhook.sign is sign and webhook.verify_signature is verify_signature
    content = type("C", (), {"secret_env": None})()
    assert webhook._secret(content, ChannelConfig(webhook_secret="new,old")) == "new"
