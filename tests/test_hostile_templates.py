"""Hostile and careless templates: validate finds what a render would fail on, and a render is
bounded while it runs (plus empty fields and custom fields in conditions).

Each case names the template file, line and column it expects in the message, and the journey's
`template:` line where `hundred validate` reports it. Expensive renders run under a generous
test-side time bound: a cap that is checked after the fact would take seconds or gigabytes first.
"""

from __future__ import annotations

import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import REPO, journey_yaml, line_of, phase

from hundred import cli
from hundred.templating import sandbox as templating
from hundred.templating.limits import MAX_LOOP_ITERATIONS, MAX_OUTPUT, MAX_WIDTH
from hundred.templating.sandbox import TemplateProblem, evaluate_condition, render, render_file
from hundred.validation.validate import check_file

FILE = "journeys/x.yaml"
SLOW = 2.0  # seconds; every hostile render here takes milliseconds when the caps hold


def one_touch(channel: str, template: str, extra: str = "") -> str:
    keys = {
        "letter": "",
        "email": "  subject: Hallo\n",
        "task": "  title: Bellen\n",
        "webhook": "  url: https://example.com/hook\n",
    }[channel]
    touch = f"- id: t\n  day: 1\n  channel: {channel}\n{keys}  template: {template}\n{extra}"
    return journey_yaml(phase("affirm", touch))


def problems_of(make_journey, text: str, templates: dict[str, str]) -> list:
    return check_file(make_journey(text, templates)).problems


def assert_one(problems, *words: str, line: int | None = None, hint: str = ""):
    shown = "\n".join(str(p) for p in problems)
    hits = [p for p in problems if all(w in p.message for w in words)]
    assert hits, f"no problem says {words}; got:\n{shown}"
    if line is not None:
        assert hits[0].line == line, f"expected journey line {line}; got:\n{shown}"
    assert hits[0].file == FILE
    assert hint in hits[0].hint, f"hint should say {hint!r}; got:\n{shown}"
    return hits[0]


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["hundred", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out + out.err


CTX = {
    "deal": {
        "id": "D-1",
        "amount": Decimal("12500.00"),
        "currency": "EUR",
        "segment": None,
        "fields": {"tier": "gold"},
    },
    "contact": {"first_name": "Ilse", "last_name": "", "phone": None, "email": "ilse@example.nl"},
    "company": {"name": "Bakkerij Jansen B.V."},
    "address": {"street": None, "postcode": "8011 AB", "city": "Zwolle", "country": "NL"},
    "owner": {"name": "Sanne", "phone": "   "},
}


def bounded(fn, *args, limit: float = SLOW, **kwargs):
    start = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        assert time.perf_counter() - start < limit, "took too long: the cap did not hold while rendering"


# ============================================================================================
# A. validate finds what a render would fail on
# ============================================================================================

INCLUDE_CASES = [
    # (id, templates, words in the message, hint)
    (
        "dotdot",
        {"letters/a.txt": "Hallo\n{% include '../secret.txt' %}\n"},
        ("templates/letters/a.txt:2:4", "outside the templates folder", "'..'"),
        "relative to templates/",
    ),
    (
        "absolute",
        {"letters/a.txt": "Hallo\n\n{% extends '/etc/passwd' %}\n"},
        ("templates/letters/a.txt:3:4", "outside the templates folder", "absolute"),
        "relative to templates/",
    ),
    (
        "backslash",
        {"letters/a.txt": "{% import '..\\\\x.txt' as m %}{{ contact.first_name }}\n"},
        ("templates/letters/a.txt:1:4", "outside the templates folder"),
        "relative to templates/",
    ),
    (
        "variable-name",
        {"letters/a.txt": "Hallo\n{% include contact.first_name %}\n"},
        ("templates/letters/a.txt:2:4", "must be written out in quotes"),
        "merge data",
    ),
    (
        "concatenated-name",
        {"letters/a.txt": "{% include 'letters/' ~ 'b.txt' %}\n"},
        ("templates/letters/a.txt:1:4", "must be written out in quotes"),
        "merge data",
    ),
    (
        "missing",
        {"letters/a.txt": "{% include 'letters/thank.txt' %}\n"},
        ("templates/letters/a.txt:1:4", "no such template"),
        "did you mean 'letters/thanks.txt'?",
    ),
    (
        "cycle",
        {"letters/a.txt": "A\n{% include 'letters/b.txt' %}\n", "letters/b.txt": "B\n{% include 'letters/a.txt' %}\n"},
        ("templates/letters/b.txt:2:4", "cycle", "letters/a.txt → letters/b.txt → letters/a.txt"),
        "cannot include",
    ),
    (
        "extends-itself",
        {"letters/a.txt": "{% extends 'letters/a.txt' %}\n"},
        ("templates/letters/a.txt:1:4", "cycle"),
        "cannot include or extend itself",
    ),
    (
        "field-in-included",
        {
            "letters/a.txt": "Hallo\n{% include 'letters/part.txt' %}\n",
            "letters/part.txt": "Groet,\n{{ contact.frist_name }}\n",
        },
        ("unknown field 'contact.frist_name'", "templates/letters/part.txt:2:12"),
        "did you mean 'contact.first_name'?",
    ),
    (
        "filter-in-layout",
        {
            "letters/a.txt": "{% extends 'letters/_base.txt' %}{% block body %}Hoi{% endblock %}\n",
            "letters/_base.txt": "{% block body %}{% endblock %}\n{{ deal.amount | mony }}\n",
        },
        ("unknown filter 'mony'", "templates/letters/_base.txt:2:"),
        "did you mean 'money'?",
    ),
    (
        "private-in-macro-file",
        {
            "letters/a.txt": "{% import 'letters/m.txt' as m %}{{ m.hi() }}\n",
            "letters/m.txt": "{% macro hi() %}\n{{ contact.__class__ }}\n{% endmacro %}\n",
        },
        ("'contact.__class__'", "templates/letters/m.txt:2:12", "starts with '_'"),
        "merge field's own name",
    ),
]


@pytest.mark.parametrize("case", INCLUDE_CASES, ids=[c[0] for c in INCLUDE_CASES])
def test_includes_are_checked_inside_templates_only(make_journey, case):
    _, templates, words, hint = case
    text = one_touch("letter", "letters/a.txt")
    assert_one(problems_of(make_journey, text, templates), *words, line=line_of(text, "template:"), hint=hint)


def test_include_through_a_symlink_out_of_templates_is_refused(make_journey, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("geheim {{ contact.first_name }}\n", encoding="utf-8")
    text = one_touch("letter", "letters/a.txt")
    path = make_journey(text, {"letters/a.txt": "Hallo\n{% include 'letters/link.txt' %}\n"})
    os.symlink(outside, tmp_path / "templates" / "letters" / "link.txt")
    assert_one(
        check_file(path).problems,
        "templates/letters/a.txt:2:4",
        "outside the templates folder",
        "link",
        line=line_of(text, "template:"),
    )
    with pytest.raises(TemplateProblem, match="outside the templates folder"):
        render_file(tmp_path / "templates" / "letters" / "a.txt", CTX, "templates/letters/a.txt")


def test_touch_template_through_a_symlink_out_of_templates_is_refused(make_journey, tmp_path):
    (tmp_path / "secret.txt").write_text("x\n", encoding="utf-8")
    text = one_touch("letter", "letters/link.txt")
    path = make_journey(text)
    os.symlink(tmp_path / "secret.txt", tmp_path / "templates" / "letters" / "link.txt")
    assert_one(
        check_file(path).problems, "'letters/link.txt'", "outside the templates folder", line=line_of(text, "template:")
    )


def test_includes_extends_and_imports_inside_templates_validate_and_render(make_journey, tmp_path):
    templates = {
        "letters/_base.txt": "{% block body %}{% endblock %}\n\n{% include 'letters/_sign.txt' %}\n",
        "letters/_sign.txt": "Groet,\n{{ sender.name }}\n",
        "letters/_macros.txt": "{% macro hallo(naam) %}Beste {{ naam }},{% endmacro %}\n",
        "letters/a.txt": "{% extends 'letters/_base.txt' %}\n{% from 'letters/_macros.txt' import hallo %}\n"
        "{% block body %}{{ hallo(contact.first_name) }}\n{% for r in ['a'] %}{% include 'letters/_row.txt' %}{% endfor %}"
        "{% endblock %}\n",
        "letters/_row.txt": "- {{ r }}\n",
    }
    checked = check_file(make_journey(one_touch("letter", "letters/a.txt"), templates))
    assert checked.ok, "\n".join(map(str, checked.problems))
    out = render_file(
        tmp_path / "templates" / "letters" / "a.txt", {**CTX, "sender": {"name": "Sanne"}}, "templates/letters/a.txt"
    )
    assert out == "Beste Ilse,\n- a\nGroet,\nSanne"


def test_an_error_inside_an_included_template_names_that_template_and_line(tmp_path):
    (tmp_path / "templates" / "letters").mkdir(parents=True)
    (tmp_path / "templates" / "letters" / "a.txt").write_text("Hallo\n{% include 'letters/b.txt' %}\n")
    (tmp_path / "templates" / "letters" / "b.txt").write_text("regel 1\nregel 2 {{ contact.phone }}\n")
    with pytest.raises(TemplateProblem) as info:
        render_file(tmp_path / "templates" / "letters" / "a.txt", CTX, "templates/letters/a.txt")
    assert info.value.template.endswith("templates/letters/b.txt") and info.value.line == 2
    assert "contact.phone is empty for this deal" in info.value.message


@pytest.mark.parametrize(
    "where, source",
    [
        ("subject", "Hallo {% include 'emails/hello.html' %}"),
        ("title", "{% import 'tasks/call.md' as x %}Bellen"),
    ],
)
def test_inline_templates_cannot_include(make_journey, where, source):
    channel = "email" if where == "subject" else "task"
    text = one_touch(channel, "emails/hello.html" if channel == "email" else "tasks/call.md")
    text = text.replace({"subject": "subject: Hallo", "title": "title: Bellen"}[where], f'{where}: "{source}"')
    assert_one(
        problems_of(make_journey, text, {}),
        f"{where} of touch 't'",
        "only template files can include",
        line=line_of(text, f"{where}:"),
        hint="template file",
    )


PRIVATE_CASES = [
    (
        "dunder-attr",
        "Beste {{ contact.first_name }},\n\n{{ contact.__class__ }}\n",
        "templates/letters/a.txt:3:12",
        "'contact.__class__'",
    ),
    ("underscore-attr", "Hallo\n{{ deal._secret }}\n", "templates/letters/a.txt:2:9", "'deal._secret'"),
    ("dunder-item", "{{ contact['__class__'] }}\n", "templates/letters/a.txt:1:13", "'contact.__class__'"),
    ("attr-filter", "x\ny\n{{ contact | attr('__init__') }}\n", "templates/letters/a.txt:3:", "attr('__init__')"),
    (
        "map-attribute",
        "{{ [deal] | map(attribute='amount.__class__') | list }}\n",
        "templates/letters/a.txt:1:",
        "map('amount.__class__')",
    ),
    ("sort-attribute", "{{ [deal] | sort(attribute='_x') | list }}\n", "templates/letters/a.txt:1:", "sort('_x')"),
    (
        "deep-walk",
        "{{ deal.amount.__class__.__mro__[1].__subclasses__() }}\n",
        "templates/letters/a.txt:1:",
        "__class__",
    ),
    (
        "in-a-loop",
        "{% for k in deal.fields %}\n{{ k.__len__() }}\n{% endfor %}\n",
        "templates/letters/a.txt:2:",
        "'k.__len__'",
    ),
]


@pytest.mark.parametrize("case", PRIVATE_CASES, ids=[c[0] for c in PRIVATE_CASES])
def test_underscore_names_are_refused_at_validate_time(make_journey, case):
    _, source, place, expression = case
    text = one_touch("letter", "letters/a.txt")
    p = assert_one(
        problems_of(make_journey, text, {"letters/a.txt": source}),
        place,
        expression,
        "starts with '_'",
        line=line_of(text, "template:"),
        hint="merge field's own name",
    )
    assert "unknown field" not in p.message


def test_underscore_names_in_conditions_and_subjects_are_refused(make_journey):
    text = one_touch("email", "emails/hello.html", "  when: \"deal.__class__ != 'x'\"\n").replace(
        "subject: Hallo", 'subject: "Hoi {{ contact._x }}"'
    )
    problems = problems_of(make_journey, text, {})
    assert_one(problems, "the condition of touch 't'", "'deal.__class__'", line=line_of(text, "when:"))
    assert_one(problems, "subject of touch 't'", "'contact._x'", line=line_of(text, "subject:"))


def test_underscore_names_fail_at_render_time_too():
    for source in (
        "{{ contact._x }}",
        "{{ contact['_x'] }}",
        "{{ contact | attr('_x') }}",
        "{% set k = '_x' %}{{ contact[k] }}",
    ):
        with pytest.raises(TemplateProblem, match="starts with '_'") as info:
            render("Hallo\n" + source, CTX, "letters/a.txt")
        assert info.value.line == 2


TWIN_CASES = [
    (
        "field",
        "Hallo {{ contact.first_name }}\n\nGroet {{ owner.nmae }}\n",
        ("unknown field 'owner.nmae'", "templates/emails/hello.txt:3:16"),
        "did you mean 'owner.name'?",
    ),
    (
        "filter",
        "Bedrag: {{ deal.amount | mony }}\n",
        ("unknown filter 'mony'", "templates/emails/hello.txt:1:"),
        "did you mean 'money'?",
    ),
    (
        "syntax",
        "Hallo\n{% if contact.first_name %}\nx\n",
        ("templates/emails/hello.txt", "does not parse", "endif"),
        "",
    ),
    ("private", "{{ owner.__dict__ }}\n", ("templates/emails/hello.txt:1:", "starts with '_'"), ""),
]


@pytest.mark.parametrize("case", TWIN_CASES, ids=[c[0] for c in TWIN_CASES])
def test_the_text_twin_of_an_html_email_is_validated(make_journey, case):
    _, twin, words, hint = case
    text = one_touch("email", "emails/hello.html")
    p = assert_one(
        problems_of(make_journey, text, {"emails/hello.txt": twin}), *words, line=line_of(text, "template:"), hint=hint
    )
    assert "the text part of touch 't'" in p.message


@pytest.mark.parametrize("source", ["", "   \n\n\t\n"], ids=["empty", "whitespace"])
def test_an_empty_template_is_an_error(make_journey, source, tmp_path):
    text = one_touch("letter", "letters/a.txt")
    assert_one(
        problems_of(make_journey, text, {"letters/a.txt": source}),
        "templates/letters/a.txt",
        "is empty",
        line=line_of(text, "template:"),
        hint="write its text",
    )
    with pytest.raises(TemplateProblem, match="empty"):
        render_file(tmp_path / "templates" / "letters" / "a.txt", CTX, "templates/letters/a.txt")


def test_a_template_that_renders_nothing_for_a_deal_fails_that_touch(tmp_path):
    path = tmp_path / "templates" / "letters" / "a.txt"
    path.parent.mkdir(parents=True)
    path.write_text("{% if deal.segment == 'A' %}Voor A-klanten{% endif %}\n")
    with pytest.raises(TemplateProblem, match="renders no text for this deal"):
        render_file(path, CTX, "templates/letters/a.txt")


WEBHOOK_CASES = [
    (
        "string-without-json",
        '{\n  "name": "{{ contact.first_name }}",\n  "deal": {{ deal.id | json }}\n}\n',
        ("templates/webhooks/crm.json:2:", "not valid JSON", "quotes, backslashes or line breaks"),
        "| json",
    ),
    (
        "json-inside-quotes",
        '{"name": "{{ contact.first_name | json }}"}\n',
        ("templates/webhooks/crm.json:1:", "not valid JSON", "for a sample deal"),
        "no quotes around it",
    ),
    (
        "missing-comma",
        '{"deal": {{ deal.id | json }} "name": {{ contact.first_name | json }}}\n',
        ("templates/webhooks/crm.json", "not valid JSON for a sample deal", "delimiter"),
        "| json",
    ),
    (
        "custom-field-without-json",
        '{"tier": "{{ deal.fields.tier }}", "deal": {{ deal.id | json }}}\n',
        ("templates/webhooks/crm.json:1:", "not valid JSON", "quotes, backslashes"),
        "deal.fields.tier",
    ),
    (
        "street-without-json",
        '{"street": "{{ address.street | upper }}"}\n',
        ("templates/webhooks/crm.json:1:", "not valid JSON", "quotes"),
        "address.street",
    ),
    (
        "render-fails",
        '{"when": {{ deal.product | date | json }}}\n',
        ("templates/webhooks/crm.json:1:1", "cannot be rendered for a sample deal", "date"),
        "",
    ),
]


@pytest.mark.parametrize("case", WEBHOOK_CASES, ids=[c[0] for c in WEBHOOK_CASES])
def test_a_webhook_body_must_be_json_that_merge_data_cannot_break(make_journey, case):
    _, body, words, hint = case
    text = one_touch("webhook", "webhooks/crm.json")
    assert_one(
        problems_of(make_journey, text, {"webhooks/crm.json": body}), *words, line=line_of(text, "template:"), hint=hint
    )


def test_a_webhook_body_written_with_json_validates_and_survives_hostile_names(make_journey):
    body = (
        '{"deal": {{ deal.id | json }}, "name": {{ (contact.first_name ~ " " ~ contact.last_name) | json }},\n'
        ' "amount": {{ deal.amount | json }}, "closed": {{ deal.closed_at | json }}, "tier": {{ deal.fields.tier | json }},\n'
        ' "company": {{ company | json }}, "day": {{ touch.day }}}\n'
    )
    checked = check_file(make_journey(one_touch("webhook", "webhooks/crm.json"), {"webhooks/crm.json": body}))
    assert checked.ok, "\n".join(map(str, checked.problems))
    hostile = {
        **CTX,
        "contact": {"first_name": 'A "b" \\ c\n</script>', "last_name": "d'e"},
        "touch": {"day": 3},
        "deal": {**CTX["deal"], "closed_at": "2026-11-20", "fields": {"tier": 'x"y'}},
    }
    out = json.loads(render(body, hostile, "webhooks/crm.json"))
    assert out["name"] == 'A "b" \\ c\n</script> d\'e' and out["amount"] == "12500.00" and out["tier"] == 'x"y'


def test_json_filter_escapes_for_html_and_writes_empty_as_null():
    out = render(
        "{{ contact.first_name | json }} {{ contact.phone | json }}",
        {"contact": {"first_name": "<b>&'", "phone": ""}},
        "x.json",
    )
    assert out == '"\\u003cb\\u003e\\u0026\\u0027" null'


STATIC_BUDGET_CASES = [
    ("center", "Hallo\n{{ contact.first_name | center(1000000000) }}\n", "a.txt:2:25", "center width 1,000,000,000"),
    ("power", "{{ deal.amount ** 2 }}\n", "a.txt:1:16", "the ** operator"),
    ("printf", "x\n\n{{ '%0999999999d' % 1 }}\n", "a.txt:3:", "% format width 999999999"),
    ("format-filter", "{{ '%.99999999f' | format(deal.amount) }}\n", "a.txt:1:", "% format width"),
    ("repeat", "{{ '=' * 100000 }}\n", "a.txt:1:8", "repeating text with * would build 100,000"),
    ("zfill", "{{ deal.id.zfill(999999999) }}\n", "a.txt:1:", ".zfill() width"),
    ("str-format", "{{ '{:099999999}'.format(deal.amount) }}\n", "a.txt:1:", "format width 099999999"),
    ("wordwrap", "{{ contact.first_name | wordwrap(0) }}\n", "a.txt:1:", "wordwrap width must be at least 1"),
]


@pytest.mark.parametrize("case", STATIC_BUDGET_CASES, ids=[c[0] for c in STATIC_BUDGET_CASES])
def test_validate_refuses_what_every_render_would_refuse(make_journey, case):
    _, source, place, words = case
    text = one_touch("letter", "letters/a.txt")
    assert_one(
        problems_of(make_journey, text, {"letters/a.txt": source}),
        f"templates/letters/{place}",
        "would fail every render",
        words,
        line=line_of(text, "template:"),
        hint="widths and repeats up to 1,000",
    )


def test_validate_refuses_budget_bombs_in_subjects_and_conditions(make_journey):
    text = one_touch("email", "emails/hello.html", "  when: \"'%0999999d' % 1 != ''\"\n").replace(
        "subject: Hallo", 'subject: "{{ contact.first_name | center(99999999) }}"'
    )
    problems = problems_of(make_journey, text, {})
    assert_one(problems, "subject of touch 't' would fail every render", "center width", line=line_of(text, "subject:"))
    assert_one(
        problems, "the condition of touch 't' would fail every render", "% format width", line=line_of(text, "when:")
    )


def test_validate_accepts_small_widths_and_repeats(make_journey):
    source = "{{ '-' * 40 }}\n{{ contact.first_name | center(30) }}\n{{ '%05.2f' % 3.14 }}\n{{ deal.id.zfill(8) }}\n"
    checked = check_file(make_journey(one_touch("letter", "letters/a.txt"), {"letters/a.txt": source}))
    assert checked.ok, "\n".join(map(str, checked.problems))


def test_a_templates_folder_with_another_name_still_resolves_extends(tmp_path):
    root = tmp_path / "tpl"
    (root / "emails").mkdir(parents=True)
    (root / "emails" / "_l.html").write_text("<p>{% block b %}{% endblock %}</p>")
    (root / "emails" / "x.html").write_text(
        "{% extends 'emails/_l.html' %}{% block b %}{{ contact.first_name }}{% endblock %}"
    )
    assert render_file(root / "emails" / "x.html", CTX, "tpl/emails/x.html") == "<p>Ilse</p>"
    assert render_file(root / "emails" / "x.html", CTX, "x", templates_dir=root) == "<p>Ilse</p>"


def test_validate_cli_reports_a_hostile_template_with_exit_1_and_file_line_col(make_journey, monkeypatch, capsys):
    text = one_touch("letter", "letters/a.txt")
    make_journey(text, {"letters/a.txt": "Hallo\n{% include '../../etc/passwd' %}\n{{ deal.__class__ }}\n"})
    code, out = run_cli(monkeypatch, capsys, "validate", "journeys/x.yaml")
    assert code == 1
    line = line_of(text, "template:")
    assert f"journeys/x.yaml:{line}:19: {{% include %}} at templates/letters/a.txt:2:4" in out
    assert f"journeys/x.yaml:{line}:19: 'deal.__class__' in template templates/letters/a.txt:3:9" in out
    assert "Traceback" not in out


def test_validate_cli_twin_and_webhook(make_journey, monkeypatch, capsys):
    text = journey_yaml(
        phase(
            "affirm",
            "- id: hello\n  day: 1\n  channel: email\n  subject: Hoi\n  template: emails/hello.html\n",
            "- id: crm\n  day: 2\n  channel: webhook\n  url: https://example.com/h\n  template: webhooks/crm.json\n",
        )
    )
    make_journey(
        text,
        {
            "emails/hello.txt": "Hoi {{ contact.frist_name }}\n",
            "webhooks/crm.json": '{"name": "{{ contact.first_name }}"}\n',
        },
    )
    code, out = run_cli(monkeypatch, capsys, "validate", "journeys/x.yaml")
    assert code == 1
    assert f"journeys/x.yaml:{line_of(text, 'emails/hello.html')}:" in out and "templates/emails/hello.txt:1:" in out
    assert f"journeys/x.yaml:{line_of(text, 'webhooks/crm.json')}:" in out and "| json" in out


# ============================================================================================
# B. rendering is bounded while it runs
# ============================================================================================

BOMBS = [
    # (id, source on line 3, words)
    ("center", "{{ 'x' | center(1000000000) }}", "center width 1,000,000,000"),
    ("center-pow", "{{ 'x' | center(10**9) }}", "the ** operator"),
    ("format-filter", "{{ '%0999999999d' | format(1) }}", "% format width 999999999"),
    ("percent-operator", "{{ '%0999999999d' % 1 }}", "% format width 999999999"),
    ("percent-star", "{{ '%*d' % (999999999, 1) }}", "'*' width"),
    ("precision", "{{ '%.999999999f' % 1.5 }}", "% format width"),
    ("str-format", "{{ '{:>999999999}'.format(1) }}", "format width 999999999"),
    ("str-format-nested", "{{ '{:{}}'.format(1, 999999999) }}", "inside a format spec"),
    ("method-center", "{{ contact.first_name.center(999999999) }}", ".center() width"),
    ("method-zfill", "{{ 'x'.zfill(999999999) }}", ".zfill() width"),
    ("expandtabs", "{{ 'a\tb'.expandtabs(999999999) }}", ".expandtabs() width"),
    ("indent", "{{ 'x' | indent(999999999) }}", "indent 999,999,999"),
    ("indent-lines", "{{ 'x' | center(1000) | replace(' ', '\\n') | indent(1000) }}", "indent would build"),
    ("wordwrap", "{{ 'x' | center(1000) | wordwrap(1, wrapstring='y' | center(1000)) }}", "wordwrap would build"),
    ("truncate", "{{ 'x' | truncate(999999999999) }}", "truncate length"),
    ("replace", "{{ 'x' | center(1000) | replace('', 'y' | center(1000)) }}", "replace would build"),
    ("replace-method", "{{ ('x' | center(1000)).replace(' ', 'y' | center(1000)) }}", "replace would build"),
    ("join", "{{ 'x' | center(1000) | list | join('y' | center(1000)) }}", "join would build"),
    ("batch", "{{ [1] | batch(1000000000, 0) | list }}", "batch size"),
    ("repeat-text", "{{ 'x' * 1000000000 }}", "repeating text"),
    ("repeat-list", "{{ [1, 2] * 1000000000 }}", "repeating text"),
    ("power", "{{ 9 ** 9 ** 9 }}", "the ** operator"),
    ("big-product", "{{ 99999999999999999 * 99999999999999999 * 99999999999999999 }}", "10**30"),
    (
        "tilde-doubling",
        "{% set a = 'x' | center(1000) %}{% set b = a~a~a~a~a~a~a~a~a~a %}{% set c = b~b~b~b~b~b~b~b~b~b~b %}{{ c }}",
        "joining text with ~",
    ),
    (
        "plus-doubling",
        "{% set a = 'x' | center(1000) %}{% set b = a+a+a+a+a+a+a+a+a+a %}{% set c = b+b+b+b+b+b+b+b+b+b+b %}{{ c }}",
        "joining with +",
    ),
    (
        "nested-loops",
        "{% for a in 'x' | center(1000) %}{% for b in 'x' | center(1000) %}.{% endfor %}{% endfor %}",
        f"more than {MAX_LOOP_ITERATIONS:,} times",
    ),
    (
        "loop-over-batches",
        "{% for a in 'x' | center(1000) | batch(1) %}{% for b in 'y' | center(1000) %}{% endfor %}{% endfor %}",
        "loops run more than",
    ),
    ("output", "{% for i in 'x' | center(1000) %}{{ 'y' | center(999) }}{% endfor %}", f"longer than {MAX_OUTPUT:,}"),
    (
        "macro-exponential",
        "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(40) }}",
        "macro or method calls",
    ),
    (
        "macro-buffer",
        "{% macro m() %}{% for i in 'x' | center(1000) %}{{ 'y' | center(999) }}{% endfor %}{% endmacro %}"
        "{% set s = m() %}{{ s | length }}",
        "characters",
    ),
    (
        "set-block",
        "{% set s %}{% for i in 'x' | center(1000) %}{{ 'y' | center(1000) }}!{% endfor %}{% endset %}{{ s | length }}",
        "builds up more than",
    ),
    ("recursive-loop", "{% for x in [1, 2] recursive %}{{ loop([1, 2]) }}{% endfor %}", "recursive loops"),
    ("translate", "{{ 'x'.translate({120: 'y' | center(1000)}) }}", ".translate() is not available"),
    ("scaleb", "{{ deal.amount.scaleb(999999) | number }}", ".scaleb() is not available"),
    ("money-absurd", "{{ 1e300 | money }}", "not a number a letter can show"),
]


@pytest.mark.parametrize("case", BOMBS, ids=[c[0] for c in BOMBS])
def test_a_render_over_budget_fails_fast_with_template_and_line(case):
    _, source, words = case
    with pytest.raises(TemplateProblem) as info:
        bounded(render, "Beste {{ contact.first_name }},\n\n" + source + "\nGroet\n", CTX, "templates/letters/bomb.txt")
    assert info.value.template == "templates/letters/bomb.txt"
    assert info.value.line == 3, str(info.value)
    assert words in info.value.message, str(info.value)
    assert str(info.value).startswith("templates/letters/bomb.txt:3: ")


def test_limits_leave_normal_templates_alone():
    source = (
        "{{ contact.first_name | center(40) }}|{{ '%05.1f' | format(3.14159) }}|{{ '{:>8}'.format('x') }}|"
        "{{ 'a b c' | wordwrap(3) }}|{% for i in 'abc' %}{{ loop.index }}/{{ loop.length }}{% endfor %}|"
        "{{ deal.amount * 12 }}|{{ ['a', 'b'] | join(', ') }}|{{ 'x' ~ 'y' }}|{{ '%s!' % 'hoi' }}|{{ '-' * 5 }}"
    )
    out = render(source, CTX, "x.txt")
    assert out.split("|") == [
        "Ilse".center(40),
        "003.1",
        "       x",
        "a b\nc",
        "1/32/33/3",
        "150000.00",
        "a, b",
        "xy",
        "hoi!",
        "-----",
    ]
    assert MAX_WIDTH >= 1000


def test_each_render_gets_a_fresh_budget():
    source = "{% for a in 'x' | center(90) %}{% for b in 'x' | center(100) %}{% endfor %}{% endfor %}ok"
    for _ in range(3):  # 9,000 iterations each: fine alone, over the cap if budgets leaked
        assert render(source, CTX, "x.txt") == "ok"


def test_a_budget_error_in_preview_fails_that_touch_only(repo, tmp_path, example_deal):
    from hundred.reports.preview.render import render_preview
    from hundred.validation.validate import load_journey

    shutil_copy(repo / "templates", tmp_path / "templates")
    (tmp_path / "templates" / "letters" / "thank-you.txt").write_text(
        "Beste {{ contact.first_name }},\n{{ 'x' | center(999999999) }}\n", encoding="utf-8"
    )
    journey, _ = load_journey(repo / "journeys" / "first-100-days.yaml")
    # a whole preview (PDFs, thumbnails, the timeline) takes seconds on a busy machine; an uncapped
    # center(999999999) would build a gigabyte per render first
    preview = bounded(render_preview, journey, example_deal, tmp_path / "templates", tmp_path / "out", limit=30.0)
    problems = dict(preview.problems)
    assert (
        "templates/letters/thank-you.txt:2" in problems["thank-you-letter"]
        or "letters/thank-you.txt:2" in problems["thank-you-letter"]
    )
    assert "center width" in problems["thank-you-letter"]
    assert len(problems) == 1


def shutil_copy(src: Path, dst: Path) -> None:
    import shutil

    shutil.copytree(src, dst)


# ============================================================================================
# C. a field the deal leaves empty fails the touch that prints it, unless the template handles it
# ============================================================================================

EMPTY_CASES = [
    ("none", "Bel {{ contact.phone }}", "contact.phone is empty for this deal"),
    ("blank", "Bel {{ owner.phone }}", "owner.phone is empty for this deal"),
    ("empty-string", "Beste {{ contact.first_name }} {{ contact.last_name }},", "contact.last_name is empty"),
    ("address", "{{ address.street }}\n{{ address.postcode }}", "address.street is empty"),
    ("in-concat", "{{ 'tel: ' ~ contact.phone }}", "contact.phone is empty"),
    ("method", "{{ contact.phone.replace(' ', '') }}", "contact.phone is empty"),
    ("filter", "{{ contact.phone | upper }}", "contact.phone is empty"),
    ("custom-filter", "{{ address.street | postcode }}", "address.street is empty"),
    ("segment", "Segment {{ deal.segment }}", "deal.segment is empty"),
    ("custom-field", "VIP: {{ deal.fields.vip }}", "deal.fields.vip is not set for this deal"),
    ("custom-field-deep", "{{ deal.fields.crm.owner }}", "deal.fields.crm is not set"),
]


@pytest.mark.parametrize("case", EMPTY_CASES, ids=[c[0] for c in EMPTY_CASES])
def test_an_empty_field_fails_with_its_name(case):
    _, source, words = case
    with pytest.raises(TemplateProblem) as info:
        render("Hallo,\n" + source + "\n", CTX, "templates/tasks/call.md")
    assert words in info.value.message and info.value.line == 2
    assert "default" in info.value.hint and "{% if" in info.value.hint


@pytest.mark.parametrize(
    "source, expected",
    [
        ("{{ contact.phone | default('geen nummer') }}", "geen nummer"),
        ("{{ owner.phone | default('geen', true) }}", "geen"),
        ("{% if contact.phone %}tel {{ contact.phone }}{% else %}geen{% endif %}", "geen"),
        ("{% if owner.phone is defined %}x{% else %}geen{% endif %}", "geen"),
        ("{{ contact.phone or 'geen' }}", "geen"),
        ("{{ (contact.first_name ~ ' ' ~ contact.last_name | default('')) | trim }}", "Ilse"),
        ("{{ deal.fields.vip | default('nee') }} {{ deal.fields.tier }}", "nee gold"),
        ("{% if deal.segment != 'C' %}niet C{% endif %}", "niet C"),
        ("{{ contact.phone | json }}", "null"),
    ],
)
def test_an_empty_field_the_template_handles_renders(source, expected):
    assert render(source, CTX, "x.txt") == expected


def test_a_deal_without_phone_or_last_name_still_previews_every_shipped_touch(repo, tmp_path):
    from conftest import deal_payload

    from hundred.deals.model import parse_deal
    from hundred.reports.preview.render import render_preview
    from hundred.validation.validate import load_journey

    payload = deal_payload()
    payload["contact"].update(phone=None, last_name="")
    payload["owner"].pop("title")
    payload["segment"] = None
    journey, templates = load_journey(repo / "journeys" / "first-100-days.yaml")
    preview = render_preview(journey, parse_deal(payload), templates, tmp_path / "out")
    assert preview.problems == []


# ============================================================================================
# D. conditions: a missing custom field is empty, and the result says so
# ============================================================================================


@pytest.mark.parametrize(
    "expression, value, missing",
    [
        ("deal.fields.vip", False, ("deal.fields.vip",)),
        ("deal.fields.vip == true", False, ("deal.fields.vip",)),
        ("not deal.fields.vip", True, ("deal.fields.vip",)),
        ("deal.fields.score > 5", False, ("deal.fields.score",)),
        ("deal.fields.score + 1 > 5", False, ("deal.fields.score",)),
        ("deal.fields.crm.level == 'gold'", False, ("deal.fields.crm",)),
        ("deal.fields.tier == 'gold'", True, ()),
        ("deal.segment != 'C'", True, ("deal.segment",)),
        ("deal.segment == 'A'", False, ("deal.segment",)),
        ("deal.segment in ['A', 'B']", False, ("deal.segment",)),
        ("contact.phone.startswith('+31')", False, ("contact.phone",)),
        ("deal.amount | float >= 5000", True, ()),
        ("deal.fields.vip or deal.fields.tier == 'gold'", True, ("deal.fields.vip",)),
    ],
)
def test_conditions_read_missing_fields_as_empty(expression, value, missing):
    result = bounded(evaluate_condition, expression, CTX, "t")
    assert result == templating.ConditionResult(value, missing)
    assert templating.evaluate(expression, CTX, "t") is value


@pytest.mark.parametrize(
    "expression, words",
    [
        ("deal.segmnt == 'A'", "unknown field"),
        ("deal.__class__", "starts with '_'"),
        ("'x' | center(999999999)", "center width"),
        ("deal.segment = 'A'", "does not parse"),
    ],
)
def test_broken_conditions_still_raise(expression, words):
    with pytest.raises(TemplateProblem, match=words.replace("(", r"\(")):
        bounded(evaluate_condition, expression, CTX, "t")


# ============================================================================================
# the shipped emails share one shell
# ============================================================================================


def test_shipped_html_emails_extend_the_shared_layout(example_deal):
    from hundred.deals.model import parse_deal

    for path in sorted((REPO / "templates" / "emails").rglob("*.html")):
        if path.name.startswith("_"):
            continue
        assert path.read_text(encoding="utf-8").startswith("{% extends "), path
        english = path.parent.name == "en"
        deal = parse_deal(json.loads((REPO / "examples" / ("deal-en.json" if english else "deal-nl.json")).read_text()))
        locale = "en_US" if english else "nl_NL"
        ctx = {**deal.merge_context(), "sender": {"name": "x", "title": "y"}, "journey": {"locale": locale}}
        out = render_file(path, ctx, f"templates/{path.relative_to(REPO / 'templates')}", locale)
        assert out.startswith(
            '<!DOCTYPE html>\n<html lang="{}">\n<head>'.format(locale.replace("_", "-"))
        )  # the journey's
        assert ("Warm regards," if english else "Hartelijke groet,") in out and out.endswith("</html>")
        assert "<title></title>" not in out and ("Dear " if english else "Beste ") in out
