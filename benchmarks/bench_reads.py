"""Reads at scale: every store read on a large database, the dashboard's way and a fresh open.

    python -m benchmarks.bench_reads                      # 5000 tickers x 2520 days
    python -m benchmarks.bench_reads --tickers 200 --days 300 --runs 10

The database is built in bulk (see `benchmarks.read_db`). Each read runs `--runs` times
with a seeded random ticker and date, after one untimed warm-up:
- through `store.connection.SharedReader`, the dashboard's connection handling (one
  long-lived read-only connection, reopened when a run publishes a new file): the target;
- through `store.connection.open_reader`, a fresh read-only connection per read (the CLI's).
"DB vs real time" compares the precomputed ticker read with computing that ticker's call on
request from local data already in memory (loading it would only widen the gap).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import cast

import duckdb
import polars as pl

from benchmarks import read_db
from benchmarks.common import Row, at_least, below, median, p95, seconds, table
from benchmarks.synthetic_market import sessions, synthetic_market
from pipeline.analysis import analyse
from pipeline.analysis.frames import WARMUP_BARS
from pipeline.settings import Settings
from store import reads
from store.connection import SharedReader, open_reader, publish, work_path

READ_TARGET_MS = 15.0  # issue 15: every read, p95
RATIO_TARGET = 10.0


@dataclass(frozen=True)
class Pick:
    """The arguments of one timed read: a ticker, a day, and a 60-day window ending on it."""

    ticker: str
    day: dt.date
    start: dt.date


Read = Callable[[duckdb.DuckDBPyConnection, Pick], object]
READS: dict[str, Read] = {
    "latest_date": lambda con, p: reads.latest_date(con),
    "analysis_dates": lambda con, p: reads.analysis_dates(con),
    "tickers": lambda con, p: reads.tickers(con),
    "latest_recommendations": lambda con, p: reads.latest_recommendations(con),
    "latest_recommendations (filtered)": lambda con, p: reads.latest_recommendations(
        con, recommendation=["COMPRAR"], min_score=55.0, search=p.ticker[:4]
    ),
    "latest_recommendations (as of a date)": lambda con, p: reads.latest_recommendations(
        con, as_of=p.day
    ),
    "recommendation_history (one date)": lambda con, p: reads.recommendation_history(
        con, p.day, p.day
    ),
    "recommendation_history (5 tickers, 60 days)": lambda con, p: reads.recommendation_history(
        con, p.start, p.day, [p.ticker, *read_db.ticker_names(4)]
    ),
    "recommendation_changes": lambda con, p: reads.recommendation_changes(con, p.day),
    "ticker_history (one ticker, all dates)": lambda con, p: reads.ticker_history(con, p.ticker),
    "ticker_analysis (call + 4 details)": lambda con, p: reads.ticker_analysis(con, p.ticker),
    "technical_history (one ticker, all dates)": lambda con, p: reads.technical_history(
        con, p.ticker
    ),
    "job_runs": lambda con, p: reads.job_runs(con),
    "job_status": lambda con, p: reads.job_status(con),
    "completed_dates (60 days)": lambda con, p: reads.completed_dates(con, p.start, p.day),
    "table_counts": lambda con, p: reads.table_counts(con),
}


def picks(n_tickers: int, n_days: int, runs: int, seed: int = 1) -> list[Pick]:
    """`runs` seeded random (ticker, day) arguments within the grid."""
    rng = random.Random(seed)
    days, tickers = sessions(n_days), read_db.ticker_names(n_tickers)
    chosen = []
    for _ in range(runs):
        day = days[rng.randrange(min(60, n_days - 1), n_days)]
        chosen.append(Pick(rng.choice(tickers), day, day - dt.timedelta(days=60)))
    return chosen


def time_read(open_con: Callable, read: Read, chosen: list[Pick]) -> list[float]:
    """Wall seconds of `read` for each pick, each through a connection from `open_con`."""

    def once(pick: Pick) -> None:
        with open_con() as con:
            read(con, pick)

    once(chosen[0])  # warm-up: the first read after a publish also opens the file
    return [seconds(partial(once, pick), 1)[0] for pick in chosen]


def read_rows(path: Path, chosen: list[Pick], size: str) -> list[Row]:
    """Median and p95 of every read, through SharedReader (target) and a fresh connection."""
    shared = SharedReader(path)
    rows = []
    try:
        for name, read in READS.items():
            dashboard = [1000 * s for s in time_read(shared.connection, read, chosen)]
            fresh = [1000 * s for s in time_read(partial(open_reader, path), read, chosen)]
            measure = (
                f"{name}: p95 (median {median(dashboard):.1f} ms;"
                f" fresh connection p95 {p95(fresh):.1f} ms)"
            )
            rows.append(below(f"reads {size}", measure, p95(dashboard), "ms", READ_TARGET_MS))
    finally:
        shared.close()
    return rows


def on_request_rows(path: Path, n_days: int, runs: int, size: str) -> list[Row]:
    """The precomputed ticker read vs computing that ticker's latest call from local data."""
    data = synthetic_market(1, n_days, seed=3)
    last = cast(dt.date, data.prices.get_column("date").max())
    window = pl.int_range(pl.len()).reverse() <= WARMUP_BARS  # the warm-up and the last bar
    data = dataclasses.replace(data, prices=data.prices.sort("date").filter(window))
    computed = median(seconds(lambda: analyse(data, Settings(), [last]), runs))
    ticker = read_db.ticker_names(1)[0]
    shared = SharedReader(path)
    try:
        read = median(
            time_read(
                shared.connection,
                READS["ticker_analysis (call + 4 details)"],
                [Pick(ticker, last, last)] * runs,
            )
        )
    finally:
        shared.close()
    label = f"DB vs real time {size}"
    return [
        Row(label, "one ticker's call computed on request (data in memory)", computed * 1000, "ms"),
        Row(label, "the same call read precomputed (dashboard)", read * 1000, "ms"),
        at_least(label, "on request / precomputed", computed / read, "x", RATIO_TARGET),
    ]


def publish_rows(path: Path, runs: int, size: str) -> list[Row]:
    """What publishing (copying the working file over the published one) costs at this size."""
    took = median(seconds(partial(publish, path), runs))
    gigabytes = path.stat().st_size / 1e9
    label = f"publish {size}"
    return [
        Row(label, "database file size (bulk-built, repeated JSON)", gigabytes, "GB"),
        Row(label, "publish: copy + fsync + rename", took, "s"),
        Row(label, "publish throughput", gigabytes * 1000 / took, "MB/s"),
    ]


def run(
    n_tickers: int, n_days: int, runs: int, folder: Path, built: Path | None = None
) -> list[Row]:
    """Build the database (or copy `built`, one `read_db.build` wrote at the same size), then
    time the reads, the on-request comparison and the publish."""
    size = f"{n_tickers}x{n_days}"
    start = time.perf_counter()
    path = folder / "reads.duckdb"
    if built is None:
        read_db.build(path, n_tickers, n_days)
    else:
        shutil.copyfile(built, path)
        shutil.copyfile(built, work_path(path))  # the writer's working copy, for the publish
    with open_reader(path) as con:
        counts = reads.table_counts(con)
    if counts["daily_recommendations"] != n_tickers * n_days:
        raise ValueError(f"{built} does not hold {size} calls: build it with read_db.build")
    how = "bulk build of the database (replace_partitions)" if built is None else "copy of a build"
    rows = [
        Row(f"reads {size}", how, time.perf_counter() - start, "s"),
        Row(f"reads {size}", "daily_recommendations rows", counts["daily_recommendations"], ""),
        Row(f"reads {size}", "analysis_details rows", counts["analysis_details"], ""),
    ]
    rows += read_rows(path, picks(n_tickers, n_days, runs), size)
    rows += on_request_rows(path, n_days, runs, size)
    return rows + publish_rows(path, 3, size)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=2520)
    parser.add_argument("--runs", type=int, default=40, help="timed runs per read")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="argenta-bench-") as folder:
        print(table(run(args.tickers, args.days, args.runs, Path(folder))))


if __name__ == "__main__":
    main()
