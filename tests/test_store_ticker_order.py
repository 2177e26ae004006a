"""ticker_calls and technical_series (migration 13): the calls and the chart's values in
ticker order, kept by the writer, read the same as the queries on the calls and the parsed
technical details did before them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from store import reads, writes
from store.connection import open_reader, open_writer
from store.export import export
from store.migrate import migrate
from tests.factories import partition

TABLES = writes.TICKER_ORDER_TABLES

# technical_history before migration 13: one ticker's technical details joined to its calls,
# each JSON document parsed at read time.
PARSED_DETAILS = """
    SELECT analysis_date, raw.open, raw.high, raw.low, raw.close, raw.volume,
           ind.sma_20, ind.sma_50, ind.sma_200, ind.bb_upper, ind.bb_middle, ind.bb_lower,
           ind.rsi_14, ind.macd, ind.macd_signal, ind.macd_hist, raw.usdars_ccl
    FROM (
        SELECT r.analysis_date,
               from_json(d.raw_data, '{"open": "DOUBLE", "high": "DOUBLE", "low": "DOUBLE",
                   "close": "DOUBLE", "volume": "DOUBLE", "usdars_ccl": "DOUBLE"}') AS raw,
               from_json(d.indicators, '{"sma_20": "DOUBLE", "sma_50": "DOUBLE",
                   "sma_200": "DOUBLE", "bb_upper": "DOUBLE", "bb_middle": "DOUBLE",
                   "bb_lower": "DOUBLE", "rsi_14": "DOUBLE", "macd": "DOUBLE",
                   "macd_signal": "DOUBLE", "macd_hist": "DOUBLE"}') AS ind
        FROM daily_recommendations r JOIN analysis_details d ON d.recommendation_id = r.id
        WHERE r.ticker = $ticker AND d.analysis_type = 'technical'
          AND ($start::DATE IS NULL OR r.analysis_date >= $start::DATE)
          AND ($end::DATE IS NULL OR r.analysis_date <= $end::DATE))
    ORDER BY analysis_date
"""
# ticker_history / recommendation_history for some tickers before migration 13.
CALLS = f"""
    SELECT {reads._REC_SELECT} FROM daily_recommendations r
    WHERE ($start::DATE IS NULL OR r.analysis_date >= $start::DATE)
      AND ($end::DATE IS NULL OR r.analysis_date <= $end::DATE)
      AND r.ticker IN (SELECT unnest($tickers::VARCHAR[]))
    ORDER BY r.analysis_date, r.ticker
"""
CALL_KEYS = "SELECT analysis_date, ticker FROM daily_recommendations ORDER BY ALL"
SERIES_KEYS = "SELECT analysis_date, ticker FROM technical_series ORDER BY ALL"
EVERY_CALL = "SELECT * FROM daily_recommendations ORDER BY ALL"
EVERY_COPY = "SELECT * FROM ticker_calls ORDER BY ALL"


def _parsed(
    con: duckdb.DuckDBPyConnection, ticker: str, start: dt.date | None, end: dt.date | None
) -> pl.DataFrame:
    return con.sql(PARSED_DETAILS, params={"ticker": ticker, "start": start, "end": end}).pl()


def _calls(
    con: duckdb.DuckDBPyConnection,
    tickers: list[str],
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    return con.sql(CALLS, params={"tickers": tickers, "start": start, "end": end}).pl()


def test_a_tickers_history_equals_the_query_on_the_calls(sample_db):
    with open_reader(sample_db) as con:
        tickers = reads.tickers(con)
        days = reads.analysis_dates(con)
        for ticker in tickers:
            assert reads.ticker_history(con, ticker).equals(_calls(con, [ticker])), ticker
        some = [tickers[0], tickers[-1], tickers[len(tickers) // 2]]
        for start, end in [(None, None), (days[10], days[-10]), (days[-1], days[-1])]:
            got = reads.recommendation_history(con, start, end, some)
            assert got.equals(_calls(con, some, start, end)), (start, end)
        assert con.sql(EVERY_COPY).fetchall() == con.sql(EVERY_CALL).fetchall()
        # a ticker's call on an older day, as ticker_analysis finds it
        rec, details = reads.ticker_analysis(con, tickers[0], days[len(days) // 2])
        assert rec["analysis_date"].to_list() == [days[len(days) // 2]] and details.height == 4


def test_technical_history_equals_the_parsed_details(sample_db):
    with open_reader(sample_db) as con:
        tickers = reads.tickers(con)
        days = reads.analysis_dates(con)
        windows = [(None, None), (days[len(days) // 3], None), (days[5], days[-20])]
        checked = 0
        for ticker in tickers:
            for start, end in windows:
                old = _parsed(con, ticker, start, end)
                new = reads.technical_history(con, ticker, start, end)
                assert new.equals(old), (ticker, start, end)
                checked += new.height
        assert checked > 1000


def test_the_migration_fills_the_series_the_writer_would_write(sample_db, tmp_path):
    path = tmp_path / "v12.duckdb"
    shutil.copyfile(sample_db, path)
    con = duckdb.connect(str(path))
    series = con.sql("SELECT * FROM technical_series ORDER BY ticker, analysis_date").pl()
    calls = con.sql("SELECT * FROM ticker_calls ORDER BY ticker, analysis_date").pl()
    con.execute("DROP TABLE technical_series; DROP TABLE ticker_calls")  # as migration 12 left it
    con.execute("DELETE FROM schema_migrations WHERE version >= 13")
    assert migrate(con) == [13]
    # the same rows as the writer wrote, stored in ticker order (as they are read)
    assert con.sql("SELECT * FROM technical_series").pl().equals(series)
    assert con.sql("SELECT * FROM ticker_calls").pl().equals(calls)
    assert con.sql(SERIES_KEYS).fetchall() == con.sql(CALL_KEYS).fetchall()
    con.close()


def _keys_match(con: duckdb.DuckDBPyConnection) -> bool:
    """Both tables hold the rows of the stored calls (technical_series: their keys)."""
    calls = con.sql(CALL_KEYS).fetchall()
    same = con.sql(EVERY_COPY).fetchall() == con.sql(EVERY_CALL).fetchall()
    return same and con.sql(SERIES_KEYS).fetchall() == calls


def test_the_writer_keeps_the_series_in_step_with_the_calls(db_path: Path):
    days = [dt.date(2024, 3, d) for d in (4, 5, 6, 7)]
    with open_writer(db_path) as con:
        chunks = [partition(day, ["GGAL", "YPF", "PAM"]) for day in days]
        writes.replace_partitions(con, days, chunks)
        assert _keys_match(con) and con.sql(SERIES_KEYS).fetchall()
        writes.replace_partitions(con, [days[1]], [partition(days[1], ["GGAL"])])
        assert _keys_match(con)  # YPF and PAM left the 5th
        writes.replace_partitions(
            con, [days[2]], [partition(days[2], ["YPF"])], only_tickers=["YPF"]
        )
        writes.replace_partitions(
            con, [days[3]], [partition(days[3], ["GGAL"])], keep_tickers=["PAM"]
        )
        assert _keys_match(con)
        assert ("PAM", days[3]) in con.sql(
            "SELECT ticker, analysis_date FROM technical_series"
        ).fetchall()
        writes.delete_before(con, days[2])
        assert _keys_match(con)
        dates = con.sql("SELECT DISTINCT analysis_date FROM technical_series ORDER BY 1")
        assert [r[0] for r in dates.fetchall()] == days[2:]
        for ticker in ("GGAL", "YPF", "PAM"):
            assert reads.ticker_history(con, ticker).equals(_calls(con, [ticker]))
            old = _parsed(con, ticker, None, None)
            assert reads.technical_history(con, ticker).equals(old)
            assert old.height > 0
            # the factory's JSON has no volume nor sma_50: NULL both ways
            assert old["volume"].is_null().all() and old["sma_50"].is_null().all()


def test_a_failed_write_leaves_the_series_as_it_was(db_path: Path):
    day = dt.date(2024, 3, 4)
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [day], [partition(day, ["GGAL", "YPF"])])
        before = [con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES]
        recs, details = partition(day, ["YPF"])
        bad = details.with_columns(ticker=pl.lit("NOPE"))  # a detail without its call
        chunks = [partition(day, ["GGAL"]), (recs, bad)]  # the first one is written
        with pytest.raises(ValueError, match="details without a recommendation"):
            writes.replace_partitions(con, [day], chunks)
        assert [con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES] == before


def test_the_export_leaves_the_copies_out(small_db: Path, tmp_path: Path):
    with open_reader(small_db) as con:
        result = export(con, tmp_path / "export")
    names = {
        r["name"] for r in json.loads((result.path / "dictionary.json").read_text())["relations"]
    }
    assert "daily_recommendations" in names and "technical_daily" in names
    assert not names & set(TABLES)
    assert not any(
        (result.path / t).exists() or (result.path / f"{t}.parquet").exists() for t in TABLES
    )


def test_ticker_calls_has_the_columns_and_types_of_the_calls(db_path: Path):
    con = duckdb.connect(str(db_path))
    migrate(con)
    columns = (
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?"
        " ORDER BY column_index"
    )
    calls = con.sql(columns, params=["daily_recommendations"]).fetchall()
    assert con.sql(columns, params=["ticker_calls"]).fetchall() == calls
    assert ("total_score", "DECIMAL(5,2)") in calls
    con.close()
