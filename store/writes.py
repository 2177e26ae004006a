"""Writes: whole analysis-date partitions replaced in one transaction; the job-run lifecycle."""

from __future__ import annotations

import datetime as dt
import json
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
    con: duckdb.DuckDBPyConnection, recommendations: pl.DataFrame, details: pl.DataFrame
) -> int:
    """Replace every analysis_date present in `recommendations` with these rows, atomically.

    `details` holds the four analyses per (analysis_date, ticker). Returns the number of
    recommendations written. On any error the transaction is rolled back and the earlier
    partitions are untouched.
    """
    missing = set(RECOMMENDATION_COLUMNS) - set(recommendations.columns)
    if missing:
        raise ValueError(f"recommendations frame lacks columns {sorted(missing)}")
    missing = set(DETAIL_COLUMNS) - set(details.columns)
    if missing:
        raise ValueError(f"details frame lacks columns {sorted(missing)}")
    recs = recommendations.select(RECOMMENDATION_COLUMNS).sort("analysis_date", "ticker")
    dets = details.select(DETAIL_COLUMNS)
    dates = recs.select(pl.col("analysis_date").unique().sort())
    con.register("_new_recs", recs.to_arrow())
    con.register("_new_details", dets.to_arrow())
    con.register("_new_dates", dates.to_arrow())
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "DELETE FROM analysis_details WHERE recommendation_id IN ("
            " SELECT id FROM daily_recommendations"
            " WHERE analysis_date IN (SELECT analysis_date FROM _new_dates))"
        )
        con.execute(
            "DELETE FROM daily_recommendations"
            " WHERE analysis_date IN (SELECT analysis_date FROM _new_dates)"
        )
        con.execute(
            "INSERT INTO daily_recommendations (" + ", ".join(RECOMMENDATION_COLUMNS) + ")"
            " SELECT " + ", ".join(RECOMMENDATION_COLUMNS) + " FROM _new_recs"
        )
        con.execute(
            "INSERT INTO analysis_details"
            " (recommendation_id, analysis_type, raw_data, indicators, score, metadata)"
            " SELECT r.id, d.analysis_type, d.raw_data, d.indicators, d.score, d.metadata"
            " FROM _new_details d JOIN daily_recommendations r"
            "   ON r.analysis_date = d.analysis_date AND r.ticker = d.ticker"
            " WHERE r.analysis_date IN (SELECT analysis_date FROM _new_dates)"
            " ORDER BY r.id, d.analysis_type"
        )
        orphans = con.sql(
            "SELECT count(*) FROM _new_details d ANTI JOIN _new_recs r"
            " ON r.analysis_date = d.analysis_date AND r.ticker = d.ticker"
        ).fetchall()[0][0]
        if orphans:
            raise ValueError(f"{orphans} detail rows have no matching recommendation")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("_new_recs", "_new_details", "_new_dates"):
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
    except Exception:
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
