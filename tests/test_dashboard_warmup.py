"""The server's start-up warm-up (`serve.py`, `ui/warmup.py`): the first visitor's costs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.web.server.app_discovery import discover_asgi_app

from ui import warmup

ROOT = Path(__file__).resolve().parents[1]

# In a fresh interpreter: warm up, then say what is loaded and built.
WARM_AND_REPORT = """
import json, sys
from ui import warmup
from pipeline.analysis import calendar
took = warmup.warm()
print(json.dumps({
    "steps": sorted(took),
    "modules": sorted(sys.modules),
    "calendars": calendar._sessions.cache_info().currsize,
}))
"""


@pytest.fixture(scope="module")
def warmed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    """What a fresh process holds after `warm()`, its log, and the database it was pointed at."""
    database = tmp_path_factory.mktemp("warm") / "absent.duckdb"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"duckdb:///{database}"}
    done = subprocess.run(
        [sys.executable, "-c", WARM_AND_REPORT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1]), done.stderr, database


def test_the_warm_up_loads_what_the_pages_import_and_builds_the_calendars(warmed) -> None:
    report, log, _ = warmed
    assert report["steps"] == sorted(warmup.STEPS)
    assert "failed" not in log
    for module in ("polars", "duckdb", "pandas", "plotly.express", "exchange_calendars"):
        assert module in report["modules"]
    for module in ("ui.charts", "ui.tables", "store.reads", "pipeline.ops.ondemand"):
        assert module in report["modules"]
    assert report["calendars"] == 2  # Buenos Aires and New York, kept for the process


def test_the_warm_up_reads_no_database(warmed) -> None:
    _, log, database = warmed
    assert not database.exists()  # the first visit reads the published file, as before
    assert "missing ScriptRunContext" not in log  # Streamlit's calls outside a run are quiet


def test_the_imports_are_read_from_the_entry_and_page_scripts(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text(
        "from __future__ import annotations\nimport json\nimport polars as pl\n"
        "from ui import charts, data\nfrom . import sibling\n"
        "if True:\n    import yaml\n"
    )
    assert warmup.page_imports([page]) == ["json", "polars", "ui", "ui.charts", "ui.data"]
    every = warmup.page_imports()
    assert {"polars", "streamlit", "ui.charts", "ui.data", "store.reads"} <= set(every)


def test_a_failing_step_is_logged_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ran = []

    def broken() -> None:
        raise RuntimeError("no calendars today")

    monkeypatch.setattr(warmup, "STEPS", {"broken": broken, "after": lambda: ran.append("after")})
    with caplog.at_level(logging.WARNING, logger="argenta.dashboard"):
        took = warmup.warm()
    assert list(took) == ["broken", "after"] and ran == ["after"]
    assert "warm-up step 'broken' failed" in caplog.text


def test_streamlit_run_serve_py_serves_the_app_with_its_start_up_hook() -> None:
    found = discover_asgi_app(ROOT / "serve.py")
    assert found.is_asgi_app and found.app_name == "app"
    assert warmup.ENTRY == ROOT / "dashboard.py"
