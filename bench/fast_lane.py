"""Benchmark: how long a developer waits for the fast lane, `pytest -m "not slow" -n 2` (goal: < 120 s).

Counts the tests of each lane (tests/lanes.py), then runs the fast lane once and prints its wall
time, the CPU time it took (its own and its subprocesses'), and the machine's load while it ran:
on a shared machine the wall time follows the load, the CPU time does not.

    python bench/fast_lane.py [--workers N] [--json]     # N pytest-xdist workers (default 2; 0: none)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 120.0
LANES = {"all": None, "fast": "not slow", "slow": "slow", "prefect": "prefect", "postgres": "postgres"}
LANES |= {"browser": "browser", "scaleout": "scaleout"}


def count(expression: str | None) -> int:
    args = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(args + (["-m", expression] if expression else []), cwd=ROOT, capture_output=True, text=True)
    found = re.search(r"(\d+)(?:/\d+)? tests? collected", done.stdout)
    if not found:
        sys.exit(f"pytest --collect-only failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (0: one test at a time)")
    args = parser.parse_args()
    lanes = {name: count(expression) for name, expression in LANES.items()}
    before, load_before = os.times(), os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"]
        + (["-n", str(args.workers)] if args.workers else []),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    result = {
        "fast_lane_wall_s": round(wall, 1),
        "fast_lane_cpu_s": round(cpu, 1),
        "goal_s": GOAL_S,
        "passed": done.returncode == 0,
        "summary": summary,
        "load_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "tests_per_lane": lanes,
    }
    sentence = (
        f"fast lane: {wall:.1f} s wall (goal < {GOAL_S:.0f} s), {cpu:.1f} s CPU, load "
        f"{load_before:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: {summary}\n"
        "tests per lane: " + ", ".join(f"{name} {n}" for name, n in lanes.items())
    )
    print(json.dumps(result) if args.json else sentence)
    if done.returncode != 0:
        sys.exit(done.stdout[-3000:])


if __name__ == "__main__":
    main()
