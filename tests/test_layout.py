"""Import rules: the pure analysis loads neither the database nor the dashboard; no test
module imports another (shared helpers live in support modules); no function of the product
is longer than a screen."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest


def analysis_modules() -> list[str]:
    """Every module of the pure analysis, found on disk (a new one is checked unlisted)."""
    root = Path(__file__).resolve().parents[1]
    return sorted(
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for path in (root / "pipeline" / "analysis").rglob("*.py")
    )


@pytest.mark.parametrize(
    "modules", [analysis_modules(), ["pipeline.sources"]], ids=["analysis", "sources"]
)
def test_analysis_imports_no_duckdb_or_streamlit(modules: list[str]) -> None:
    code = (
        f"import json, sys; import {', '.join(modules)}; "
        "print(json.dumps(sorted(m for m in ('duckdb', 'streamlit') if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (`from tests import x` counts as `tests.x`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def test_no_test_module_imports_another_or_conftest() -> None:
    root = Path(__file__).resolve().parents[1]
    offenders = {
        f"{path.relative_to(root)} imports {module}"
        for path in [*root.glob("tests/**/*.py"), *root.glob("benchmarks/*.py")]
        for module in imported_modules(path)
        if module.split(".")[-1].startswith("test_") or module == "tests.conftest"
    }
    assert not offenders, sorted(offenders)


MAX_FUNCTION_LINES = 60
PRODUCT = ("pipeline", "store", "ui", "app_pages")


def test_no_product_function_is_longer_than_sixty_lines() -> None:
    root = Path(__file__).resolve().parents[1]
    too_long = [
        f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)"
        for folder in PRODUCT
        for path in sorted((root / folder).rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES  # type: ignore[operator]
    ]
    assert not too_long, f"split these functions (over {MAX_FUNCTION_LINES} lines): {too_long}"
