"""Print batch benchmark: N queued letters to one batch PDF with cover and manifest.

    .venv/bin/python bench/batch.py [--n 1000] [--duplex] [--labels] [--json]

Queues N realistic letters (Dutch text, mixed NL/BE/DE/US addresses, both hands; deterministic)
straight into a temporary SQLite ledger, then times `PrintRoom.make_batch`: the atomic claim,
the one directly rendered PDF (cover, separator, letters in postcode order), the manifest CSV
(and the label sheet with --labels). Prints seconds, pages and MB; ``--json`` prints exactly one
line: {"letters": .., "seconds": .., "mb": ..}. Goal: 1,000 letters in at most 10 s on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the package from a checkout; tests/printroom_data.py

from printroom_data import fill  # noqa: E402

from hundred import bootstrap  # noqa: E402
from hundred.adapters.ledger import Ledger  # noqa: E402

DAY = date(2026, 11, 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="letters in the batch (default 1000)")
    parser.add_argument("--duplex", action="store_true")
    parser.add_argument("--labels", action="store_true")
    parser.add_argument("--json", action="store_true", help="one line of JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hundred-bench-") as tmp:
        ledger = Ledger.open(f"sqlite:///{tmp}/ledger.db")
        fill(ledger, args.n, print_by=DAY, spread_days=3)
        room = bootstrap.print_room(SimpleNamespace(letters_dir=Path(tmp) / "letters"), ledger_=ledger)
        from hundred.rendering.handwriting.fonts import font_book

        font_book()  # fonts are prepared once per process (cached on disk), not per batch: not timed
        started = time.perf_counter()
        result = room.make_batch(until=DAY, duplex=args.duplex, labels=args.labels)
        seconds = time.perf_counter() - started
        mb = result.pdf.stat().st_size / 1e6 if result.pdf else 0.0
        ledger.close()
    if args.json:
        print(json.dumps({"letters": result.letters, "seconds": round(seconds, 2), "mb": round(mb, 2)}))
        return
    print(
        f"{result.letters} letters → {result.pages} pages in {seconds:.2f} s "
        f"({result.letters / seconds:.0f} letters/s), {mb:.1f} MB ({mb * 1000 / max(result.letters, 1):.0f} kB a letter)"
    )


if __name__ == "__main__":
    main()
