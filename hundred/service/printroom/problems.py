"""What is wrong with a batch, said once: the cover sheet prints it, the ledger keeps it with the
batch (`BatchRow.warnings`), and the print room page and the flow's summary show the same lines.

- the notes made when the batch was made (letters left out of it, and why; a batch a stopped
  run left without files);
- mixed paper in one batch (both trays must be loaded, or the stack split);
- each letter's rendering problems (an address too long for the window, a character the hand
  cannot write), numbered as the stack is: `#3 D-1042/thank-you-letter: …`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from hundred.service.records import BatchEntry, BatchRow, LetterRow


def papers(rows: Sequence[LetterRow]) -> Counter[str]:
    return Counter(str(r.layout.get("paper")) for r in rows)


def batch_warnings(
    batch: BatchRow, entries: Sequence[tuple[BatchEntry, LetterRow]], letter_problems: Sequence[Sequence[str]]
) -> list[str]:
    """Every warning of a batch, in the order the cover lists them; `letter_problems[i]` are the
    rendering problems of `entries[i]`."""
    counted = papers([row for _, row in entries])
    mixed = []
    if len(counted) > 1:
        listed = ", ".join(f"{paper} ×{n}" for paper, n in counted.items())
        mixed = [f"mixed paper in one batch ({listed}): load both trays or split the stack"]
    per_letter = [
        f"#{entry.seq} {row.letter_id}: {problem}"
        for (entry, row), problems in zip(entries, letter_problems, strict=False)
        for problem in problems
    ]
    return [*mixed, *(str(note) for note in batch.problems), *per_letter]


__all__ = ["batch_warnings", "papers"]
