"""Hostile and careless deal payloads: each is refused with the field's path and
words a CRM admin can act on, every problem at once, in bounded time, and never reaches a letter.

Model-level tests pass a fixed `now`; CLI tests use the real clock with dates relative to it.
"""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_DEAL_EN, EXAMPLE_DEAL_NL, REPO, run_cli

from hundred.deals.checks import MAX_PAYLOAD_BYTES
from hundred.deals.model import Deal, DealError, DealProblem, load_deal, parse_deal, parse_deal_json

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
BASE: dict[str, Any] = json.loads(EXAMPLE_DEAL_NL.read_text(encoding="utf-8"))
DROP = object()


def payload(**changes: Any) -> dict[str, Any]:
    """The Dutch example deal with `contact__first_name="x"`-style changes (DROP removes a key)."""
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = data
        for key in parents:
            target = target.setdefault(key, {})
        if value is DROP:
            target.pop(last, None)
        else:
            target[last] = value
    return data


def problems(raw: Any, now: datetime = NOW) -> dict[str, str]:
    """path → message for a payload that must be refused."""
    with pytest.raises(DealError) as info:
        parse_deal(raw, "x.json", now=now)
    exc = info.value
    assert all(isinstance(p, DealProblem) for p in exc.problems)
    text = str(exc)
    assert len(text.splitlines()) == len(exc.problems), "one line per problem"
    assert "\r" not in text and "\x00" not in text
    return {p.path: p.message for p in exc.problems}


def refused(path: str, *words: str, now: datetime = NOW, **changes: Any) -> str:
    found = problems(payload(**changes), now)
    assert path in found, found
    for word in words:
        assert word in found[path], (word, found[path])
    return found[path]


def accepted(now: datetime = NOW, **changes: Any) -> Deal:
    return parse_deal(payload(**changes), "x.json", now=now)


# ---- the shipped examples --------------------------------------------------------------------


@pytest.mark.parametrize("path", [EXAMPLE_DEAL_NL, EXAMPLE_DEAL_EN], ids=lambda p: p.name)
def test_example_deals_are_valid_now_and_on_their_close_day(path):
    assert load_deal(path).id
    closed = datetime.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["closed_at"])
    assert load_deal(path, now=closed + timedelta(hours=1)).closed_at == closed


# ---- blank names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("contact__first_name", "   "),
        ("contact__first_name", ""),
        ("contact__first_name", "\u3000\u00a0 "),  # ideographic and no-break spaces only
        ("owner__name", " "),
        ("company__name", "    "),
        ("address__street", ""),
        ("address__city", "  "),
        ("id", "   "),
        ("currency", " "),
    ],
)
def test_blank_required_value_is_refused(field, value):
    refused(field.replace("__", "."), "is blank", **{field: value})


@pytest.mark.parametrize("value", ["-", ".", "\u0301", "…", "?", "🎉", "👩\u200d💻"])
def test_first_name_without_letters_is_refused(value):
    refused("contact.first_name", "no letters", contact__first_name=value)


def test_optional_parts_may_be_absent_or_blank():
    deal = accepted(
        company=None,
        address=DROP,
        contact__last_name="",
        contact__phone="",
        owner__title="",
        contact__email="",
        segment="",
    )
    assert deal.company is None and deal.address is None and deal.contact.last_name == ""
    assert deal.contact.phone is None and deal.contact.email is None and deal.segment is None


def test_names_are_stripped_and_nfc_normalised():
    deal = accepted(contact__first_name="  Zoe\u0308 ", owner__name="Sanne\u00a0de Vries ")
    assert deal.contact.first_name == "Zoë" and deal.owner.name == "Sanne\u00a0de Vries"


# ---- deal ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["a/b", "../../etc/passwd", "D 1042", "-1042", ".hidden", "D-1042?x=1", "x" * 65, "Déal", "D-1042#frag"]
)
def test_unusable_deal_id_is_refused(value):
    refused("id", "deal id", id=value)


@pytest.mark.parametrize(
    "value,kind", [(True, "text"), (-1, "text"), (1.5, "text"), (None, "text"), ({"x": 1}, "text")]
)
def test_deal_id_of_the_wrong_type_is_refused(value, kind):
    refused("id", kind, id=value)


@pytest.mark.parametrize(
    "value,expected",
    [("D-1042", "D-1042"), ("hs:123.4_5", "hs:123.4_5"), (1042, "1042"), (" D-7 ", "D-7"), ("x" * 64, "x" * 64)],
)
def test_sane_deal_ids_are_accepted(value, expected):
    assert accepted(id=value).id == expected


# ---- control characters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("contact__first_name", "\r\nBcc: x@y", "carriage return"),
        ("contact__first_name", "Ilse\r\nBcc: evil@example.com", "carriage return"),
        ("contact__last_name", "Jansen\n", "line break"),
        ("owner__name", "Sanne\nSubject: hi", "line break"),
        ("company__name", "Bakkerij\x00Jansen", "NUL"),
        ("product", "Jaar\x07abonnement", "control character"),
        ("address__street", "Dorpsstraat\t12", "tab"),
        ("address__city", "Zwolle\u2028", "line separator"),
        ("address__state", "\u2029", "paragraph separator"),
        ("segment", "A\x85", "control character"),  # NEL
        ("contact__phone", "+31 6\x7f1234", "control character"),  # DEL
        ("owner__title", "\u202eregnaM", "RIGHT-TO-LEFT OVERRIDE"),
        ("contact__first_name", "Il\u200bse", "ZERO WIDTH SPACE"),
        ("contact__first_name", "\ufeffIlse", "ZERO WIDTH NO-BREAK SPACE"),
        ("contact__first_name", "\ud800", "surrogate"),
        ("contact__first_name", "Ilse\ue000", "private-use"),
        ("contact__first_name", "Ils\ufffde", "replacement character"),
        ("contact__email", "ilse@example.nl\r\nBcc: x@y", "carriage return"),
        ("contact__timezone", "Europe/Amsterdam\n", "line break"),
    ],
)
def test_control_characters_are_refused_in_every_single_line_field(field, value, words):
    message = refused(field.replace("__", "."), words, "one line", **{field: value})
    assert "\n" not in message and "\r" not in message


@pytest.mark.parametrize(
    "where,value",
    [
        ({"fields": {"note": "a\x00b"}}, "fields.note"),
        ({"fields": {"tags": ["ok", "x\u2028y"]}}, "fields.tags[1]"),
        ({"fields": {"deep": {"er": "\x1b[31mred"}}}, "fields.deep.er"),
        ({"crm_note": "x\u202eBcc: y"}, "crm_note"),  # unknown top-level key
    ],
)
def test_control_characters_are_refused_in_custom_fields(where, value):
    found = problems({**payload(), **where})
    assert value in found and "plain text" in found[value], found


def test_a_crm_note_with_line_breaks_is_accepted_in_fields_but_not_in_a_name():
    note = "Levering via de achterdeur.\r\nBel eerst:\t06 1234 5678\n"
    deal = accepted(fields={"note": note, "tags": ["a\nb"]}, crm_note="x\ny")
    assert deal.fields["note"] == note and deal.fields["crm_note"] == "x\ny"
    refused("company.name", "line break", company__name="Bakkerij\nJansen")
    refused("address.street", "line break", address__street="Dorpsstraat 12\nAchterom")


def test_control_character_in_a_custom_field_key_is_refused_and_the_path_stays_one_line():
    found = problems(payload(fields={"bad\r\nkey": 1}))
    ((path, message),) = found.items()
    assert path.startswith("fields.") and "\r" not in path and "\\r\\n" in path
    assert "key contains a carriage return" in message


@pytest.mark.parametrize(
    "value",
    [
        "Zoë",
        "José",
        "Łukasz",
        "علی\u200cرضا",
        "Ilse 🎉",
        "Anna 👩\u200d💻",
        "Ilse\u00a0Marie",
        "{{ 7*7 }}",
        "O'Brien-Smith",
        "山田",
    ],
)
def test_real_names_are_accepted(value):
    assert accepted(contact__first_name=value).contact.first_name == value


# ---- over-long values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,limit",
    [
        ("contact__first_name", 100),
        ("contact__last_name", 100),
        ("owner__name", 100),
        ("owner__title", 100),
        ("company__name", 200),
        ("address__street", 200),
        ("address__city", 100),
        ("product", 200),
        ("segment", 50),
        ("contact__phone", 50),
    ],
)
def test_over_long_value_is_refused_at_its_limit(field, limit):
    assert accepted(**{field: "a" * limit})
    refused(field.replace("__", "."), f"{limit + 1} characters", f"at most {limit}", **{field: "a" * (limit + 1)})


def test_over_long_email_is_refused():
    refused("contact.email", "at most 254", contact__email="a" * 60 + "@" + "b" * 200 + ".nl")
    refused("owner.email", "before '@'", owner__email="a" * 65 + "@example.nl")


@pytest.mark.parametrize(
    "fields,path,words",
    [
        ({"note": "x" * 1001}, "fields.note", ("1001 characters", "at most 1000")),
        ({f"k{i}": i for i in range(101)}, "fields", ("101 custom fields", "at most 100")),
        ({"tags": list(range(101))}, "fields.tags", ("101 items", "at most 100")),
        ({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, "fields.a.b.c.d.e", ("nested too deeply",)),
        ({"a": [[[[[1]]]]]}, "fields.a[0][0][0][0]", ("nested too deeply",)),
        ({"k" * 101: 1}, "fields.'" + "k" * 21 + "…'", ("key is 101 characters long",)),
        ({"": 1}, "fields.''", ("key is blank",)),
    ],
)
def test_custom_fields_are_bounded(fields, path, words):
    found = problems(payload(fields=fields))
    assert path in found, found
    for word in words:
        assert word in found[path]


def test_custom_fields_at_their_limits_are_kept():
    fields = {
        "note": "x" * 1000,
        "a": {"b": {"c": {"d": {"e": 1}}}},
        "tags": list(range(100)),
        "vip": True,
        "score": 9.5,
        "none": None,
    }
    assert accepted(fields=fields).fields == fields


def test_unknown_top_level_keys_are_kept_under_fields_and_bounded_together():
    deal = parse_deal({**payload(fields={"a": 1}), "crm_stage": "won", "hs_id": 77}, now=NOW)
    assert deal.fields == {"crm_stage": "won", "hs_id": 77, "a": 1}
    assert deal.merge_context()["deal"]["fields"]["crm_stage"] == "won"
    many = {**payload(fields={f"f{i}": i for i in range(60)}), **{f"x{i}": i for i in range(60)}}
    assert "120 custom fields" in problems(many)["fields"]


def test_huge_value_is_cut_in_the_message():
    message = refused("currency", "unknown currency", currency="Q" * 90)
    assert len(message) < 150 and "…" in message
    assert len(refused("contact.first_name", "at most 100", contact__first_name="Q" * 100_000)) < 100


# ---- duplicate keys, bytes, JSON shape --------------------------------------------------------


def _json(**changes: Any) -> str:
    return json.dumps(payload(**changes), ensure_ascii=False)


def json_problems(data: bytes | str) -> list[DealProblem]:
    started = time.perf_counter()
    with pytest.raises(DealError) as info:
        parse_deal_json(data, "x.json", now=NOW)
    assert time.perf_counter() - started < 2, "bounded time"
    return info.value.problems


@pytest.mark.parametrize(
    "text,path",
    [
        (_json().replace('"id": "D-1042"', '"id": "D-1042", "id": "D-666"'), "id"),
        (_json().replace('"first_name": "Ilse"', '"first_name": "Ilse", "first_name": "Eve"'), "contact.first_name"),
        (_json(fields={"x": {"y": 1}}).replace('"y": 1', '"y": 1, "y": 2'), "fields.x.y"),
        (_json(fields={"t": [{"a": 1}]}).replace('"a": 1', '"a": 1, "a": 1'), "fields.t[0].a"),
        (_json().replace('"city": "Zwolle"', '"city": "Zwolle", "city": "Zwolle"'), "address.city"),
    ],
)
def test_duplicate_json_keys_are_refused_at_any_depth(text, path):
    found = {p.path: p.message for p in json_problems(text)}
    assert path in found and "more than once" in found[path], found


def test_thousands_of_problems_are_capped_at_fifty_lines():
    text = "{" + ", ".join(f'"k{i}": 1, "k{i}": 2' for i in range(5000)) + "}"
    problems = json_problems(text)
    assert len(problems) == 50 and problems[-1].message.startswith("and ") and "more problems" in problems[-1].message


def test_duplicate_keys_and_model_problems_are_reported_together():
    text = _json(contact__first_name=" ").replace('"id": "D-1042"', '"id": "D-1", "id": "D-2"')
    assert {p.path for p in json_problems(text)} == {"id", "contact.first_name"}


def test_bytes_that_are_not_utf8_are_reported_at_their_line_and_offset():
    data = _json().replace(", ", ",\n").encode("utf-8").replace(b"Zwolle", "Zw\xf6lle".encode("latin-1"))
    (problem,) = json_problems(data)
    offset = data.index(b"\xf6")
    assert problem.line == data[:offset].count(b"\n") + 1
    assert "not UTF-8" in problem.message and "0xF6" in problem.message and f"byte offset {offset}" in problem.message
    assert problem.format("x.json").startswith(f"x.json:{problem.line}:")


@pytest.mark.parametrize(
    "data,words",
    [
        (b"\xff\xfe{\x00}\x00", "UTF-16"),
        (b"\x80", "not UTF-8"),
        (_json().encode()[:-3] + b"\xe2\x82", "not UTF-8"),  # truncated multi-byte sequence
    ],
)
def test_other_undecodable_bytes_are_refused(data, words):
    assert words in json_problems(data)[0].message


def test_a_utf8_bom_is_fine():
    assert parse_deal_json(b"\xef\xbb\xbf" + _json().encode(), now=NOW).id == "D-1042"
    assert parse_deal_json("\ufeff" + _json(), now=NOW).id == "D-1042"


@pytest.mark.parametrize(
    "text,words",
    [
        ("[1, 2]", "must be a JSON object"),
        ('"D-1042"', "must be a JSON object"),
        ("null", "must be a JSON object"),
        ("42", "must be a JSON object"),
        ("", "empty"),
        ("   \n", "empty"),
        ('{"id": "D-1",,}', "not valid JSON"),
    ],
)
def test_a_document_that_is_not_a_deal_object_is_refused(text, words):
    assert words in json_problems(text)[0].message


@pytest.mark.parametrize(
    "bomb", ["[" * 100_000, '{"a":' * 50_000, '{"fields": {"x": ' + "[" * 50_000 + "]" * 50_000 + "}}"]
)
def test_deep_nesting_is_refused_without_recursion(bomb):
    (problem,) = json_problems(bomb)
    assert "nested more than 32 levels" in problem.message and problem.line == 1


def test_oversized_payload_is_refused_before_parsing():
    (problem,) = json_problems(b" " * (MAX_PAYLOAD_BYTES + 1))
    assert "262,144 bytes" in problem.message
    (problem,) = json_problems('{"x": "' + "a" * MAX_PAYLOAD_BYTES + '"}')
    assert "262,144 bytes" in problem.message


@pytest.mark.parametrize(
    "literal,path",
    [
        ("1e999", "fields.big"),
        ("-1e999", "fields.big"),
        ("NaN", "fields.big"),
        ("Infinity", "fields.big"),
        ("9" * 5000, "fields.big"),
    ],
)
def test_non_finite_and_huge_numbers_in_custom_fields_are_refused(literal, path):
    text = _json(fields={"big": 0}).replace('"big": 0', f'"big": {literal}')
    found = {p.path: p.message for p in json_problems(text)}
    assert path in found and ("finite" in found[path] or "4000 digits" in found[path]), found


# ---- codes: currency, country, locale, time zone ----------------------------------------------


@pytest.mark.parametrize(
    "value,words",
    [
        ("XXX", "not a currency in use"),
        ("XTS", "not a currency in use"),
        ("XAU", "not a currency in use"),
        ("NLG", "Dutch Guilder"),
        ("DEM", "not a currency in use"),
        ("EURO", "unknown currency"),
        ("E$R", "unknown currency"),
        ("ZZZ", "unknown currency"),
        ("€", "unknown currency"),
    ],
)
def test_unknown_currency_is_refused(value, words):
    refused("currency", words, "ISO 4217", currency=value)


@pytest.mark.parametrize(
    "value,expected",
    [("EUR", "EUR"), ("eur", "EUR"), ("USD", "USD"), ("JPY", "JPY"), ("KWD", "KWD"), ("XOF", "XOF"), (" GBP ", "GBP")],
)
def test_currencies_in_use_are_accepted(value, expected):
    amount = "1000" if value.strip().upper() == "JPY" else "12500.00"
    assert accepted(currency=value, amount=amount).currency == expected


@pytest.mark.parametrize(
    "value,words",
    [
        ("XX", "unknown country"),
        ("UK", "did you mean GB"),
        ("ZZ", "unknown country"),
        ("EU", "unknown country"),
        ("QO", "unknown country"),
        ("NLD", "unknown country"),
        ("Netherlands", "did you mean NL"),
        ("1A", "unknown country"),
        ("EL", "did you mean GR"),
        ("", "is blank"),
    ],
)
def test_unknown_country_is_refused(value, words):
    refused("address.country", words, address__country=value)


@pytest.mark.parametrize(
    "value,expected", [("NL", "NL"), ("nl", "NL"), ("GB", "GB"), ("US", "US"), ("XK", "XK"), ("CW", "CW")]
)
def test_assigned_countries_are_accepted(value, expected):
    assert accepted(address__country=value).address.country == expected


@pytest.mark.parametrize("value", ["klingon", "xx_YY", "../../etc", "nl NL"])
def test_unknown_locale_is_refused(value):
    refused("contact.locale", "unknown locale", contact__locale=value)


def test_locale_is_normalised():
    assert accepted(contact__locale="nl-NL").contact.locale == "nl_NL"
    assert accepted(contact__locale="en").contact.locale == "en"


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "../../../etc/passwd", "/etc/localtime", "CET+1"])
def test_unknown_time_zone_is_refused(value):
    refused("contact.timezone", "unknown time zone", contact__timezone=value)


# ---- amounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,words",
    [
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("-Infinity", "finite"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("-1", "negative"),
        (-0.01, "negative"),
        ("1e13", "more than 1,000,000,000,000"),
        (10**15, "more than"),
        ("12500.001", "more decimals than EUR"),
        (0.1 + 0.2, "more decimals"),
        (True, "not an amount"),
        ("abc", "not an amount"),
        ("1,000", "not an amount"),
        ("", "not an amount"),
        ({"value": 1}, "not an amount"),
    ],
)
def test_absurd_amount_is_refused(value, words):
    refused("amount", words, amount=value)


def test_amount_decimals_follow_the_currency():
    refused("amount", "more decimals than JPY", "no minor unit", amount="12.5", currency="JPY")
    assert accepted(amount="1250.00", currency="JPY").amount == Decimal("1250.00")
    assert accepted(amount="1.250", currency="KWD").amount == Decimal("1.250")
    refused("amount", "more decimals than KWD", amount="1.2505", currency="KWD")


@pytest.mark.parametrize(
    "value,expected",
    [
        (0, Decimal(0)),
        (12500.5, Decimal("12500.5")),
        ("12500.00", Decimal("12500.00")),
        (10**12, Decimal(10**12)),
        ("-0", Decimal(0)),
        (DROP, Decimal(0)),
    ],
)
def test_sane_amounts_are_accepted(value, expected):
    assert accepted(amount=value).amount == expected


def test_amount_1e999_in_the_json_is_refused():
    text = _json().replace('"12500.00"', "1e999")
    assert {p.path: p.message for p in json_problems(text)}["amount"] == "must be a finite number"


# ---- closed_at --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,words",
    [
        ("2026-11-20T14:03:00", "no UTC offset"),
        ("2026-11-20", "no UTC offset"),
        ("2021-11-19T14:03:00+01:00", "more than 5 years before now"),
        ("1970-01-01T00:00:00Z", "more than 5 years"),
        ("0001-01-01T00:00:00+14:00", "more than 5 years"),
        ("2026-11-21T16:00:00+00:00", "in the future"),
        ("2099-01-01T00:00:00Z", "in the future"),
        ("9999-12-31T23:59:59-12:00", "in the future"),
        ("2026-11-20T14:03:00+23:00", "offset"),
        ("yesterday", "not a date and time"),
        ("2026-02-30T10:00:00+01:00", "not a date and time"),
        (None, "not a date and time"),
        (DROP, "is missing"),
    ],
)
def test_impossible_close_time_is_refused(value, words):
    refused("closed_at", words, closed_at=value)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20T14:03:00+01:00",
        "2026-11-20T14:03:00Z",
        "2026-11-21T10:00:00+14:00",
        "2021-11-25T10:00:00+01:00",
        "2026-11-21T14:00:00+00:00",
    ],
)
def test_plausible_close_time_is_accepted(value):
    assert accepted(closed_at=value).closed_at.utcoffset() is not None


def test_now_is_injectable_and_defaults_to_the_clock():
    refused("closed_at", "in the future", closed_at="2026-12-25T10:00:00+01:00")
    assert accepted(now=datetime(2026, 12, 25, 12, tzinfo=UTC), closed_at="2026-12-25T10:00:00+01:00")
    ahead = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    with pytest.raises(DealError, match="in the future"):
        parse_deal(payload(closed_at=ahead))


# ---- emails -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,words",
    [
        ("Ilse Jansen <ilse@example.nl>", "without a name"),
        ("<ilse@example.nl>", "without a name"),
        ("ilse @example.nl", "spaces"),
        ('"ilse"@example.nl', "quotes"),
        ("ilse@@example.nl", "exactly one '@'"),
        ("ilse", "exactly one '@'"),
        ("ilse@localhost", "has no dot"),
        ("ilse@example..nl", "domain"),
        ("ilse@-example.nl", "domain"),
        ("ilse@example.n1", "domain"),
        (".ilse@example.nl", "before '@'"),
        ("il..se@example.nl", "before '@'"),
        ("ilse,eve@example.nl", "before '@'"),
        ("ilse@ex_mple.nl", "domain"),
        ("ilse@exä-.nl", "domain"),
        ("il se@exämple.nl", "spaces"),
        ("ilse@example.nl,eve@example.nl", "exactly one '@'"),
    ],
)
@pytest.mark.parametrize("field", ["contact__email", "owner__email"])
def test_invalid_email_is_refused(field, value, words):
    refused(field.replace("__", "."), words, **{field: value})


@pytest.mark.parametrize(
    "value",
    [
        "ilse@example.nl",
        "ilse+crm@example.nl",
        "o'brien@example.ie",
        "x@xn--mller-kva.de",
        "I.Jansen@Sub.Example.co.uk",
        "jan@bäckerei.de",
        "jörg@bäckerei.de",
        "δοκιμή@παράδειγμα.δοκιμή",
    ],
)
def test_valid_email_is_accepted(value):
    assert accepted(contact__email=value).contact.email == value


# ---- structure and the error's shape ----------------------------------------------------------


def test_unknown_and_missing_keys_name_the_field_with_a_hint():
    assert "did you mean 'first_name'" in refused("contact.frist_name", "unknown key", contact__frist_name="Ilse")
    found = problems({k: v for k, v in {**payload(), "contcat": BASE["contact"]}.items() if k != "contact"})
    assert "is missing" in found["contact"] and "contcat" in found["contact"]
    refused("contact", "must be an object", contact="Ilse")
    refused("fields", "must be an object", fields=[1, 2])


def test_every_problem_is_listed_with_its_path():
    raw = payload(
        contact__first_name="   ",
        owner__name="A\r\nB",
        currency="XXX",
        amount="-5",
        address__country="UK",
        closed_at="2026-11-20T14:03:00",
        id="a/b",
        fields={"n": "x\x07y"},
    )
    with pytest.raises(DealError) as info:
        parse_deal(raw, "examples/x.json", now=NOW)
    exc = info.value
    assert {p.path for p in exc.problems} == {
        "contact.first_name",
        "owner.name",
        "currency",
        "amount",
        "address.country",
        "closed_at",
        "id",
        "fields.n",
    }
    assert "examples/x.json: contact.first_name: is blank" in str(exc).splitlines()
    assert {"field": "contact.first_name", "message": "is blank"} in exc.field_errors()
    assert isinstance(exc, ValueError) and exc.source == "examples/x.json"
    path, message, *_ = exc.problems[0]
    assert path and message


def test_the_model_itself_refuses_too():
    with pytest.raises(Exception, match="is blank"):
        Deal.model_validate(payload(contact__first_name=" "))


def test_merge_context_still_gives_plain_data():
    ctx = accepted(fields={"vip": True}).merge_context()
    assert ctx["contact"]["first_name"] == "Ilse" and ctx["deal"]["fields"] == {"vip": True}
    assert ctx["company"]["name"] == "Bakkerij Jansen B.V." and ctx["address"]["country"] == "NL"
    bare = accepted(company=DROP, address=DROP).merge_context()
    assert bare["company"] == {"name": ""} and bare["address"]["street"] is None


# ---- files and the CLI ------------------------------------------------------------------------


run = run_cli  # (monkeypatch, capsys, *args) -> (exit code, stdout, stderr)


@pytest.fixture
def cmd(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    return lambda *args: run(monkeypatch, capsys, *args)


def _write(tmp_path: Path, data: bytes | str | dict) -> Path:
    path = tmp_path / "bad.json"
    if isinstance(data, dict):
        data = json.dumps(data)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _assert_clean_refusal(code: int, out: str, err: str, path: Path, expected: list[str]) -> list[str]:
    assert code == 1
    assert "Traceback" not in err and "unexpected error" not in err
    lines = err.strip().splitlines()
    assert len(lines) == len(expected), lines
    for line, words in zip(sorted(lines), sorted(expected), strict=False):
        assert line.startswith(f"{path}") and words in line, (line, words)
    return lines


def test_plan_with_a_hostile_deal_prints_one_line_per_problem(cmd, tmp_path):
    path = _write(
        tmp_path,
        payload(contact__first_name="\r\nBcc: x@y", owner__name="  ", currency="XXX", amount=-5, address__country="UK"),
    )
    code, out, err = cmd("plan", "journeys/first-100-days.yaml", "--deal", str(path))
    lines = _assert_clean_refusal(
        code,
        out,
        err,
        path,
        [
            "address.country: unknown country 'UK'",
            "amount: -5 is negative",
            "contact.first_name: contains a carriage",
            "currency: 'XXX'",
            "owner.name: is blank",
        ],
    )
    assert f"{path}: contact.first_name: contains a carriage return" in "\n".join(lines)


@pytest.mark.parametrize(
    "data,words",
    [
        (b'\xef\xbb\xbf{"id": "D\xff"}', "not UTF-8"),
        (b"[" * 200_000, "nested more than 32"),
        (b"{}" + b" " * (MAX_PAYLOAD_BYTES + 10), "bytes"),
        ('{"id": "D-1", "id": "D-2"}', "id: key appears more than once"),
        ("[]", "must be a JSON object"),
    ],
)
def test_plan_with_an_unreadable_deal_file_is_one_line(cmd, tmp_path, data, words):
    path = _write(tmp_path, data)
    started = time.perf_counter()
    code, out, err = cmd("plan", "first-100-days", "--deal", str(path))
    assert time.perf_counter() - started < 5
    assert code == 1 and words in err and str(path) in err, err
    assert "Traceback" not in err and "unexpected error" not in err


def test_plan_with_a_deal_closing_next_week_is_refused(cmd, tmp_path):
    ahead = (datetime.now(UTC) + timedelta(days=7)).isoformat(timespec="seconds")
    path = _write(tmp_path, payload(closed_at=ahead))
    code, out, err = cmd("plan", "first-100-days", "--deal", str(path))
    _assert_clean_refusal(code, out, err, path, ["closed_at: " + ahead.replace("+00:00", "")])
    assert "in the future" in err


def test_deal_folder_is_refused(cmd, tmp_path):
    code, _, err = cmd("plan", "first-100-days", "--deal", str(tmp_path))
    assert code == 1 and "is a folder" in err and "Traceback" not in err


@pytest.mark.parametrize("first_name", ["   ", "", "\u00a0", "\t", "\r\n"])
@pytest.mark.parametrize("command", ["plan", "preview"])
def test_a_blank_first_name_never_reaches_beste_comma(cmd, tmp_path, first_name, command):
    path = _write(tmp_path, payload(contact__first_name=first_name))
    out_dir = tmp_path / "out"
    extra = ["--out", str(out_dir)] if command == "preview" else []
    code, out, err = cmd(command, "journeys/first-100-days.yaml", "--deal", str(path), *extra)
    assert code == 1 and "contact.first_name" in err and "Traceback" not in err
    assert "Beste ," not in out
    written = [p for p in out_dir.rglob("*") if p.is_file()] if out_dir.exists() else []
    assert written == []


def test_load_deal_reports_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DealError, match="no such file"):
        load_deal(tmp_path / "nope.json")
    with pytest.raises(DealError, match="is a folder"):
        load_deal(tmp_path)
