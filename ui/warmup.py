"""What the dashboard's server does once at start-up, so that its first visitor does not.

`serve.py` calls `warm()` in the server's start-up, before it accepts connections (a visitor
arriving meanwhile waits in the socket's queue). Without it the first page run after a start
paid every one-off cost of the process: importing polars, duckdb, pandas, plotly and
exchange-calendars (1.0-1.5 s of CPU), building the two exchange calendars the freshness
checks use (0.3-1.2 s: exchange-calendars computes every holiday since 1990), Streamlit's
emoji check of the page icon (a regular expression of every emoji, ~0.1 s) and Plotly's
first figure (it imports ~600 modules on first use, 0.2-0.8 s). Nothing here reads the
database: the first visit after a start still reads it, as the first one after a new
file is published does.

Each step is best effort: one that fails is logged and skipped, and the first visitor pays
for it as before. `warm()` returns each step's seconds (logged by `serve.py`).
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

log = logging.getLogger("argenta.dashboard")

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "dashboard.py"  # the Streamlit script; its pages are in app_pages/
PAGE_SCRIPTS = ROOT / "app_pages"


def page_imports(scripts: list[Path] | None = None) -> list[str]:
    """The modules that the entry script and the page scripts import at their top level.

    A page script runs on each visit and cannot be imported itself (it would draw the page);
    its imports can. `from x import y` names both `x` and `x.y` (`y` may be a submodule).
    """
    scripts = scripts if scripts is not None else [ENTRY, *sorted(PAGE_SCRIPTS.glob("*.py"))]
    names: list[str] = []
    for script in scripts:
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return [name for name in dict.fromkeys(names) if not name.startswith("__future__")]


def import_pages() -> None:
    """Import every module the pages import (a name that is not a module is skipped)."""
    for name in page_imports():
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a module that exists but fails to import: say so
                raise


def calendars() -> None:
    """Build the exchange calendars, cached for the process, as the freshness checks do."""
    from pipeline.analysis import calendar

    for exchange in calendar.EXCHANGES:
        calendar.latest_trading_day(exchange, dt.date.today())


def page_config() -> None:
    """The dashboard's title, icon and layout (`dashboard.py` sets them on every run)."""
    st.set_page_config(page_title="Argenta IA", page_icon="📈", layout="wide")


def streamlit_first_calls() -> None:
    """Streamlit's one-off checks, outside a script run (where its calls send nothing).

    `st.set_page_config` matches the page icon against every emoji; the first element of the
    process looks at the interpreter's stack (whether it runs in a REPL). Streamlit's warning
    that these calls have no script run is expected here and not logged.
    """
    quiet = logging.getLogger(get_script_run_ctx.__module__)
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        page_config()
        st.empty()
    finally:
        quiet.setLevel(level)


def first_figure() -> None:
    """Build and serialise one small score-history figure as `st.plotly_chart` does.

    Plotly imports the classes of each trace type and layout part on first use; this draws
    the lines, markers, legend, title and date axes the chart pages' first views use. The
    figure is built by the undecorated function (`__wrapped__`): the figure cache is
    left empty.
    """
    import plotly.io
    import plotly.tools
    import polars as pl

    from ui import charts

    day = dt.date(2024, 1, 2)
    history = pl.DataFrame(
        {
            "analysis_date": [day, day + dt.timedelta(days=1)],
            "ticker": ["GGAL", "GGAL"],
            "total_score": [55.0, 60.0],
            "recommendation": ["COMPRAR", "MANTENER"],
        }
    )
    figure = charts.score_history.__wrapped__(history)  # type: ignore[attr-defined]
    checked = plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True)
    plotly.io.to_json(checked, validate=False)


STEPS: dict[str, Callable[[], None]] = {
    "imports": import_pages,
    "calendars": calendars,
    "streamlit": streamlit_first_calls,
    "first_figure": first_figure,
}


def warm() -> dict[str, float]:
    """Run every step; returns the seconds each took (a failed one is logged and skipped)."""
    took = {}
    for name, step in STEPS.items():
        start = time.perf_counter()
        try:
            step()
        except Exception:  # never stop the server: the first visitor pays instead
            log.warning("warm-up step %r failed; the first visit will do it", name, exc_info=True)
        took[name] = time.perf_counter() - start
    return took
