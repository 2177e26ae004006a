"""Read latency as the dashboard experiences it (every read a page waits for, cached or not)
and the database reads alone, persisted outside the published file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.ops import latency
from pipeline.ops.latency import LatencyLog, latency_path, percentile, summary
from store import writes
from store.connection import open_writer
from tests.cli_support import run_argenta
from tests.pages_support import assert_no_failure, open_page
from ui import params


def test_a_page_view_records_each_read_it_made(sample_db: Path, monkeypatch, tmp_path):
    db = tmp_path / "argenta_ia.duckdb"
    db.write_bytes(sample_db.read_bytes())  # the shared sample stays untouched
    monkeypatch.setattr(latency, "FLUSH_SECONDS", 0.0)  # every read in the file at once
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db}")
    at = open_page(params.RECOMMENDATIONS_PAGE)
    assert_no_failure(at)
    first = summary(db)
    assert "latest_recommendations" in first and "latest_date" in first
    for read in first.values():
        for kind in ("page", "database"):  # the first view misses the cache: both are timed
            assert read[kind]["reads"] >= 1
            assert 0 < read[kind]["p50_ms"] <= read[kind]["p95_ms"] < 60_000
    at.run()  # the same view again: answered from the cache, still timed as the page waited
    again = summary(db)["latest_recommendations"]
    assert again["page"]["reads"] > first["latest_recommendations"]["page"]["reads"]
    assert again["database"]["reads"] == first["latest_recommendations"]["database"]["reads"]
    assert latency_path(db).exists() and latency_path(db) != db  # never inside the published file


def test_the_window_rolls_and_survives_a_restart(tmp_path):
    db = tmp_path / "argenta_ia.duckdb"
    first = LatencyLog(db, window=5, flush_seconds=0)
    for ms in range(1, 11):
        first.record("ticker_history", ms / 1000)
    first.record("ticker_history", 0.004, kind="database")
    again = LatencyLog(db, window=5, flush_seconds=0)  # a dashboard restart reads the file
    again.record("ticker_history", 0.011)
    saved = json.loads(latency_path(db).read_text())["reads"]["page"]["ticker_history"]
    assert saved == pytest.approx([0.007, 0.008, 0.009, 0.010, 0.011])
    assert summary(db)["ticker_history"] == {
        "page": {"reads": 5, "p50_ms": 9.0, "p95_ms": 11.0},
        "database": {"reads": 1, "p50_ms": 4.0, "p95_ms": 4.0},
    }
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0


def test_an_unwritable_folder_keeps_the_figures_in_memory_and_warns_once(tmp_path, caplog):
    log = LatencyLog(tmp_path / "missing" / "argenta_ia.duckdb", flush_seconds=0)
    log.record("latest_date", 0.002)
    log.record("latest_date", 0.003)
    assert caplog.text.count("event=read_latency_not_saved") == 1


def test_status_json_shows_the_read_latencies(small_db, tmp_path):
    log = LatencyLog(small_db, flush_seconds=0)
    for ms in (2, 3, 40):
        log.record("latest_recommendations", ms / 1000)
    done = run_argenta(
        small_db, "status", "--json", cwd=tmp_path, env={"SCHEDULER_ENABLED": "false"}
    )
    shown = json.loads(done.stdout)["read_latency"]
    assert shown == {
        "latest_recommendations": {
            "page": {"reads": 3, "p50_ms": 3.0, "p95_ms": 40.0},
            "database": None,
        }
    }


def test_a_file_from_before_the_two_kinds_reads_as_database_reads(tmp_path):
    db = tmp_path / "argenta_ia.duckdb"
    assert summary(db) == {}  # no file yet: no figures, no error
    latency_path(db).write_text(json.dumps({"reads": {"latest_date": [0.002, 0.004]}}))
    assert summary(db) == {
        "latest_date": {"page": None, "database": {"reads": 2, "p50_ms": 2.0, "p95_ms": 4.0}}
    }


def test_the_health_page_shows_the_last_runs_resources_and_the_read_latencies(db_path, monkeypatch):
    with open_writer(db_path) as con:
        job = writes.start_job(con, "daily_analysis")
        metrics = {"peak_rss_mb": 812.4, "cpu_seconds": 95.5, "duration_s": 60.0}
        writes.finish_job(con, job, 30, 0, {"metrics": metrics})
    log = LatencyLog(db_path, flush_seconds=0)
    for seconds in (0.5, 1.2345, 1.2345):
        log.record("ticker_history", seconds)
    log.record("ticker_history", 0.25, kind="database")
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    monkeypatch.setenv("SCHEDULER_ENABLED", "false")
    at = open_page(params.HEALTH_PAGE)
    assert_no_failure(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Memoria máxima de la última corrida"] == "812 MB"
    assert shown["CPU de la última corrida"] != "—"
    table = at.dataframe[-1].value
    row = table[table["Lectura"] == "ticker_history"].iloc[0]
    # Counts are written like the other numbers (es-AR), so 1.000 reads would show "1.000".
    assert (row["Lecturas"], row["Mediana (ms)"], row["p95 (ms)"]) == ("3", "1.234,5", "1.234,5")
    assert (row["Lecturas en la base"], row["Mediana en la base (ms)"]) == ("1", "250,0")
