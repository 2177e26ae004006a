"""`argenta export` at scale: every table and view of the 5000 x 2520 database to Parquet.

    python -m benchmarks.bench_export --tickers 200 --days 300

The database is the read benchmark's (`benchmarks.read_db`, built if `--database` is not
given); the export runs through `store.export.export` on a read-only connection, as the
command does. Throughput is the database file's size over the export's wall time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks import read_db
from benchmarks.common import Row, at_least, table
from store import export
from store.connection import open_reader

TARGET_MB_S = 200.0


def run(path: Path, size: str, folder: Path) -> list[Row]:
    """Export the database at `path` into `folder` once; its throughput and sizes."""
    dest = folder / "export"
    start = time.perf_counter()
    with open_reader(path) as con:
        result = export.export(con, dest)
    seconds = time.perf_counter() - start
    database_mb = path.stat().st_size / 1e6
    shutil.rmtree(dest, ignore_errors=True)
    label = f"export {size} to Parquet"
    return [
        Row(label, "wall time", seconds, "s"),
        Row(label, "database file / exported files", database_mb, "MB"),
        Row(label, "exported files", result.bytes / 1e6, "MB"),
        at_least(
            label, "throughput (database MB / s)", database_mb / seconds, " MB/s", TARGET_MB_S
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, build the database if needed, run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=2520)
    parser.add_argument("--database", type=Path, help="an existing database to export")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="argenta-bench-") as folder:
        path = args.database or read_db.build(
            Path(folder) / "reads.duckdb", args.tickers, args.days
        )
        print(table(run(path, f"{args.tickers}x{args.days}", Path(folder))))


if __name__ == "__main__":
    main()
