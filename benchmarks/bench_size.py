"""Database size per ticker-year, and how it grows from 1 to 10 years of history.

    python -m benchmarks.bench_size                  # 50 tickers, 1, 2, 5 and 10 years
    python -m benchmarks.bench_size --tickers 10 --years 1 2

Each size is a real backfill (`pipeline.ops.jobs.backfill`, files source) of `--tickers`
synthetic tickers over the given years (252 sessions each) after a year of warm-up data,
into a new file. The published file's size is what a user stores and what the publish step
copies after every run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.bench_backfill import backfill_process, write_market
from benchmarks.common import Row, below, in_fresh_process, table
from benchmarks.synthetic_market import sessions
from store import writes
from store.connection import open_writer

SESSIONS_PER_YEAR = 252


def file_size(folder: Path, n_tickers: int, years: int) -> int:
    """Bytes of a database holding `years` of calls for n_tickers (built by a real backfill)."""
    total = SESSIONS_PER_YEAR * (years + 1)
    data_dir = in_fresh_process(write_market, folder / f"size-{years}", n_tickers, total)
    database = folder / f"size-{years}.duckdb"
    in_fresh_process(backfill_process, database, data_dir, total, 0, SESSIONS_PER_YEAR)
    return database.stat().st_size


def run(folder: Path, n_tickers: int, years: list[int]) -> list[Row]:
    """Size per ticker-year for each history length, and the growth from the shortest one."""
    sizes = {y: file_size(folder, n_tickers, y) for y in years}
    first = years[0]
    label = f"db size {n_tickers} tickers"
    rows = []
    for y, size in sizes.items():
        rows += [
            Row(label, f"{y} year(s): file", size / 1e6, "MB"),
            Row(label, f"{y} year(s): per ticker-year", size / (n_tickers * y) / 1e3, "KB"),
            Row(label, f"{y} year(s): size / size at {first} year(s)", size / sizes[first], "x"),
        ]
    return rows


def retain_process(database: Path, cutoff) -> float:
    """Delete the partitions before `cutoff` through the writer (it compacts); wall seconds."""
    start = time.perf_counter()
    with open_writer(database) as con:
        writes.delete_before(con, cutoff)
    return time.perf_counter() - start


def retention_rows(folder: Path, n_tickers: int) -> list[Row]:
    """Two years of calls, retention keeps the second: the file vs a fresh build of that year."""
    total = SESSIONS_PER_YEAR * 3  # a year of warm-up, then two years of calls
    data_dir = in_fresh_process(write_market, folder / "retention", n_tickers, total)
    retained, fresh = folder / "retained.duckdb", folder / "fresh.duckdb"
    in_fresh_process(backfill_process, retained, data_dir, total, 0, SESSIONS_PER_YEAR)
    before = retained.stat().st_size
    cutoff = sessions(total)[2 * SESSIONS_PER_YEAR]
    wall = in_fresh_process(retain_process, retained, cutoff)
    in_fresh_process(backfill_process, fresh, data_dir, total, 0, 2 * SESSIONS_PER_YEAR)
    ratio = retained.stat().st_size / fresh.stat().st_size
    label = f"retention {n_tickers} tickers, keep 1 of 2 years"
    return [
        Row(label, "file before the delete", before / 1e6, "MB"),
        below(label, "file after delete + rewrite / fresh build of the same rows", ratio, "x", 1.2),
        Row(label, "delete + rewrite + publish", wall, "s"),
    ]


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=50)
    parser.add_argument("--years", type=int, nargs="+", default=[1, 2, 5, 10])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="argenta-bench-") as folder:
        rows = run(Path(folder), args.tickers, args.years)
        print(table(rows + retention_rows(Path(folder), args.tickers)))


if __name__ == "__main__":
    main()
