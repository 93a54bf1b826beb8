"""The journey validator, tried the way a marketer meets it: one mistake at a time, each located.

Every case asserts the problem's file, line (and column where it means something), what the message
says and that the hint helps. Positions are given as a marker: the line of the file that contains
it, so the YAML in each case reads top to bottom and the expected spot is visible in it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

import pytest
from conftest import MINIMAL_JOURNEY, REPO, email, journey_yaml, letter, line_of, phase, task

from hundred.journeys.problems import Invalid, Problem
from hundred.validation.validate import check_file, load_journey

FILE = "journeys/x.yaml"  # how a problem names the file, seen from the journey's repository


def check(make_journey, text: str, templates: dict[str, str] | None = None):
    return check_file(make_journey(text, templates))


def sub(old: str, new: str, text: str = MINIMAL_JOURNEY) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# --------------------------------------------------------------------------------------------
# The corpus: (id, journey text, marker of the line, column or None, message parts, hint parts).
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    text: str
    marker: str  # the expected line is the one line containing this
    col: int | None
    message: tuple[str, ...]
    hint: tuple[str, ...] = ()
    templates: dict[str, str] = field(default_factory=dict)
    only: bool = True  # the file has exactly this one problem
    occurrence: int = 1  # the marker's n-th line, when the marker is on several lines


AFFIRM = phase("affirm", letter("thanks", 1))

CASES: list[Case] = [
    # ---- YAML syntax -------------------------------------------------------------------------
    Case(
        "yaml-indent-shallow",
        sub("        channel: letter", "       channel: letter"),
        "       channel: letter",
        None,
        ("YAML syntax error",),
        ("indent",),
    ),
    Case(
        "yaml-indent-deep",
        sub("        channel: letter", "          channel: letter"),
        "          channel: letter",
        None,
        ("YAML syntax error",),
        ("indent",),
    ),
    Case(
        "yaml-tab-indent",
        sub("        channel: letter", "\tchannel: letter"),
        "\tchannel: letter",
        1,
        ("YAML syntax error",),
        ("tab",),
    ),
    Case(
        "yaml-tab-list-item",
        "journey: x\nname: X\nphases:\n\t- phase: affirm\n",
        "\t- phase",
        1,
        ("YAML syntax error",),
        ("tab",),
    ),
    Case(
        "yaml-key-value-value",
        sub("name: X", "name: Welkom: de eerste dagen"),
        "name: Welkom",
        13,
        ("YAML syntax error",),
        ("quote",),
    ),
    Case(
        "yaml-unclosed-quote-last",
        sub("name: X", 'name: "De eerste dagen'),
        'name: "De eerste',
        None,
        ("YAML syntax error",),
        ("quote",),
    ),
    Case(
        "yaml-unclosed-quote",
        sub("        day: 1\n", '        day: 1\n        description: "Een brief\n'),
        'description: "Een brief',
        None,
        ("YAML syntax error",),
        ("quote",),
    ),
    Case(
        "yaml-duplicate-top-key",
        sub("name: X\n", "name: X\nname: Y\n"),
        "name: Y",
        1,
        ("duplicate key 'name'", "first at line 2"),
        ("remove one",),
    ),
    Case(
        "yaml-duplicate-touch-key",
        sub("        channel: letter\n", "        channel: letter\n        day: 2\n"),
        "day: 2",
        9,
        ("duplicate key 'day'", "first at line 7"),
        ("remove one",),
    ),
    Case("yaml-undefined-alias", sub("name: X", "name: *sterretje"), "name: *", 7, ("YAML syntax error",), ("quote",)),
    # ---- not a journey -----------------------------------------------------------------------
    Case("empty-file", "", "", 1, ("not a journey",), ("journey:", "phases:")),
    Case("only-comments", "# nog leeg\n", "# nog leeg", 1, ("not a journey",), ("journey:",)),
    Case("list-not-mapping", "- journey: x\n  name: X\n", "- journey", 1, ("not a journey",), ("journey:",)),
    Case("plain-text", "De eerste honderd dagen\n", "honderd", 1, ("not a journey",), ("journey:",)),
    # ---- unknown keys at every level ---------------------------------------------------------
    Case(
        "unknown-top-key", MINIMAL_JOURNEY + "nmae: Y\n", "nmae", 1, ("unknown key 'nmae'",), ("did you mean 'name'?",)
    ),
    Case(
        "unknown-top-key-timezone",
        sub("name: X\n", "name: X\ntimzone: Europe/Amsterdam\n"),
        "timzone",
        1,
        ("unknown key 'timzone'",),
        ("did you mean 'timezone'?",),
    ),
    Case(
        "unknown-calendar-key",
        journey_yaml(AFFIRM, head="calendar:\n  workday: [mon]"),
        "workday:",
        3,
        ("unknown key 'workday'", "calendar"),
        ("did you mean 'workdays'?",),
    ),
    Case(
        "unknown-calendar-key-holiday",
        journey_yaml(AFFIRM, head="calendar:\n  holiday: NL"),
        "holiday:",
        3,
        ("unknown key 'holiday'", "calendar"),
        ("did you mean 'holidays'?",),
    ),
    Case(
        "unknown-letters-key",
        journey_yaml(AFFIRM, head="letters:\n  lead_day: 2"),
        "lead_day",
        3,
        ("unknown key 'lead_day'", "letters"),
        ("did you mean 'lead_days'?",),
    ),
    Case(
        "unknown-sender-key",
        journey_yaml(AFFIRM, head="sender:\n  name: Sanne\n  titel: Accountmanager"),
        "titel",
        3,
        ("unknown key 'titel'", "sender"),
        ("did you mean 'title'?",),
    ),
    Case(
        "unknown-phase-key",
        journey_yaml(
            "- phase: affirm\n  lable: Bevestigen\n  touches:\n" + textwrap.indent(letter("thanks", 1), "    ")
        ),
        "lable",
        5,
        ("unknown key 'lable'", "phase 'affirm'"),
        ("did you mean 'label'?",),
    ),
    Case(
        "unknown-letter-touch-key",
        journey_yaml(phase("affirm", letter("thanks", 1, "descripton: Bedankt\n"))),
        "descripton",
        9,
        ("unknown key 'descripton'", "touch 'thanks'"),
        ("did you mean 'description'?",),
    ),
    Case(
        "unknown-email-touch-key",
        journey_yaml(phase("affirm", email("hello", 1, "subjcet: Hoi\n"))),
        "subjcet",
        9,
        ("unknown key 'subjcet'", "touch 'hello'"),
        ("did you mean 'subject'?",),
    ),
    Case(
        "unknown-task-touch-key",
        journey_yaml(phase("affirm", task("call", 1, "confrim: false\n"))),
        "confrim",
        9,
        ("unknown key 'confrim'", "touch 'call'"),
        ("did you mean 'confirm'?",),
    ),
    Case(
        "unknown-webhook-touch-key",
        journey_yaml(
            phase("affirm", "- id: crm\n  day: 1\n  channel: webhook\n  url: https://crm.example/h\n  secret: X\n")
        ),
        "secret",
        9,
        ("unknown key 'secret'", "touch 'crm'"),
        ("did you mean 'secret_env'?",),
    ),
    # ---- a key of another channel --------------------------------------------------------------
    Case(
        "subject-on-letter",
        journey_yaml(phase("affirm", letter("thanks", 1, "subject: Bedankt\n"))),
        "subject",
        9,
        ("unknown key 'subject'", "touch 'thanks'"),
        ("subject", "email"),
    ),
    Case(
        "title-on-email",
        journey_yaml(phase("affirm", email("hello", 1, "title: Bellen\n"))),
        "title",
        9,
        ("unknown key 'title'", "touch 'hello'"),
        ("title", "task"),
    ),
    Case(
        "url-on-task",
        journey_yaml(phase("affirm", task("call", 1, "url: https://x.example\n"))),
        "url:",
        9,
        ("unknown key 'url'",),
        ("url", "webhook"),
    ),
    # ---- missing required keys -----------------------------------------------------------------
    Case(
        "missing-journey",
        MINIMAL_JOURNEY.replace("journey: x\n", ""),
        "name: X",
        None,
        ("missing 'journey'",),
        ("journey:",),
    ),
    Case("missing-name", MINIMAL_JOURNEY.replace("name: X\n", ""), "journey: x", None, ("missing 'name'",), ("name:",)),
    Case("missing-phases", "journey: x\nname: X\n", "journey: x", None, ("missing 'phases'",), ("phases:",)),
    Case("phases-empty", "journey: x\nname: X\nphases: []\n", "phases:", None, ("no phases",), ("phase",)),
    Case(
        "touch-missing-id",
        journey_yaml(phase("affirm", "- day: 1\n  channel: letter\n  template: letters/thanks.txt\n")),
        "- day: 1",
        9,
        ("missing 'id'",),
        ("id:",),
    ),
    Case(
        "touch-missing-day",
        journey_yaml(phase("affirm", "- id: thanks\n  channel: letter\n  template: letters/thanks.txt\n")),
        "- id: thanks",
        9,
        ("touch 'thanks'", "missing 'day'"),
        ("day:",),
    ),
    Case(
        "touch-missing-channel",
        journey_yaml(phase("affirm", "- id: thanks\n  day: 1\n  template: letters/thanks.txt\n")),
        "- id: thanks",
        9,
        ("touch 'thanks'", "no channel"),
        ("channel:", "letter", "email", "task", "webhook"),
    ),
    Case(
        "letter-missing-template",
        journey_yaml(phase("affirm", "- id: thanks\n  day: 1\n  channel: letter\n")),
        "- id: thanks",
        9,
        ("touch 'thanks'", "missing 'template'"),
        ("template:",),
    ),
    Case(
        "email-missing-subject",
        journey_yaml(phase("affirm", "- id: hello\n  day: 1\n  channel: email\n  template: emails/hello.html\n")),
        "- id: hello",
        9,
        ("touch 'hello'", "missing 'subject'"),
        ("subject:",),
    ),
    Case(
        "email-missing-template",
        journey_yaml(phase("affirm", "- id: hello\n  day: 1\n  channel: email\n  subject: Hoi\n")),
        "- id: hello",
        9,
        ("touch 'hello'", "missing 'template'"),
        ("template:",),
    ),
    Case(
        "task-missing-title",
        journey_yaml(phase("affirm", "- id: call\n  day: 1\n  channel: task\n  template: tasks/call.md\n")),
        "- id: call",
        9,
        ("touch 'call'", "missing 'title'"),
        ("title:",),
    ),
    Case(
        "task-missing-template",
        journey_yaml(phase("affirm", "- id: call\n  day: 1\n  channel: task\n  title: Bellen\n")),
        "- id: call",
        9,
        ("touch 'call'", "missing 'template'"),
        ("template:",),
    ),
    Case(
        "webhook-missing-url",
        journey_yaml(phase("affirm", "- id: crm\n  day: 1\n  channel: webhook\n")),
        "- id: crm",
        9,
        ("touch 'crm'", "missing 'url'"),
        ("url:",),
    ),
    Case(
        "webhook-bad-url",
        journey_yaml(phase("affirm", "- id: crm\n  day: 1\n  channel: webhook\n  url: crm.example/hook\n")),
        "url:",
        14,
        ("url 'crm.example/hook'",),
        ("https://",),
    ),
    Case(
        "sender-missing-name",
        journey_yaml(AFFIRM, head="sender:\n  title: Accountmanager"),
        "title: Accountmanager",
        None,
        ("sender", "missing 'name'"),
        ("name:",),
    ),
    # ---- ids and phases --------------------------------------------------------------------------
    Case(
        "journey-slug-underscore",
        sub("journey: x", "journey: First_100"),
        "journey: First_100",
        10,
        ("journey 'First_100'", "lowercase"),
        ("-",),
    ),
    Case(
        "touch-id-spaces",
        sub("id: thanks", "id: Thank You"),
        "id: Thank You",
        13,
        ("id 'Thank You'", "lowercase"),
        ("thank-you",),
    ),
    Case(
        "unknown-phase",
        sub("phase: affirm", "phase: afirm"),
        "phase: afirm",
        12,
        ("'afirm'", "Coleman"),
        ("did you mean 'affirm'?",),
    ),
    Case(
        "unknown-phase-far",
        sub("phase: affirm", "phase: onboarding"),
        "phase: onboarding",
        12,
        ("'onboarding'", "Coleman"),
        ("assess", "admit", "affirm", "advocate"),
    ),
    Case(
        "phase-out-of-order",
        journey_yaml(AFFIRM, phase("admit", letter("hello", 0))),
        "phase: admit",
        12,
        ("'admit'", "out of order", "affirm"),
        ("assess, admit, affirm, activate",),
    ),
    # the second '- phase: affirm' (line 10) is the one to fix; the message names the first
    Case(
        "phase-twice",
        journey_yaml(AFFIRM, phase("affirm", letter("again", 2))),
        "phase: affirm",
        12,
        ("'affirm'", "twice", "line 4"),
        ("one '- phase: affirm'",),
        occurrence=2,
    ),
    # the second 'id: hello' (line 15) is the one to fix; the message names the first (line 6)
    Case(
        "duplicate-touch-id",
        journey_yaml(phase("admit", letter("hello", 0)), phase("affirm", letter("thanks", 1), letter("hello", 2))),
        "id: hello",
        13,
        ("touch id 'hello'", "used twice", "first at line 6"),
        ("unique",),
        occurrence=2,
    ),
    # ---- days ------------------------------------------------------------------------------------
    Case("day-negative", sub("day: 1", "day: -1"), "day: -1", 14, ("day -1", "outside", "0..100"), ("0 to 100",)),
    Case("day-over-100", sub("day: 1", "day: 101"), "day: 101", 14, ("day 101", "0..100"), ("length:",)),
    Case(
        "day-over-length",
        sub("name: X\n", "name: X\nlength: 30\n").replace("day: 1", "day: 31"),
        "day: 31",
        14,
        ("day 31", "0..30"),
        ("0 to 30",),
    ),
    Case("day-word", sub("day: 1", "day: three"), "day: three", 14, ("day", "whole number", "three"), ("day: 3",)),
    Case("day-fraction", sub("day: 1", "day: 1.5"), "day: 1.5", 14, ("day", "whole number"), ("day: 3",)),
    # ---- channels --------------------------------------------------------------------------------
    Case(
        "channel-unknown",
        sub("channel: letter", "channel: sms"),
        "channel: sms",
        18,
        ("unknown channel 'sms'", "touch 'thanks'"),
        ("letter", "email", "task", "webhook"),
    ),
    Case(
        "channel-typo",
        sub("channel: letter", "channel: emial"),
        "channel: emial",
        18,
        ("unknown channel 'emial'",),
        ("did you mean 'email'?",),
    ),
    # ---- times -----------------------------------------------------------------------------------
    Case("at-25h", sub("day: 1\n", 'day: 1\n        at: "25:00"\n'), 'at: "25:00"', 13, ("'25:00'", "time of day"), ()),
    Case(
        "at-dot-quoted",
        sub("day: 1\n", 'day: 1\n        at: "9.30"\n'),
        'at: "9.30"',
        13,
        ("'9.30'", "time of day"),
        (),
    ),
    Case("at-dot-unquoted", sub("day: 1\n", "day: 1\n        at: 9.30\n"), "at: 9.30", 13, ("at",), ("09:30",)),
    Case(
        "window-reversed",
        sub("name: X\n", 'name: X\nsend_window: "17:00-09:00"\n'),
        "send_window",
        14,
        ("17:00-09:00", "ends before it starts"),
        (),
    ),
    Case(
        "window-hours-only",
        sub("name: X\n", 'name: X\nsend_window: "9-5"\n'),
        "send_window",
        14,
        ("send_window", "'9'"),
        (),
    ),
    # ---- locale, zone, holidays ------------------------------------------------------------------
    Case(
        "unknown-locale",
        sub("name: X\n", "name: X\nlocale: xx_YY\n"),
        "locale",
        9,
        ("unknown locale 'xx_YY'",),
        ("nl_NL",),
    ),
    Case(
        "locale-word",
        sub("name: X\n", "name: X\nlocale: dutch\n"),
        "locale",
        9,
        ("unknown locale 'dutch'",),
        ("nl_NL",),
    ),
    Case(
        "unknown-timezone",
        sub("name: X\n", "name: X\ntimezone: Europe/Amsterdm\n"),
        "timezone",
        11,
        ("unknown time zone 'Europe/Amsterdm'",),
        ("Europe/Amsterdam",),
    ),
    Case(
        "unknown-holidays-country",
        journey_yaml(AFFIRM, head="calendar:\n  holidays: XX"),
        "holidays",
        13,
        ("unknown holidays region 'XX'",),
        ("NL",),
    ),
    Case(
        "unknown-holidays-subdivision",
        journey_yaml(AFFIRM, head="calendar:\n  holidays: DE/XY"),
        "holidays",
        13,
        ("unknown holidays region 'DE/XY'", "XY"),
        ("DE/BY",),
    ),
    # ---- letters ---------------------------------------------------------------------------------
    Case(
        "a4-with-us10",
        journey_yaml(AFFIRM, head="letters:\n  paper: A4\n  envelope: US10"),
        "paper: A4",
        None,
        ("US10", "letter"),
        (),
    ),
    Case(
        "letter-with-dl",
        journey_yaml(AFFIRM, head="letters:\n  paper: letter\n  envelope: DL"),
        "paper: letter",
        None,
        ("DL", "A4"),
        (),
    ),
    Case(
        "unknown-ink", journey_yaml(AFFIRM, head="letters:\n  ink: red"), "ink", 8, ("ink", "'red'"), ("blue", "black")
    ),
    Case(
        "unknown-hand",
        journey_yaml(AFFIRM, head="letters:\n  hand: cavet"),
        "hand",
        9,
        ("hand", "'cavet'"),
        ("did you mean 'caveat'?",),
    ),
    Case(
        "unknown-paper",
        journey_yaml(AFFIRM, head="letters:\n  paper: A5"),
        "paper",
        10,
        ("paper", "'A5'"),
        ("A4", "letter"),
    ),
    Case(
        "unknown-envelope",
        journey_yaml(AFFIRM, head="letters:\n  envelope: C4"),
        "envelope",
        13,
        ("envelope", "'C4'"),
        ("DL", "C5", "US10"),
    ),
    Case(
        "lead-days-negative",
        journey_yaml(AFFIRM, head="letters:\n  lead_days: -1"),
        "lead_days",
        14,
        ("lead_days",),
        (),
    ),
    Case(
        "lead-days-too-many",
        journey_yaml(AFFIRM, head="letters:\n  lead_days: 30"),
        "lead_days",
        14,
        ("lead_days", "20"),
        (),
    ),
    # ---- calendar --------------------------------------------------------------------------------
    Case(
        "closed-not-a-date",
        journey_yaml(AFFIRM, head="calendar:\n  closed: [kerstavond]"),
        "closed",
        12,
        ("closed", "'kerstavond'", "not a date"),
        ("2026-12-24",),
    ),
    Case(
        "closed-impossible-date",
        journey_yaml(AFFIRM, head="calendar:\n  closed: [2026-13-01]"),
        "closed",
        None,
        ("2026-13-01",),
        ("2026-12-24",),
    ),
    Case(
        "closed-feb-30",
        journey_yaml(AFFIRM, head="calendar:\n  closed: [2026-02-30]"),
        "closed",
        None,
        ("2026-02-30",),
        ("2026-12-24",),
    ),
    Case(
        "workdays-typo",
        journey_yaml(AFFIRM, head="calendar:\n  workdays: [mon, tues]"),
        "workdays",
        19,
        ("workdays", "'tues'"),
        ("did you mean 'tue'?",),
    ),
    Case(
        "exit-on-unknown",
        MINIMAL_JOURNEY + "exit_on: [deal.canceled]\n",
        "exit_on",
        11,
        ("exit_on", "'deal.canceled'"),
        ("did you mean 'deal.cancelled'?",),
    ),
    # ---- referral and the affirm gate --------------------------------------------------------------
    Case(
        "referral-in-affirm",
        journey_yaml(phase("affirm", letter("thanks", 1, "referral: true\n"))),
        "referral",
        19,
        ("referral", "'affirm'"),
        ("advocate",),
    ),
    Case(
        "referral-in-admit",
        journey_yaml(phase("admit", letter("ask", 0, "referral: true\n")), AFFIRM),
        "referral",
        19,
        ("referral", "'admit'"),
        ("advocate",),
    ),
    # `referral: yes` is refused outright (strict true/false): a gate flag must not be guessed at
    Case(
        "referral-yes-in-affirm",
        journey_yaml(phase("affirm", letter("thanks", 1, "referral: yes\n"))),
        "referral",
        19,
        ("referral", "must be true or false"),
        ("referral: true",),
    ),
    Case(
        "referral-without-affirm",
        journey_yaml(phase("activate", letter("ask", 9, "referral: true\n"))),
        "id: ask",
        None,
        ("referral", "no affirm touches"),
        ("affirm",),
    ),
    Case(
        "advocate-without-affirm",
        journey_yaml(phase("advocate", letter("ask", 90))),
        "id: ask",
        None,
        ("advocate", "no affirm touches"),
        ("affirm",),
    ),
    Case(
        "advocate-with-empty-affirm",
        journey_yaml(phase("affirm"), phase("advocate", letter("ask", 90))),
        "id: ask",
        None,
        ("advocate", "no affirm touches"),
        ("affirm",),
    ),
    # ---- template files --------------------------------------------------------------------------
    Case(
        "template-missing",
        sub("letters/thanks.txt", "letters/thank.txt"),
        "template:",
        19,
        ("'letters/thank.txt'", "does not exist", "templates/"),
        ("did you mean 'letters/thanks.txt'?",),
    ),
    Case(
        "template-outside",
        sub("letters/thanks.txt", "../secrets.txt"),
        "template:",
        19,
        ("'../secrets.txt'", "outside the templates folder"),
        ("relative to templates/",),
    ),
    Case(
        "template-absolute",
        sub("letters/thanks.txt", "/etc/passwd"),
        "template:",
        19,
        ("'/etc/passwd'", "outside the templates folder"),
        ("relative to templates/",),
    ),
    Case(
        "template-syntax",
        sub("letters/thanks.txt", "letters/broken.txt"),
        "template:",
        19,
        ("templates/letters/broken.txt:3", "does not parse"),
        ("{{ }}",),
        templates={"letters/broken.txt": "Beste lezer,\n\nBeste {{ contact.first_name },\n"},
    ),
    Case(
        "template-unclosed-block",
        sub("letters/thanks.txt", "letters/broken.txt"),
        "template:",
        19,
        ("templates/letters/broken.txt", "does not parse", "endif"),
        (),
        templates={"letters/broken.txt": "{% if deal.segment == 'A' %}\nBeste klant,\n"},
    ),
    Case(
        "template-unknown-field",
        sub("letters/thanks.txt", "letters/typo.txt"),
        "template:",
        19,
        ("unknown field 'contact.frist_name'", "templates/letters/typo.txt:3:18"),
        ("did you mean 'contact.first_name'?",),
        templates={"letters/typo.txt": "Hallo,\n\nBeste {{ contact.frist_name }},\n"},
    ),
    Case(
        "template-unknown-root",
        sub("letters/thanks.txt", "letters/typo.txt"),
        "template:",
        19,
        ("unknown field 'customer'", "templates/letters/typo.txt:1:"),
        ("contact", "company", "deal"),
        templates={"letters/typo.txt": "Beste {{ customer.name }},\n"},
    ),
    Case(
        "template-unknown-deal-field",
        sub("letters/thanks.txt", "letters/typo.txt"),
        "template:",
        19,
        ("unknown field 'deal.ammount'", "templates/letters/typo.txt:2:"),
        ("did you mean 'deal.amount'?",),
        templates={"letters/typo.txt": "Bedankt\n{{ deal.ammount | money }}\n"},
    ),
    Case(
        "template-unknown-filter",
        sub("letters/thanks.txt", "letters/typo.txt"),
        "template:",
        19,
        ("mony", "templates/letters/typo.txt"),
        ("money",),
        templates={"letters/typo.txt": "Bedrag: {{ deal.amount | mony }}\n"},
    ),
    Case(
        "template-sandbox-attribute",
        sub("letters/thanks.txt", "letters/typo.txt"),
        "template:",
        19,
        ("deal.__class__",),
        (),
        templates={"letters/typo.txt": "{{ deal.__class__ }}\n"},
    ),
    # ---- inline templates --------------------------------------------------------------------------
    Case(
        "title-syntax",
        journey_yaml(phase("affirm", task("call", 1).replace("title: Bellen", 'title: "Bel {{ contact.first_name }"'))),
        "title:",
        16,
        ("title of touch 'call'", "does not parse"),
        ("{{ }}",),
    ),
    Case(
        "title-unknown-field",
        journey_yaml(
            phase("affirm", task("call", 1).replace("title: Bellen", 'title: "Bel {{ contact.frist_name }}"'))
        ),
        "title:",
        16,
        ("title of touch 'call'", "unknown field 'contact.frist_name'"),
        ("did you mean 'contact.first_name'?",),
    ),
    Case(
        "subject-unknown-field",
        journey_yaml(
            phase("affirm", email("hello", 1).replace("subject: Hallo", 'subject: "Hoi {{ contakt.first_name }}"'))
        ),
        "subject:",
        18,
        ("subject of touch 'hello'", "unknown field 'contakt'"),
        ("did you mean 'contact'?",),
    ),
    Case(
        "subject-syntax",
        journey_yaml(phase("affirm", email("hello", 1).replace("subject: Hallo", 'subject: "Hoi {% if %}"'))),
        "subject:",
        18,
        ("subject of touch 'hello'", "does not parse"),
        (),
    ),
    Case(
        "sender-name-syntax",
        journey_yaml(AFFIRM, head='sender: {name: "{{ deal.owner.name"}'),
        "sender:",
        None,
        ("sender.name", "does not parse"),
        (),
    ),
    Case(
        "sender-name-unknown-field",
        journey_yaml(AFFIRM, head='sender:\n  name: "{{ deal.owner.nmae }}"'),
        'name: "{{',
        9,
        ("sender.name", "unknown field 'deal.owner.nmae'"),
        ("did you mean 'deal.owner.name'?",),
    ),
    Case(
        "sender-title-unknown-field",
        journey_yaml(AFFIRM, head='sender:\n  name: Sanne\n  title: "{{ owner.titel }}"'),
        "title:",
        10,
        ("sender.title", "unknown field 'owner.titel'"),
        ("did you mean 'owner.title'?",),
    ),
    # ---- conditions --------------------------------------------------------------------------------
    Case(
        "when-syntax",
        sub("day: 1\n", 'day: 1\n        when: "deal.segment =="\n'),
        "when:",
        15,
        ("condition of touch 'thanks'", "does not parse"),
        ("deal.segment != 'C'",),
    ),
    Case(
        "when-template-braces",
        sub("day: 1\n", 'day: 1\n        when: "{{ deal.segment }}"\n'),
        "when:",
        15,
        ("condition of touch 'thanks'", "does not parse"),
        ("Jinja expression",),
    ),
    Case(
        "when-unknown-field",
        sub("day: 1\n", "day: 1\n        when: \"deal.segmnt != 'C'\"\n"),
        "when:",
        15,
        ("condition of touch 'thanks'", "unknown field 'deal.segmnt'"),
        ("did you mean 'deal.segment'?",),
    ),
]


def _expected_line(case: Case) -> int:
    if case.marker == "":
        return 1  # the empty file
    if case.occurrence == 1:
        return line_of(case.text, case.marker)
    return [i for i, l in enumerate(case.text.splitlines(), 1) if case.marker in l][case.occurrence - 1]


# Known defects: each is a failing test until the lead fixes the code it names (see the report).
BUGS: dict[str, str] = {}  # case id -> known defect, so a failure reads as a bug report


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_journey_is_reported_at_its_line(make_journey, case: Case):
    try:
        _assert_reported(check(make_journey, case.text, case.templates), case)
    except (AssertionError, ValueError) as exc:
        if case.id in BUGS:  # say which defect this is, so the failure reads as a bug report
            raise AssertionError(f"BUG {BUGS[case.id]}\n{type(exc).__name__}: {exc}") from exc
        raise


def _assert_reported(checked, case: Case) -> None:
    assert checked.problems, f"the validator found nothing wrong ({BUGS.get(case.id, 'no known bug')})"
    assert checked.journey is None and not checked.ok
    line = _expected_line(case)
    shown = "\n".join(str(p) for p in checked.problems)
    if case.only:
        assert len(checked.problems) == 1, f"expected exactly one problem, got:\n{shown}"
    assert all(p.file == FILE for p in checked.problems)
    matching = [p for p in checked.problems if all(part in p.message for part in case.message)]
    assert matching, f"no problem says {case.message}; got:\n{shown}"
    problem = matching[0]
    assert problem.line == line, f"expected line {line}, got:\n{shown}"
    if case.col is not None:
        assert problem.col == case.col, f"expected column {case.col}, got:\n{shown}"
    for part in case.hint:
        assert part in problem.hint, f"hint should mention {part!r}; got:\n{shown}"


def test_every_problem_comes_with_a_hint(make_journey):
    """Each error says how to fix it (README: `hundred validate`): no problem in the corpus may lack its hint line."""
    bare = []
    for case in CASES:
        if case.id in BUGS and "ValueError" in BUGS[case.id]:
            continue  # these crash; their own test reports that
        for p in check(make_journey, case.text, case.templates).problems:
            if not p.hint.strip():
                bare.append(f"{case.id}: {p}")
    assert not bare, (
        "BUG schema_errors.py:140-143 (range and value errors) give no hint; problems without one:\n" + "\n".join(bare)
    )


# --------------------------------------------------------------------------------------------
# Things a new user writes that must be accepted, and read the way they meant them.
# --------------------------------------------------------------------------------------------


def _ok(make_journey, text: str, templates: dict[str, str] | None = None):
    checked = check(make_journey, text, templates)
    assert checked.ok, "\n".join(str(p) for p in checked.problems)
    return checked.journey


def test_minimal_journey_is_valid(make_journey):
    journey = _ok(make_journey, MINIMAL_JOURNEY)
    assert journey.journey == "x" and [t.id for _, t in journey.touches()] == ["thanks"]


def test_unquoted_at_is_a_time_not_base_60(make_journey):
    # YAML 1.1 reads 10:30 as 630 (sexagesimal); a marketer means half past ten
    journey = _ok(make_journey, sub("day: 1\n", "day: 1\n        at: 10:30\n"))
    ((_, touch),) = journey.touches()
    assert touch.at == "10:30" and touch.at_time == time(10, 30)


def test_unquoted_send_window_is_accepted(make_journey):
    journey = _ok(make_journey, sub("name: X\n", "name: X\nsend_window: 08:30-17:30\n"))
    assert journey.window == (time(8, 30), time(17, 30))


def test_holidays_no_is_norway_not_false(make_journey):
    journey = _ok(make_journey, journey_yaml(AFFIRM, head="calendar:\n  holidays: NO"))
    assert journey.calendar.holidays == "NO"


def test_holidays_with_subdivision_is_accepted(make_journey):
    journey = _ok(make_journey, journey_yaml(AFFIRM, head="calendar:\n  holidays: DE/BY"))
    assert journey.calendar.holidays == "DE/BY"


def test_length_allows_day_150(make_journey):
    journey = _ok(make_journey, journey_yaml(phase("affirm", letter("thanks", 150)), head="length: 200"))
    assert journey.length == 200


def test_day_100_is_the_last_default_day(make_journey):
    _ok(make_journey, sub("day: 1", "day: 100"))


def test_us_letter_with_us10_is_accepted(make_journey):
    journey = _ok(make_journey, journey_yaml(AFFIRM, head="letters:\n  paper: letter\n  envelope: US10"))
    assert (journey.letters.paper, journey.letters.envelope) == ("letter", "US10")


@pytest.mark.parametrize("where", ["activate", "accomplish", "adopt", "advocate"])
def test_referral_after_affirm_is_accepted(make_journey, where):
    _ok(make_journey, journey_yaml(AFFIRM, phase(where, letter("ask", 80, "referral: true\n"))))


def test_referral_yes_without_affirm_is_refused(make_journey):
    # `referral: yes` is not a boolean here, so it cannot slip past the affirm gate as "not true"
    text = journey_yaml(phase("activate", letter("ask", 9, "referral: yes\n")))
    checked = check(make_journey, text)
    assert not checked.ok
    assert any("must be true or false" in p.message for p in checked.problems)


def test_label_renames_a_phase(make_journey):
    journey = _ok(
        make_journey,
        journey_yaml(
            "- phase: affirm\n  label: Bevestigen\n  touches:\n" + textwrap.indent(letter("thanks", 1), "    ")
        ),
    )
    assert journey.phases[0].title == "Bevestigen"


KNOWN_MERGE_BODIES = [
    pytest.param(
        "{{ deal.fields.anything }} {{ deal.fields['cost-centre'] }} {{ deal.fields.nested.deeper }}\n",
        id="deal-fields-take-any-key",
    ),
    pytest.param(
        "{% for item in deal.fields.lines %}- {{ item.name }} {{ item.price | money }}\n{% endfor %}",
        id="loop-item-variable-is-not-a-merge-field",
    ),
    pytest.param(
        "{{ deal.closed_at | date('full') }} {{ deal.amount | money }} {{ address.postcode | postcode }}\n"
        "{{ company.name }} {{ owner.name }} {{ journey.name }} {{ touch.id }} {{ sender.name }}\n"
        "{{ contact.first_name | upper }} {{ deal.amount | number }}\n",
        id="filters-and-every-documented-merge-part-are-known",
    ),
]


@pytest.mark.parametrize("body", KNOWN_MERGE_BODIES)
def test_a_letter_of_known_merge_parts_validates(make_journey, body):
    _ok(make_journey, sub("letters/thanks.txt", "letters/f.txt"), {"letters/f.txt": body})


def test_loop_and_set_variables_are_not_merge_fields(make_journey):
    body = (
        "{% set who = contact.first_name %}Beste {{ who }},\n"
        "{% for item in deal.fields.lines %}- {{ item.name }} ({{ loop.index }})\n{% endfor %}"
    )
    checked = check(make_journey, sub("letters/thanks.txt", "letters/f.txt"), {"letters/f.txt": body})
    assert checked.ok, (
        "BUG templating.py:168/206: Jinja's `loop` inside a for loop is taken for a merge field\n"
        + "\n".join(map(str, checked.problems))
    )


def test_valid_conditions_are_accepted(make_journey):
    cond = "deal.amount | float >= 5000 and contact.locale == 'nl_NL' and deal.fields.vip"
    _ok(make_journey, sub("day: 1\n", f'day: 1\n        when: "{cond}"\n'))


def test_a_webhook_needs_no_template(make_journey):
    _ok(
        make_journey,
        journey_yaml(
            AFFIRM, phase("activate", "- id: crm\n  day: 5\n  channel: webhook\n  url: https://crm.example/hook\n")
        ),
    )


@pytest.mark.parametrize("name", ["first-100-days.yaml", "first-100-days-en.yaml"])
def test_shipped_journeys_validate_clean(name, monkeypatch):
    monkeypatch.chdir(REPO)
    checked = check_file(Path("journeys") / name)
    assert checked.ok, "\n".join(str(p) for p in checked.problems)
    assert len(checked.journey.phases) == 8


# --------------------------------------------------------------------------------------------
# All problems at once, in order, in the agreed shape.
# --------------------------------------------------------------------------------------------


FIVE_MISTAKES = """\
journey: x
name: X
locale: xx_YY
nmae: oeps
phases:
  - phase: affirm
    touches:
      - id: thanks
        day: 101
        channel: letter
        template: letters/thanks.txt
      - id: hello
        day: 2
        channel: sms
        template: emails/hello.html
      - id: later
        day: 3
        channel: letter
        template: letters/nope.txt
"""


def test_all_problems_of_a_file_are_reported(make_journey):
    # 5 independent mistakes: unknown locale (3), unknown key (4), day 101 (9), unknown channel (14),
    # a template that does not exist (19): a marketer fixes them in one go, not in five rounds
    problems = check(make_journey, FIVE_MISTAKES).problems
    assert [p.line for p in problems] == [3, 4, 9, 14, 19], "\n".join(map(str, problems))
    assert "xx_YY" in problems[0].message and "nmae" in problems[1].message
    assert "101" in problems[2].message and "sms" in problems[3].message and "nope.txt" in problems[4].message


def test_problem_prints_as_file_line_col_and_hint():
    problem = Problem("journeys/x.yaml", 9, 14, "day 101 is outside", "use a day from 0 to 100")
    assert str(problem) == "journeys/x.yaml:9:14: day 101 is outside\n  hint: use a day from 0 to 100"


def test_load_journey_raises_with_every_problem(make_journey):
    path = make_journey(FIVE_MISTAKES)
    with pytest.raises(Invalid) as info:
        load_journey(path)
    assert len(info.value.problems) == 5
    assert str(info.value).splitlines()[0].startswith("journeys/x.yaml:3:9: unknown locale")


def test_missing_file_is_a_problem_not_a_crash(make_journey):
    make_journey(MINIMAL_JOURNEY)
    (problem,) = check_file(Path("journeys/nope.yaml")).problems
    assert (problem.line, problem.col) == (1, 1) and "no such file" in problem.message


def test_non_utf8_file_is_a_problem_not_a_crash(make_journey):
    path = make_journey(MINIMAL_JOURNEY)
    path.write_bytes("name: Caf\xe9\n".encode("latin-1"))
    (problem,) = check_file(path).problems
    assert "UTF-8" in problem.message and "UTF-8" in problem.hint


def test_templates_are_found_beside_the_journeys_folder(make_journey, tmp_path, monkeypatch):
    # run from elsewhere: templates/ next to journeys/ is still the one used
    path = make_journey(MINIMAL_JOURNEY)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    checked = check_file(path)
    assert checked.ok, "\n".join(map(str, checked.problems))
    assert checked.templates_dir == tmp_path / "templates"


def test_phases_written_as_a_mapping_say_it_must_be_a_list(make_journey):
    text = "journey: x\nname: X\nphases:\n  affirm:\n    - id: a\n      day: 1\n      channel: letter\n"
    (problem,) = check(make_journey, text).problems
    assert (problem.line, problem.message) == (4, "phases in the journey must be a list")
    assert "- phase: affirm" in problem.hint


def test_touches_written_as_a_mapping_say_it_must_be_a_list(make_journey):
    text = "journey: x\nname: X\nphases:\n  - phase: admit\n    touches:\n      id: a\n      day: 1\n"
    (problem,) = check(make_journey, text).problems
    assert (problem.line, problem.message) == (6, "touches in phase 'admit' must be a list")


def test_a_single_equals_sign_in_a_condition_gets_the_comparison_hint(make_journey):
    text = journey_yaml(phase("affirm", letter("thanks", 1, "when: deal.segment = 'C'\n")))
    (problem,) = check(make_journey, text).problems
    assert "does not parse" in problem.message and "==" in problem.hint


@pytest.mark.parametrize(
    "line, expected_hint",
    [
        ("locale: nl-NL", "write it with an underscore: 'nl_NL'"),
        ("timezone: Amsterdam", "did you mean 'Europe/Amsterdam'?"),
        ("calendar:\n  holidays: Netherlands", "did you mean 'NL'?"),
    ],
)
def test_common_spellings_of_settings_get_the_right_suggestion(make_journey, line, expected_hint):
    text = MINIMAL_JOURNEY.replace("name: X\n", f"name: X\n{line}\n", 1)
    assert text != MINIMAL_JOURNEY
    (problem,) = check(make_journey, text).problems
    assert problem.hint == expected_hint


def test_a_bare_field_name_points_to_where_it_lives(make_journey):
    text = sub("day: 1\n", "day: 1\n        when: \"first_name == 'Ilse'\"\n")
    (problem,) = check(make_journey, text).problems
    assert "uses unknown field 'first_name'" in problem.message
    assert problem.hint == "did you mean 'contact.first_name'?"
