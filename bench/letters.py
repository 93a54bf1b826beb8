"""Letter rendering benchmark: humanised vs plain, one batch PDF each.

    .venv/bin/python bench/letters.py [--n 1000] [--json]

Renders N realistic Dutch letters (about 800 characters, varied Dutch, German, Polish, Czech and
Hungarian names and addresses; deterministic) into ONE batch PDF, twice in the same run:
humanised, and as plain text in the same font (``humanise=False``).  Prints letters per second
for both, their ratio and the humanised batch's size per letter.  ``--json`` prints exactly one
line: {"humanised_per_s": .., "plain_per_s": .., "ratio": .., "kb_per_letter": ..}.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

try:
    import hundred.rendering.handwriting  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hundred.rendering.handwriting import Letter, LetterStyle, PostalAddress, render_letters

FIRST = [
    "Ilse",
    "Sanne",
    "Jeroen",
    "Anouk",
    "Daan",
    "Fleur",
    "Bram",
    "Zoë",
    "Łukasz",
    "Agnieszka",
    "Małgorzata",
    "Jiří",
    "Kateřina",
    "Zoltán",
    "Réka",
    "Gergő",
    "Jürgen",
    "Käthe",
    "Søren",
    "Anaïs",
]
LAST = [
    "Jansen",
    "de Vries",
    "van den Berg",
    "Bakker",
    "IJsselmuiden",
    "Wąsowska",
    "Łęcki",
    "Dvořák",
    "Čapek",
    "Szőke",
    "Győri",
    "Müller",
    "Straßburger",
    "Ørsted",
    "van Dijk",
    "Visser",
]
PLACES = [  # street, postcode, city, country
    ("Dorpsstraat 12", "8011ab", "Zwolle", "NL"),
    ("Oudegracht 231", "3511 NK", "Utrecht", "NL"),
    ("Kerkstraat 5a", "1017 GB", "Amsterdam", "NL"),
    ("Molenweg 88", "9712CP", "Groningen", "NL"),
    ("Hauptstraße 7", "10115", "Berlin", "DE"),
    ("ul. Piotrkowska 104", "90-004", "Łódź", "PL"),
    ("Vodičkova 36", "11000", "Praha", "CZ"),
    ("Baross tér 3", "9021", "Győr", "HU"),
    ("Rue de la Loi 16", "1000", "Bruxelles", "BE"),
    ("Königsallee 2", "40212", "Düsseldorf", "DE"),
]
PRODUCTS = ["wandelschoenen", "jaarabonnement", "koffiemachine", "fietstassen", "kookcursus"]
TEMPLATE = """Beste {first},

Wat fijn dat je vorige week bij ons in de winkel in {shop} was! Ik hoop dat je {product} \
goed bevalt en dat je er veel plezier van hebt. Als dank voor je aankoop krijg je van ons een \
tegoedbon van €\u00a0{amount} – die kun je tot en met {date} gebruiken in al onze winkels. Je klantnummer is {order}; \
noem dat gerust als je belt.

Mocht er iets niet helemaal goed zitten, kom dan gerust even langs of bel me op 06 1234 5678. \
We kijken het graag samen met je na, en als je vragen hebt over onderhoud of gebruik, help ik \
je met alle plezier verder. Veel mensen vragen ons om tips: die zetten we binnenkort op een rij, \
samen met een paar mooie routes in de buurt. Houd je brievenbus dus in de gaten!

Tot ziens, {first}, en geniet van de herfst!

Hartelijke groet,"""


def make_letters(n: int) -> list[Letter]:
    """N deterministic, varied letters of about 800 characters."""
    rng = random.Random(20261120)
    letters = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        street, postcode, city, country = rng.choice(PLACES)
        company = rng.choice([None, None, f"{last.split()[-1]} & Partners B.V."])
        body = TEMPLATE.format(
            first=first,
            shop=rng.choice(["Utrecht", "Zwolle", "Den Haag"]),
            product=rng.choice(PRODUCTS),
            amount=f"{rng.randint(5, 60)},50",
            date=f"{rng.randint(1, 28)} december 2026",
            order=f"K-{rng.randint(10000, 99999)}",
        )
        address = PostalAddress(f"{first} {last}", company, street, postcode, city, None, country)
        letters.append(
            Letter(f"D-{1000 + i}/thank-you-letter", body, "Sanne de Vries", address, signer_title="Accountmanager")
        )
    return letters


def timed_render(letters: list[Letter], style: LetterStyle, path: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) to render `letters` into one PDF at `path`.

    Rates are per CPU second: the goal is letters per second on one core, and on a shared
    machine CPU time is far steadier than the wall clock (which is printed alongside).
    """
    gc.collect()  # both modes start from the same heap
    cpu, wall = time.process_time(), time.perf_counter()
    render_letters(letters, style, path)
    return time.process_time() - cpu, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="letters per batch (default 1000)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    letters = make_letters(args.n)
    style = LetterStyle(return_address="Voorbeeld B.V. · Postbus 12 · 8000 AA Zwolle")
    plain = LetterStyle(return_address=style.return_address, humanise=False)
    for warm in (style, plain):  # fonts prepared and registered, code paths warm: outside the timing
        render_letters(letters[:20], warm, os.devnull)
    with tempfile.TemporaryDirectory() as tmp:
        human_path, plain_path = f"{tmp}/humanised.pdf", f"{tmp}/plain.pdf"
        t_human, wall_human = timed_render(letters, style, human_path)
        t_plain, wall_plain = timed_render(letters, plain, plain_path)
        size = os.path.getsize(human_path)
    result = {
        "humanised_per_s": round(args.n / t_human, 1),
        "plain_per_s": round(args.n / t_plain, 1),
        "ratio": round(t_plain / t_human, 3),
        "kb_per_letter": round(size / 1024 / args.n, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.n} letters, one batch PDF each; rates per CPU second (one core)")
        print(
            f"humanised: {t_human:.2f} s CPU ({wall_human:.2f} s wall)  "
            f"{result['humanised_per_s']:.1f} letters/s  "
            f"{size / 1024 / 1024:.1f} MB ({result['kb_per_letter']:.1f} KB/letter)"
        )
        print(f"plain:     {t_plain:.2f} s CPU ({wall_plain:.2f} s wall)  {result['plain_per_s']:.1f} letters/s")
        print(f"ratio humanised/plain: {result['ratio']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
