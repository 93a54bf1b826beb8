"""The Coleman linter (hundred/validation/lint/rules.py): each rule firing and not, thresholds, silencing with a
reason, an ignore without one, `--strict` and `--json`.

The journeys here are measured on the typical deal: closed Tue 1 Sep 2026 11:00, every condition
true. Journey day d falls on a weekend when d % 7 is 4 (Sat) or 5 (Sun); the good journey avoids them.
"""

from __future__ import annotations

import json

import pytest
from conftest import line_of, run_cli

from hundred.journeys.model import LINT_RULES, PHASES
from hundred.validation.lint.hints import TYPICAL_TOUCH
from hundred.validation.lint.typical import TYPICAL_CLOSE_DAY, typical_deal, typical_plan
from hundred.validation.validate import check_file

# Gaps (days): 0 0 1 3 8 15 22 36 43 57 64 78 92 100: never more than 14 on the typical deal.
GOOD = """\
journey: x
name: X
locale: en_GB
phases:
  - phase: assess
    touches:
      - {id: handover, day: 0, channel: task, title: Notes, template: tasks/call.md}
  - phase: admit
    touches:
      - {id: welcome-call, day: 0, channel: task, title: Call, template: tasks/call.md}
  - phase: affirm
    touches:
      - {id: next-steps, day: 1, channel: email, subject: Next, template: emails/hello.html}
      - {id: thanks, day: 3, channel: letter, template: letters/thanks.txt}
  - phase: activate
    touches:
      - {id: kickoff, day: 8, channel: task, title: Kickoff, template: tasks/call.md, when: "deal.segment != 'C'"}
      - {id: delivery, day: 15, channel: task, title: Delivery, template: tasks/call.md}
  - phase: acclimate
    touches:
      - {id: how-we-work, day: 22, channel: letter, template: letters/thanks.txt}
  - phase: accomplish
    touches:
      - {id: result-call, day: 36, channel: task, title: Result, template: tasks/call.md}
      - {id: result-letter, day: 43, channel: letter, template: letters/thanks.txt}
  - phase: adopt
    touches:
      - {id: needs, day: 57, channel: task, title: Needs, template: tasks/call.md}
  - phase: advocate
    touches:
      - {id: referral, day: 64, channel: letter, referral: true, template: letters/thanks.txt}
      - {id: check-in, day: 78, channel: email, subject: Hi, template: emails/hello.html}
      - {id: review, day: 92, channel: task, title: Review, template: tasks/call.md}
      - {id: hundred, day: 100, channel: email, subject: Hundred, template: emails/hello.html}
"""


def sub(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def without(*touch_ids: str, text: str = GOOD) -> str:
    """`text` without the line of each of the touches `touch_ids`."""
    for touch_id in touch_ids:
        lines = [line for line in text.splitlines(keepends=True) if line.startswith(f"      - {{id: {touch_id}, ")]
        assert len(lines) == 1, touch_id
        text = sub(lines[0], "", text)
    return text


def lint(make_journey, text: str):
    checked = check_file(make_journey(text))
    assert checked.ok, [str(p) for p in checked.problems]
    return checked


def rules(checked) -> list[str]:
    return [w.rule for w in checked.warnings]


def only(checked, rule: str):
    found = [w for w in checked.warnings if w.rule == rule]
    assert len(found) == 1, [str(w) for w in checked.warnings]
    return found[0]


def test_the_good_journey_has_no_warnings(make_journey):
    checked = lint(make_journey, GOOD)
    assert checked.warnings == [] and checked.silenced == []


def test_the_typical_deal_closes_on_a_tuesday_and_every_condition_holds():
    from hundred.journeys.model import Journey

    assert TYPICAL_CLOSE_DAY.weekday() == 1
    import yaml

    journey = Journey.model_validate(yaml.safe_load(GOOD))
    assert typical_deal(journey).closed_at.tzinfo is not None
    plan = typical_plan(journey)
    assert plan.start_date == TYPICAL_CLOSE_DAY
    assert "kickoff" in [t.touch for t in plan.touches]  # its `when:` does not drop it
    assert "kickoff" not in [t.touch for t in typical_plan(journey, without="kickoff").touches]


# ---------------------------------------------------------------------------------------- phases
def test_phases_fires_per_missing_phase_in_english(make_journey):
    text = sub(
        "  - phase: adopt\n    touches:\n      - {id: needs, day: 57, channel: task, title: Needs, template: tasks/call.md}\n",
        "  - phase: adopt\n    touches: []\n",
    )
    checked = lint(make_journey, text)
    w = only(checked, "phases")
    assert "phase 'adopt' has no touch" in w.message
    assert "needs check" in w.hint and w.line == line_of(text, "phase: adopt")
    assert (
        str(w).startswith(f"journeys/x.yaml:{w.line}:")
        and ": warning: " in str(w)
        and str(w).splitlines()[1].startswith("  hint: ")
    )


@pytest.mark.parametrize(
    "locale,word",
    [
        ("nl_NL", "fase 'adopt' heeft geen contactmoment"),
        ("nl_BE", "fase 'adopt'"),
        ("fr_FR", "phase 'adopt' has no touch"),
        ("en_US", "phase 'adopt' has no touch"),
    ],
)
def test_phases_speaks_the_journeys_language_with_english_as_fallback(make_journey, locale, word):
    text = sub(
        "locale: en_GB",
        f"locale: {locale}",
        sub(
            "  - phase: adopt\n    touches:\n      - {id: needs, day: 57, channel: task, title: Needs, template: tasks/call.md}\n",
            "",
        ),
    )
    w = only(lint(make_journey, text), "phases")
    assert word in w.message
    assert ("behoeftecheck" if locale.startswith("nl") else "needs check") in w.hint
    assert w.line == line_of(text, "phases:")


def test_every_language_has_a_typical_touch_for_every_phase():
    for lang, touches in TYPICAL_TOUCH.items():
        assert set(touches) == set(PHASES), lang


# ---------------------------------------------------------------------------------- affirm-early
def test_affirm_early_fires_when_the_first_affirm_touch_is_late(make_journey):
    text = sub(
        "{id: next-steps, day: 1,", "{id: next-steps, day: 6,", sub("{id: thanks, day: 3,", "{id: thanks, day: 7,")
    )
    w = only(lint(make_journey, text), "affirm-early")
    assert "'next-steps'" in w.message and "day 6 (Mon 7 Sep 2026)" in w.message and "more than 3 days" in w.message
    assert "buyer's remorse" in w.hint and w.line == line_of(text, "id: next-steps")


def test_a_letter_counts_by_its_arrival_day(make_journey):
    text = without("next-steps")
    assert "affirm-early" not in rules(lint(make_journey, text))  # the letter of day 3 arrives on day 3


def test_a_letter_moved_by_the_weekend_is_late(make_journey):
    text = without("next-steps", text=sub("{id: thanks, day: 3,", "{id: thanks, day: 4,"))
    w = only(lint(make_journey, text), "affirm-early")
    assert "arrives on day 6" in w.message and "planned for day 4" in w.message


def test_affirm_early_threshold_is_configurable(make_journey):
    text = sub(
        "{id: next-steps, day: 1,", "{id: next-steps, day: 6,", sub("{id: thanks, day: 3,", "{id: thanks, day: 7,")
    )
    text = sub("phases:\n", "lint:\n  affirm-early: {days: 7}\nphases:\n", text)
    assert "affirm-early" not in rules(lint(make_journey, text))


# --------------------------------------------------------------------------------------- silence
def test_silence_names_the_stretch_by_days_and_dates(make_journey):
    text = without("check-in")
    w = only(lint(make_journey, text), "silence")
    assert w.message == (
        "28 days without a customer-facing touch, from day 64 (Wed 4 Nov 2026, 'referral') "
        "to day 92 (Wed 2 Dec 2026, 'review')"
    )
    assert "around day 78" in w.hint and "{silence: {days: 21}}" in w.hint
    assert w.line == line_of(text, "id: review")


def test_silence_counts_the_end_of_the_journey(make_journey):
    text = without("review", "hundred")
    w = only(lint(make_journey, text), "silence")
    assert (
        "22 days without a customer-facing touch, from day 78 (Wed 18 Nov 2026, 'check-in')" in w.message
        and "to the end of the journey, day 100 (Thu 10 Dec 2026)" in w.message
    )


def test_a_webhook_is_not_a_customer_facing_touch(make_journey):
    text = sub(
        "      - {id: check-in, day: 78, channel: email, subject: Hi, template: emails/hello.html}\n",
        "      - {id: check-in, day: 78, channel: webhook, url: 'https://crm.example.com/hook'}\n",
    )
    assert rules(lint(make_journey, text)) == ["silence"]


def test_silence_threshold_is_configurable(make_journey):
    text = without("check-in")
    assert "silence" not in rules(lint(make_journey, sub("phases:\n", "lint:\n  silence: {days: 28}\nphases:\n", text)))
    assert "silence" in rules(lint(make_journey, sub("phases:\n", "lint:\n  silence: {days: 27}\nphases:\n", text)))


# ------------------------------------------------------------------------------------------ mail
def test_mail_fires_without_an_early_letter(make_journey):
    text = sub(
        "{id: thanks, day: 3, channel: letter, template: letters/thanks.txt}",
        "{id: thanks, day: 3, channel: email, subject: Thanks, template: emails/hello.html}",
    )
    w = only(lint(make_journey, text), "mail")
    assert "no letter reaches the customer in the first 14 days" in w.message
    assert "'how-we-work', arrives on day 22 (Wed 23 Sep 2026)" in w.message
    assert "send mail, not email" in w.hint and w.line == line_of(text, "id: how-we-work")
    assert "mail" not in rules(lint(make_journey, sub("phases:\n", "lint:\n  mail: {days: 22}\nphases:\n", text)))


def test_mail_fires_in_a_journey_without_letters(make_journey):
    text = GOOD.replace(
        "channel: letter, referral: true, template: letters/thanks.txt",
        "channel: email, referral: true, subject: S, template: emails/hello.html",
    )
    text = text.replace(
        "channel: letter, template: letters/thanks.txt", "channel: email, subject: S, template: emails/hello.html"
    )
    w = only(lint(make_journey, text), "mail")
    assert w.message == "no letter reaches the customer in the first 14 days" and w.line == line_of(text, "phases:")


# ---------------------------------------------------------------------------------- referral-late
def test_referral_late_fires_before_day_30_and_before_a_result(make_journey):
    text = sub("{id: referral, day: 64,", "{id: referral, day: 29,")
    w = only(lint(make_journey, text), "referral-late")
    assert "referral touch 'referral' asks on day 29 (Wed 30 Sep 2026)" in w.message
    assert "before day 30" in w.message and "before any touch in 'accomplish'" in w.message
    assert "after a touch in 'accomplish'" in w.hint and w.line == line_of(text, "id: referral")


def test_referral_late_fires_after_day_30_but_before_the_result(make_journey):
    text = sub(
        "{id: result-call, day: 36,",
        "{id: result-call, day: 71,",
        sub("{id: result-letter, day: 43,", "{id: result-letter, day: 72,"),
    )
    w = only(lint(make_journey, text), "referral-late")
    assert "before any touch in 'accomplish'" in w.message and "before day 30" not in w.message


def test_referral_late_threshold_is_configurable(make_journey):
    text = sub("phases:\n", "lint:\n  referral-late: {days: 70}\nphases:\n")
    assert "day 64" in only(lint(make_journey, text), "referral-late").message


# ---------------------------------------------------------------------------------- condition-gap
def test_condition_gap_fires_when_a_skipped_touch_leaves_a_segment_alone(make_journey):
    text = sub(
        "{id: delivery, day: 15, channel: task, title: Delivery, template: tasks/call.md}",
        '{id: delivery, day: 15, channel: task, title: Delivery, template: tasks/call.md, when: "deal.amount > 1000"}',
        sub(
            "{id: kickoff, day: 8,",
            "{id: kickoff, day: 2,",
            sub("{id: how-we-work, day: 22,", "{id: how-we-work, day: 27,"),
        ),
    )
    checked = lint(make_journey, text)
    w = only(checked, "condition-gap")
    assert w.message == (
        "when \"deal.amount > 1000\" is false, 'delivery' does not happen and that customer gets "
        "24 days without a customer-facing touch, from day 3 (Fri 4 Sep 2026, 'thanks') "
        "to day 27 (Mon 28 Sep 2026, 'how-we-work')"
    )
    assert w.col == text.splitlines()[w.line - 1].index('"deal.amount') + 1 and w.line == line_of(text, "id: delivery")
    assert "silence" not in rules(checked)


def test_condition_gap_quiet_when_the_neighbours_are_close(make_journey):
    assert "condition-gap" not in rules(lint(make_journey, GOOD))  # kickoff (day 8) has a `when:`


# ------------------------------------------------------------------------------------ silencing
def test_silenced_with_a_reason_is_listed_not_hidden(make_journey, monkeypatch, capsys):
    text = sub(
        "phases:\n",
        'lint:\n  ignore:\n    silence: "quarterly business, the owner visits"\nphases:\n',
        without("check-in"),
    )
    checked = lint(make_journey, text)
    assert checked.warnings == []
    assert checked.silenced == [
        {
            "rule": "silence",
            "reason": "quarterly business, the owner visits",
            "file": "journeys/x.yaml",
            "line": 6,
            "col": 5,
            "would_warn": 1,
        }
    ]
    code, out, err = run_cli(monkeypatch, capsys, "validate", "--strict", "journeys/x.yaml")
    assert code == 0 and err == ""
    assert out.strip().endswith("; silenced: silence (quarterly business, the owner visits)")


@pytest.mark.parametrize(
    "ignore,message",
    [
        ('{silence: ""}', "rule 'silence' is ignored without a reason"),
        ("{silence: null}", "rule 'silence' is ignored without a reason"),
        ("{silence: n/a}", "rule 'silence' is ignored without a reason"),
        ("[silence]", "lint ignore must say why for each rule"),
        ('{silense: "we visit every quarter"}', "lint ignore names rule 'silense', which does not exist"),
    ],
)
def test_an_ignore_without_a_reason_is_an_error(make_journey, monkeypatch, capsys, ignore, message):
    text = sub("phases:\n", f"lint:\n  ignore: {ignore}\nphases:\n")
    checked = check_file(make_journey(text))
    assert not checked.ok and [p.message for p in checked.problems] == [message]
    assert checked.problems[0].line == line_of(text, "ignore:")
    assert (
        "did you mean 'silence'?" in checked.problems[0].hint
        if "silense" in ignore
        else "e.g. ignore:" in checked.problems[0].hint or "ignore:" in checked.problems[0].hint
    )
    code, _, err = run_cli(monkeypatch, capsys, "validate", "journeys/x.yaml")
    assert code == 1 and message in err


@pytest.mark.parametrize(
    "setting,message,hint",
    [
        ("silence: {days: 0}", "days of lint rule 'silence' must be from 1 to 365, got 0", "the default is 21"),
        (
            "affirm-early: {days: 31}",
            "days of lint rule 'affirm-early' must be from 0 to 30, got 31",
            "the default is 3",
        ),
        ('mail: {days: "14"}', "days in lint must be a whole number", "remove the quotes"),
        ("silence: 28", "lint setting 'silence' must be a set of 'key: value' lines", "silence: {days: 21}"),
        ("silense: {days: 3}", "unknown key 'silense' in lint", "did you mean 'silence'?"),
    ],
)
def test_lint_thresholds_are_validated(make_journey, setting, message, hint):
    checked = check_file(make_journey(sub("phases:\n", f"lint:\n  {setting}\nphases:\n")))
    assert not checked.ok and len(checked.problems) == 1 and checked.problems[0].line == 5
    assert message in checked.problems[0].message and hint in checked.problems[0].hint


def test_lint_is_not_part_of_the_version(make_journey):
    plain = lint(make_journey, GOOD).journey.version()
    text = sub(
        "phases:\n", 'lint:\n  silence: {days: 30}\n  ignore: {mail: "we send a parcel instead of a letter"}\nphases:\n'
    )
    assert lint(make_journey, text).journey.version() == plain


def test_every_rule_has_an_id_in_the_schema():
    from hundred.journeys.model import json_schema

    schema = json_schema()
    lint_schema = schema["$defs"]["LintSettings"]
    assert lint_schema["properties"]["ignore"]["propertyNames"]["enum"] == list(LINT_RULES)
    assert {"affirm-early", "silence", "mail", "referral-late", "ignore"} <= set(lint_schema["properties"])


# ------------------------------------------------------------------------------ CLI: strict, json
BAD = sub("{id: referral, day: 64,", "{id: referral, day: 29,")


def test_warnings_exit_0_and_strict_exits_1(make_journey, monkeypatch, capsys):
    make_journey(BAD)
    code, out, err = run_cli(monkeypatch, capsys, "validate", "journeys/x.yaml")
    line = line_of(BAD, "id: referral")
    assert code == 0
    assert err.startswith(f"journeys/x.yaml:{line}:") and ": warning: referral touch 'referral' asks on day 29" in err
    assert "[referral-late]\n  hint: ask once the customer has a result" in err
    assert out.startswith("ok  journeys/x.yaml: x (X)") and out.strip().endswith("; 1 warning")
    code, out, err = run_cli(monkeypatch, capsys, "validate", "--strict", "journeys/x.yaml")
    assert code == 1 and out == ""
    assert err.strip().endswith("1 of 1 journey file has problems (warnings fail with --strict)")


def test_json_lists_errors_and_warnings_with_their_rule(make_journey, monkeypatch, capsys):
    make_journey(BAD)
    make_journey("journey: y\nname: Y\nphases: []\n", name="y.yaml")
    code, out, _ = run_cli(monkeypatch, capsys, "validate", "--json", "journeys/")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["strict"] is False
    assert data["errors"] == 1 and data["warnings"] == 1
    x, y = sorted(data["files"], key=lambda f: f["file"])
    assert (
        x["ok"] is True
        and x["journey"] == "x"
        and len(x["version"]) == 12
        and x["errors"] == []
        and x["silenced"] == []
    )
    (w,) = x["warnings"]
    assert w["severity"] == "warning" and w["rule"] == "referral-late" and w["line"] == line_of(BAD, "id: referral")
    assert w["hint"] and w["mark"] == {"kind": "flag", "touch": "referral", "day": 29}
    assert y["ok"] is False and y["errors"][0]["severity"] == "error" and y["errors"][0]["rule"] is None
    code, out, _ = run_cli(monkeypatch, capsys, "validate", "--json", "--strict", "journeys/x.yaml")
    assert code == 1 and json.loads(out)["files"][0]["ok"] is False


def test_the_shipped_journeys_pass_strict(monkeypatch, capsys, repo):
    monkeypatch.chdir(repo)
    code, out, err = run_cli(monkeypatch, capsys, "validate", "--strict", "--json")
    data = json.loads(out)
    assert code == 0 and data["warnings"] == 0, out
    for f in data["files"]:
        assert all(len(s["reason"]) >= 10 for s in f["silenced"])
