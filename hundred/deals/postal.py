"""Postcodes as each country writes them: one rule for the address block, the `postcode` filter
and the print room's sort order (pure)."""

from __future__ import annotations

import re


def _compact(s: str) -> str:
    return re.sub(r"\s+", "", s).upper()


def _nl(pc: str) -> str:
    c = _compact(pc)
    return f"{c[:4]} {c[4:]}" if re.fullmatch(r"[1-9][0-9]{3}[A-Z]{2}", c) else pc.strip()


def _gb(pc: str) -> str:  # inward code is always the last three characters
    c = _compact(pc)
    return f"{c[:-3]} {c[-3:]}" if 5 <= len(c) <= 7 else pc.strip().upper()


def _pl(pc: str) -> str:
    c = re.sub(r"\D", "", pc)
    return f"{c[:2]}-{c[2:]}" if len(c) == 5 else pc.strip()


def _three_two(pc: str) -> str:  # CZ, SK, SE: "110 00"
    c = re.sub(r"\D", "", pc)
    return f"{c[:3]} {c[3:]}" if len(c) == 5 else pc.strip()


def _ca(pc: str) -> str:
    c = _compact(pc)
    return f"{c[:3]} {c[3:]}" if len(c) == 6 else pc.strip().upper()


POSTCODES = {
    "NL": _nl,
    "GB": _gb,
    "IE": lambda pc: _compact(pc) if len(_compact(pc)) == 7 else pc.strip().upper(),
    "PL": _pl,
    "CZ": _three_two,
    "SK": _three_two,
    "SE": _three_two,
    "CA": _ca,
}


def normalise_postcode(postcode: str, country: str) -> str:
    """``3511ab`` → ``3511 AB`` (NL) and the like; unknown shapes are left as written."""
    fix = POSTCODES.get(country)
    return fix(postcode) if fix else " ".join(postcode.split())
