"""The full backfill end to end, and the peak memory of a large one.

    python -m benchmarks.bench_backfill                         # 500 x 2520, memory at 5000 x 2520
    python -m benchmarks.bench_backfill --tickers 50 --days 300 --memory-tickers 100 --chunks 1
    python -m benchmarks.bench_backfill --folder /tmp/markets   # keep the synthetic markets

`argenta backfill` as a user runs it (`pipeline.ops.jobs.backfill` on the files source: load,
indicators, four scores, details JSON, one DuckDB transaction, publish), in a fresh process so
its peak resident memory (RSS) is its own. The local data is a seeded synthetic market
written as Parquet beforehand (not timed).

Peak memory at 5000 tickers: the backfill streams chunks (spans of dates with every ticker,
`jobs.CHUNK_ROWS` rows) through the analysis and the write, with the loaded prices on disk
while it does (`jobs.SPILL_ROWS`), so after the load its memory stops growing with the
history. A chunk carries `jobs.HISTORY_BARS` bars of warm-up per ticker, which the first
chunks of a backfill starting at the data's first session lack; the memory run therefore
backfills from that many sessions in (the load still reads them all), so its first chunks
are as large as any later one. The default run analyses and writes only the first
`--chunks` chunks (the table shows RSS after each) to keep `make bench` under ten minutes,
then goes on as the whole run does: the outcome fill of their calls, over every loaded bar,
in groups of `outcomes.GROUP_CALLS` calls as large as any of the whole run's (the fill's
peak, set by the bars it prepares once and a group's rows, is the whole run's); only the
count of groups is smaller. `--full-memory` runs every chunk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    Row,
    below,
    in_fresh_process,
    peak_rss_mb,
    settings_for,
    table,
)
from benchmarks.synthetic_market import sessions, synthetic_market, write_files_source
from pipeline.ops import jobs
from store.connection import work_path

TIME_TARGET_S = 15.0  # issue 15
MEMORY_TARGET_MB = 2500.0  # issue 15: peak RSS of a 5000x2520 backfill


def write_market(folder: Path, n_tickers: int, n_days: int, seed: int = 0) -> Path:
    """Write a synthetic market of n_tickers over n_days sessions as a files-source folder.

    The benchmarks write one session more than they backfill: the daily run's day.
    """
    return write_files_source(synthetic_market(n_tickers, n_days, seed), folder)


def market(folder: Path, n_tickers: int, n_days: int) -> Path:
    """The synthetic market's folder under `folder`, written unless an earlier run left it."""
    data_dir = folder / f"market-{n_tickers}x{n_days + 1}"
    if not (data_dir / "prices.parquet").exists():
        in_fresh_process(write_market, data_dir, n_tickers, n_days + 1)
    return data_dir


def fresh(database: Path) -> Path:
    """`database`, with the file and the writer's working copy of an earlier run removed."""
    for path in (database, work_path(database)):
        path.unlink(missing_ok=True)
    return database


def backfill_process(
    database: Path, data_dir: Path, n_days: int, stop_after: int = 0, skip: int = 0
) -> dict:
    """Backfill sessions skip..n_days-1 of `data_dir` (run this in a fresh process).

    With `stop_after` > 0, only the first `stop_after` chunks are analysed and written; the
    run then fills their outcomes and publishes as a whole run does. Returns the wall
    seconds, the job's stage timings, the peak RSS, the RSS after each analysed chunk and
    whether the run was cut short.
    """
    days = sessions(n_days)[skip:]
    after_chunk: list[float] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "analyse":
            after_chunk.append(peak_rss_mb())

    all_chunks, counted = jobs.date_chunks, []

    def first_chunks(dates: list[dt.date], n_tickers: int) -> list[list[dt.date]]:
        chunks = all_chunks(dates, n_tickers)
        counted.append(len(chunks))
        return chunks[:stop_after]

    if stop_after:  # in this process only: the run takes its first chunks for all of them
        jobs.date_chunks = first_chunks
    start = time.perf_counter()
    options = jobs.SourceOptions("files", data_dir)
    result = jobs.backfill(settings_for(database), options, days[0], days[-1], progress)
    return {
        "seconds": time.perf_counter() - start,
        "timings": result.record.timings,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_chunk_mb": after_chunk,
        "outcomes_written": result.record.outcomes_written,
        "stopped_early": bool(counted) and counted[0] > stop_after,
    }


def time_rows(folder: Path, n_tickers: int, n_days: int) -> list[Row]:
    """Backfill n_tickers x n_days end to end in a fresh process: time, stages, memory, size."""
    data_dir = market(folder, n_tickers, n_days)
    database = fresh(folder / f"backfill-{n_tickers}.duckdb")
    out = in_fresh_process(backfill_process, database, data_dir, n_days)
    label = f"backfill {n_tickers}x{n_days}"
    stages = out["timings"]
    rows = [
        below(
            label, "end to end (load, analyse, write, publish)", out["seconds"], "s", TIME_TARGET_S
        )
    ]
    rows += [
        Row(label, f"stage: {name}", stages[name], "s")
        for name in ("load", "analyse", "details", "combine", "indicators", "write", "outcomes")
    ]
    # The input checks, opening and migrating the working copy, closing it, publishing the file.
    rows.append(Row(label, "outside the job's stages", out["seconds"] - stages["total"], "s"))
    rows += [
        Row(label, "peak RSS", out["peak_rss_mb"], "MB"),
        Row(label, "database size", database.stat().st_size / 1e6, "MB"),
    ]
    return rows


def memory_rows(folder: Path, n_tickers: int, n_days: int, chunks: int) -> list[Row]:
    """Peak RSS of an n_tickers x n_days backfill (stopped after `chunks` chunks if > 0),
    from the first session with a whole warm-up before it."""
    data_dir = market(folder, n_tickers, n_days)
    database = fresh(folder / f"memory-{n_tickers}.duckdb")
    skip = min(jobs.HISTORY_BARS, n_days - 1)
    out = in_fresh_process(backfill_process, database, data_dir, n_days, chunks, skip)
    label = f"backfill {n_tickers}x{n_days}"
    scope = "whole run"
    if out["stopped_early"]:
        scope = f"load + first {chunks} chunks + their outcome fill"
    after = ", ".join(f"{mb / 1024:.2f}" for mb in out["rss_after_chunk_mb"][:6])
    return [
        below(label, f"peak RSS ({scope})", out["peak_rss_mb"], "MB", MEMORY_TARGET_MB),
        Row(label, f"peak RSS after each chunk: {after} GB", out["rss_after_chunk_mb"][-1], "MB"),
        Row(label, "stage: outcomes", out["timings"]["outcomes"], "s"),
    ]


def run(folder: Path, n_tickers: int, n_days: int, memory_tickers: int, chunks: int) -> list[Row]:
    """The end-to-end backfill rows, then the large backfill's memory rows."""
    rows = time_rows(folder, n_tickers, n_days)
    return rows + memory_rows(folder, memory_tickers, n_days, chunks)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--days", type=int, default=2520)
    parser.add_argument("--memory-tickers", type=int, default=5000)
    parser.add_argument("--chunks", type=int, default=3, help="chunks before stopping")
    parser.add_argument("--full-memory", action="store_true", help="run every chunk")
    parser.add_argument(
        "--folder",
        type=Path,
        help="where to keep the synthetic markets (reused by later runs) and the databases;"
        " default: a temporary folder, removed",
    )
    args = parser.parse_args(argv)
    chunks = 0 if args.full_memory else args.chunks
    if args.folder:
        args.folder.mkdir(parents=True, exist_ok=True)
        rows = run(args.folder, args.tickers, args.days, args.memory_tickers, chunks)
    else:
        with tempfile.TemporaryDirectory(prefix="argenta-bench-") as folder:
            rows = run(Path(folder), args.tickers, args.days, args.memory_tickers, chunks)
    print(table(rows))


if __name__ == "__main__":
    main()
