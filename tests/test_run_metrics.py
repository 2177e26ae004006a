"""Each run records its peak memory and CPU seconds next to its duration."""

from __future__ import annotations

import json

from store.connection import open_reader
from tests.cli_support import run_argenta


def test_a_run_records_its_peak_memory_and_cpu_seconds(tmp_path):
    db = tmp_path / "argenta_ia.duckdb"
    done = run_argenta(db, "run", "--source", "sample", "--date", "2024-03-08", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open_reader(db) as con:
        (log,) = con.sql("SELECT log_data::VARCHAR FROM job_runs").fetchall()[0]
    metrics = json.loads(log)["metrics"]
    assert 50 < metrics["peak_rss_mb"] < 8192  # polars and duckdb are loaded: tens of MB at least
    assert 0 < metrics["cpu_seconds"] < 600
    assert metrics["duration_s"] > 0 and metrics["tickers_processed"] > 0
