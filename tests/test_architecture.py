"""The import rules that keep hundred one-way, per folder (docs/architecture.md draws them).

Read from the source (every import, also those inside functions and under TYPE_CHECKING), so a
lazy import cannot hide an arrow. The rings, from the bottom:

    core      deals → journeys → templating → planning → validation, rendering → reports
    service   ports, records, runtime, intake, print room, settings (speaks to ports only)
    adapters  ledger, channels, prefect, print files, crm (the core and the service's ports)
    bootstrap the one module that builds adapters and hands them to the service
    entry     cli, web, up (and the top-level `flows` package, Prefect's entrypoints)
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each folder of `hundred` and the folders of hundred it may import (itself always).
CORE_ORDER = ["deals", "journeys", "templating", "planning", "validation", "rendering", "reports"]
MAY_IMPORT: dict[str, set[str]] = {
    "deals": set(),
    "journeys": {"deals"},
    "templating": {"deals", "journeys"},
    "planning": {"deals", "journeys", "templating"},
    "validation": {"deals", "journeys", "templating", "planning"},
    "rendering": {"deals", "journeys", "templating", "planning"},
    "reports": {"deals", "journeys", "templating", "planning", "rendering", "validation"},
    "service": set(CORE_ORDER),
    "adapters": set(CORE_ORDER) | {"service"},
    "bootstrap": set(CORE_ORDER) | {"service", "adapters"},
    "cli": set(CORE_ORDER) | {"service", "bootstrap", "adapters", "up"},
    "web": set(CORE_ORDER) | {"service", "bootstrap", "adapters"},
    "up": set(CORE_ORDER) | {"service", "bootstrap", "adapters"},
}
# Libraries that belong to the runtime's edges: never in the core, never in the service.
RUNTIME_LIBRARIES = {
    "prefect",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "smtplib",
    "httpx",
    "psycopg",
    "flows",
}
SETTINGS_LIBRARIES = {"pydantic_settings"}  # the service's settings only


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def imports(path: Path) -> frozenset[str]:
    """Every module `path` imports, relative imports resolved (read once per session)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return frozenset(found)


def uses(found: set[str], names: set[str]) -> set[str]:
    return {m for m in found for n in names if m == n or m.startswith(n + ".")}


SOURCES = sorted(p for p in (ROOT / "hundred").rglob("*.py") if "migrations" not in p.parts)
FLOWS = sorted((ROOT / "flows").rglob("*.py"))


def folder(path: Path) -> str | None:
    """The first folder of hundred a module lives in (`hundred/planning/engine.py` → planning);
    `hundred/bootstrap.py` counts as the folder `bootstrap`."""
    parts = module_name(path).split(".")
    return parts[1] if len(parts) > 1 else None


def hundred_folders(found: set[str]) -> set[str]:
    return {m.split(".")[1] for m in found if m.startswith("hundred.") and len(m.split(".")) > 1}


@pytest.mark.parametrize("path", [p for p in SOURCES if folder(p)], ids=module_name)
def test_each_folder_imports_only_the_folders_below_it(path):
    own = folder(path)
    assert own in MAY_IMPORT, f"{module_name(path)}: folder '{own}' has no rule in tests/test_architecture.py"
    wrong = hundred_folders(imports(path)) - MAY_IMPORT[own] - {own}
    assert not wrong, f"{module_name(path)} ({own}) imports {', '.join(sorted(wrong))}, which it may not"


@pytest.mark.parametrize("path", [p for p in SOURCES if folder(p) in set(CORE_ORDER) | {"service"}], ids=module_name)
def test_the_core_and_the_service_import_no_runtime_library(path):
    found = imports(path)
    allowed = SETTINGS_LIBRARIES if module_name(path) == "hundred.service.settings" else set()
    bad = uses(found, RUNTIME_LIBRARIES | (SETTINGS_LIBRARIES - allowed))
    assert not bad, f"{module_name(path)} imports {bad}"


def test_only_bootstrap_and_the_entry_points_import_adapters():
    for path in SOURCES:
        if folder(path) in {"adapters", "bootstrap", "cli", "web", "up"}:
            continue
        assert not uses(imports(path), {"hundred.adapters"}), f"{module_name(path)} imports an adapter"


def test_no_module_of_hundred_imports_flows():
    for path in SOURCES:
        assert not uses(imports(path), {"flows"}), f"{module_name(path)} imports the flows package"


def test_the_web_app_never_imports_prefect():
    for path in SOURCES:
        if folder(path) == "web":
            assert not uses(imports(path), {"prefect", "flows"}), module_name(path)


def test_only_the_prefect_adapter_and_the_flows_import_prefect():
    for path in SOURCES:
        if module_name(path).startswith("hundred.adapters.prefect"):
            continue
        assert not uses(imports(path), {"prefect"}), f"{module_name(path)} imports Prefect"


@pytest.mark.parametrize("path", FLOWS, ids=module_name)
def test_the_flows_call_hundred_through_bootstrap_and_the_service(path):
    wrong = hundred_folders(imports(path)) - {"bootstrap", "service", "adapters", *CORE_ORDER}
    assert not wrong, f"{module_name(path)} imports {wrong}"


def test_no_import_circle_anywhere():
    graph = {module_name(p): {m for m in imports(p) if m != module_name(p)} for p in SOURCES}
    names = set(graph)
    edges = {m: {t for t in targets if t in names and not m.startswith(t + ".")} for m, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in sorted(names):
        if v not in index:
            visit(v)
    assert not circles, f"import circles: {circles}"


def test_imports_inside_functions_say_why():
    """An import inside a function is allowed only to keep the marketer's commands fast (or to
    load a heavy tool only where it is needed); each group of them says so in a `# lazy:` comment."""
    bare = []
    for path in SOURCES + FLOWS:
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for block in ast.walk(node):
                body = getattr(block, "body", None)
                if (
                    not isinstance(body, list)
                    or block is not node
                    and isinstance(block, (ast.FunctionDef, ast.AsyncFunctionDef))
                ):
                    continue
                group: list[ast.stmt] = []
                for stmt in body + [None]:  # type: ignore[list-item]
                    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                        group.append(stmt)
                        continue
                    if group:
                        first, last = group[0].lineno, group[-1].end_lineno or group[-1].lineno
                        text = "\n".join(lines[first - 2 : last])
                        if "lazy:" not in text:
                            bare.append(f"{path.relative_to(ROOT)}:{first}")
                    group = []
    assert not sorted(set(bare)), f"imports inside functions without a '# lazy:' reason: {sorted(set(bare))}"
