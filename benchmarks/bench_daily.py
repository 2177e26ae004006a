"""The daily run: one new partition for every ticker, with the market data already local.

    python -m benchmarks.bench_daily                  # 500 and 5000 tickers
    python -m benchmarks.bench_daily --tickers 100 --days 300 --runs 2

The database already holds the history (a backfill of `--days` sessions) and the files source
holds one session more; `argenta run` for that session is timed (`pipeline.ops.jobs.run_daily`,
re-run `--runs` times: it replaces the same partition). "Committed" is the job's own clock,
from loading the data to the committed transaction; "end to end" adds opening the working
file, recording the run and publishing the file for readers (see the publish rows).
Two kinds of local data: the whole history in the files source, and only the trailing window
the run needs (jobs.HISTORY_BARS sessions): the files source reads and validates its whole file
before keeping the window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl

from benchmarks.bench_backfill import backfill_process, write_market
from benchmarks.common import Row, below, in_fresh_process, median, settings_for, table
from benchmarks.synthetic_market import sessions
from pipeline.ops import jobs
from pipeline.sources import warmup_calendar_days

TARGET_S = 2.0  # issue 15: committed


def trailing_window(data_dir: Path, day: dt.date, folder: Path) -> Path:
    """A copy of the files-source folder keeping only the prices the run on `day` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    first = day - dt.timedelta(days=warmup_calendar_days(jobs.HISTORY_BARS))
    prices = pl.scan_parquet(data_dir / "prices.parquet").filter(pl.col("date") >= first)
    prices.sink_parquet(folder / "prices.parquet")
    for name in ("macro.parquet", "fundamentals.parquet"):
        shutil.copyfile(data_dir / name, folder / name)
    return folder


def daily_rows(database: Path, data_dir: Path, day: dt.date, runs: int, label: str) -> list[Row]:
    """Median time of the daily run on `day` over `runs` runs, and its stages."""
    settings = settings_for(database, data_dir)
    options = jobs.SourceOptions("files", data_dir)
    walls, stages = [], []
    for _ in range(runs):
        start = time.perf_counter()
        result = jobs.run_daily(settings, options, day)
        walls.append(time.perf_counter() - start)
        stages.append(result.record.timings)
    rows = [
        below(
            label,
            "committed partition (load, analyse, write)",
            median(s["total"] for s in stages),
            "s",
            TARGET_S,
        )
    ]
    rows += [
        Row(label, f"stage: {name}", median(s[name] for s in stages), "s")
        for name in ("load", "analyse", "write")
    ]
    return [*rows, Row(label, "end to end, with open, job record and publish", median(walls), "s")]


def run_both(
    database: Path, data_dir: Path, n_tickers: int, n_days: int, runs: int, folder: Path
) -> list[Row]:
    """The daily run after n_days sessions, on the whole history and on the trailing window."""
    day = sessions(n_days + 1)[-1]
    window = trailing_window(data_dir, day, folder / f"window-{n_tickers}")
    size = f"{n_tickers} tickers"
    rows = daily_rows(database, data_dir, day, runs, f"daily run {size}, {n_days}-day files")
    return rows + daily_rows(database, window, day, runs, f"daily run {size}, window files")


def run(folder: Path, sizes: list[int], n_days: int, runs: int) -> list[Row]:
    """Backfill each size (not timed here), then time its daily runs."""
    rows = []
    for n_tickers in sizes:
        data_dir = in_fresh_process(
            write_market, folder / f"market-{n_tickers}", n_tickers, n_days + 1
        )
        database = folder / f"daily-{n_tickers}.duckdb"
        in_fresh_process(backfill_process, database, data_dir, n_days)
        rows += run_both(database, data_dir, n_tickers, n_days, runs, folder)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--days", type=int, default=600, help="sessions of history first")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="argenta-bench-") as folder:
        print(table(run(Path(folder), args.tickers, args.days, args.runs)))


if __name__ == "__main__":
    main()
