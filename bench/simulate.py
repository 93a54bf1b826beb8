"""Benchmark: `hundred simulate first-100-days --deal examples/deal-nl.json` as a whole process
(goal: under 1 s).

Runs the real command in fresh processes (imports included, as a marketer experiences it) and
prints the median and worst wall time and the median CPU time (user + system) of the process.
On a shared machine the wall time depends on the other users; the CPU time is the figure to
compare between versions.

    python bench/simulate.py [--runs N] [--json]
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
COMMAND = ["-m", "hundred.cli", "simulate", "first-100-days", "--deal", "examples/deal-nl.json"]
GOAL_S = 1.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: with .pyc files
    walls, cpus = [], []
    for _ in range(args.runs):
        cpu_before, start = _children_cpu(), time.perf_counter()
        done = subprocess.run([sys.executable, *COMMAND], cwd=ROOT, env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu_before)
        if done.returncode != 0:
            sys.exit(f"simulate failed:\n{done.stderr}")
    result = {
        "median_s": round(statistics.median(walls), 3),
        "max_s": round(max(walls), 3),
        "cpu_median_s": round(statistics.median(cpus), 3),
        "runs": args.runs,
        "goal_s": GOAL_S,
    }
    sentence = (
        f"hundred simulate first-100-days: wall median {result['median_s']} s, worst {result['max_s']} s; "
        f"CPU median {result['cpu_median_s']} s over {args.runs} runs (goal: under {GOAL_S} s)"
    )
    print(json.dumps(result) if args.json else sentence)


if __name__ == "__main__":
    main()
