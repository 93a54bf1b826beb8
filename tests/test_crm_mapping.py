"""The pure parts of connecting a CRM: country names in any language → ISO codes, the street line
as each country writes it, and the mapping's language (paths, [primary], formats, map, default)."""

from __future__ import annotations

import pytest

from hundred.deals.countries import UnknownCountry, country_code, street_line
from hundred.deals.crm_mapping import MappingError, check_spec, evaluate, needed, read


@pytest.mark.parametrize(
    "name,code",
    [
        ("Netherlands", "NL"),
        ("Nederland", "NL"),
        ("the Netherlands", "NL"),
        ("Holland", "NL"),
        ("Pays-Bas", "NL"),
        ("Países Bajos", "NL"),
        ("オランダ", "NL"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("Niemcy", "DE"),
        ("germany", "DE"),
        ("Österreich", "AT"),
        ("Osterreich", "AT"),
        ("België", "BE"),
        ("Belgique", "BE"),
        ("Schweiz", "CH"),
        ("United States", "US"),
        ("USA", "US"),
        ("Vereinigtes Königreich", "GB"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("Türkiye", "TR"),
        ("Czech Republic", "CZ"),
        ("NLD", "NL"),
        ("nl", "NL"),
        ("  France ", "FR"),
    ],
)
def test_country_names_in_any_common_language_map_to_their_code(name, code):
    assert country_code(name) == code


@pytest.mark.parametrize(
    "name,words",
    [
        ("Absurdistan", "'Absurdistan' is not a country name"),
        ("Europe", "'Europe'"),
        ("", "empty"),
        ("Kongo", "CD, CG"),
    ],
)
def test_a_name_that_maps_to_no_one_code_is_named(name, words):
    with pytest.raises(UnknownCountry, match=words):
        country_code(name)


def test_the_street_line_follows_the_country():
    assert street_line("Dorpsstraat", "12", "NL") == "Dorpsstraat 12"
    assert street_line("Hauptstraße", "5", "DE") == "Hauptstraße 5"
    assert street_line("Main Street", "12", "US") == "12 Main Street"
    assert street_line("High Street", "12", "GB") == "12 High Street"
    assert street_line("rue de la Paix", "12", "FR") == "12 rue de la Paix"
    assert street_line("Dorpsstraat", "12", "NL", "A") == "Dorpsstraat 12 A"
    assert street_line("Main Street", "12", "US", "Apt 4") == "12 Main Street, Apt 4"
    assert street_line("Dorpsstraat", None, "NL") == "Dorpsstraat"


OBJECTS = {
    "person": {
        "first_name": "Ilse",
        "emails": [
            {"value": "prive@example.nl", "primary": False, "label": "home"},
            {"value": "ilse@example.nl", "primary": True, "label": "work"},
        ],
        "phones": [{"value": "+31 6 1", "primary": False, "label": "mobile"}],
    },
    "organization": {
        "address": {
            "value": "Main Street 12, Springfield",
            "route": "Main Street",
            "street_number": "12",
            "country": "Verenigde Staten",
            "locality": "Springfield",
        }
    },
    "deal": {"won_time": "2026-11-20T13:03:00Z", "custom_fields": {"k" * 40: 43}},
}


def test_paths_pick_the_primary_item_and_read_a_labelled_value():
    assert read(OBJECTS, "person.emails[primary]") == "ilse@example.nl"
    assert read(OBJECTS, "person.phones[primary]") == "+31 6 1"  # none marked: the first
    assert read(OBJECTS, "person.emails[0]") == "prive@example.nl"
    assert read(OBJECTS, "organization.address.locality") == "Springfield"


def test_formats_map_and_defaults():
    fields = check_spec(
        {
            "fields": {
                "address.street": {"from": "organization.address", "format": "street"},
                "address.country": {"from": "organization.address.country", "format": "country"},
                "closed_at": {"from": ["deal.close_time", "deal.won_time"], "format": "utc"},
                "journey": {
                    "from": f"deal.custom_fields.{'k' * 40}",
                    "map": {"42": "first-100-days", "43": "first-100-days-en"},
                },
                "segment": {"from": "deal.segment", "default": "B"},
                "currency": {"value": "EUR"},
            }
        },
        "pipedrive",
    )
    mapped = evaluate(fields, OBJECTS)
    assert mapped.problems == []
    assert mapped.flat == {
        "address.street": "12 Main Street",  # the United States writes the number first
        "address.country": "US",
        "closed_at": "2026-11-20T13:03:00+00:00",
        "journey": "first-100-days-en",
        "segment": "B",
        "currency": "EUR",
    }
    assert mapped.sources["closed_at"] == "deal.won_time" and "default" in mapped.sources["segment"]
    assert needed(fields) == {
        "organization": frozenset({"address"}),
        "deal": frozenset({"close_time", "won_time", "custom_fields", "segment"}),
    }


def test_a_value_the_map_lacks_is_a_problem_naming_it():
    fields = check_spec(
        {"fields": {"journey": {"from": f"deal.custom_fields.{'k' * 40}", "map": {"42": "x"}}}}, "pipedrive"
    )
    (problem,) = evaluate(fields, OBJECTS).problems
    assert problem.field == "journey" and "is '43', which the mapping's 'map' lacks" in problem.message


@pytest.mark.parametrize(
    "fields,words",
    [
        ({"contact.frist_name": "person.first_name"}, "unknown column 'contact.frist_name'"),
        ({"contact.first_name": {"path": "current.person_name"}}, "'path' read the webhook's payload"),
        ({"contact.first_name": {"from": "person.first_name", "format": "shout"}}, "unknown format 'shout'"),
        ({"contact.first_name": {"from": "person..x"}}, "cannot read the part"),
        ({"contact.first_name": 7}, "give a path"),
    ],
)
def test_a_broken_mapping_says_which_field_and_what(fields, words):
    with pytest.raises(MappingError, match=words):
        check_spec({"fields": fields}, "pipedrive")
