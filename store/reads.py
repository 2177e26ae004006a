"""Reads: one named query per question the dashboard, the CLI and notebooks ask, as polars frames.

Scores and prices come back as Float64 (the table stores DECIMAL), dates as Date and
timestamps as naive UTC Datetime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import polars as pl

from pipeline.analysis.market_record import INPUT_COLUMNS as MARKET_RECORD_COLUMNS
from pipeline.analysis.market_record import MarketRecord, market_record
from pipeline.analysis.market_view import MARKET_VIEW_COLUMNS
from pipeline.analysis.outcomes import ENTRIES, HORIZONS
from pipeline.analysis.track_record import TrackRecord
from pipeline.analysis.track_record import track_record as compute_track_record
from store.writes import SERIES_INDICATORS, SERIES_RAW

# What the price chart reads (technical_history): the columns of `technical_series` (named
# once, in store/writes.py, which fills it), the CCL last.
TECHNICAL_HISTORY_COLUMNS = (
    "analysis_date",
    *(name for name in SERIES_RAW if name != "usdars_ccl"),
    *SERIES_INDICATORS,
    "usdars_ccl",
)

_REC_SELECT = """
    r.id, r.analysis_date, r.ticker, r.recommendation,
    r.total_score::DOUBLE AS total_score, r.confidence::DOUBLE AS confidence,
    r.technical_score::DOUBLE AS technical_score,
    r.fundamental_score::DOUBLE AS fundamental_score,
    r.macro_score::DOUBLE AS macro_score, r.sentiment_score::DOUBLE AS sentiment_score,
    r.current_price::DOUBLE AS current_price, r.target_price::DOUBLE AS target_price,
    r.risk_level, r.summary, r.created_at,
    r.target_low::DOUBLE AS target_low, r.target_high::DOUBLE AS target_high
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
        "SELECT max(analysis_date) FROM partitions"
        " WHERE ?::DATE IS NULL OR analysis_date <= ?::DATE",
        [as_of, as_of],
    )


def analysis_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    """Every analysis_date that has a partition, oldest first."""
    rows = con.sql("SELECT analysis_date FROM partitions ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def tickers(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every ticker with at least one recommendation, sorted."""
    rows = con.sql("SELECT ticker FROM known_tickers ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def last_dates(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each ticker's latest analysis_date (the known_tickers catalog): ticker, last_date."""
    return _frame(con, "SELECT ticker, last_date FROM known_tickers ORDER BY ticker")


# Calls `latest_recommendations` adds to the day's partition, only when the catalog says
# some ticker is absent that day: the last call of tickers that stopped before it, and the
# latest earlier call of tickers missing that day but analysed again later.
_ENDED_CALLS = """
    SELECT r.* FROM daily_recommendations r JOIN known_tickers k
      ON r.ticker = k.ticker AND r.analysis_date = k.last_date
    WHERE k.last_date < $day
"""
_MISSING_CALLS = """
    SELECT * FROM daily_recommendations
    WHERE analysis_date < $day AND ticker IN (
        SELECT ticker FROM known_tickers WHERE first_date < $day AND last_date > $day
        EXCEPT SELECT ticker FROM daily_recommendations WHERE analysis_date = $day)
    QUALIFY analysis_date = max(analysis_date) OVER (PARTITION BY ticker)
"""


def latest_recommendations(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date | None = None,
    recommendation: Sequence[str] | None = None,
    risk_level: Sequence[str] | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    search: str | None = None,
) -> pl.DataFrame:
    """Each ticker at its latest date on or before `as_of`.

    Reads the partition of that date and, when the catalog of first and last dates says a
    ticker is absent from it, that ticker's latest earlier call: never a scan of the whole
    history for every ticker.
    """
    day, ended, missing = _day_and_absent(con, as_of)
    parts = ["SELECT * FROM daily_recommendations WHERE analysis_date = $day"]
    parts += [_ENDED_CALLS] * (ended > 0) + [_MISSING_CALLS] * (missing > 0)
    sql = f"""
        SELECT {_REC_SELECT} FROM ({" UNION ALL ".join(parts)}) r
        WHERE ($calls::VARCHAR[] IS NULL OR list_contains($calls, r.recommendation))
          AND ($risks::VARCHAR[] IS NULL OR list_contains($risks, r.risk_level))
          AND ($low::DOUBLE IS NULL OR r.total_score >= $low)
          AND ($high::DOUBLE IS NULL OR r.total_score <= $high)
          AND ($term::VARCHAR IS NULL OR contains(upper(r.ticker), upper($term)))
    """
    params = {
        "day": day,
        "calls": list(recommendation) if recommendation else None,
        "risks": list(risk_level) if risk_level else None,
        "low": min_score,
        "high": max_score,
        "term": search.strip() if search and search.strip() else None,
    }
    calls = con.sql(sql, params=params).pl()
    # Sorted here: DuckDB's ORDER BY carries every column of the rows (a third of the time).
    return calls.sort(["total_score", "ticker"], descending=[True, False])


def _day_and_absent(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None
) -> tuple[dt.date | None, int, int]:
    """(the latest date on or before `as_of`, tickers whose calls stopped before it, tickers
    analysed around it but not on it), in one lookup of the partitions catalog."""
    rows = con.sql(
        "SELECT analysis_date, ended_tickers, absent_tickers FROM partitions"
        " WHERE $as_of::DATE IS NULL OR analysis_date <= $as_of::DATE"
        " ORDER BY analysis_date DESC LIMIT 1",
        params={"as_of": as_of},
    ).fetchall()
    return rows[0] if rows else (None, 0, 0)


def partitions_with_details(
    con: duckdb.DuckDBPyConnection, dates: Sequence[dt.date]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every call on `dates` and every detail row of those calls (keyed by date and ticker)."""
    calls = _frame(
        con,
        f"""SELECT {_REC_SELECT} FROM daily_recommendations r
            WHERE r.analysis_date IN (SELECT unnest(?::DATE[]))
            ORDER BY r.analysis_date, r.ticker""",
        [list(dates)],
    )
    details = _frame(
        con,
        f"""SELECT r.analysis_date, r.ticker, {_DETAIL_SELECT}
            FROM analysis_details d JOIN daily_recommendations r ON r.id = d.recommendation_id
            WHERE r.analysis_date IN (SELECT unnest(?::DATE[]))
            ORDER BY r.analysis_date, r.ticker, d.analysis_type""",
        [list(dates)],
    )
    return calls, details


def recommendation_history(
    con: duckdb.DuckDBPyConnection,
    start: dt.date | None = None,
    end: dt.date | None = None,
    tickers: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Every call in a date range, optionally for some tickers.

    Some tickers' calls are read from `ticker_calls` (the same rows in ticker order: a block
    or two per ticker); a range of every ticker's from `daily_recommendations` (date order).
    """
    sel = list(tickers) if tickers else None
    sql = f"""
        SELECT {_REC_SELECT} FROM {"ticker_calls" if sel else "daily_recommendations"} r
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
    prev = _scalar(con, "SELECT max(analysis_date) FROM partitions WHERE analysis_date < ?", [day])
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
    """One ticker: the call on `on` (default latest) and its four details."""
    rec = _frame(
        con,
        f"""SELECT {_REC_SELECT} FROM daily_recommendations r
            WHERE r.ticker = ? AND r.analysis_date = ?""",
        [ticker, _latest_call_date(con, ticker, on)],
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


def _latest_call_date(
    con: duckdb.DuckDBPyConnection, ticker: str, on: dt.date | None
) -> dt.date | None:
    """The ticker's latest analysis_date on or before `on`; the catalog answers most cases."""
    last = _scalar(con, "SELECT last_date FROM known_tickers WHERE ticker = ?", [ticker])
    if last is None or on is None or last <= on:
        return last
    return _scalar(
        con,
        "SELECT max(analysis_date) FROM ticker_calls WHERE ticker = ? AND analysis_date <= ?",
        [ticker, on],
    )


def ticker_history(
    con: duckdb.DuckDBPyConnection,
    ticker: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """One ticker's calls over time."""
    return recommendation_history(con, start, end, [ticker])


def technical_history(
    con: duckdb.DuckDBPyConnection,
    ticker: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """One ticker's stored OHLC, volume and chart indicators per date (the technical details'
    values, from `technical_series`: no JSON parsed and no scan of the details)."""
    sql = f"""
        SELECT analysis_date, {", ".join(TECHNICAL_HISTORY_COLUMNS[1:])}
        FROM technical_series
        WHERE ticker = ?
          AND (?::DATE IS NULL OR analysis_date >= ?::DATE)
          AND (?::DATE IS NULL OR analysis_date <= ?::DATE)
        ORDER BY analysis_date
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
    """Recent runs and the per-job health summary (the job_health view)."""
    return job_runs(con, limit), _frame(con, "SELECT * FROM job_health ORDER BY job_name")


def completed_dates(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> list[dt.date]:
    """Analysis dates in [start, end] that already have a partition."""
    rows = con.sql(
        "SELECT analysis_date FROM partitions WHERE analysis_date BETWEEN ? AND ? ORDER BY 1",
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


def outcome_counts(
    con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, tickers: Sequence[str]
) -> pl.DataFrame:
    """Per analysis date in [start, end] and ticker of `tickers`: the outcome rows stored."""
    sql = """
        SELECT r.analysis_date, r.ticker, count(o.ticker)::INTEGER AS outcomes
        FROM daily_recommendations r
        LEFT JOIN call_outcomes o USING (analysis_date, ticker)
        WHERE r.analysis_date BETWEEN $start AND $end
          AND r.ticker IN (SELECT unnest($tickers::VARCHAR[]))
        GROUP BY ALL
    """
    return con.sql(sql, params={"start": start, "end": end, "tickers": list(tickers)}).pl()


def stored_outcomes(
    con: duckdb.DuckDBPyConnection, dates: Sequence[dt.date], tickers: Sequence[str]
) -> pl.DataFrame:
    """The stored call_outcomes rows of `dates` and `tickers` (every column but the run's)."""
    sql = """
        SELECT * EXCLUDE (job_run_id, created_at) FROM call_outcomes
        WHERE analysis_date IN (SELECT unnest($dates::DATE[]))
          AND ticker IN (SELECT unnest($tickers::VARCHAR[]))
    """
    params = {"dates": sorted(set(dates)), "tickers": list(tickers)}
    return con.sql(sql, params=params).pl()


def outcome_calls(
    con: duckdb.DuckDBPyConnection, dates: Sequence[dt.date], tickers: Sequence[str]
) -> pl.DataFrame:
    """The calls of `dates` and `tickers` with what their outcomes need.

    `target_low` / `target_high` are the relative model's 63-session range (NULL in the
    first model's rows). A call lacking either states the first model's volatility band
    instead: for those calls only, `volatility_20`, `atr_14` and the adjusted `close` come
    from the technical detail (the inputs of the annualised volatility its target used);
    they are NULL in the other calls, whose outcomes do not read them (a backfill's calls
    then need no detail JSON parsed).
    """
    sql = """
        WITH calls AS (
            SELECT id, analysis_date, ticker, current_price, target_price, target_low, target_high
            FROM daily_recommendations
            WHERE analysis_date IN (SELECT unnest($dates::DATE[]))
              AND analysis_date BETWEEN $first AND $last
              AND ticker IN (SELECT unnest($tickers::VARCHAR[]))
        ), band AS (
            SELECT d.recommendation_id,
                   -- both values from one parse of the JSON (two `->>` parse it twice)
                   json_extract_string(d.indicators, ['$.volatility_20', '$.atr_14']) AS pair,
                   d.raw_data->>'close' AS close
            FROM analysis_details d
            SEMI JOIN (SELECT id FROM calls WHERE target_low IS NULL OR target_high IS NULL) b
              ON d.recommendation_id = b.id
            WHERE d.analysis_type = 'technical'
        )
        SELECT c.analysis_date, c.ticker, c.current_price::DOUBLE AS current_price,
               c.target_price::DOUBLE AS target_price,
               c.target_low::DOUBLE AS target_low, c.target_high::DOUBLE AS target_high,
               TRY_CAST(b.pair[1] AS DOUBLE) AS volatility_20,
               TRY_CAST(b.pair[2] AS DOUBLE) AS atr_14,
               TRY_CAST(b.close AS DOUBLE) AS close
        FROM calls c LEFT JOIN band b ON b.recommendation_id = c.id
        ORDER BY c.analysis_date, c.ticker
    """
    days = sorted(set(dates))
    first, last = (days[0], days[-1]) if days else (None, None)
    params = {"dates": days, "first": first, "last": last, "tickers": list(tickers)}
    return con.sql(sql, params=params).pl()


_TRACK_CALLS = """
    SELECT r.analysis_date, r.ticker, r.recommendation, r.total_score::DOUBLE AS total_score,
           r.technical_score::DOUBLE AS technical_score,
           r.fundamental_score::DOUBLE AS fundamental_score,
           r.macro_score::DOUBLE AS macro_score, r.sentiment_score::DOUBLE AS sentiment_score,
           r.risk_level,
           CASE WHEN j.job_name = 'daily_analysis' THEN 'publicado' ELSE 'simulado' END AS origin
    FROM daily_recommendations r LEFT JOIN job_runs j ON j.id = r.job_run_id
    WHERE r.analysis_date >= coalesce(?::DATE, DATE '0001-01-01')
"""
_TRACK_OUTCOMES = """
    SELECT * EXCLUDE (job_run_id, created_at) FROM call_outcomes
    WHERE horizon_sessions = ? AND entry = ?
      AND analysis_date >= coalesce(?::DATE, DATE '0001-01-01')
"""


def track_record_inputs(
    con: duckdb.DuckDBPyConnection,
    horizon: int = 20,
    since: dt.date | None = None,
    entry: str = "close",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The calls on/after `since` (with their origin) and their outcomes at `horizon` and `entry`.

    Origin: calls written by the daily job are "publicado", every other call (a backfill,
    or written before the origin was recorded) "simulado".
    """
    if horizon not in HORIZONS:
        raise ValueError(f"horizon {horizon} is not one of {', '.join(map(str, HORIZONS))}")
    if entry not in ENTRIES:
        raise ValueError(f"entry {entry!r} is not one of {', '.join(ENTRIES)}")
    calls = _frame(con, _TRACK_CALLS, [since])
    return calls, _frame(con, _TRACK_OUTCOMES, [horizon, entry, since])


def track_record(
    con: duckdb.DuckDBPyConnection,
    horizon: int = 20,
    since: dt.date | None = None,
    entry: str = "close",
) -> TrackRecord:
    """The track record at `horizon` sessions and `entry` of the calls on/after `since`."""
    calls, outcomes = track_record_inputs(con, horizon, since, entry)
    return compute_track_record(calls, outcomes, horizon, entry)


def market_view(
    con: duckdb.DuckDBPyConnection,
    start: dt.date | None = None,
    end: dt.date | None = None,
    columns: Sequence[str] = MARKET_VIEW_COLUMNS,
) -> pl.DataFrame:
    """The stored market view (one row per analysis_date) between `start` and `end`, by date."""
    unknown = set(columns) - set(MARKET_VIEW_COLUMNS)
    if unknown:
        raise ValueError(f"market_view has no column {sorted(unknown)}")
    return _frame(
        con,
        f"SELECT {', '.join(columns)} FROM market_view"
        " WHERE analysis_date >= coalesce(?::DATE, DATE '0001-01-01')"
        " AND analysis_date <= coalesce(?::DATE, DATE '9999-12-31') ORDER BY analysis_date",
        [start, end],
    )


def latest_market_view(
    con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None
) -> dict[str, Any] | None:
    """The market view of the latest analysis_date on or before `as_of` (None: none stored)."""
    rows = _frame(
        con,
        f"SELECT {', '.join(MARKET_VIEW_COLUMNS)} FROM market_view"
        " WHERE ?::DATE IS NULL OR analysis_date <= ?::DATE ORDER BY analysis_date DESC LIMIT 1",
        [as_of, as_of],
    )
    return rows.row(0, named=True) if rows.height else None


def market_track_record(
    con: duckdb.DuckDBPyConnection, since: dt.date | None = None, entry: str = "close"
) -> MarketRecord:
    """The market view's track record against the Merval, from the rows on/after `since`."""
    return market_record(market_view(con, since, columns=MARKET_RECORD_COLUMNS), entry)
