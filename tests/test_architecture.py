"""The shape of the house: every module imports alone, no view reaches into another feature's views,
and no room grows past reading (the limits of the architecture issue)."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

# Reads source files and imports modules: nothing here depends on the database.
pytestmark = pytest.mark.database_free

PACKAGE = Path(__file__).resolve().parent.parent / "workbench"
MODULES = sorted(
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
)
VIEWS = sorted(PACKAGE.glob("*/views.py"))


def imported_modules(path: Path) -> list[str]:
    """The absolute names of the workbench modules `path` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(PACKAGE.parent).parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
            names.append(module)
            names.extend(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return [name for name in names if name.startswith("workbench")]


def test_every_module_imports_alone_in_a_fresh_interpreter():
    def import_alone(module: str) -> tuple[str, str]:
        result = subprocess.run(
            [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=PACKAGE.parent
        )
        return module, result.stderr.strip().splitlines()[-1] if result.returncode else ""

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = {module: error for module, error in pool.map(import_alone, MODULES) if error}
    assert failures == {}


@pytest.mark.parametrize("init", sorted(PACKAGE.glob("*/__init__.py")), ids=lambda p: p.parent.name)
def test_a_package_init_imports_no_views(init):
    assert [name for name in imported_modules(init) if name.endswith(".views")] == []


@pytest.mark.parametrize("views", VIEWS, ids=lambda p: p.parent.name)
def test_a_view_never_imports_another_features_views(views):
    own = f"workbench.{views.parent.name}.views"
    foreign = [n for n in imported_modules(views) if n.endswith(".views") and n != own and n.count(".") == 2]
    assert foreign == []


def test_the_views_hold_few_except_clauses():
    """A view catches only what it turns into a message beside a field, or a race it resolves;
    every other refusal goes to the application's error handlers."""
    count = sum(
        isinstance(node, ast.ExceptHandler) for path in VIEWS for node in ast.walk(ast.parse(path.read_text()))
    )
    assert count <= 25


@pytest.mark.parametrize("views", VIEWS, ids=lambda p: p.parent.name)
def test_no_route_function_is_over_45_lines(views):
    tree = ast.parse(views.read_text())
    long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("route" in ast.unparse(d) or ".get(" in ast.unparse(d) or ".post(" in ast.unparse(d) for d in node.decorator_list)
        and node.end_lineno - node.lineno + 1 > 45
    ]
    assert long == []


def test_no_views_or_services_module_is_over_600_lines():
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in [*VIEWS, *PACKAGE.glob("*/services.py"), *PACKAGE.glob("*/*/services.py")]
        if (n := len(path.read_text().splitlines())) > 600
    }
    assert long == {}
