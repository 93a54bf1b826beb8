"""Issue 6, category 5: journey values that parse but make no sense, and webhook URLs that reach inside.

Each case asserts the words of the message, its line and column, and that a hint comes with it.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from conftest import MINIMAL_JOURNEY, email, journey_yaml, letter, line_of, phase, task

from hundred.journeys.fields import parse_duration
from hundred.journeys.webhook_urls import allow_private_webhooks, check_resolved_webhook_url, check_webhook_url
from hundred.validation.validate import check_file

FILE = "journeys/x.yaml"


def problems(make_journey, text: str):
    checked = check_file(make_journey(text))
    assert all(p.file == FILE and p.hint for p in checked.problems), "\n".join(map(str, checked.problems))
    return checked


def one(make_journey, text: str, *words: str, marker: str | None = None, col: int | None = None):
    checked = problems(make_journey, text)
    shown = "\n".join(map(str, checked.problems))
    matching = [p for p in checked.problems if all(w in p.message for w in words)]
    assert matching, f"no problem says {words}:\n{shown}"
    assert len(checked.problems) == 1, shown
    problem = matching[0]
    if marker:
        assert problem.line == line_of(text, marker), shown
    if col:
        assert problem.col == col, shown
    return problem


# --------------------------------------------------------------------------------------------
# Types as strict as the JSON Schema
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, shown, hint",
    [
        ("true", "got true", "for example"),
        ('"3"', 'got "3"', "remove the quotes"),
        ("3.0", "got 3.0", "without a decimal point"),
        ("three", 'got "three"', "for example"),
        ("[3]", "got a list", "for example"),
    ],
)
def test_day_must_be_a_whole_number(make_journey, value, shown, hint):
    text = MINIMAL_JOURNEY.replace("day: 1", f"day: {value}")
    problem = one(make_journey, text, "day in touch 'thanks' must be a whole number", shown, marker="day:", col=14)
    assert hint in problem.hint


@pytest.mark.parametrize(
    "head, words, marker",
    [
        ("length: '120'", ("length", "whole number"), "length:"),
        ("letters:\n  lead_days: 2.0", ("lead_days", "whole number"), "lead_days"),
        ("calendar:\n  closed: [20261224]", ("is not a date",), "closed:"),
        ("locale: 12", ("locale", "must be text"), "locale:"),
        ("send_window: 900", ("send_window", "must be text"), "send_window"),
    ],
)
def test_settings_are_strictly_typed(make_journey, head, words, marker):
    one(make_journey, journey_yaml(phase("affirm", letter("thanks", 1)), head=head), *words, marker=marker)


def test_referral_as_text_is_refused(make_journey):
    text = journey_yaml(phase("affirm", letter("thanks", 1)), phase("advocate", letter("ref", 60, "referral: 'yes'\n")))
    one(make_journey, text, "referral", "true or false", marker="referral:")


# --------------------------------------------------------------------------------------------
# Values that parse but make no sense
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, at", [(email, "18:00"), (task, "07:30"), (letter, "17:00"), (email, "23:59")])
def test_at_outside_the_send_window_is_refused(make_journey, make, at):
    text = journey_yaml(phase("affirm", make("t", 2, f'at: "{at}"\n')))
    problem = one(make_journey, text, f"at {at} of touch 't' is outside the send window 09:00-17:00", marker="at:")
    assert "09:00 to 16:59" in problem.hint


def test_at_inside_the_window_and_for_webhooks_at_any_hour_is_fine(make_journey):
    hook = '- id: hook\n  day: 3\n  channel: webhook\n  url: https://hooks.example.com/x\n  at: "03:00"\n'
    text = journey_yaml(phase("affirm", email("e", 2, 'at: "09:00"\n'), letter("l", 2, 'at: "16:59"\n'), hook))
    assert problems(make_journey, text).ok


def test_at_follows_a_custom_send_window(make_journey):
    text = journey_yaml(phase("affirm", email("e", 2, 'at: "19:00"\n')), head='send_window: "08:00-20:00"')
    assert problems(make_journey, text).ok


def test_a_calendar_with_no_workdays_is_refused(make_journey):
    text = journey_yaml(phase("affirm", letter("thanks", 1)), head="calendar:\n  workdays: []")
    problem = one(make_journey, text, "no workdays", marker="workdays")
    assert "workdays: [mon" in problem.hint


def test_a_journey_whose_phases_are_all_empty_is_refused(make_journey):
    text = journey_yaml(phase("affirm"), "- phase: advocate\n")
    problem = one(make_journey, text, "the journey has no touches", marker="phases:", col=1)
    assert "add touches" in problem.hint


@pytest.mark.parametrize(
    "text, words, marker",
    [
        (
            journey_yaml(phase("affirm", email("e", 2).replace("subject: Hallo", 'subject: ""'))),
            "subject of touch 'e' is empty",
            "subject",
        ),
        (
            journey_yaml(phase("affirm", email("e", 2).replace("subject: Hallo", 'subject: "   "'))),
            "subject of touch 'e' is empty",
            "subject",
        ),
        (
            journey_yaml(phase("affirm", task("t", 2).replace("title: Bellen", "title: ' '"))),
            "title of touch 't' is empty",
            "title",
        ),
        (journey_yaml(phase("affirm", letter("l", 2)), name="'  '"), "name of the journey is empty", "name:"),
        (
            journey_yaml(phase("affirm", letter("l", 2)), head='sender:\n  name: " "'),
            "name of sender is empty",
            "  name:",
        ),
        (
            journey_yaml(
                "- phase: affirm\n  label: ''\n  touches:\n"
                + "    - {id: l, day: 2, channel: letter, template: letters/thanks.txt}\n"
            ),
            "label of phase 'affirm' is empty",
            "label",
        ),
        (
            journey_yaml(
                phase("affirm", email("e", 2).replace("subject: Hallo", 'subject: "Hallo\\r\\nBcc: x@evil.example"'))
            ),
            "subject of touch 'e' holds a line break",
            "subject",
        ),
        (
            journey_yaml(phase("affirm", email("e", 2).replace("subject: Hallo", "subject: " + "a" * 300))),
            "subject in touch 'e' is too long",
            "subject",
        ),
    ],
)
def test_empty_or_multi_line_text_is_refused(make_journey, text, words, marker):
    one(make_journey, text, words, marker=marker)


@pytest.mark.parametrize("key", ["chanel", "Channel", "chanell", "channle"])
def test_a_misspelt_channel_key_is_reported_as_the_key(make_journey, key):
    text = MINIMAL_JOURNEY.replace("channel: letter", f"{key}: letter")
    problem = one(make_journey, text, f"unknown key '{key}' in touch 'thanks'", marker=f"{key}:", col=9)
    assert problem.hint == "did you mean 'channel'?"


def test_a_channel_under_another_name_gets_the_fix(make_journey):
    text = MINIMAL_JOURNEY.replace("channel: letter", "type: letter")
    problem = one(make_journey, text, "touch 'thanks' has no channel", marker="type:")
    assert "write 'channel: letter' instead of 'type: letter'" in problem.hint


def test_a_missing_channel_is_still_reported_as_missing(make_journey):
    text = MINIMAL_JOURNEY.replace("        channel: letter\n", "")
    problem = one(make_journey, text, "has no channel", marker="- id: thanks")
    assert "letter" in problem.hint


# --------------------------------------------------------------------------------------------
# expires_after
# --------------------------------------------------------------------------------------------


def test_expires_after_is_a_duration(make_journey):
    text = journey_yaml(phase("affirm", email("e", 2, 'expires_after: "1d12h"\n'), letter("l", 3)))
    checked = problems(make_journey, text)
    assert checked.ok
    e, l = (t for _, t in checked.journey.touches())
    assert e.expires_after_delta == timedelta(days=1, hours=12) and l.expires_after_delta is None


@pytest.mark.parametrize(
    "value, words",
    [
        ('"0h"', "longer than zero"),
        ('"2 days"', "is not a duration"),
        ("2", "must be text"),
        ('"99999d"', "is not a duration"),
        ('"800d"', "longer than two years"),
        ('"-1d"', "is not a duration"),
    ],
)
def test_bad_expires_after_is_refused(make_journey, value, words):
    text = journey_yaml(phase("affirm", email("e", 2, f"expires_after: {value}\n")))
    problem = one(make_journey, text, "expires_after", words, marker="expires_after")
    assert '"2d"' in problem.message + problem.hint or "leave it out" in problem.hint or "730d" in problem.hint


@pytest.mark.parametrize(
    "text, delta",
    [
        ("2d", timedelta(days=2)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("1h30m", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text, delta):
    assert parse_duration(text) == delta


# --------------------------------------------------------------------------------------------
# Webhook URLs
# --------------------------------------------------------------------------------------------

REFUSED = [
    ("http://127.0.0.1/hook", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://[::1]:8080/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://10.0.0.5/", "private"),
    ("http://172.16.3.4/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://192.168.1.10/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://localhost:8000/", "local or internal"),
    ("http://api.localhost/", "local or internal"),
    ("http://metadata.google.internal/", "local or internal"),
    ("http://printer.local/", "local or internal"),
    ("http://crm/", "local or internal"),
    ("https://user:secret@hooks.example.com/", "password"),
    ("http://100.64.0.1/", "not a public"),
]


@pytest.mark.parametrize("url, words", REFUSED)
def test_webhook_url_safety_function(url, words):
    reason = check_webhook_url(url, allow_private=False)
    assert reason and words in reason
    if "password" not in words:
        assert check_webhook_url(url, allow_private=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/x",
        "http://8.8.8.8/",
        "https://[2606:4700::1111]/a",
        "https://crm.example.nl:8443/hooks/new?x=1",
    ],
)
def test_public_webhook_urls_are_fine(url):
    assert check_webhook_url(url) is None


@pytest.mark.parametrize("url, words", REFUSED[:4] + REFUSED[7:8] + REFUSED[16:17])
def test_validate_refuses_private_webhooks_at_the_url(make_journey, monkeypatch, url, words):
    monkeypatch.delenv("HUNDRED_ALLOW_PRIVATE_WEBHOOKS", raising=False)
    hook = f"- id: hook\n  day: 3\n  channel: webhook\n  url: {url}\n"
    text = journey_yaml(phase("affirm", letter("l", 2), hook))
    problem = one(make_journey, text, "webhook url of touch 'hook' is refused", words, marker="url:", col=14)
    assert "HUNDRED_ALLOW_PRIVATE_WEBHOOKS=1" in problem.hint


@pytest.mark.parametrize(
    "value, allowed", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("false", False)]
)
def test_the_setting_allows_private_webhooks(make_journey, monkeypatch, value, allowed):
    monkeypatch.setenv("HUNDRED_ALLOW_PRIVATE_WEBHOOKS", value)
    assert allow_private_webhooks() is allowed
    hook = "- id: hook\n  day: 3\n  channel: webhook\n  url: http://10.0.0.5/hook\n"
    assert problems(make_journey, journey_yaml(phase("affirm", letter("l", 2), hook))).ok is allowed


def fake_dns(*addresses: str):
    def getaddrinfo(host, port, family=0, type=0, *rest):
        family_of = {4: 2, 6: 10}
        return [(family_of[ipaddress.ip_address(a).version], 1, 6, "", (a, 0)) for a in addresses]

    return getaddrinfo


def test_send_time_check_resolves_and_refuses_any_private_answer():
    url = "https://hooks.example.com/x"
    assert check_resolved_webhook_url(url, getaddrinfo=fake_dns("93.184.216.34")) is None
    reason = check_resolved_webhook_url(url, getaddrinfo=fake_dns("93.184.216.34", "10.1.1.1"))
    assert reason and "resolves to 10.1.1.1, a private network address" in reason
    reason = check_resolved_webhook_url(url, getaddrinfo=fake_dns("169.254.169.254"))
    assert reason and "link-local" in reason
    assert check_resolved_webhook_url(url, allow_private=True, getaddrinfo=fake_dns("10.1.1.1")) is None


def test_send_time_check_reports_a_name_that_does_not_resolve():
    def failing(*args):
        raise OSError("Name or service not known")

    reason = check_resolved_webhook_url("https://nope.example/", getaddrinfo=failing)
    assert reason and "does not resolve" in reason


def test_send_time_check_never_resolves_what_the_pure_check_refuses():
    def boom(*args):
        raise AssertionError("resolved")

    assert "loopback" in check_resolved_webhook_url("http://127.0.0.1/", getaddrinfo=boom)
