"""Benchmark: what `hundred validate journeys/` costs a marketer, against Python's own floor.

Runs the real command as the `hundred` executable does (`python -m hundred.cli`, the same
`console` entry point) in fresh processes, interleaved with the import floor: a Python that only
imports pydantic, jinja2, typer, yaml and babel, the libraries validate cannot do without. The
goal is a CPU ratio (validate ≤ 2× the floor), because a ratio holds on a fast machine and a
slow one alike and CPU is what a busy laptop does not hide. Also prints the wall time (goal well
under 0.5 s) and the heavy packages the command imported (none of Prefect, SQLAlchemy, FastAPI
or httpx may be).

    python bench/validate.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VALIDATE = [sys.executable, "-m", "hundred.cli", "validate", "journeys"]
FLOOR = [sys.executable, "-c", "import pydantic, jinja2, typer, yaml, babel"]
HEAVY = ("prefect", "sqlalchemy", "fastapi", "httpx")


def _env() -> dict[str, str]:
    """As a marketer's shell runs it: bytecode cached (a sandbox may switch that off)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cpu_and_wall(command: list[str]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one run of `command`."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=_env())
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[1:])} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def heavy_imports() -> list[str]:
    """The heavy packages `hundred validate journeys` imports (Python's -X importtime says)."""
    done = subprocess.run(
        [VALIDATE[0], "-X", "importtime", *VALIDATE[1:]], cwd=ROOT, capture_output=True, text=True, env=_env()
    )
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    return sorted(names & set(HEAVY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cpu_and_wall(VALIDATE)  # once to write the bytecode caches
    validate, floor, walls = [], [], []
    for _ in range(args.runs):
        cpu, wall = cpu_and_wall(VALIDATE)
        validate.append(cpu)
        walls.append(wall)
        floor.append(cpu_and_wall(FLOOR)[0])
    heavy = heavy_imports()
    result = {
        "median_s": round(statistics.median(walls), 3),
        "max_s": round(max(walls), 3),
        "cpu_s": round(statistics.median(validate), 3),
        "floor_cpu_s": round(statistics.median(floor), 3),
        "ratio": round(statistics.median(validate) / statistics.median(floor), 2),
        "runs": args.runs,
        "prefect_imported": "prefect" in heavy,
        "heavy_imports": heavy,
    }
    sentence = (
        f"hundred validate journeys/: {result['cpu_s']} s CPU = {result['ratio']}× the import floor "
        f"({result['floor_cpu_s']} s; goal ≤ 2×); wall median {result['median_s']} s, worst "
        f"{result['max_s']} s over {args.runs} runs; heavy packages imported: {', '.join(heavy) or 'none'}"
    )
    print(json.dumps(result) if args.json else sentence)


if __name__ == "__main__":
    main()
