"""Reads: one function per endpoint of the old API, each returning polars frames.

Scores and prices come back as Float64 (the table stores DECIMAL), dates as Date and
timestamps as naive UTC Datetime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import polars as pl

# A ticker's "latest" call is its most recent one within this many days up to the reference
# date: older calls belong to tickers that left the universe. Reading only that window keeps
# the latest-call reads independent of how many years of history the file holds.
LATEST_LOOKBACK_DAYS = 31

_REC_SELECT = """
    r.id, r.analysis_date, r.ticker, r.recommendation,
    r.total_score::DOUBLE AS total_score, r.confidence::DOUBLE AS confidence,
    r.technical_score::DOUBLE AS technical_score,
    r.fundamental_score::DOUBLE AS fundamental_score,
    r.macro_score::DOUBLE AS macro_score, r.sentiment_score::DOUBLE AS sentiment_score,
    r.current_price::DOUBLE AS current_price, r.target_price::DOUBLE AS target_price,
    r.risk_level, r.summary, r.created_at
"""
_DETAIL_SELECT = """
    d.id, d.recommendation_id, d.analysis_type, d.raw_data::VARCHAR AS raw_data,
    d.indicators::VARCHAR AS indicators, d.score::DOUBLE AS score,
    d.metadata::VARCHAR AS metadata, d.created_at
"""


def _frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence | None = None
) -> pl.DataFrame:
    return con.sql(sql, params=list(params or [])).pl()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence | None = None):
    rows = con.sql(sql, params=list(params or [])).fetchall()
    return rows[0][0] if rows else None


def latest_date(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> dt.date | None:
    """The most recent analysis_date on or before `as_of` (default: any), or None if empty."""
    return _scalar(
        con,
        "SELECT max(analysis_date) FROM daily_recommendations"
        " WHERE ?::DATE IS NULL OR analysis_date <= ?::DATE",
        [as_of, as_of],
    )


def analysis_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    """Every analysis_date that has a partition, oldest first."""
    rows = con.sql("SELECT DISTINCT analysis_date FROM daily_recommendations ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def tickers(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every ticker with at least one recommendation, sorted."""
    rows = con.sql("SELECT ticker FROM known_tickers ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def _lookback(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> list[dt.date | None]:
    """[first, last] day of the latest-call window ending at the partition on/before `as_of`."""
    day = latest_date(con, as_of)
    return [day - dt.timedelta(days=LATEST_LOOKBACK_DAYS) if day else None, day]


def latest_recommendations(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    recommendation: Sequence[str] | None = None,
    risk_level: Sequence[str] | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    search: str | None = None,
) -> pl.DataFrame:
    """GET /api/recommendations/latest: each ticker at its latest date on or before `as_of`.

    Only calls within LATEST_LOOKBACK_DAYS of the latest partition on or before `as_of` count.
    """
    window = "r.analysis_date BETWEEN ? AND ?"
    sql = f"""
        WITH last AS (
            SELECT ticker, max(analysis_date) AS analysis_date FROM daily_recommendations r
            WHERE {window} GROUP BY ticker)
        SELECT {_REC_SELECT}
        FROM daily_recommendations r JOIN last USING (ticker, analysis_date)
        WHERE {window}
          AND (?::VARCHAR[] IS NULL OR r.recommendation IN (SELECT unnest(?::VARCHAR[])))
          AND (?::VARCHAR[] IS NULL OR r.risk_level IN (SELECT unnest(?::VARCHAR[])))
          AND (?::DOUBLE IS NULL OR r.total_score >= ?::DOUBLE)
          AND (?::DOUBLE IS NULL OR r.total_score <= ?::DOUBLE)
          AND (?::VARCHAR IS NULL OR contains(upper(r.ticker), upper(?::VARCHAR)))
        ORDER BY r.total_score DESC, r.ticker
    """
    rec = list(recommendation) if recommendation else None
    risk = list(risk_level) if risk_level else None
    term = search.strip() if search and search.strip() else None
    span = _lookback(con, as_of)
    params = [*span, *span, rec, rec, risk, risk, min_score, min_score, max_score, max_score]
    return _frame(con, sql, [*params, term, term])


def recommendation_history(
    con: duckdb.DuckDBPyConnection,
    start: dt.date | None = None,
    end: dt.date | None = None,
    tickers: Sequence[str] | None = None,
) -> pl.DataFrame:
    """GET /api/recommendations/history: every call in a date range, optionally for some tickers."""
    sel = list(tickers) if tickers else None
    sql = f"""
        SELECT {_REC_SELECT} FROM daily_recommendations r
        WHERE (?::DATE IS NULL OR r.analysis_date >= ?::DATE)
          AND (?::DATE IS NULL OR r.analysis_date <= ?::DATE)
          AND (?::VARCHAR[] IS NULL OR r.ticker IN (SELECT unnest(?::VARCHAR[])))
        ORDER BY r.analysis_date, r.ticker
    """
    return _frame(con, sql, [start, start, end, end, sel, sel])


def recommendation_changes(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None
) -> pl.DataFrame:
    """Tickers whose call changed between the partition at `as_of` (or latest) and the previous."""
    day = latest_date(con, as_of)
    if day is None:
        return pl.DataFrame()
    prev = _scalar(
        con, "SELECT max(analysis_date) FROM daily_recommendations WHERE analysis_date < ?", [day]
    )
    sql = """
        SELECT c.ticker, p.analysis_date AS previous_date, p.recommendation AS previous,
               c.analysis_date, c.recommendation AS current,
               p.total_score::DOUBLE AS previous_score, c.total_score::DOUBLE AS current_score
        FROM daily_recommendations c JOIN daily_recommendations p
          ON p.ticker = c.ticker AND p.analysis_date = ?
        WHERE c.analysis_date = ? AND c.recommendation <> p.recommendation
        ORDER BY c.ticker
    """
    return _frame(con, sql, [prev, day])


def ticker_analysis(
    con: duckdb.DuckDBPyConnection, ticker: str, on: dt.date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """GET /api/analysis/{ticker}/latest: the call on `on` (default latest) and its four details.

    Like `latest_recommendations`, the latest call within LATEST_LOOKBACK_DAYS up to `on`.
    """
    rec = _frame(
        con,
        f"""SELECT {_REC_SELECT} FROM daily_recommendations r
            WHERE r.ticker = ? AND r.analysis_date BETWEEN ? AND ?
            ORDER BY r.analysis_date DESC LIMIT 1""",
        [ticker, *_lookback(con, on)],
    )
    if rec.is_empty():
        return rec, pl.DataFrame()
    details = _frame(
        con,
        f"""SELECT {_DETAIL_SELECT} FROM analysis_details d WHERE d.recommendation_id = ?
            ORDER BY list_position(['technical', 'fundamental', 'macro', 'sentiment'],
                                   d.analysis_type)""",
        [rec["id"][0]],
    )
    return rec, details


def ticker_history(
    con: duckdb.DuckDBPyConnection,
    ticker: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """GET /api/analysis/{ticker}/history: one ticker's calls over time."""
    return recommendation_history(con, start, end, [ticker])


def technical_history(
    con: duckdb.DuckDBPyConnection,
    ticker: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """One ticker's stored OHLC and indicators per date (from the technical details' JSON)."""
    sql = """
        SELECT r.analysis_date,
               (d.raw_data->>'open')::DOUBLE AS open, (d.raw_data->>'high')::DOUBLE AS high,
               (d.raw_data->>'low')::DOUBLE AS low, (d.raw_data->>'close')::DOUBLE AS close,
               (d.indicators->>'sma_20')::DOUBLE AS sma_20,
               (d.indicators->>'sma_50')::DOUBLE AS sma_50,
               (d.indicators->>'sma_200')::DOUBLE AS sma_200,
               (d.indicators->>'bb_upper')::DOUBLE AS bb_upper,
               (d.indicators->>'bb_middle')::DOUBLE AS bb_middle,
               (d.indicators->>'bb_lower')::DOUBLE AS bb_lower,
               (d.raw_data->>'usdars_ccl')::DOUBLE AS usdars_ccl
        FROM daily_recommendations r JOIN analysis_details d ON d.recommendation_id = r.id
        WHERE r.ticker = ? AND d.analysis_type = 'technical'
          AND (?::DATE IS NULL OR r.analysis_date >= ?::DATE)
          AND (?::DATE IS NULL OR r.analysis_date <= ?::DATE)
        ORDER BY r.analysis_date
    """
    return _frame(con, sql, [ticker, start, start, end, end])


def job_runs(con: duckdb.DuckDBPyConnection, limit: int = 100) -> pl.DataFrame:
    """The most recent runs, newest first, with their duration in seconds."""
    sql = """
        SELECT id, job_name, start_time, end_time, status, tickers_processed, errors_count,
               epoch(end_time - start_time) AS duration_s, log_data::VARCHAR AS log_data
        FROM job_runs ORDER BY start_time DESC, id DESC LIMIT ?
    """
    return _frame(con, sql, [limit])


def job_status(
    con: duckdb.DuckDBPyConnection, limit: int = 100
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """GET /api/jobs/status: recent runs and the per-job health summary (the job_health view)."""
    return job_runs(con, limit), _frame(con, "SELECT * FROM job_health ORDER BY job_name")


def completed_dates(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> list[dt.date]:
    """Analysis dates in [start, end] that already have a partition."""
    rows = con.sql(
        "SELECT DISTINCT analysis_date FROM daily_recommendations"
        " WHERE analysis_date BETWEEN ? AND ? ORDER BY 1",
        params=[start, end],
    ).fetchall()
    return [r[0] for r in rows]


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts of the three public tables."""
    rows = con.sql(
        "SELECT 'daily_recommendations', count(*) FROM daily_recommendations"
        " UNION ALL SELECT 'analysis_details', count(*) FROM analysis_details"
        " UNION ALL SELECT 'job_runs', count(*) FROM job_runs"
    ).fetchall()
    return {name: n for name, n in rows}
