"""The phases' colours and the channels' names, colours and shapes, in one place so that the
timeline, the preview index and the figures draw a phase or a channel alike."""

from __future__ import annotations

from hundred.journeys.model import PHASES

# Calm, distinguishable colours in Coleman's order; bands use a pale tint of each.
PHASE_COLOURS = dict(
    zip(
        PHASES,
        (
            "#5b7fb0",
            "#3f9a9c",
            "#5f9f68",
            "#a3a43f",
            "#c99236",
            "#cf7257",
            "#a56b95",
            "#7069b8",
        ),
        strict=False,
    )
)
OTHER_COLOUR = "#8a94a3"


def N_(text: str) -> str:
    """Marks a word for the catalog whose translation is looked up later (`w(label)`)."""
    return text


# channel -> (label, marker colour); each channel also has its own SVG shape in the template.
CHANNELS = {
    "letter": (N_("Letter"), "#a0522d"),
    "email": (N_("Email"), "#2068a8"),
    "task": (N_("Task"), "#2e7a4c"),
    "webhook": (N_("Webhook"), "#5b4a9c"),
}
OTHER_CHANNEL = (N_("Other"), "#5f6b7a")
