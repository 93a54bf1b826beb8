"""Headless Chromium for tests that look at rendered pages.

`require_chromium()` returns the browser binary, or fails the test saying how to install it
(scripts/setup-test-system.sh does; no test installs anything). A test that starts Chromium is
marked `browser` and `slow` (tests/lanes.py). `chromium_run()` runs it with flags that keep it off
the network and away from the user profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from lanes import missing, require_lane

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--disable-extensions",
    "--mute-audio",
)


def _find() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """Path of a Chromium binary (CHROMIUM, or on PATH); a missing one fails the test."""
    require_lane("browser", "Chromium")
    path = _find()
    if path is None:
        missing("Chromium", "apt-get install -y chromium")
    return path


def chromium_run(args: list[str], *, timeout: int = 90) -> subprocess.CompletedProcess:
    """Run headless Chromium with a throwaway profile; `args` are extra flags plus the URL."""
    binary = require_chromium()
    with tempfile.TemporaryDirectory(prefix="hundred-chromium-") as profile:
        return subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=timeout
        )


def screenshot(html_file: Path, png: Path, *, width: int = 1400, height: int = 1000) -> Path:
    """Screenshot a local HTML file; returns the PNG path (asserts that it was written)."""
    png.unlink(missing_ok=True)
    done = chromium_run([f"--screenshot={png}", f"--window-size={width},{height}", html_file.resolve().as_uri()])
    assert png.is_file(), f"no screenshot written: {done.stderr[-800:]}"
    return png


def dump_dom(url: str) -> str:
    """The DOM after the page's scripts ran."""
    done = chromium_run(["--dump-dom", "--virtual-time-budget=2000", url])
    assert done.returncode == 0, done.stderr[-800:]
    return done.stdout


def png_pixels(png: Path) -> tuple[int, int, int, bytes]:
    """(width, height, bytes per pixel, raw scanlines incl. filter bytes) of an 8-bit PNG."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    height = bpp = 0
    while pos < len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}.get(body[9], 1)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + size
    return width, height, bpp, zlib.decompress(idat)


def assert_not_blank(png: Path) -> None:
    """The screenshot shows something: many distinct byte values, not a flat colour."""
    width, height, _bpp, raw = png_pixels(png)
    assert width > 100 and height > 100
    distinct = len(set(raw))
    assert distinct > 40, f"screenshot looks blank ({distinct} distinct byte values)"


# -- Playwright and axe-core (shared by every page test) ---------------------------------------

TABLET, DESKTOP = {"width": 768, "height": 1024}, {"width": 1366, "height": 900}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--mute-audio",
]
AXE_CACHE = Path(os.environ.get("HUNDRED_TEST_CACHE", Path.home() / ".cache" / "hundred-tests")) / "axe-core"


def axe_source() -> str:
    """axe-core as scripts/setup-test-system.sh installs it from npm (into AXE_CACHE)."""
    script = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        missing(f"axe-core (looked for {script})", f"npm install --prefix {AXE_CACHE} axe-core@4")
    return script.read_text(encoding="utf-8")


def audit(page: Any, axe: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=axe)
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
    ]


# -- fixtures (a test module imports the ones it uses: `from browser import browser, axe, shots`) --


@pytest.fixture(scope="module")
def browser() -> Any:
    """Debian's Chromium under Playwright, one per test module."""
    from playwright import sync_api  # a test dependency (pyproject.toml); Chromium is Debian's

    executable = require_chromium()
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go for a person to look at: HUNDRED_TEST_SCREENSHOTS, or a temp folder."""
    folder = Path(os.environ.get("HUNDRED_TEST_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
