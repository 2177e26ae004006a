"""The large database the read benchmark queries, written in bulk through the store.

Its rows are not computed by the pipeline (the backfill benchmark measures that): one real
run on a small synthetic market supplies a pool of recommendations with their four detail
JSON documents, and every (date, ticker) of the grid takes one pool row, renamed. The grid
goes through `store.writes.replace_partitions` in the chunks `argenta backfill` writes
(`pipeline.ops.jobs.date_chunks`: every ticker over a span of ~50 dates at a time, since a
call ranks a stock against its listing group), so the layout is the one a backfill leaves.
The pool repeats, so the file compresses smaller than a real one (the size benchmark
measures real files).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from benchmarks.synthetic_market import sessions, synthetic_market
from pipeline.analysis import analyse
from pipeline.ops.jobs import date_chunks
from pipeline.settings import Settings
from store import writes
from store.connection import open_writer, work_path

POOL_TICKERS, POOL_DAYS = 5, 75  # 375 real calls (5: the fewest a call is ranked among)
JOB_RUNS = 500  # about two years of daily runs in job_runs


def ticker_names(n_tickers: int) -> list[str]:
    """The grid's tickers, as the synthetic panel names them."""
    return [f"T{i:05d}" for i in range(n_tickers)]


def call_pool(seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Real recommendations and details from the pipeline, keyed by `k` (0..n-1)."""
    data = synthetic_market(POOL_TICKERS, 400 + POOL_DAYS, seed)
    days = data.prices.get_column("date").unique().sort().tail(POOL_DAYS).to_list()
    result = analyse(data, Settings(), days)
    keys = ["analysis_date", "ticker"]
    recs = result.recommendations.with_row_index("k")
    details = result.details.join(recs.select(*keys, "k"), on=keys).drop(keys)
    return recs.drop(keys), details


def grid_chunk(
    pool: tuple[pl.DataFrame, pl.DataFrame], days: list[dt.date], tickers: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Recommendations and details for every (day, ticker), each a pool row renamed."""
    recs, details = pool
    grid = (
        pl.DataFrame({"analysis_date": days}, schema={"analysis_date": pl.Date})
        .join(pl.DataFrame({"ticker": tickers}), how="cross")
        .with_columns(k=(pl.int_range(pl.len(), dtype=pl.UInt32) * 7) % recs.height)
    )
    return grid.join(recs, on="k").drop("k"), grid.join(details, on="k").drop("k")


def build(path: Path, n_tickers: int, n_days: int) -> Path:
    """Write an n_tickers × n_days database at `path` (published) and return the path."""
    for stale in (path, work_path(path)):
        stale.unlink(missing_ok=True)
    pool = call_pool()
    days, tickers = sessions(n_days), ticker_names(n_tickers)
    chunks = (grid_chunk(pool, span, tickers) for span in date_chunks(days, n_tickers))
    with open_writer(path) as con:
        writes.replace_partitions(con, days, chunks)
        for n in range(min(JOB_RUNS, n_days)):
            job = writes.start_job(con, "daily_analysis", {"source": "files"})
            writes.finish_job(con, job, n_tickers, n % 3, {"source": "files", "run": n})
    return path
