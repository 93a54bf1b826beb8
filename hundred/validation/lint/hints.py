"""A typical touch for each of Coleman's phases, in the journey's language (the `phases` rule's hints).

Dutch for `nl_*` journeys, English for everything else (the fallback). Add a language by adding a
dict with all eight phases; `tests/test_lint.py` checks that each language names every phase.
"""

from __future__ import annotations

TYPICAL_TOUCH: dict[str, dict[str, str]] = {
    "en": {
        "assess": "a task for the owner on day 0 to write down what was promised in the sale, so nobody asks again",
        "admit": "a call from the owner on day 0 to congratulate the customer on the decision",
        "affirm": "an email on day 1 saying what happens next, and a handwritten thank-you letter that arrives by day 3",
        "activate": "a kick-off meeting in the first week, and a call after delivery: did everything arrive as expected?",
        "acclimate": "a letter on how you work together (who to call for what), and a call before the first invoice",
        "accomplish": "a call around day 40 to hear the first result, and a short letter to celebrate it",
        "adopt": "a needs check around day 60, before the customer has to reorder",
        "advocate": "after the first result, a handwritten letter asking whom they know that you could help (referral: true)",
    },
    "nl": {
        "assess": "een taak voor de accountmanager op dag 0: leg vast wat bij de verkoop is beloofd, zodat niemand iets opnieuw vraagt",
        "admit": "een telefoontje van de accountmanager op dag 0 om de klant met de beslissing te feliciteren",
        "affirm": "een e-mail op dag 1 over wat er nu gebeurt, en een handgeschreven bedankbrief die uiterlijk op dag 3 op de mat ligt",
        "activate": "een startafspraak in de eerste week, en na de levering bellen: is alles goed aangekomen?",
        "acclimate": "een brief over hoe we samenwerken (wie bel je waarvoor), en een telefoontje vóór de eerste factuur",
        "accomplish": "rond dag 40 bellen om het eerste resultaat te horen, en een kort briefje om het te vieren",
        "adopt": "rond dag 60 een behoeftecheck, vóór de klant zelf moet nabestellen",
        "advocate": "na het eerste resultaat een handgeschreven brief met de vraag wie ze kennen voor wie wij iets kunnen betekenen (referral: true)",
    },
}

SAY: dict[str, dict[str, str]] = {
    "en": {
        "missing": "phase '{phase}' has no touch: the customer gets nothing from you in it",
        "hint": "for example {touch}",
    },
    "nl": {
        "missing": "fase '{phase}' heeft geen contactmoment: de klant hoort in deze fase niets van je",
        "hint": "bijvoorbeeld {touch}",
    },
}


def language(locale: str) -> str:
    """`nl_NL` → `nl`; a language without hints → `en`."""
    lang = (locale or "").replace("-", "_").split("_")[0].lower()
    return lang if lang in TYPICAL_TOUCH else "en"


def missing_phase(phase: str, locale: str) -> tuple[str, str]:
    """(message, hint) for a phase without touches, in the journey's language."""
    lang = language(locale)
    say = SAY[lang]
    return say["missing"].format(phase=phase), say["hint"].format(touch=TYPICAL_TOUCH[lang][phase])
