"""Benchmark: how fast the journey studio answers a marketer's typing.

    .venv/bin/python bench/studio.py [--runs N] [--json]

Measures, as medians:
- the server's part: validate + the Coleman linter on the shipped journey's text (`check_text`,
  in this process, warm), goal <= 100 ms;
- in Debian's Chromium (Playwright) on `hundred studio`'s app over a copy of the repository: from
  the last keystroke (a touch's day changed) to the diagnostics shown (goal <= 500 ms, the 300 ms
  pause included), to the new timeline shown (<= 800 ms) and to the letter under the cursor shown
  as an image (<= 1 s). Times are taken in the page: the keystroke's event time, and the moment a
  MutationObserver sees the view change;
- the committed editor bundle's size, gzipped (goal <= 400 KB).

`--json` prints one line: {"validate_lint_ms", "diagnostics_ms", "timeline_ms", "letter_ms",
"bundle_gz_kb", "runs", "goals_met"}.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:
    import hundred  # noqa: F401
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

JOURNEY = "journeys/first-100-days.yaml"
MARKER = "id: thank-you-letter\n        day: "
OBSERVE = """() => {
  window.__bench = { key: 0, checked: 0, timeline: 0, letter: 0 };
  document.addEventListener("keydown", (e) => { window.__bench.key = performance.now(); }, true);
  const watch = (node, attr, name) => new MutationObserver(() => { window.__bench[name] = performance.now(); })
    .observe(node, { attributes: true, attributeFilter: [attr] });
  watch(document.getElementById("editor"), "data-checked", "checked");
  watch(document.getElementById("timeline-frames"), "data-loaded", "timeline");
  watch(document.getElementById("touch-card"), "data-shown", "letter");
}"""


def server_part(runs: int) -> list[float]:
    from hundred.validation.validate import check_text

    text = (ROOT / JOURNEY).read_text(encoding="utf-8")
    check_text(text, ROOT / JOURNEY)  # warm: imports, the holiday calendars
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        checked = check_text(text, ROOT / JOURNEY)
        times.append((time.perf_counter() - start) * 1000)
        assert checked.ok
    return times


def serve(workspace: Path, token: str):
    import uvicorn

    from hundred.service.settings import Settings
    from hundred.web.studio.local import create_local_app

    settings = Settings(
        home=workspace / "home",
        journeys_dir=workspace / "journeys",
        templates_dir=workspace / "templates",
        day_seconds=None,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_local_app(settings, token), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def browser_part(runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory(prefix="hundred-bench-studio-") as tmp:
        workspace = Path(tmp)
        for folder in ("journeys", "templates", "examples"):
            shutil.copytree(ROOT / folder, workspace / folder)
        server, thread, url = serve(workspace, "bench-token")
        out: dict[str, list[float]] = {"diagnostics": [], "timeline": [], "letter": []}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)
                page = browser.new_page(viewport={"width": 1366, "height": 900})
                page.set_default_timeout(30_000)
                page.goto(f"{url}/studio/edit?file={JOURNEY}&token=bench-token")
                page.wait_for_selector("#editor[data-checked]")
                page.click("#tab-touch")
                page.evaluate(OBSERVE)
                for n in range(runs + 1):
                    at = page.evaluate("(m) => window.studio.view.state.doc.toString().indexOf(m) + m.length", MARKER)
                    page.evaluate(
                        "(at) => { const v = window.studio.view; v.focus(); v.dispatch({selection: {anchor: at, head: at + 1}}); }",
                        at,
                    )
                    page.evaluate("() => { for (const k of ['checked','timeline','letter']) window.__bench[k] = 0; }")
                    page.keyboard.type("3" if n % 2 else "4")  # day 4, day 3, day 4 ...: always valid
                    page.wait_for_function(
                        "() => { const b = window.__bench; return b.checked > b.key && b.timeline > b.key && b.letter > b.key; }"
                    )
                    b = page.evaluate("() => window.__bench")
                    if n == 0:
                        continue  # the first round warms the server's caches
                    out["diagnostics"].append(b["checked"] - b["key"])
                    out["timeline"].append(b["timeline"] - b["key"])
                    out["letter"].append(b["letter"] - b["key"])
                    page.wait_for_timeout(150)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(10)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    server = server_part(args.runs * 2)
    browser = browser_part(args.runs)
    static = ROOT / "hundred" / "web" / "studio" / "static"
    bundle = sum(len(gzip.compress((static / n).read_bytes(), 9)) for n in ("studio.js", "studio.css")) / 1024
    result = {
        "validate_lint_ms": round(statistics.median(server), 1),
        "diagnostics_ms": round(statistics.median(browser["diagnostics"]), 1),
        "timeline_ms": round(statistics.median(browser["timeline"]), 1),
        "letter_ms": round(statistics.median(browser["letter"]), 1),
        "bundle_gz_kb": round(bundle, 1),
        "runs": args.runs,
    }
    result["goals_met"] = (
        result["validate_lint_ms"] <= 100
        and result["diagnostics_ms"] <= 500
        and result["timeline_ms"] <= 800
        and result["letter_ms"] <= 1000
        and result["bundle_gz_kb"] <= 400
    )
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"validate + lint (server): median {result['validate_lint_ms']} ms (goal 100)\n"
        f"keystroke → diagnostics shown: median {result['diagnostics_ms']} ms (goal 500, 300 ms pause included)\n"
        f"keystroke → new timeline shown: median {result['timeline_ms']} ms (goal 800)\n"
        f"keystroke → letter under the cursor shown: median {result['letter_ms']} ms (goal 1000)\n"
        f"editor bundle: {result['bundle_gz_kb']} KB gzipped (goal 400)\n"
        f"{args.runs} runs; goals met: {result['goals_met']}"
    )


if __name__ == "__main__":
    main()
