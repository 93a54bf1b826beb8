"""Postal address formats per destination country."""

from __future__ import annotations

import pytest

from hundred.deals.postal import normalise_postcode
from hundred.rendering.handwriting import PostalAddress
from hundred.rendering.handwriting.address import address_lines


def addr(
    country: str,
    postcode: str,
    city: str,
    state: str | None = None,
    company: str | None = None,
    name: str = "Ilse Jansen",
    street: str = "Dorpsstraat 12",
) -> PostalAddress:
    return PostalAddress(name, company, street, postcode, city, state, country)


def test_dutch_domestic_postnl_format():
    lines = address_lines(addr("NL", "3511ab", "Utrecht", company="Bakkerij Jansen B.V."), "NL")
    assert lines == ["Bakkerij Jansen B.V.", "Ilse Jansen", "Dorpsstraat 12", "3511 AB  UTRECHT"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("3511ab", "3511 AB"),
        ("3511 ab", "3511 AB"),
        (" 3511AB ", "3511 AB"),
        ("3511  AB", "3511 AB"),
        ("0123 AB", "0123 AB"),  # not a valid Dutch postcode: left as written
    ],
)
def test_dutch_postcodes_are_normalised(raw, expected):
    assert normalise_postcode(raw, "NL") == expected


def test_mail_abroad_gets_the_country_in_capitals_in_the_senders_language():
    de = addr("DE", "10115", "Berlin", name="Jürgen Müller", street="Hauptstraße 7")
    assert address_lines(de, "NL") == ["Jürgen Müller", "Hauptstraße 7", "10115 BERLIN", "DUITSLAND"]
    assert address_lines(de, "DE") == ["Jürgen Müller", "Hauptstraße 7", "10115 Berlin"]
    assert address_lines(de, "US")[-1] == "GERMANY"
    assert address_lines(addr("NL", "8011 AB", "Zwolle"), "DE")[-1] == "NIEDERLANDE"


@pytest.mark.parametrize(
    "country, postcode, city, expected",
    [
        ("PL", "90004", "Łódź", "90-004 ŁÓDŹ"),
        ("CZ", "11000", "Praha", "110 00 PRAHA"),
        ("HU", "9021", "Győr", "9021 GYŐR"),
        ("BE", "1000", "Bruxelles", "1000 BRUXELLES"),
        ("FR", "75001", "Paris", "75001 PARIS"),
    ],
)
def test_postcode_before_town_countries(country, postcode, city, expected):
    assert address_lines(addr(country, postcode, city), "NL")[-2] == expected


def test_british_town_and_postcode_on_their_own_lines():
    lines = address_lines(
        addr("GB", "sw1a2aa", "London", company="Acme Ltd", name="Jane Doe", street="10 Downing Street"), "NL"
    )
    assert lines == ["Jane Doe", "Acme Ltd", "10 Downing Street", "LONDON", "SW1A 2AA", "VERENIGD KONINKRIJK"]


def test_us_address_is_in_capitals_with_city_state_zip():
    lines = address_lines(
        addr(
            "US", "20500", "Washington", "DC", company="Acme Inc.", name="John Smith", street="1600 Pennsylvania Ave NW"
        ),
        "US",
    )
    assert lines == ["JOHN SMITH", "ACME INC.", "1600 PENNSYLVANIA AVE NW", "WASHINGTON DC 20500"]


def test_missing_state_leaves_no_double_space():
    assert address_lines(addr("US", "20500", "Washington", None), "US")[-1] == "WASHINGTON 20500"


def test_unknown_country_prints_its_code_and_is_flagged():
    problems: list[str] = []
    lines = address_lines(addr("QQ", "10000", "Nowhere"), "NL", problems)  # QQ: a user-assigned code
    assert lines[-1] == "QQ"
    assert problems == ["no country name for 'QQ'; printed the code in the address"]


def test_country_line_is_in_the_senders_language():
    assert address_lines(addr("DE", "10115", "Berlin"), "NL")[-1] == "DUITSLAND"
    assert address_lines(addr("XK", "10000", "Prishtina"), "DE")[-1] == "KOSOVO"
    assert address_lines(addr("NL", "8011 AB", "Zwolle"), "US")[-1] == "NETHERLANDS"


def test_no_blank_lines_when_company_is_missing():
    assert "" not in address_lines(addr("NL", "8011 AB", "Zwolle", company="  "), "NL")
