"""The dashboard under load: threads reading through one SharedReader while runs publish.

    python -m benchmarks.bench_concurrent_reads                  # 32 threads, 30 s, 2 publishes
    python -m benchmarks.bench_concurrent_reads --threads 4 --seconds 5

The database is the bundled sample (two ADRs) backfilled up to two sessions before its end;
while the readers run, `argenta run` publishes each of the last two sessions from its own
process, as the daemon does. Every read (the latest date, then the latest recommendations)
records its latency and the date it saw. A read that started after a publish returned must
see that session (no stale read), and no read may fail.

Then the scaling, on the demo database: closed-loop threads each asking the latest calls and
one ticker's history, one thread then `--threads` threads for a third of `--seconds` each:
requests per second against the single thread, and p95 against p50.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import Row, at_least, below, median, p95, table
from pipeline.ops import jobs
from pipeline.settings import Settings
from store import reads
from store.connection import SharedReader

TICKERS = ("GGAL", "YPF")
FIRST = dt.date(2024, 1, 2)
PUBLISHED_DAYS = (dt.date(2024, 3, 7), dt.date(2024, 3, 8))  # the sample's last two sessions
DEMO_DATES = (dt.date(2022, 3, 1), dt.date(2024, 3, 8))  # what `make demo` builds


@dataclass
class Load:
    """What the readers saw: each read's start, latency and latest date; errors; publishes."""

    starts: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    dates: list[dt.date | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    published: list[tuple[float, dt.date]] = field(default_factory=list)

    def stale_reads(self) -> int:
        """Reads that started after a publish had returned and still saw an older day."""
        return sum(
            1
            for start, day in zip(self.starts, self.dates, strict=True)
            for done, expected in self.published
            if start > done and (day is None or day < expected)
        )


def build(folder: Path) -> Path:
    """The sample database up to the session before PUBLISHED_DAYS (published, in `folder`)."""
    path = folder / "argenta_ia.duckdb"
    settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
    last = PUBLISHED_DAYS[0] - dt.timedelta(days=1)
    jobs.backfill(settings, jobs.SourceOptions("sample", tickers=TICKERS), FIRST, last)
    return path


def publish_day(path: Path, day: dt.date) -> None:
    """`argenta run` for `day` in its own process: it writes and publishes a new file."""
    env = {**os.environ, "DATABASE_URL": str(path), "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.ops.cli",
            "run",
            "--source",
            "sample",
            "--tickers",
            ",".join(TICKERS),
            "--date",
            str(day),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the publishing run failed: {done.stderr.strip()}")


def measure(path: Path, threads: int, seconds: float) -> Load:
    """`threads` readers on one SharedReader for `seconds`, the runs publishing meanwhile."""
    reader, load, stop = SharedReader(path), Load(), threading.Event()
    guard = threading.Lock()

    def read_loop() -> None:
        while not stop.is_set():
            start = time.monotonic()
            try:
                with reader.connection() as con:
                    day = reads.latest_date(con)
                    reads.latest_recommendations(con)
            except Exception as exc:  # every failure is a finding, reported as is
                with guard:
                    load.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with guard:
                load.starts.append(start)
                load.latencies.append(time.monotonic() - start)
                load.dates.append(day)

    workers = [threading.Thread(target=read_loop, daemon=True) for _ in range(threads)]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    for n, day in enumerate(PUBLISHED_DAYS, 1):
        time.sleep(max(0.0, began + n * seconds / (len(PUBLISHED_DAYS) + 1) - time.monotonic()))
        publish_day(path, day)
        load.published.append((time.monotonic(), day))
    time.sleep(max(0.0, began + seconds - time.monotonic()))
    stop.set()
    for worker in workers:
        worker.join()
    reader.close()
    return load


def closed_loop(path: Path, threads: int, seconds: float) -> list[float]:
    """Latencies of `threads` closed-loop readers on one SharedReader for `seconds` (no publish).

    Each request is what a dashboard session asks first: the latest calls, then one
    ticker's history (GGAL).
    """
    reader, stop, guard = SharedReader(path), threading.Event(), threading.Lock()
    latencies: list[float] = []
    with reader.connection():
        pass  # opened before the clock starts

    def read_loop() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            with reader.connection() as con:
                reads.latest_recommendations(con)
                reads.ticker_history(con, "GGAL")
            with guard:
                latencies.append(time.perf_counter() - start)

    workers = [threading.Thread(target=read_loop, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    reader.close()
    return latencies


def scaling_rows(path: Path, threads: int, seconds: float) -> list[Row]:
    """Throughput of `threads` readers against one reader in the same run, and their tail."""
    one = closed_loop(path, 1, seconds)
    many = closed_loop(path, threads, seconds)
    label = f"dashboard requests, {threads} threads vs 1 (latest calls + GGAL history)"
    ms = [x * 1000 for x in many]
    speedup = len(many) / max(1, len(one))
    tail = p95(ms) / median(ms)
    return [
        Row(label, "1 thread: requests per second", len(one) / seconds, "req/s"),
        Row(label, f"{threads} threads: requests per second", len(many) / seconds, "req/s"),
        at_least(label, f"{threads} threads / 1 thread, requests per second", speedup, "x", 1.6),
        Row(label, f"{threads} threads: latency p50", median(ms), "ms"),
        Row(label, f"{threads} threads: latency p95", p95(ms), "ms"),
        Row(label, "p95 / p50", tail, "x", "<= 3x", tail <= 3),
    ]


def rows(load: Load, threads: int, seconds: float) -> list[Row]:
    """The latency percentiles, the read rate, and the failures and stale reads (target 0)."""
    label = f"dashboard reads, {threads} threads, {seconds:g} s, 2 publishes"
    ms = [x * 1000 for x in load.latencies] or [float("nan")]
    return [
        Row(label, "read latency p50 (latest date + latest calls)", median(ms), "ms"),
        Row(label, "read latency p95", p95(ms), "ms"),
        Row(label, "reads per second (all threads)", len(load.latencies) / seconds, "reads/s"),
        below(label, "failed reads", len(load.errors), "reads", 1),
        below(label, "stale reads after a publish", load.stale_reads(), "reads", 1),
    ]


def demo_database(folder: Path) -> Path:
    """The demo database (`make demo`: every sample ticker, 2022-03-01..2024-03-08), built once."""
    path = folder / "demo" / "argenta_ia.duckdb"
    if path.exists():  # built earlier in the same run
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
    jobs.backfill(settings, jobs.SourceOptions("sample"), DEMO_DATES[0], DEMO_DATES[1])
    return path


def run(threads: int, seconds: float, folder: Path) -> list[Row]:
    """Build the databases in `folder`, load them, and return the rows."""
    path = build(folder)
    found = rows(measure(path, threads, seconds), threads, seconds)
    return found + scaling_rows(demo_database(folder), threads, seconds / 3)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="argenta-bench-") as folder:
        print(table(run(args.threads, args.seconds, Path(folder))))


if __name__ == "__main__":
    main()
