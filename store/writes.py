"""Writes: whole analysis-date partitions replaced in one transaction; the job-run lifecycle."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import polars as pl

from pipeline.analysis import calendar
from pipeline.analysis.frames import DETAIL_COLUMNS, RECOMMENDATION_COLUMNS
from pipeline.analysis.market_view import MARKET_VIEW_COLUMNS
from pipeline.analysis.outcomes import OUTCOME_COLUMNS
from store.connection import request_compaction

# The stored columns of a detail, in the order they are appended: the call's id in place of
# its (analysis_date, ticker) key.
_DETAIL_INSERT = [
    "recommendation_id",
    *(c for c in DETAIL_COLUMNS if c not in ("analysis_date", "ticker")),
]


_OUTCOME_KEY = ["analysis_date", "ticker", "horizon_sessions", "entry"]
# A chunk of a partition replace: (recommendations, details), or with the dates' market view.
Chunk = tuple[pl.DataFrame, pl.DataFrame] | tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]


def utc_now() -> dt.datetime:
    """Now as a naive UTC timestamp, the convention of every TIMESTAMP column."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def replace_partitions(
    con: duckdb.DuckDBPyConnection,
    dates: Sequence[dt.date],
    chunks: Iterable[Chunk],
    keep_tickers: Sequence[str] = (),
    only_tickers: Sequence[str] | None = None,
    job_run_id: int | None = None,
    keep_when_empty: bool = False,
) -> int:
    """Replace the partitions of `dates` with the (recommendations, details) chunks, atomically.

    Every existing row of those dates is deleted and the chunks are inserted in one
    transaction, so a re-run never duplicates and an error or a kill at any point leaves
    the earlier state. `details` holds the four analyses per (analysis_date, ticker) of
    its chunk's recommendations; a chunk's third frame, when given, is the market view of
    its dates (`market_view`, one row per date), which replaces the stored rows of `dates`
    too. Chunks let a large backfill stream through memory.
    The stored rows of `keep_tickers` (those the source failed on this time) are kept.
    With `only_tickers` (a run restricted to some tickers), only those tickers' rows of the
    dates are replaced and every other ticker's call is kept.
    `job_run_id` (the job_runs row writing them) is stored with every call. A day that
    lost a call loses its outcomes (a later fill recomputes them); the others are kept.
    With `keep_when_empty`, chunks holding no recommendation at all change nothing: the
    stored partitions (calls, details, market view, outcomes) are kept as they were.
    Returns the number of recommendations written.
    """
    days = pl.Series("analysis_date", sorted(set(dates)), dtype=pl.Date)
    written = 0
    con.execute("BEGIN TRANSACTION")
    try:
        _delete_dates(con, days, list(keep_tickers), only_tickers)
        _delete_market_view(con, days)
        for chunk in chunks:
            written += _insert_chunk(con, chunk[0], chunk[1], days, job_run_id)
            if len(chunk) == 3:
                _insert_market_view(con, chunk[2], days, job_run_id)
            del chunk  # free the chunk before the next one is computed
        if keep_when_empty and not written:  # nothing to put in their place: keep them
            con.execute("ROLLBACK")
            return 0
        _insert_ticker_order(con, *_in_days(days, list(keep_tickers), only_tickers))
        _drop_unsettled_outcomes(con, days)
        _refresh_catalog(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return written


def stored_calls(
    con: duckdb.DuckDBPyConnection,
    dates: Sequence[dt.date],
    keep_tickers: Sequence[str] = (),
    only_tickers: Sequence[str] | None = None,
) -> int:
    """How many stored calls `replace_partitions` with these arguments would replace."""
    if not dates:
        return 0
    days = pl.Series("analysis_date", sorted(set(dates)), dtype=pl.Date)
    where, params = _in_days(days, list(keep_tickers), only_tickers)
    row = con.execute(f"SELECT count(*) FROM daily_recommendations WHERE {where}", params)
    return int(row.fetchone()[0])  # type: ignore[index]


def _in_days(days: pl.Series, keep: list[str], only: Sequence[str] | None) -> tuple[str, list[Any]]:
    """The condition (and its parameters) on the calls of `days` but those of `keep` (with
    `only`, just those tickers'). The date range lets zone maps skip the rest of the table;
    the list picks the dates."""
    in_days = (
        "analysis_date BETWEEN ? AND ? AND analysis_date IN (SELECT unnest(?::DATE[]))"
        " AND ticker NOT IN (SELECT unnest(?::VARCHAR[]))"
    )
    params: list[Any] = [days.min(), days.max(), days.to_list(), keep]
    if only is not None:
        in_days += " AND ticker IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(only))
    return in_days, params


def _delete_dates(
    con: duckdb.DuckDBPyConnection,
    days: pl.Series,
    keep: list[str],
    only: Sequence[str] | None = None,
) -> None:
    """Delete the rows of `days` (a sorted date series) but those of `keep`, in the transaction.

    With `only`, just those tickers' rows are deleted.
    """
    in_days, params = _in_days(days, keep, only)
    con.execute(
        "DELETE FROM analysis_details WHERE recommendation_id IN ("
        f" SELECT id FROM daily_recommendations WHERE {in_days})",
        params,
    )
    con.execute(f"DELETE FROM daily_recommendations WHERE {in_days}", params)
    for table in TICKER_ORDER_TABLES:
        con.execute(f"DELETE FROM {table} WHERE {in_days}", params)


def _delete_market_view(con: duckdb.DuckDBPyConnection, days: pl.Series) -> None:
    """Delete the market view rows of `days` (in the transaction)."""
    con.execute(
        "DELETE FROM market_view WHERE analysis_date BETWEEN ? AND ?"
        " AND analysis_date IN (SELECT unnest(?::DATE[]))",
        [days.min(), days.max(), days.to_list()],
    )


def _insert_market_view(
    con: duckdb.DuckDBPyConnection, view: pl.DataFrame, days: pl.Series, job_run_id: int | None
) -> None:
    """Insert one chunk's market view rows (one per date of `days`) in the open transaction."""
    _check_columns(view, MARKET_VIEW_COLUMNS)
    outside = view.filter(~pl.col("analysis_date").is_in(days.implode())).height
    if outside:
        raise ValueError(f"chunk has {outside} market view rows outside the replaced dates")
    _view = view.select(MARKET_VIEW_COLUMNS).sort("analysis_date").to_arrow()
    columns = ", ".join(MARKET_VIEW_COLUMNS)
    con.execute(
        f"INSERT INTO market_view ({columns}, job_run_id) SELECT {columns}, ?::BIGINT FROM _view",
        [job_run_id],
    )


def _drop_unsettled_outcomes(con: duckdb.DuckDBPyConnection, days: pl.Series) -> None:
    """Delete every outcome of a day that lost one of its calls (in the transaction).

    A call that is gone takes its outcomes along, and the universe mean of the day's other
    outcomes no longer holds: the next fill whose prices reach their exits recomputes them.
    """
    con.execute(
        "DELETE FROM call_outcomes WHERE analysis_date BETWEEN ? AND ? AND analysis_date IN ("
        " SELECT o.analysis_date FROM call_outcomes o ANTI JOIN daily_recommendations r"
        " USING (analysis_date, ticker)"
        " WHERE o.analysis_date IN (SELECT unnest(?::DATE[])))",
        [days.min(), days.max(), days.to_list()],
    )


# Copies of the calls and of the technical details' chart values in ticker order (migration
# 13), so one ticker's history reads a block or two: a partition replace deletes their rows
# of the replaced calls and inserts the new calls' rows once every chunk is in, sorted over
# the whole write (a backfill's span of years, a daily run's day).
TICKER_ORDER_TABLES = ("ticker_calls", "technical_series")
SERIES_RAW = ("open", "high", "low", "close", "volume", "usdars_ccl")
SERIES_INDICATORS = (
    "sma_20",
    "sma_50",
    "sma_200",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
)
# The technical_series rows of the calls matching {where}: each JSON text parsed once, as
# migration 13 (and the technical_daily view) parse it.
_SERIES_INSERT = f"""
    INSERT INTO technical_series
    SELECT ticker, analysis_date, {", ".join(f"raw.{c}" for c in SERIES_RAW)},
           {", ".join(f"ind.{c}" for c in SERIES_INDICATORS)}
    FROM (SELECT r.ticker, r.analysis_date,
                 from_json(d.raw_data, '{json.dumps(dict.fromkeys(SERIES_RAW, "DOUBLE"))}') AS raw,
                 from_json(d.indicators,
                           '{json.dumps(dict.fromkeys(SERIES_INDICATORS, "DOUBLE"))}') AS ind
          FROM (SELECT id, ticker, analysis_date FROM daily_recommendations WHERE {{where}}) r
          JOIN analysis_details d ON d.recommendation_id = r.id AND d.analysis_type = 'technical')
    ORDER BY ticker, analysis_date
"""


def _insert_ticker_order(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> None:
    """Insert the ticker-order rows of the calls matching `where` (the calls just written)."""
    con.execute(
        "INSERT INTO ticker_calls SELECT * FROM daily_recommendations"
        f" WHERE {where} ORDER BY ticker, analysis_date",
        params,
    )
    con.execute(_SERIES_INSERT.replace("{where}", where), params)


def _refresh_catalog(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the ticker and partition lists from the recommendations (in the transaction)."""
    con.execute("DELETE FROM known_tickers")
    con.execute(
        "INSERT INTO known_tickers SELECT ticker, min(analysis_date), max(analysis_date)"
        " FROM daily_recommendations GROUP BY ticker"
    )
    con.execute("DELETE FROM partitions")
    con.execute(_PARTITIONS)
    _refresh_latest_sessions(con)


# Every partition with its count of calls and, from known_tickers (rebuilt first), how many
# tickers ended before it and how many it lacks: running counts of first dates and of the
# days after last dates, each partition reading those of the latest such day on or before it.
_PARTITIONS = """
    INSERT INTO partitions (analysis_date, recommendations, ended_tickers, absent_tickers)
    SELECT c.analysis_date, c.calls, m.ended, m.started - m.ended - c.calls
    FROM (SELECT analysis_date, count(*) AS calls FROM daily_recommendations
          GROUP BY analysis_date) c
    ASOF JOIN (
        SELECT DISTINCT day, sum(starts) OVER upto AS started, sum(ends) OVER upto AS ended
        FROM (SELECT first_date AS day, 1 AS starts, 0 AS ends FROM known_tickers
              UNION ALL SELECT last_date + 1, 0, 1 FROM known_tickers)
        WINDOW upto AS (ORDER BY day RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ) m ON c.analysis_date >= m.day
"""


def _refresh_latest_sessions(con: duckdb.DuckDBPyConnection) -> None:
    """Each exchange's latest session on or before the latest analysis_date (in the transaction)."""
    latest = con.sql("SELECT max(last_date) FROM known_tickers").fetchall()[0][0]
    con.execute("DELETE FROM latest_sessions")
    if latest is not None:
        rows = [(x, calendar.latest_trading_day(x, latest)) for x in calendar.EXCHANGES]
        con.executemany("INSERT INTO latest_sessions VALUES (?, ?)", rows)


def _check_columns(frame: pl.DataFrame, columns: list[str]) -> None:
    missing = set(columns) - set(frame.columns)
    if missing:
        raise ValueError(f"frame lacks columns {sorted(missing)}")


def _insert_chunk(
    con: duckdb.DuckDBPyConnection,
    recs: pl.DataFrame,
    details: pl.DataFrame,
    days: pl.Series,
    job_run_id: int | None,
) -> int:
    """Insert one chunk of recommendations and their details inside the open transaction.

    The checks and the id lookup run in polars, so DuckDB only appends (a join or a sort
    there would hold the chunk's JSON in its memory). Details go in recommendation order:
    the four analyses of a call share a block, and zone maps skip the rest of the table.
    """
    _check_columns(recs, RECOMMENDATION_COLUMNS)
    _check_columns(details, DETAIL_COLUMNS)
    keys = ["analysis_date", "ticker"]
    recs = recs.select(RECOMMENDATION_COLUMNS).sort(keys)
    outside = recs.filter(~pl.col("analysis_date").is_in(days.implode())).height
    orphans = details.join(recs, on=keys, how="anti").height
    if outside or orphans:
        raise ValueError(
            f"chunk has {outside} recommendations outside the replaced dates and "
            f"{orphans} details without a recommendation"
        )
    # DuckDB reads each Arrow table by its variable name (a replacement scan): a registered
    # view would keep every chunk's data alive until the transaction commits.
    _recs = recs.to_arrow(compat_level=pl.CompatLevel.newest())  # zero-copy strings
    columns = ", ".join(RECOMMENDATION_COLUMNS)
    ids = con.sql(
        f"INSERT INTO daily_recommendations ({columns}, job_run_id)"
        f" SELECT {columns}, ?::BIGINT FROM _recs"
        " RETURNING id AS recommendation_id, analysis_date, ticker",
        params=[job_run_id],
    ).pl()
    rows = details.join(ids, on=keys).select(_DETAIL_INSERT).sort(_DETAIL_INSERT[:2])
    _details = rows.to_arrow(compat_level=pl.CompatLevel.newest())
    columns = ", ".join(_DETAIL_INSERT)
    con.execute(f"INSERT INTO analysis_details ({columns}) SELECT {columns} FROM _details")
    return recs.height


def delete_before(con: duckdb.DuckDBPyConnection, cutoff: dt.date) -> int:
    """Delete partitions older than `cutoff` (history retention); returns rows removed.

    When rows were deleted, the file is rewritten compactly as the writer closes (DuckDB
    keeps the space of deleted rows otherwise).
    """
    con.execute("BEGIN TRANSACTION")
    try:
        count = con.sql(
            "SELECT count(*) FROM daily_recommendations WHERE analysis_date < ?", params=[cutoff]
        ).fetchall()[0][0]
        con.execute(
            "DELETE FROM analysis_details WHERE recommendation_id IN ("
            " SELECT id FROM daily_recommendations WHERE analysis_date < ?)",
            [cutoff],
        )
        con.execute("DELETE FROM call_outcomes WHERE analysis_date < ?", [cutoff])
        con.execute("DELETE FROM market_view WHERE analysis_date < ?", [cutoff])
        for table in TICKER_ORDER_TABLES:
            con.execute(f"DELETE FROM {table} WHERE analysis_date < ?", [cutoff])
        con.execute("DELETE FROM daily_recommendations WHERE analysis_date < ?", [cutoff])
        _refresh_catalog(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if count:
        request_compaction(con)
    return count


def replace_outcomes(
    con: duckdb.DuckDBPyConnection,
    calls: pl.DataFrame,
    outcomes: pl.DataFrame,
    job_run_id: int | None = None,
) -> int:
    """Write `outcomes` over the stored rows of the same call, horizon and entry, atomically.

    Every outcome must belong to one of `calls` and every call must be stored (checked).
    Stored outcomes the new ones do not cover are kept. Returns the number of rows written.
    """
    _check_columns(outcomes, OUTCOME_COLUMNS)
    keys = calls.select("analysis_date", "ticker").unique()
    strays = outcomes.join(keys, on=["analysis_date", "ticker"], how="anti").height
    if strays:
        raise ValueError(f"{strays} outcomes belong to none of the calls replaced")
    _rows = outcomes.select(OUTCOME_COLUMNS).to_arrow(compat_level=pl.CompatLevel.newest())
    _keys = outcomes.select(_OUTCOME_KEY).to_arrow()
    columns = ", ".join(OUTCOME_COLUMNS)
    # The rows' date range: the zone maps skip the rest of both tables.
    span = [outcomes["analysis_date"].min(), outcomes["analysis_date"].max()]
    con.execute("BEGIN TRANSACTION")
    try:
        orphans = con.sql(
            "SELECT count(*) FROM (SELECT DISTINCT analysis_date, ticker FROM _keys)"
            " ANTI JOIN (SELECT analysis_date, ticker FROM daily_recommendations"
            "            WHERE analysis_date BETWEEN ? AND ?) USING (analysis_date, ticker)",
            params=span,
        ).fetchall()[0][0]
        if orphans:
            raise ValueError(f"{orphans} outcome keys have no stored call")
        con.execute(
            "DELETE FROM call_outcomes o USING _keys k WHERE o.analysis_date BETWEEN ? AND ?"
            " AND o.analysis_date = k.analysis_date AND o.ticker = k.ticker"
            " AND o.horizon_sessions = k.horizon_sessions AND o.entry = k.entry",
            span,
        )
        con.execute(
            f"INSERT INTO call_outcomes ({columns}, job_run_id)"
            f" SELECT {columns}, ?::BIGINT FROM _rows ORDER BY analysis_date, ticker",
            [job_run_id],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return outcomes.height


def start_job(
    con: duckdb.DuckDBPyConnection, job_name: str, log: dict[str, Any] | None = None
) -> int:
    """Record a run as `running` and return its id."""
    return con.sql(
        "INSERT INTO job_runs (job_name, start_time, status, log_data)"
        " VALUES (?, ?, 'running', ?) RETURNING id",
        params=[job_name, utc_now(), json.dumps(log or {}, default=str)],
    ).fetchall()[0][0]


def finish_job(
    con: duckdb.DuckDBPyConnection,
    job_id: int,
    tickers_processed: int,
    errors_count: int,
    log: dict[str, Any],
) -> None:
    """Mark a run `completed` with its counts and log."""
    con.execute(
        "UPDATE job_runs SET status = 'completed', end_time = ?, tickers_processed = ?,"
        " errors_count = ?, log_data = ? WHERE id = ?",
        [utc_now(), tickers_processed, errors_count, json.dumps(log, default=str), job_id],
    )


def fail_job(
    con: duckdb.DuckDBPyConnection,
    job_id: int,
    reason: str,
    log: dict[str, Any] | None = None,
    tickers_processed: int | None = None,
    errors_count: int | None = None,
) -> None:
    """Mark a run `failed`; `reason` (e.g. timeout, interrupted, an error) goes in the log."""
    payload = dict(log or {})
    payload["failure_reason"] = reason
    con.execute(
        "UPDATE job_runs SET status = 'failed', end_time = ?, tickers_processed = ?,"
        " errors_count = ?, log_data = ? WHERE id = ?",
        [utc_now(), tickers_processed, errors_count, json.dumps(payload, default=str), job_id],
    )


def forget_job(con: duckdb.DuckDBPyConnection, job_id: int) -> None:
    """Delete a `running` row: a run refused as bad input once started (unknown tickers)."""
    con.execute("DELETE FROM job_runs WHERE id = ? AND status = 'running'", [job_id])


def close_stale_runs(con: duckdb.DuckDBPyConnection, reason: str = "process died") -> int:
    """Close `running` rows left by a killed process as failed; returns how many."""
    rows = con.sql(
        "UPDATE job_runs SET status = 'failed', end_time = ?,"
        " log_data = json_merge_patch(coalesce(log_data, '{}'), json_object('failure_reason', ?))"
        " WHERE status = 'running' RETURNING id",
        params=[utc_now(), reason],
    ).fetchall()
    return len(rows)
