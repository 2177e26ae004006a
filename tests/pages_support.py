"""Helpers of the dashboard tests: run a page with AppTest, read its figures, lock a file."""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from streamlit.testing.v1 import AppTest

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")
UNEXPECTED = "Ocurrió un error inesperado"


def open_page(page: str, **query: str | list[str]) -> AppTest:
    """Run the dashboard on `page` (e.g. "app_pages/salud.py") with a URL query string."""
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    return at.switch_page(page).run()


def assert_no_failure(at: AppTest) -> None:
    """Neither an exception element nor the page's catch-all error message is shown."""
    assert not at.exception, [e.value for e in at.exception]
    assert not any(UNEXPECTED in e.value for e in at.error)


def messages(at: AppTest) -> str:
    """Every error, warning, info and success text of the page, joined."""
    return "\n".join(e.value for kind in (at.error, at.warning, at.info, at.success) for e in kind)


def figures(at: AppTest) -> list[dict[str, Any]]:
    """The page's Plotly figures as JSON."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def numbers(array: Any) -> np.ndarray:
    """A figure array as numbers: Plotly writes them as a list or as base64 typed data."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=float)


_HOLD_READ_WRITE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(120)
"""


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold `path` with a read-write DuckDB connection in another process."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_READ_WRITE, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()
