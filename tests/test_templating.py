"""The sandboxed template set-up: filters in the journey's locale, strict fields, data stays data."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hundred.deals.model import merge_field_tree
from hundred.templating import sandbox as templating
from hundred.templating.sandbox import TemplateProblem, render

NBSP = "\u00a0"


def ctx(**over):
    base = {
        "deal": {
            "currency": "EUR",
            "amount": Decimal("12500.00"),
            "closed_at": datetime(2026, 11, 20, 13, 3, tzinfo=UTC),
        },
        "contact": {"first_name": "Ilse"},
        "address": {"country": "NL", "postcode": "3511ab"},
    }
    base.update(over)
    return base


def test_dutch_dates_money_and_numbers():
    out = render(
        "{{ deal.closed_at | date }}|{{ deal.closed_at | date('full') }}|{{ deal.amount | money }}|"
        "{{ 1234567.5 | number }}",
        ctx(),
        "letters/x.txt",
        "nl_NL",
    )
    assert out == f"20 november 2026|vrijdag 20 november 2026|€{NBSP}12.500,00|1.234.567,5"


def test_english_locale_and_other_currency():
    c = ctx()
    c["deal"]["currency"] = "USD"
    out = render("{{ deal.amount | money }} on {{ deal.closed_at | date('full') }}", c, "x.txt", "en_US")
    assert out == "$12,500.00 on Friday, November 20, 2026"


def test_postcode_normalises_dutch_and_leaves_others_tidy():
    assert render("{{ address.postcode | postcode }}", ctx(), "x.txt") == "3511 AB"
    other = ctx(address={"country": "DE", "postcode": " 10115 "})
    assert render("{{ address.postcode | postcode }}", other, "x.txt") == "10115"


def test_merge_data_is_printed_as_written():
    evil = ctx(contact={"first_name": "{{ 7*7 }} <script>alert(1)</script> & Zn"})
    assert (
        render("Beste {{ contact.first_name }},", evil, "letters/x.txt")
        == "Beste {{ 7*7 }} <script>alert(1)</script> & Zn,"
    )
    html = render("<p>{{ contact.first_name }}</p>", evil, "emails/x.html")
    assert html == "<p>{{ 7*7 }} &lt;script&gt;alert(1)&lt;/script&gt; &amp; Zn</p>"


def test_unknown_field_names_field_template_and_line():
    with pytest.raises(TemplateProblem) as info:
        render("Beste,\n\n{{ contact.frist_name }}", ctx(), "letters/thank-you.txt")
    assert info.value.template == "letters/thank-you.txt"
    assert info.value.line == 3
    assert "frist_name" in str(info.value)


@pytest.mark.parametrize("source", ["{{ 'x' * 1000000000 }}", "{{ 9 ** 9 ** 9 }}", "{{ [1] * 100000000 }}"])
def test_memory_bombs_are_refused(source):
    with pytest.raises(TemplateProblem):
        render(source, ctx(), "x.txt")


def test_sandbox_blocks_attribute_walking_and_globals():
    with pytest.raises(TemplateProblem):
        render("{{ contact.__class__.__mro__ }}", ctx(), "x.txt")
    with pytest.raises(TemplateProblem):
        render("{{ range(3) | list }}", ctx(), "x.txt")


def test_time_filter_shows_the_time_and_names_a_date_without_one():
    assert render("{{ deal.closed_at | time }}", ctx(), "x.txt", "nl_NL") == "13:03"
    # a date alone has no time of day: a plain message, not babel's AttributeError about tzinfo
    with pytest.raises(TemplateProblem, match="the time filter needs a date and time, got '2026-11-20'") as info:
        render("{{ '2026-11-20' | time }}", ctx(), "x.txt")
    assert "AttributeError" not in str(info.value)


def test_filters_fail_on_missing_fields_instead_of_printing_nothing():
    with pytest.raises(TemplateProblem, match="nope"):
        render("{{ deal.nope | date }}", ctx(), "x.txt")


def test_syntax_error_has_its_line():
    with pytest.raises(TemplateProblem) as info:
        templating.parse("ok\n{% if %}", "letters/x.txt")
    assert info.value.line == 2


def test_unknown_fields_finds_typos_but_allows_loops_and_crm_fields():
    tree = templating.parse(
        "{% for k in deal.fields %}{{ k }}{% endfor %}{{ deal.fields.anything }}"
        "{{ contact.frist_name }}{{ owner.name.upper() }}{{ touch.date | date }}",
        "x",
    )
    bad = [name for _, name in templating.unknown_fields(tree, merge_field_tree())]
    assert bad == ["contact.frist_name"]


def test_when_conditions_evaluate_in_the_sandbox():
    assert templating.evaluate("deal.amount | float >= 5000", ctx(), "t") is True
    with pytest.raises(TemplateProblem):
        templating.evaluate("deal.segmnt == 'A'", ctx(), "t")
