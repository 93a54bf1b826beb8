"""The studio's editor bundle (hundred/web/studio/static/) is what studio-editor/ builds from its
lockfile, byte for byte; it stays within 400 KB gzipped; and it names the licence of every package
in it. The build needs npm (and the npm registry, for `npm ci`); without npm the comparison skips,
which under CI=true is a failure (tests/conftest.py).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

EDITOR = REPO / "studio-editor"
STATIC = REPO / "hundred" / "web" / "studio" / "static"
BUILT = ("studio.js", "studio.css", "studio.LICENSES.txt")
LIMIT = 400 * 1024
CACHE = Path(os.environ.get("HUNDRED_TEST_CACHE", Path.home() / ".cache" / "hundred-tests")) / "studio-editor"


def installed(lockfile: Path) -> Path:
    """node_modules installed by `npm ci` from this lockfile, kept per lockfile in the test cache."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("npm and node are not installed (apt-get install -y npm), so the bundle cannot be rebuilt")
    key = hashlib.sha256(lockfile.read_bytes()).hexdigest()[:16]
    place = CACHE / key
    if not (place / "node_modules" / ".package-lock.json").is_file():
        place.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(EDITOR / name, place / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=place, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, f"npm ci failed: {done.stderr[-1500:]}"
    return place / "node_modules"


def test_the_committed_bundle_is_what_the_lockfile_builds(tmp_path):
    modules = installed(EDITOR / "package-lock.json")
    work = tmp_path / "studio-editor"
    shutil.copytree(EDITOR, work, ignore=shutil.ignore_patterns("node_modules"))
    (work / "node_modules").symlink_to(modules, target_is_directory=True)
    out = tmp_path / "out"
    done = subprocess.run(
        ["node", "build.mjs", "--out", str(out)], cwd=work, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-1500:]
    for name in BUILT:
        assert (out / name).read_bytes() == (STATIC / name).read_bytes(), (
            f"{name} differs from what studio-editor/ builds: run studio-editor/build.sh and commit the result"
        )


def test_the_bundle_stays_small():
    size = sum(len(gzip.compress((STATIC / name).read_bytes(), 9)) for name in ("studio.js", "studio.css"))
    assert size <= LIMIT, f"the editor bundle is {size / 1024:.0f} KB gzipped; the limit is {LIMIT // 1024} KB"


def test_the_licences_of_every_package_it_is_built_from_are_shipped():
    notice = (STATIC / "studio.LICENSES.txt").read_text(encoding="utf-8")
    lock = json.loads((EDITOR / "package-lock.json").read_text(encoding="utf-8"))
    declared = json.loads((EDITOR / "package.json").read_text(encoding="utf-8"))["dependencies"]
    for name in declared:
        version = lock["packages"][f"node_modules/{name}"]["version"]
        assert f"\n{name} {version} (" in notice, f"{name} {version} is not in studio.LICENSES.txt"
    for block in notice.split("=" * 78)[2::2]:
        assert "Permission is hereby granted" in block or "Permission to use" in block, block[:200]
