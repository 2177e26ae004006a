"""Writes: whole analysis-date partitions replaced in one transaction; the job-run lifecycle."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import polars as pl

RECOMMENDATION_COLUMNS = [
    "analysis_date",
    "ticker",
    "recommendation",
    "total_score",
    "confidence",
    "technical_score",
    "fundamental_score",
    "macro_score",
    "sentiment_score",
    "current_price",
    "target_price",
    "risk_level",
    "summary",
]
DETAIL_COLUMNS = [
    "analysis_date",
    "ticker",
    "analysis_type",
    "raw_data",
    "indicators",
    "score",
    "metadata",
]


def utc_now() -> dt.datetime:
    """Now as a naive UTC timestamp, the convention of every TIMESTAMP column."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def replace_partitions(
    con: duckdb.DuckDBPyConnection,
    dates: Sequence[dt.date],
    chunks: Iterable[tuple[pl.DataFrame, pl.DataFrame]],
) -> int:
    """Replace the partitions of `dates` with the (recommendations, details) chunks, atomically.

    Every existing row of those dates is deleted and the chunks are inserted in one
    transaction, so a re-run never duplicates and an error or a kill at any point leaves
    the earlier state. `details` holds the four analyses per (analysis_date, ticker) of
    its chunk's recommendations. Chunks let a large backfill stream through memory.
    Returns the number of recommendations written.
    """
    con.register(
        "_dates",
        pl.DataFrame(
            {"analysis_date": sorted(set(dates))}, schema={"analysis_date": pl.Date}
        ).to_arrow(),
    )
    written = 0
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "DELETE FROM analysis_details WHERE recommendation_id IN ("
            " SELECT id FROM daily_recommendations"
            " WHERE analysis_date IN (SELECT analysis_date FROM _dates))"
        )
        con.execute(
            "DELETE FROM daily_recommendations"
            " WHERE analysis_date IN (SELECT analysis_date FROM _dates)"
        )
        for recs, details in chunks:
            written += _insert_chunk(con, recs, details)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_dates")
    return written


def _insert_chunk(con: duckdb.DuckDBPyConnection, recs: pl.DataFrame, details: pl.DataFrame) -> int:
    """Insert one chunk of recommendations and their details inside the open transaction."""
    for frame, columns in ((recs, RECOMMENDATION_COLUMNS), (details, DETAIL_COLUMNS)):
        missing = set(columns) - set(frame.columns)
        if missing:
            raise ValueError(f"frame lacks columns {sorted(missing)}")
    recs = recs.select(RECOMMENDATION_COLUMNS).sort("analysis_date", "ticker")
    con.register("_recs", recs.to_arrow())
    con.register("_details", details.select(DETAIL_COLUMNS).to_arrow())
    try:
        outside = con.sql(
            "SELECT count(*) FROM _recs"
            " WHERE analysis_date NOT IN (SELECT analysis_date FROM _dates)"
        ).fetchall()[0][0]
        orphans = con.sql(
            "SELECT count(*) FROM _details d ANTI JOIN _recs r"
            " ON r.analysis_date = d.analysis_date AND r.ticker = d.ticker"
        ).fetchall()[0][0]
        if outside or orphans:
            raise ValueError(
                f"chunk has {outside} recommendations outside the replaced dates and "
                f"{orphans} details without a recommendation"
            )
        cols = ", ".join(RECOMMENDATION_COLUMNS)
        ids = con.sql(
            f"INSERT INTO daily_recommendations ({cols}) SELECT {cols} FROM _recs"
            " RETURNING id, analysis_date, ticker"
        ).to_arrow_table()
        con.register("_ids", ids)
        con.execute(
            "INSERT INTO analysis_details"
            " (recommendation_id, analysis_type, raw_data, indicators, score, metadata)"
            " SELECT i.id, d.analysis_type, d.raw_data, d.indicators, d.score, d.metadata"
            " FROM _details d JOIN _ids i USING (analysis_date, ticker)"
            " ORDER BY i.id, d.analysis_type"
        )
    finally:
        for name in ("_recs", "_details", "_ids"):
            with contextlib.suppress(Exception):
                con.unregister(name)
    return recs.height


def delete_before(con: duckdb.DuckDBPyConnection, cutoff: dt.date) -> int:
    """Delete partitions older than `cutoff` (history retention); returns rows removed."""
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
        con.execute("DELETE FROM daily_recommendations WHERE analysis_date < ?", [cutoff])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return count


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


def close_stale_runs(con: duckdb.DuckDBPyConnection, reason: str = "process died") -> int:
    """Close `running` rows left by a killed process as failed; returns how many."""
    rows = con.sql(
        "UPDATE job_runs SET status = 'failed', end_time = ?,"
        " log_data = json_merge_patch(coalesce(log_data, '{}'), json_object('failure_reason', ?))"
        " WHERE status = 'running' RETURNING id",
        params=[utc_now(), reason],
    ).fetchall()
    return len(rows)
