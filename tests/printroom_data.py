"""Realistic queued letters for the print room tests and bench/batch.py: mixed NL/BE/DE/US
addresses, Dutch body text, deterministic (seeded)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

FIRST = ["Ilse", "Sanne", "Jeroen", "Anouk", "Daan", "Fleur", "Bram", "Zoë", "Jürgen", "Käthe", "Amélie", "Mary"]
LAST = ["Jansen", "de Vries", "van den Berg", "Bakker", "IJsselmuiden", "Müller", "Peeters", "Smith", "Visser"]
PLACES = [  # street, postcode, city, state, country
    ("Dorpsstraat 12", "8011ab", "Zwolle", None, "NL"),
    ("Oudegracht 231", "3511 NK", "Utrecht", None, "NL"),
    ("Kerkstraat 5a", "1017 GB", "Amsterdam", None, "NL"),
    ("Molenweg 88", "9712CP", "Groningen", None, "NL"),
    ("Markt 1", "2000", "Antwerpen", None, "BE"),
    ("Rue de la Loi 16", "1000", "Bruxelles", None, "BE"),
    ("Hauptstraße 7", "10115", "Berlin", None, "DE"),
    ("Königsallee 2", "40212", "Düsseldorf", None, "DE"),
    ("1600 Amphitheatre Pkwy", "94043", "Mountain View", "CA", "US"),
    ("350 5th Ave", "10118", "New York", "NY", "US"),
]
SENTENCES = [
    "Wat fijn dat we samen aan de slag gaan.",
    "Ik wilde u even persoonlijk bedanken voor het vertrouwen.",
    "De eerste weken staan in het teken van kennismaken.",
    "Mocht er iets zijn, dan hoor ik het graag.",
    "Ons team kijkt ernaar uit om samen mooie resultaten te behalen.",
    "Binnenkort neem ik contact met u op om de eerste stappen door te nemen.",
]
LAYOUT = {
    "paper": "A4",
    "envelope": "DL",
    "ink": "blue",
    "return_address": "Hundred BV · Postbus 12 · 3500 AA Utrecht",
    "sender_country": "NL",
    "humanise": True,
}


def letter_inputs(i: int, rng: random.Random, print_by: date | None) -> dict[str, Any]:
    street, postcode, city, state, country = PLACES[rng.randrange(len(PLACES))]
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    paras = (
        ["Beste " + name.split()[0] + ","]
        + [" ".join(rng.sample(SENTENCES, 3)) for _ in range(2)]
        + ["Hartelijke groet,"]
    )
    deal = f"D-{1000 + i}"
    return dict(
        letter_id=f"{deal}/thank-you-letter",
        deal_id=deal,
        touch_id="thank-you-letter",
        text="\n\n".join(paras),
        seed=f"{deal}/thank-you-letter",
        hand=rng.choice(["caveat", "kalam"]),
        layout=dict(LAYOUT),
        signer="Marieke de Boer",
        signer_title="Accountmanager",
        address={
            "name": name,
            "company": rng.choice([None, "Bakkerij Jansen BV", "Acme GmbH"]),
            "street": street,
            "postcode": postcode,
            "city": city,
            "state": state,
            "country": country,
        },
        print_by=print_by,
    )


def fill(
    ledger: Any,
    n: int,
    *,
    print_by: date | None = date(2026, 11, 30),
    seed: int = 7,
    start: int = 0,
    spread_days: int = 0,
) -> list[str]:
    """Queue n letters straight into the ledger; returns their ids."""
    rng = random.Random(seed)
    ids = []
    for i in range(start, start + n):
        day = print_by - timedelta(days=rng.randrange(spread_days + 1)) if print_by and spread_days else print_by
        row, _ = ledger.queue_letter(**letter_inputs(i, rng, day))
        ids.append(row.letter_id)
    return ids
