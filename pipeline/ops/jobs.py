"""Runs and backfills: source → analysis → store, each recorded in job_runs."""

from __future__ import annotations

import datetime as dt
import logging
import resource
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.analysis import analyse, calendar
from pipeline.analysis.frames import WARMUP_BARS, MarketData
from pipeline.ops.locking import exclusive
from pipeline.ops.outcomes import fill_outcomes
from pipeline.ops.publish_hook import publish_hook
from pipeline.settings import Settings
from pipeline.sources import SourceError, load_market_data
from store import reads, writes
from store.connection import file_size, open_writer, work_path

log = logging.getLogger("argenta.jobs")

# (ticker, date) rows analysed per chunk: bounds a backfill's memory (a chunk's details JSON
# takes ~3 KB a row) while a daily run analyses every ticker at once (one chunk of 250 tickers
# cost twice as much per ticker). The write stays one transaction.
CHUNK_ROWS = 250_000
MAX_LOGGED_ITEMS = 500
STALE_REASON = "process died (found running at next start)"


class UsageError(ValueError):
    """The request itself is wrong (exit code 2)."""


class JobFailed(RuntimeError):
    """The run started and failed; it is recorded in job_runs (exit code 1)."""


class JobTimeout(JobFailed):
    """The run exceeded JOB_TIMEOUT_MINUTES."""


class JobInterrupted(JobFailed):
    """The run was stopped by SIGTERM or SIGINT."""


class NoPrices(RuntimeError):
    """The source has no price bar for what was asked."""


@dataclass(frozen=True)
class SourceOptions:
    """Where the data comes from: the source name, its folder, and the tickers (empty = all)."""

    source: str
    data_dir: Path | None = None
    tickers: tuple[str, ...] = ()


@dataclass
class RunResult:
    """What a finished run did, as recorded in job_runs."""

    job_id: int
    job_name: str
    status: str
    dates: list[dt.date]
    tickers_processed: int
    errors_count: int
    log: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        """The input problems of the run (rows dropped), as one-line messages."""
        return self.log.get("data_problems", [])


def run_daily(settings: Settings, options: SourceOptions, day: dt.date | None = None) -> RunResult:
    """The daily job for one trading day (default: the latest trading day with data)."""
    if day is not None:
        _check_trading_day(day, options)
    return run_dates(settings, options, [day] if day else None, "daily_analysis")


def backfill(
    settings: Settings,
    options: SourceOptions,
    start: dt.date,
    end: dt.date,
    progress: Callable[[str, int, int], None] | None = None,
) -> RunResult:
    """Every trading day in [start, end], computed in one vectorised pass, one job_runs row."""
    if start > end:
        raise UsageError(f"--start {start} is after --end {end}: give start <= end")
    days = sorted(set().union(*(calendar.trading_days(x, start, end) for x in _exchanges(options))))
    if not days:
        raise UsageError(f"no trading day between {start} and {end}")
    return run_dates(settings, options, days, "backfill", progress=progress)


def missing_days(
    settings: Settings, options: SourceOptions, today: dt.date, lookback_days: int
) -> list[dt.date]:
    """Trading days in the look-back window up to `today` that have no partition yet."""
    start = today - dt.timedelta(days=lookback_days)
    expected = sorted(
        set().union(*(calendar.trading_days(x, start, today) for x in _exchanges(options)))
    )
    db = settings.database_path
    if not expected or not (db.exists() or work_path(db).exists()):
        return expected
    # The writer's own working copy, under the run lock: a program holding the published
    # file (even read-write) cannot stop the catch-up.
    with exclusive(db, "run", "catch-up check"), open_writer(db) as con:
        done = set(reads.completed_dates(con, expected[0], expected[-1]))
    return [d for d in expected if d not in done]


def run_dates(
    settings: Settings,
    options: SourceOptions,
    days: Sequence[dt.date] | None,
    job_name: str,
    progress: Callable[[str, int, int], None] | None = None,
    skip_days_without_data: bool = False,
) -> RunResult:
    """Analyse `days` (None: the latest day with data) and replace their partitions.

    A day on which the source has no bar at all fails the run, unless
    `skip_days_without_data` (the daemon's catch-up: an unlisted holiday, or data not
    published yet), which records it in the log and leaves it for the next attempt.
    """
    what = f"{job_name} ({options.source})"
    with (
        exclusive(settings.database_path, "run", what),
        open_writer(
            settings.database_path, on_publish=publish_hook(settings.publish_command)
        ) as con,
        _RunGuard(settings.job_timeout_minutes * 60) as guard,
    ):
        guard.critical = True  # hold signals until the run is recorded as started
        stale = writes.close_stale_runs(con, STALE_REASON)
        if stale:
            log.warning("event=stale_runs_closed count=%d", stale)
        requested = {"dates": [str(d) for d in days] if days else "latest"}
        run_log: dict[str, Any] = {"source": options.source, "requested": requested}
        job_id = writes.start_job(con, job_name, run_log)
        log.info("event=run_started job_id=%d job=%s source=%s", job_id, job_name, options.source)
        try:
            guard.release()
            tickers, errors = _execute(
                con,
                settings,
                options,
                days,
                run_log,
                progress,
                guard,
                skip_days_without_data,
                job_id,
            )
            writes.finish_job(con, job_id, tickers, errors, run_log)
        except BaseException as exc:
            guard.critical = True  # record the failure whatever arrives now
            reason, error = _failure(exc)
            writes.fail_job(con, job_id, reason, run_log)
            log.error("event=run_failed job_id=%d reason=%r", job_id, reason)
            raise error from exc
        finally:
            guard.critical = False
        log.info(
            "event=run_completed job_id=%d dates=%d tickers=%d errors=%d seconds=%.1f",
            job_id,
            run_log["dates"]["count"],
            tickers,
            errors,
            run_log["timings"]["total"],
        )
    dates = [dt.date.fromisoformat(d) for d in run_log["dates"]["list"]]
    return RunResult(job_id, job_name, "completed", dates, tickers, errors, run_log)


def _failure(exc: BaseException) -> tuple[str, JobFailed | SourceError]:
    """The failure reason recorded in job_runs and the exception the caller sees."""
    if isinstance(exc, JobTimeout):
        return "timeout", exc
    if isinstance(exc, JobInterrupted | KeyboardInterrupt):
        return "interrupted", JobInterrupted("run interrupted by a signal; nothing was written")
    if isinstance(exc, SourceError):  # unusable input: retrying cannot help (exit code 2)
        return str(exc), exc
    reason = str(exc) if isinstance(exc, NoPrices) else f"{type(exc).__name__}: {exc}"
    return reason, JobFailed(reason)


def _execute(
    con,
    settings: Settings,
    options: SourceOptions,
    days: Sequence[dt.date] | None,
    run_log: dict[str, Any],
    progress: Callable[[str, int, int], None] | None,
    guard: _RunGuard,
    skip_days_without_data: bool,
    job_id: int | None = None,
) -> tuple[int, int]:
    """Load, analyse in ticker chunks, write in one transaction; fill `run_log`; return counts."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    run_log["timings"] = timings
    last = max(days) if days else None
    first = min(days) if days else (last or dt.date.today())
    data = load_market_data(
        options.source,
        tickers=options.tickers,
        data_dir=options.data_dir,
        start=first if days else None,
        end=last,
        warmup_bars=WARMUP_BARS,  # what every analysed date needs: see frames.WARMUP_BARS
        max_retries=settings.max_retries,
        cache_dir=settings.yfinance_cache,
    )
    timings["load"] = round(time.perf_counter() - t0, 3)
    _log_source(run_log, data)
    if progress:
        progress("load", 1, 1)
    if data.prices.is_empty():
        raise NoPrices(_no_prices(options, data, days))
    available = set(data.prices.get_column("date").unique().to_list())
    if days is None:
        days = [max(available)]
    targets = sorted(d for d in days if d in available)
    run_log["no_data_dates"] = [str(d) for d in days if d not in available][:MAX_LOGGED_ITEMS]
    run_log["dates"] = {
        "first": str(targets[0]) if targets else None,
        "last": str(targets[-1]) if targets else None,
        "count": len(targets),
        "list": [str(d) for d in targets],
    }
    if not targets:
        if not skip_days_without_data:
            raise NoPrices(_no_prices(options, data, days))
        log.warning("event=no_bars_on_days days=%s", ",".join(run_log["no_data_dates"]))
        guard.critical = True
        timings["total"] = round(time.perf_counter() - t0, 3)
        return 0, len(data.failed_tickers)
    errors: list[dict[str, Any]] = []
    tickers_ok: set[str] = set()
    stage: dict[str, float] = defaultdict(float)

    def chunks() -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        names = data.prices.get_column("ticker").unique().sort().to_list()
        groups = ticker_chunks(names, len(targets))
        for n, group in enumerate(groups, 1):
            start = time.perf_counter()
            result = analyse(_subset(data, group), settings, targets)
            stage["analyse"] += time.perf_counter() - start
            for name, seconds in result.timings.items():
                stage[name] += seconds
            errors.extend(result.errors)
            tickers_ok.update(result.recommendations.get_column("ticker").unique().to_list())
            if progress:
                progress("analyse", n, len(groups))
            yield result.recommendations, result.details
            del result  # written: free it before the next chunk is analysed
        guard.critical = True  # the store commits next: hold signals until recorded

    t1 = time.perf_counter()
    written = writes.replace_partitions(
        con,
        targets,
        chunks(),
        keep_tickers=list(data.failed_tickers),
        only_tickers=options.tickers or None,  # a run for some tickers keeps the others' calls
        job_run_id=job_id,
    )
    timings.update({k: round(v, 3) for k, v in stage.items()})
    timings["write"] = round(time.perf_counter() - t1 - stage["analyse"], 3)
    t2 = time.perf_counter()  # outcomes that matured, from the prices loaded for the calls
    run_log["outcomes_written"] = fill_outcomes(con, data, targets, job_id)
    timings["outcomes"] = round(time.perf_counter() - t2, 3)
    if settings.history_retention_days > 0:
        cutoff = targets[-1] - dt.timedelta(days=settings.history_retention_days)
        run_log["retention_deleted"] = writes.delete_before(con, cutoff)
        run_log["retention_cutoff"] = str(cutoff)
    timings["total"] = round(time.perf_counter() - t0, 3)
    run_log["recommendations_written"] = written
    run_log["errors"] = errors[:MAX_LOGGED_ITEMS]
    by_type = Counter(e.get("analysis_type", "unknown") for e in errors)
    by_type["source"] += len(data.failed_tickers)
    run_log["errors_by_type"] = dict(by_type)
    run_log["metrics"] = {
        "duration_s": timings["total"],
        "tickers_processed": len(tickers_ok),
        "db_size_bytes": file_size(work_path(settings.database_path)),  # what is published next
        **process_usage(),
    }
    return len(tickers_ok), len(errors) + len(data.failed_tickers)


def process_usage() -> dict[str, float]:
    """Peak memory (MB) and CPU seconds of this process so far: a run's own, in its process.

    The daemon runs each job in a child process, and `argenta run`/`backfill` are one
    process each, so these are the run's figures (plus the interpreter's start).
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }


def _no_prices(options: SourceOptions, data: MarketData, days: Sequence[dt.date] | None) -> str:
    """Why there is nothing to analyse, naming the tickers, the days and the first problems."""
    who = ",".join(options.tickers) if options.tickers else "any ticker"
    when = "" if not days else f" on {days[0]}" + (f"..{days[-1]}" if len(days) > 1 else "")
    where = f" in {options.data_dir}" if options.data_dir else ""
    message = f"source {options.source!r}{where} has no price bar for {who}{when}"
    if data.failed_tickers:
        failed = "; ".join(f"{t}: {why}" for t, why in list(data.failed_tickers.items())[:3])
        message += f" (failed: {failed})"
    if data.problems:
        message += f" ({len(data.problems)} input problems, first: {data.problems[0]})"
    return message


def ticker_chunks(tickers: list[str], n_dates: int) -> list[list[str]]:
    """`tickers` in groups of about CHUNK_ROWS (ticker, date) rows over `n_dates` dates."""
    size = max(1, CHUNK_ROWS // max(1, n_dates))
    return [tickers[i : i + size] for i in range(0, len(tickers), size)]


def _subset(data: MarketData, tickers: list[str]) -> MarketData:
    """The part of `data` that concerns `tickers` (macro is shared by all)."""
    keep = pl.col("ticker").is_in(tickers)
    return MarketData(
        source=data.source,
        prices=data.prices.filter(keep),
        fundamentals=data.fundamentals.filter(keep),
        macro=data.macro,
        news=data.news.filter(keep),
        problems=[],
        failed_tickers={},
    )


def _log_source(run_log: dict[str, Any], data: MarketData) -> None:
    run_log["failed_tickers"] = dict(list(data.failed_tickers.items())[:MAX_LOGGED_ITEMS])
    run_log["data_problems"] = [str(p) for p in data.problems[:MAX_LOGGED_ITEMS]]
    run_log["data_problems_count"] = len(data.problems)


def _exchanges(options: SourceOptions) -> set[str]:
    if options.tickers:
        return {calendar.exchange_for(t) for t in options.tickers}
    return {"XNYS", "XBUE"}


def _check_trading_day(day: dt.date, options: SourceOptions) -> None:
    exchanges = sorted(_exchanges(options))
    if not any(calendar.is_trading_day(x, day) for x in exchanges):
        prev = max(calendar.latest_trading_day(x, day) for x in exchanges)
        raise UsageError(
            f"{day} ({day:%A}) is not a trading day on {'/'.join(exchanges)}; "
            f"the previous one is {prev}"
        )


class _RunGuard:
    """Timeout (SIGALRM), SIGTERM and SIGINT for a run: raise at once, except when critical.

    While `critical` (recording the run's start, the final COMMIT and recording the
    outcome) a signal is held and logged, so a run is always either committed and
    completed, or rolled back and failed. Off the main thread (tests), signals are not
    touched.
    """

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.critical = False
        self.held: JobFailed | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _RunGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._handle)
            if self.timeout_s > 0:
                signal.setitimer(signal.ITIMER_REAL, self.timeout_s)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous:
            signal.setitimer(signal.ITIMER_REAL, 0)
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)

    def release(self) -> None:
        """Leave the critical section; raise a signal that arrived during it."""
        self.critical = False
        held, self.held = self.held, None
        if held is not None:
            raise held

    def _handle(self, signum: int, frame: object) -> None:
        if signum == signal.SIGALRM:
            error: JobFailed = JobTimeout(
                f"run exceeded {self.timeout_s / 60:g} minutes (JOB_TIMEOUT_MINUTES)"
            )
        else:
            error = JobInterrupted(f"stopped by {signal.Signals(signum).name}")
        if self.critical:
            self.held = error
            log.warning("event=signal_held_during_commit signal=%s", signal.Signals(signum).name)
            return
        raise error
