"""Every benchmark in one run (`make bench`): the machine, then one table of figures and targets.

    python -m benchmarks.run_all            # the sizes of the targets, under ten minutes
    python -m benchmarks.run_all --quick    # tiny sizes, to check that everything runs

Each script also runs alone (`python -m benchmarks.bench_reads --help`, ...). Figures are
medians of several runs where a run is short, and every ratio is measured in the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import (
    bench_backfill,
    bench_concurrent_reads,
    bench_daily,
    bench_export,
    bench_indicators,
    bench_pages,
    bench_reads,
    bench_size,
    bench_track_record,
    results,
)
from benchmarks.common import Row, machine, table

INDICATOR_TARGET_RATIO = 1.0  # issue 15: no slower than TA-Lib per ticker
PRODUCT_STAGE = "polars stage (in-memory engine)"  # how pipeline.analysis collects it


@dataclass(frozen=True)
class Plan:
    """The sizes and repetitions of one run."""

    tickers: int = 500  # backfill, daily run
    many_tickers: int = 5000  # reads, daily run, memory
    days: int = 2520
    memory_chunks: int = 3
    read_runs: int = 40
    daily_runs: int = 3
    indicator_runs: int = 3
    size_tickers: int = 50
    size_years: tuple[int, ...] = (1, 2, 5, 10)
    track_runs: int = 3
    reader_threads: int = 32  # the dashboard under load, while two runs publish
    reader_seconds: float = 30.0
    page_visits: int = 3  # warm visits per dashboard page in chromium (0: pages not timed)
    only: tuple[str, ...] = ()  # these groups of SECTIONS (all when empty)
    reads_db: Path | None = None  # a read database read_db.build wrote at this size, reused


QUICK = Plan(
    tickers=40,
    many_tickers=120,
    days=320,
    memory_chunks=1,
    read_runs=5,
    daily_runs=1,
    indicator_runs=1,
    size_tickers=5,
    size_years=(1, 2),
    track_runs=1,
    reader_threads=4,
    reader_seconds=4.0,
    page_visits=1,
)


def indicator_rows(plan: Plan) -> list[Row]:
    """The indicator stage vs TA-Lib per ticker (pandas only at the smaller size: it is slow)."""
    small, large = f"{plan.tickers}x{plan.days}", f"{plan.many_tickers}x{plan.days}"
    found = bench_indicators.run([small], plan.indicator_runs, pandas=True)
    found += bench_indicators.run([large], plan.indicator_runs, pandas=False)
    rows = []
    for r in found:
        label, name = f"indicators {r['size']}", r["implementation"]
        measure = f"{name} (median {r['seconds']:.2f} s), time / TA-Lib"
        if name == PRODUCT_STAGE and r["size"] == large:
            met = r["ratio"] <= INDICATOR_TARGET_RATIO
            target = f"<= {INDICATOR_TARGET_RATIO:g}x"
            rows.append(Row(label, measure, r["ratio"], "x", target, met))
        else:
            rows.append(Row(label, measure, r["ratio"], "x"))
    return rows


def projected_publish(rows: list[Row], plan: Plan) -> list[Row]:
    """The publish time of a real many_tickers x 10-year file, from the measured size and speed."""
    per_ticker_year = [r.value for r in rows if r.measure.endswith("per ticker-year")][-1]
    speed = next(r.value for r in rows if r.measure == "publish throughput")
    gigabytes = per_ticker_year * 1e3 * plan.many_tickers * 10 / 1e9
    label = f"publish {plan.many_tickers} tickers x 10 years (projected)"
    return [
        Row(label, "real file size (size per ticker-year at the longest history)", gigabytes, "GB"),
        Row(label, "publish time at the measured throughput", gigabytes * 1e3 / speed, "s"),
    ]


def _reads(plan: Plan, folder: Path, rows: list[Row]) -> list[Row]:
    """The store's reads on the many-ticker database."""
    return bench_reads.run(plan.many_tickers, plan.days, plan.read_runs, folder, plan.reads_db)


def _export(plan: Plan, folder: Path, rows: list[Row]) -> list[Row]:
    """The many-ticker database exported to Parquet (after _reads)."""
    size = f"{plan.many_tickers}x{plan.days}"
    return bench_export.run(folder / "reads.duckdb", size, folder)


def _dashboard(plan: Plan, folder: Path, rows: list[Row]) -> list[Row]:
    """Concurrent readers, then every page in chromium (both on the demo database)."""
    found = bench_concurrent_reads.run(plan.reader_threads, plan.reader_seconds, folder)
    return found + (bench_pages.run(plan.page_visits, folder) if plan.page_visits else [])


def _track_record(plan: Plan, folder: Path, rows: list[Row]) -> list[Row]:
    """The track record against alphalens-reloaded."""
    return bench_track_record.run(plan.many_tickers, plan.days, plan.track_runs)


def _backfill(plan: Plan, folder: Path, rows: list[Row]) -> list[Row]:
    """A backfill end to end, then the daily run on its database."""
    found = bench_backfill.time_rows(folder, plan.tickers, plan.days)
    database = folder / f"backfill-{plan.tickers}.duckdb"
    market = bench_backfill.market(folder, plan.tickers, plan.days)  # the one the backfill read
    return found + bench_daily.run_both(
        database, market, plan.tickers, plan.days, plan.daily_runs, folder
    )


def _many_tickers(plan: Plan, folder: Path, rows: list[Row]) -> list[Row]:
    """A many-ticker backfill's memory, then the daily run on the read database (after _reads)."""
    n = plan.many_tickers
    found = bench_backfill.memory_rows(folder, n, plan.days, plan.memory_chunks)
    database, market = folder / "reads.duckdb", bench_backfill.market(folder, n, plan.days)
    return found + bench_daily.run_both(database, market, n, plan.days, plan.daily_runs, folder)


def _size(plan: Plan, folder: Path, rows: list[Row]) -> list[Row]:
    """File size by history, retention, and the projected publish (after _reads)."""
    found = bench_size.run(folder, plan.size_tickers, list(plan.size_years))
    found += bench_size.retention_rows(folder, plan.size_tickers)
    return found + projected_publish(rows + found, plan)


def _indicators(plan: Plan, folder: Path, rows: list[Row]) -> list[Row]:
    """The indicator stage against TA-Lib."""
    return indicator_rows(plan)


# Issue 15's targets first, so a run stopped early has measured those; `--only` picks some
# (those after "reads" need its database).
SECTIONS = {
    "reads": _reads,
    "dashboard": _dashboard,
    "export": _export,
    "track-record": _track_record,
    "backfill": _backfill,
    "many-tickers": _many_tickers,
    "indicators": _indicators,
    "size": _size,
}


def run(
    plan: Plan, folder: Path, done: Callable[[list[Row]], None] = lambda rows: None
) -> list[Row]:
    """Every benchmark at the plan's sizes (databases and data under `folder`); `done` is
    called with the rows so far after each group of benchmarks."""
    rows: list[Row] = []
    for name, section in SECTIONS.items():
        if not plan.only or name in plan.only:
            rows += section(plan, folder, rows)
            done(rows)
    return rows


def report(computer: dict[str, str], rows: list[Row], seconds: float) -> str:
    """The machine, the table, what missed, and how long the run took."""
    lines = ["Machine:"]
    lines += [f"  {key}: {value}" for key, value in computer.items()]
    lines += ["", table(rows), ""]
    missed = [f"{r.benchmark}: {r.measure}" for r in rows if r.met is False]
    lines.append("Missed targets: " + ("; ".join(missed) if missed else "none"))
    lines.append(f"Total time: {seconds / 60:.1f} min")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run every benchmark and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that all runs")
    parser.add_argument(
        "--save", type=Path, help="also write the run as JSON into this folder (make bench)"
    )
    parser.add_argument(
        "--only", default="", help=f"comma-separated groups, of: {', '.join(SECTIONS)}"
    )
    parser.add_argument(
        "--reads-db", type=Path, help="reuse this read database (read_db.build, same size)"
    )
    args = parser.parse_args(argv)
    only = tuple(name for name in args.only.split(",") if name)
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown groups {sorted(unknown)}: choose from {', '.join(SECTIONS)}")
    plan = dataclasses.replace(QUICK if args.quick else Plan(), only=only, reads_db=args.reads_db)
    computer, start = machine(), time.perf_counter()
    saved = results.run_path(args.save) if args.save else None

    def keep(rows: list[Row], complete: bool = False) -> None:
        """Save the rows so far: a run stopped early still leaves what it measured."""
        if saved is not None:
            seconds = time.perf_counter() - start
            results.save(saved, computer, rows, seconds, complete, plan.only)

    with tempfile.TemporaryDirectory(prefix="argenta-bench-") as folder:
        rows = run(plan, Path(folder), keep)
    keep(rows, complete=not plan.only)
    print(report(computer, rows, time.perf_counter() - start))
    if saved is not None:
        print(f"Saved as {saved}")


if __name__ == "__main__":
    main()
