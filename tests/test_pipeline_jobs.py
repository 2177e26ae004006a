"""Runs and backfills end to end on the bundled sample: complete, idempotent, recorded."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from benchmarks.synthetic_market import (
    sessions,
    synthetic_market,
    synthetic_prices,
    write_files_source,
)
from pipeline.ops import jobs
from pipeline.ops.locking import LockHeld, exclusive
from pipeline.settings import Settings
from pipeline.sources import load_market_data
from store import reads, writes
from store.connection import open_reader
from tests.factories import SAMPLE_END, SAMPLE_START

ADRS = ("GGAL", "YPF", "PAM", "BMA")


def test_backfill_writes_complete_partitions(sample_db):
    data = load_market_data("sample", start=SAMPLE_START, end=SAMPLE_END)
    expected = (
        data.prices.filter(pl.col("date").is_between(SAMPLE_START, SAMPLE_END))
        .select("date", "ticker")
        .unique()
    )
    with open_reader(sample_db) as con:
        recs = reads.recommendation_history(con, SAMPLE_START, SAMPLE_END)
        per_rec = con.sql(
            "SELECT count(*) AS n, count(DISTINCT analysis_type) AS kinds"
            " FROM analysis_details GROUP BY recommendation_id"
        ).pl()
        runs = reads.job_runs(con)
    got = recs.select(pl.col("analysis_date").alias("date"), "ticker")
    missing = expected.join(got, on=["date", "ticker"], how="anti")
    # Every (day, ticker) with prices has a call, except tickers without enough history
    # for the technical component, which the run lists as errors.
    run_log = json.loads(runs["log_data"][0])
    excused = {e["ticker"] for e in run_log["errors"]}
    assert set(missing["ticker"]) <= excused
    assert recs.height > 0.9 * expected.height
    assert per_rec["n"].unique().to_list() == [4] and per_rec["kinds"].unique().to_list() == [4]
    assert runs["status"].to_list() == ["completed"] and runs["job_name"][0] == "backfill"
    assert runs["tickers_processed"][0] == recs["ticker"].n_unique()
    assert set(run_log["timings"]) >= {"load", "write", "total"}


def test_daily_run_is_idempotent_and_leaves_other_days(tmp_path):
    from pipeline.settings import Settings

    settings = Settings.from_env({"DATABASE_URL": str(tmp_path / "a.duckdb")}, env_file=None)
    options = jobs.SourceOptions("sample", tickers=ADRS)
    day1, day2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
    jobs.run_daily(settings, options, day1)
    first = jobs.run_daily(settings, options, day2)
    again = jobs.run_daily(settings, options, day2)
    assert first.tickers_processed == again.tickers_processed == len(ADRS)
    with open_reader(settings.database_path) as con:
        recs = reads.recommendation_history(con)
        runs = reads.job_runs(con)
    assert recs.group_by("analysis_date").len().sort("analysis_date")["len"].to_list() == [4, 4]
    assert runs["status"].to_list() == ["completed"] * 3


def test_default_day_is_the_latest_with_data(tmp_path):
    from pipeline.settings import Settings

    settings = Settings.from_env({"DATABASE_URL": str(tmp_path / "a.duckdb")}, env_file=None)
    result = jobs.run_daily(settings, jobs.SourceOptions("sample", tickers=("YPF",)))
    assert result.dates == [dt.date(2024, 3, 8)]


def test_a_day_without_data_fails_and_is_recorded(tmp_path):
    from pipeline.settings import Settings

    settings = Settings.from_env({"DATABASE_URL": str(tmp_path / "a.duckdb")}, env_file=None)
    message = "source 'sample' has no price bar for YPF on 2025-03-07"
    options = jobs.SourceOptions("sample", tickers=("YPF",))
    with pytest.raises(jobs.JobFailed, match=message):
        jobs.run_daily(settings, options, dt.date(2025, 3, 7))
    with open_reader(settings.database_path) as con:
        run = reads.job_runs(con).row(0, named=True)
    assert run["status"] == "failed"
    record = json.loads(run["log_data"])
    assert record["failure_reason"] == message  # English, for the CLI and the logs
    assert (record["failure_code"], record["failure_params"]) == (
        "no_prices",
        {"source": "sample", "tickers": ["YPF"], "first": "2025-03-07", "last": "2025-03-07"}
        | {"dates": 1},
    )


def test_catch_up_leaves_a_day_without_bars_for_later_instead_of_failing(tmp_path):
    from pipeline.settings import Settings

    settings = Settings.from_env({"DATABASE_URL": str(tmp_path / "a.duckdb")}, env_file=None)
    options = jobs.SourceOptions("sample", tickers=("YPF",))
    days = [dt.date(2024, 3, 8), dt.date(2024, 3, 11)]  # the sample ends on the 8th
    result = jobs.run_dates(settings, options, days, "daily_analysis", skip_days_without_data=True)
    assert result.dates == [dt.date(2024, 3, 8)]
    assert result.record.no_data_dates == [dt.date(2024, 3, 11)]
    empty = jobs.run_dates(
        settings, options, days[1:], "daily_analysis", skip_days_without_data=True
    )
    assert empty.status == "completed" and empty.dates == [] and empty.tickers_processed == 0


@pytest.mark.slow
def test_a_run_is_refused_while_another_holds_the_lock(tmp_path):
    db = tmp_path / "a.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
            import sys, time
            from pathlib import Path
            from pipeline.ops.locking import exclusive
            with exclusive(Path(sys.argv[1]), "run", "test holder"):
                print("HELD", flush=True)
                time.sleep(30)
            """
            ),
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "HELD"
        with pytest.raises(LockHeld, match="another run is in progress"), exclusive(db, "run", "x"):
            pass
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline.ops.cli", "run", "--source", "sample"],
            env={**os.environ, "DATABASE_URL": str(db)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 3
        assert "another run is in progress" in proc.stderr
        # one line, as every error: no logfmt event beside it (outside the journal)
        assert proc.stderr.count("\n") == 1 and proc.stdout == ""
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("ticker", ["GGAL", "YPF", "MELI"])
def test_stored_indicators_equal_talib_on_the_full_history(sample_db, ticker):
    import numpy as np

    from tests.oracles.talib_reference import talib_indicators

    prices = (
        load_market_data("sample", tickers=(ticker,))
        .prices.sort("date")
        .with_columns(factor=pl.col("adj_close") / pl.col("close"))
        .with_columns(
            [(pl.col(c) * pl.col("factor")).alias(c) for c in ("open", "high", "low", "close")]
        )
    )
    h, lo, c = (prices[col].to_numpy() for col in ("high", "low", "close"))
    oracle = pl.DataFrame({"date": prices["date"], **talib_indicators(c, h, lo)})
    with open_reader(sample_db) as con:
        stored = con.sql(
            "SELECT r.analysis_date AS date, d.indicators::VARCHAR AS j"
            " FROM daily_recommendations r JOIN analysis_details d ON d.recommendation_id = r.id"
            " WHERE r.ticker = ? AND d.analysis_type = 'technical' ORDER BY 1",
            params=[ticker],
        ).pl()
    assert stored.height > 100
    values = pl.DataFrame([json.loads(j) for j in stored["j"]]).with_columns(date=stored["date"])
    both = values.join(oracle, on="date", suffix="_talib")
    for name in oracle.columns[1:]:
        np.testing.assert_allclose(both[name], both[f"{name}_talib"], rtol=1e-6, err_msg=name)


def _slow_load(send_sigterm: bool):
    """A load that spends its time inside one long DuckDB query (as a big write does)."""

    def load(run, days, record):
        if send_sigterm:  # from inside the run, so the run's handlers are installed
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        cross_join = "SELECT max(a.range * b.range) FROM range(10_000_000) a, range(10_000_000) b"
        run.con.execute(cross_join).fetchall()

    return load


@pytest.mark.parametrize(
    ("timeout_minutes", "send_sigterm", "reason", "error"),
    [(0.01, False, "timeout", jobs.JobTimeout), (60, True, "interrupted", jobs.JobInterrupted)],
    ids=["timeout", "sigterm"],
)
def test_a_stop_inside_a_duckdb_query_is_recorded_as_such(
    tmp_path, monkeypatch, timeout_minutes, send_sigterm, reason, error
):
    """DuckDB answers a signal handler's exception with "Query interrupted": not the reason."""
    from pipeline.settings import Settings

    env = {"DATABASE_URL": str(tmp_path / "a.duckdb"), "JOB_TIMEOUT_MINUTES": str(timeout_minutes)}
    settings = Settings.from_env(env, env_file=None)
    monkeypatch.setattr(jobs, "_load", _slow_load(send_sigterm))
    with pytest.raises(error):
        jobs.run_daily(settings, jobs.SourceOptions("sample", tickers=("YPF",)), SAMPLE_END)
    with open_reader(settings.database_path) as con:
        run = reads.job_runs(con).row(0, named=True)
    assert run["status"] == "failed" and json.loads(run["log_data"])["failure_reason"] == reason


def _gappy_prices(n_sessions: int) -> pl.DataFrame:
    """Six synthetic tickers: one with a gap, one listed late, one delisted early."""
    prices = synthetic_prices(6, n_sessions, seed=3)
    gapped, listed, delisted = sorted(prices["ticker"].unique())[:3]
    position = pl.col("date").rank("dense") - 1
    return prices.filter(
        ~((pl.col("ticker") == gapped) & position.is_between(300, 700)),
        ~((pl.col("ticker") == listed) & (position < 900)),
        ~((pl.col("ticker") == delisted) & (position > 1000)),
    )


@pytest.mark.parametrize(
    "span",
    [(0, 40), (40, 80), (650, 700), (700, 760), (890, 950), (995, 1060), (1500, 1599)],
)
def test_a_window_read_back_from_the_spill_is_the_in_memory_window(tmp_path, monkeypatch, span):
    monkeypatch.setattr(jobs, "SPILL_ROWS", 6 * 70)  # blocks of 70 dates
    prices = _gappy_prices(1600)
    assert jobs.in_spill_order(prices)
    days = prices["date"].unique().sort()
    first, last = days[span[0]], days[span[1]]
    spilled = jobs._SpilledPrices(prices, tmp_path)
    assert len(spilled.blocks) > 20
    expected = jobs._window(prices, first, last)
    if span[0]:  # the warm-up bars are part of it, and older ones are not
        assert expected["date"].min() < first
    assert expected.height < prices.filter(pl.col("date") <= last).height or span[0] < 800
    assert_frame_equal(spilled.window(first, last), expected)
    columns = ["ticker", "date", "adj_close"]
    assert_frame_equal(spilled.whole(columns), prices.select(columns))


def _stored(database) -> dict[str, pl.DataFrame]:
    """Every stored call, detail, market view and outcome, without ids and run ids."""
    with open_reader(database) as con:
        days = reads.completed_dates(con, dt.date(2000, 1, 1), dt.date(2100, 1, 1))
        calls, details = reads.partitions_with_details(con, days)
        view = reads.market_view(con, min(days), max(days))
        outcomes = reads.stored_outcomes(con, days, calls["ticker"].unique().to_list())
    frames = {
        "calls": calls.drop("id", "created_at", "job_run_id", strict=False),
        "details": details.drop("id", "recommendation_id", "created_at", strict=False),
        "view": view.drop("job_run_id", "created_at", strict=False),
        "outcomes": outcomes,
    }
    return {name: frame.sort(pl.all()) for name, frame in frames.items()}


def test_a_backfill_spilling_its_prices_stores_what_one_holding_them_stores(
    tmp_path, monkeypatch, caplog
):
    folder = tmp_path / "data"
    write_files_source(synthetic_market(8, 1100, seed=4), folder)
    options = jobs.SourceOptions("files", data_dir=folder)
    start, end = sessions(1100)[850], sessions(1100)[-1]
    monkeypatch.setattr(jobs, "CHUNK_ROWS", 8 * 60)  # five chunks of 60 dates or fewer
    monkeypatch.setattr(jobs, "SPILL_ROWS", 8 * 100)
    stored = {}
    for spill in (True, False):
        monkeypatch.setattr(jobs, "SPILL_MIN_CHUNKS", 2 if spill else 10**9)
        path = tmp_path / f"spill-{spill}" / "argenta_ia.duckdb"
        path.parent.mkdir()
        settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="argenta.jobs"):
            result = jobs.backfill(settings, options, start, end)
        assert result.record.recommendations_written == 8 * 250  # every ticker, every day
        assert ("event=prices_spilled blocks=11" in caplog.text) is spill
        assert [p.name for p in path.parent.iterdir() if "prices" in p.name] == []
        stored[spill] = _stored(path)
    for table, frame in stored[True].items():
        assert frame.height > 0, table
        assert_frame_equal(frame, stored[False][table], check_exact=True)


def test_a_backfill_writing_its_chunks_in_parts_stores_what_whole_chunks_store(
    tmp_path, monkeypatch
):
    folder = tmp_path / "data"
    write_files_source(synthetic_market(8, 1100, seed=4), folder)
    options = jobs.SourceOptions("files", data_dir=folder)
    start, end = sessions(1100)[850], sessions(1100)[-1]
    monkeypatch.setattr(jobs, "CHUNK_ROWS", 8 * 60)  # five chunks of 60 dates or fewer
    inserted: list[int] = []  # calls per insert into the store
    insert = writes._insert_chunk

    def counted(con, recs, *args):
        inserted.append(recs.height)
        return insert(con, recs, *args)

    monkeypatch.setattr(writes, "_insert_chunk", counted)
    stored, ids = {}, {}
    for calls_per_part in (8 * 7, 10**9):  # parts of 7 dates, or each chunk at once
        monkeypatch.setattr(jobs, "WRITE_CALLS", calls_per_part)
        inserted.clear()
        path = tmp_path / f"parts-{calls_per_part}" / "argenta_ia.duckdb"
        path.parent.mkdir()
        settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
        result = jobs.backfill(settings, options, start, end)
        assert result.record.recommendations_written == 8 * 250  # every ticker, every day
        if calls_per_part < 10**9:
            assert len(inserted) > 30 and max(inserted) <= calls_per_part
        else:
            assert len(inserted) == 5
        stored[calls_per_part] = _stored(path)
        with open_reader(path) as con:  # the calls are inserted in the same order
            ids[calls_per_part] = reads.partitions_with_details(con, sessions(1100)[850:])[0]
    for table, frame in stored[8 * 7].items():
        assert frame.height > 0, table
        assert_frame_equal(frame, stored[10**9][table], check_exact=True)
    key = ["id", "analysis_date", "ticker"]
    assert_frame_equal(ids[8 * 7].select(key).sort(key), ids[10**9].select(key).sort(key))
