"""Benchmark: how long a marketer waits for `hundred validate journeys/` (goal: well under 0.5 s).

Runs the real command in fresh processes (imports included, as a marketer experiences it) and
prints the median and worst wall time, and whether Prefect was imported along the way.

    python bench/validate.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import sys; sys.argv = ['hundred', 'validate', 'journeys']\n"
    "from hundred.cli import main\n"
    "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
    "print('PREFECT_IMPORTED' if 'prefect' in sys.modules else 'PREFECT_NOT_IMPORTED', file=sys.stderr)\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    times, prefect = [], False
    for _ in range(args.runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0 and "PREFECT" not in done.stderr:
            sys.exit(f"validate failed:\n{done.stderr}")
        prefect = prefect or "PREFECT_IMPORTED" in done.stderr
    result = {
        "median_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "runs": args.runs,
        "prefect_imported": prefect,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"hundred validate journeys/: median {result['median_s']} s, worst {result['max_s']} s "
            f"over {args.runs} runs; prefect imported: {prefect}"
        )


if __name__ == "__main__":
    main()
