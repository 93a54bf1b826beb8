"""The import rules that keep hundred one-way: a pure core, adapters around it, Prefect at the edge.

Read from the source (every import, also those inside functions), so a lazy import cannot hide.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LIBRARIES = {"prefect", "sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn", "smtplib", "httpx",
                     "psycopg", "pydantic_settings", "flows"}
ADAPTERS = {"hundred.ledger", "hundred.channels", "hundred.runtime", "hundred.outcomes", "hundred.settings", "hundred.web", "hundred.up",
            "hundred.simulate", "hundred.local", "hundred.cli", "hundred.cli_runtime", "hundred.cli_paths",
            "hundred.prefect_rest", "hundred.printroom", "hundred.cli_letters", "hundred.intake", "hundred.cli_intake"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved."""
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
    return found


def uses(found: set[str], names: set[str]) -> set[str]:
    return {m for m in found for n in names if m == n or m.startswith(n + ".")}


SOURCES = sorted((ROOT / "hundred").rglob("*.py")) + sorted((ROOT / "flows").rglob("*.py"))


def under(prefix: str) -> list[Path]:
    return [p for p in SOURCES if module_name(p) == prefix or module_name(p).startswith(prefix + ".")]


CORE = [p for p in under("hundred") if not any(module_name(p) == a or module_name(p).startswith(a + ".")
                                                for a in ADAPTERS) and module_name(p) != "hundred"]


@pytest.mark.parametrize("path", CORE, ids=lambda p: module_name(p))
def test_the_core_imports_no_runtime_library_and_no_adapter(path):
    found = imports(path)
    assert not uses(found, RUNTIME_LIBRARIES), f"{module_name(path)} imports {uses(found, RUNTIME_LIBRARIES)}"
    assert not uses(found, ADAPTERS), f"{module_name(path)} imports the adapters {uses(found, ADAPTERS)}"


def test_the_core_is_what_we_think_it_is():
    names = {module_name(p) for p in CORE}
    assert {"hundred.engine", "hundred.planner", "hundred.rendering", "hundred.identity", "hundred.journey",
            "hundred.deal", "hundred.templating", "hundred.validate", "hundred.messages"} <= names


@pytest.mark.parametrize("package,also_forbidden", [
    ("hundred.ledger", {"prefect", "fastapi", "starlette", "uvicorn", "smtplib", "httpx", "flows"}),
    ("hundred.channels", {"prefect", "sqlalchemy", "alembic", "fastapi", "uvicorn", "flows"}),
])
def test_the_ledger_and_channels_import_only_the_core(package, also_forbidden):
    for path in under(package):
        found = imports(path)
        assert not uses(found, also_forbidden), f"{module_name(path)} imports {uses(found, also_forbidden)}"
        others = uses(found, ADAPTERS) - {m for m in found if m.startswith(package)}
        assert not others, f"{module_name(path)} imports the adapters {others}"


def test_the_print_room_imports_only_the_core_and_the_ledger():
    forbidden = {"prefect", "fastapi", "starlette", "uvicorn", "smtplib", "httpx", "flows"}
    for path in under("hundred.printroom"):
        found = imports(path)
        assert not uses(found, forbidden), f"{module_name(path)} imports {uses(found, forbidden)}"
        others = uses(found, ADAPTERS) - uses(found, {"hundred.printroom", "hundred.ledger"})
        assert not others, f"{module_name(path)} imports the adapters {others}"


def test_validate_never_imports_the_print_room():
    for path in CORE:
        assert not uses(imports(path), {"hundred.printroom", "hundred.cli_letters"}), module_name(path)


def test_the_web_app_never_imports_flows_or_prefect():
    for path in under("hundred.web"):
        assert not uses(imports(path), {"flows", "prefect"}), module_name(path)


def test_only_flows_and_the_up_supervisor_import_prefect():
    allowed = {"hundred.up"}
    for path in SOURCES:
        name = module_name(path)
        if name.startswith("flows") or name in allowed:
            continue
        assert not uses(imports(path), {"prefect"}), f"{name} imports Prefect"


def test_the_runtime_reaches_prefect_only_through_the_scheduler_it_is_handed():
    for name in ("hundred.runtime", "hundred.simulate"):
        path = ROOT / (name.replace(".", "/") + ".py")
        assert not uses(imports(path), {"prefect", "flows"}), name
