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
import pandas as pd
import streamlit as st
from streamlit import dataframe_util
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


def table_cells(table: Any) -> list[str]:
    """A table's visible cells as the browser writes them (a missing value: the placeholder).

    Streamlit draws a missing cell as its `placeholder`, or "None" when none is set, whatever
    the Styler says; other cells show the Styler's display value when there is one.
    """
    proto = table.proto
    frame = table.value
    config = json.loads(proto.columns or "{}")
    hidden = {name for name, column in config.items() if column.get("hidden")}
    display = None
    if proto.arrow_data.HasField("styler") and proto.arrow_data.styler.display_values:
        raw = proto.arrow_data.styler.display_values
        display = dataframe_util.convert_arrow_bytes_to_pandas_df(raw)
    missing = proto.placeholder if proto.HasField("placeholder") else "None"
    cells = []
    for j, name in enumerate(frame.columns):
        if str(name) in hidden:
            continue
        for i, cell in enumerate(frame.iloc[:, j]):
            if not isinstance(cell, list | dict) and pd.isna(cell):
                cells.append(missing)
            else:
                cells.append(str(display.iat[i, j]) if display is not None else str(cell))
    return cells


def shown_text(at: AppTest) -> list[str]:
    """Every piece of text a user can read on the page: prose, metrics, labels, tables, charts."""
    texts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text"):
        texts += [e.value for e in getattr(at, kind)]
    texts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    texts += [t for m in at.metric for t in (m.label, m.value, m.proto.delta)]
    texts += [e.label for e in at.expander]
    for widget in (*at.selectbox, *at.multiselect, *at.radio):
        texts += [widget.label, *map(str, widget.options)]
    for table in at.dataframe:
        texts += table_cells(table)
    for static in at.table:  # st.table: every cell as written
        texts += [*map(str, static.value.columns), *map(str, static.value.to_numpy().ravel())]
    for figure in figures(at):
        texts += list(_figure_text(figure))
    return texts


def _figure_text(figure: dict[str, Any]) -> Iterator[str]:
    """The titles, annotations, axis titles, tick labels and trace names of a figure."""
    layout = figure.get("layout", {})
    yield str(layout.get("title", {}).get("text", ""))
    yield from (str(a.get("text", "")) for a in layout.get("annotations", []))
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")):
            yield str(axis.get("title", {}).get("text", ""))
            yield from map(str, axis.get("ticktext", []))
    yield from (str(trace.get("name", "")) for trace in figure.get("data", []))
