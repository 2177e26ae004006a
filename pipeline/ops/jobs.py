"""Runs and backfills: source → analysis → store, each recorded in job_runs."""

from __future__ import annotations

import datetime as dt
import logging
import os
import resource
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import duckdb
import polars as pl

from pipeline.analysis import calendar, model
from pipeline.analysis.frames import WARMUP_BARS, MarketData
from pipeline.analysis.stages import ERROR_NO_BAR_IN_RANGE, Analysis, analyse_in_parts
from pipeline.errors import BadInput, RunFailed
from pipeline.ops import checks
from pipeline.ops.locking import exclusive
from pipeline.ops.outcomes import PRICE_COLUMNS, fill_outcomes
from pipeline.ops.publish_hook import publish_hook
from pipeline.ops.runlog import MAX_LOGGED_ITEMS, RunRecord
from pipeline.settings import Settings
from pipeline.sources import files, load_market_data, sample
from pipeline.sources.validate import FIRST_DATE, PRICES, canonical_columns, parse_expr
from store import reads, writes
from store.connection import file_size, open_writer, work_path

log = logging.getLogger("argenta.jobs")

Progress = Callable[[str, int, int], None]  # (stage, done, total), for a progress bar

# Bars of history every analysed date needs before it: frames.WARMUP_BARS for the TA-Lib
# indicators, and the relative model's look-back (model.LOOKBACK_SESSIONS sessions: the
# 3-year target range, the factors of the month's formation session). Bars are never more
# than sessions, so that many bars cover the sessions too.
HISTORY_BARS = max(WARMUP_BARS, model.LOOKBACK_SESSIONS)
# (ticker, date) rows analysed per chunk: bounds a backfill's memory (a chunk's details JSON
# takes ~3 KB a row). Chunks are spans of dates with every ticker, because a call ranks a
# stock against its whole listing group; each chunk loads its own warm-up. The write stays
# one transaction.
CHUNK_ROWS = 250_000
# Calls of a chunk handed to the write at a time, with their details (~3.5 KB of JSON a
# call): a chunk's details are built and written in parts of whole dates, so only one
# part's are held beside the chunk's scored rows (`stages.analyse_in_parts`).
WRITE_CALLS = 50_000
# A run of several chunks keeps its loaded prices on disk while it analyses them (Parquet
# files of about SPILL_ROWS rows, each a block of dates, beside the database): each chunk
# reads back only its window, so the whole panel (1.1 GB resident at 5000 x 2520) is not
# held beside a chunk's analysis. The outcome fill then reads back the columns it uses.
SPILL_ROWS = 500_000
SPILL_MIN_CHUNKS = 2  # fewer chunks (a daily run): the prices stay in memory
STALE_REASON = "process died (found running at next start)"
# After a timeout or stop signal, a DuckDB query still running this long is interrupted.
INTERRUPT_GRACE_SECONDS = 1.0


class JobFailed(RunFailed):
    """The run started and failed; it is recorded in job_runs (exit code 1)."""

    @property
    def message(self) -> str:
        """`run failed: ` and the reason recorded in job_runs."""
        return f"run failed: {super().message}"


class JobTimeout(JobFailed):
    """The run exceeded JOB_TIMEOUT_MINUTES."""


class JobInterrupted(JobFailed):
    """The run was stopped by SIGTERM or SIGINT."""


class UnknownTickers(BadInput):
    """None of the tickers asked for is known to the source: a typo, refused (exit 2) and
    never recorded as a failed run (it says nothing about the source's health)."""


class NoPrices(RunFailed):
    """The source has no price bar for what was asked (recorded as failure_code no_prices,
    with `params`: source, tickers asked, and the days' first, last and count)."""

    code = "no_prices"

    def __init__(self, message: str, params: dict[str, Any]) -> None:
        super().__init__(message)
        self.params = params


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
    record: RunRecord

    @property
    def dates(self) -> list[dt.date]:
        """The days analysed and written."""
        return self.record.dates

    @property
    def tickers_processed(self) -> int:
        """Tickers that got a call."""
        return self.record.tickers_processed or 0

    @property
    def errors_count(self) -> int:
        """Ticker errors plus tickers the source failed on."""
        return self.record.errors_count


def today(settings: Settings) -> dt.date:
    """Today in DAILY_ANALYSIS_TIMEZONE: no session after it has data yet."""
    return dt.datetime.now(settings.tz).date()


def check_day(settings: Settings, day: dt.date, option: str = "--date") -> None:
    """Raise BadInput (exit 2, before anything is recorded) for a day after today or before
    any believable bar (FIRST_DATE)."""
    now = today(settings)
    if day > now:
        raise BadInput(
            f"{option} {day} is out of range: it is after today ({now} in {settings.tz.key}) "
            f"and no later session has prices yet; give a date up to {now}"
        )
    if day < FIRST_DATE:
        raise BadInput(f"{option} {day} is out of range: no price data is older than {FIRST_DATE}")


def run_daily(settings: Settings, options: SourceOptions, day: dt.date | None = None) -> RunResult:
    """The daily job for one trading day (default: the latest trading day with data)."""
    if day is not None:
        check_day(settings, day)
        _check_trading_day(day, options)
    return run_dates(settings, options, [day] if day else None, "daily_analysis")


def backfill(
    settings: Settings,
    options: SourceOptions,
    start: dt.date,
    end: dt.date,
    progress: Progress | None = None,
) -> RunResult:
    """Every trading day in [start, end], computed in one vectorised pass, one job_runs row."""
    check_day(settings, start, "--start")
    check_day(settings, end, "--end")
    if start > end:
        raise BadInput(f"--start {start} is after --end {end}: give start <= end")
    days = sorted(set().union(*(calendar.trading_days(x, start, end) for x in _exchanges(options))))
    if not days:
        raise BadInput(f"no trading day between {start} and {end}")
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
    progress: Progress | None = None,
    skip_days_without_data: bool = False,
) -> RunResult:
    """Analyse `days` (None: the latest day with data) and replace their partitions.

    A day on which the source has no bar at all fails the run, unless
    `skip_days_without_data` (the daemon's catch-up: an unlisted holiday, or data not
    published yet), which records it in the log and leaves it for the next attempt.
    """
    _check_files(options, days)  # bad input is refused before the store is touched
    with (
        exclusive(settings.database_path, "run", f"{job_name} ({options.source})"),
        open_writer(
            settings.database_path, on_publish=publish_hook(settings.publish_command)
        ) as con,
        _RunGuard(settings.job_timeout_minutes * 60, con) as guard,
    ):
        record = RunRecord(source=options.source, requested=list(days) if days else None)
        job_id = _start(con, guard, job_name, record)
        run = _Run(con, settings, options, guard, progress, skip_days_without_data, job_id)
        try:
            guard.release()
            count = _execute(run, days, record)
            writes.finish_job(con, job_id, count, record.errors_count, record.to_dict())
        except UnknownTickers:  # a typo: the run is forgotten, not recorded as failed
            guard.critical = True
            writes.forget_job(con, job_id)
            raise
        except BaseException as exc:
            guard.critical = True  # record the failure whatever arrives now
            record.failure_reason, error = _failure(exc, guard.fired)
            if isinstance(exc, NoPrices) and record.failure_reason == str(exc):
                record.failure_code, record.failure_params = exc.code, exc.params
            writes.fail_job(con, job_id, record.failure_reason, record.to_dict())
            log.error("event=run_failed job_id=%d reason=%r", job_id, record.failure_reason)
            raise error from exc
        finally:
            guard.finished, guard.critical = True, False
    log.info(
        "event=run_completed job_id=%d dates=%d tickers=%d errors=%d inactive=%d seconds=%.1f",
        *(job_id, len(record.dates), count, record.errors_count, record.inactive_count),
        record.duration_s,
    )
    return RunResult(job_id, job_name, "completed", record)


def _check_files(options: SourceOptions, days: Sequence[dt.date] | None) -> None:
    """For a source of files (files, sample): the folder, the prices file's required
    columns, and days that all come before its first bar, refused before the store is
    touched (BadInput, exit 2: no database created, no run recorded)."""
    if options.source not in ("files", "sample"):
        return
    folder = options.data_dir if options.source == "files" else sample.SAMPLE_DIR
    files.check_data_dir(folder)
    assert folder is not None  # check_data_dir refused None
    path = files.find_table(folder, PRICES.name)
    if path is None:
        return  # the load says what is missing
    try:  # names a missing column
        prices = canonical_columns(files.scan_table(path), PRICES, path.name)
    except pl.exceptions.PolarsError:
        return  # an unreadable file: the load says why, in the run
    if options.tickers:
        ticker = pl.col("ticker").cast(pl.String).str.strip_chars().str.to_uppercase()
        known = set(prices.select(ticker.unique()).collect().get_column("ticker").to_list())
        if not known & {t.upper() for t in options.tickers}:
            raise UnknownTickers(
                f"{path.name} of {options.source!r} has no ticker of --tickers "
                f"{','.join(options.tickers)}: check the spelling (e.g. GGAL or GGAL.BA)"
            )
    if not days:
        return
    raw = prices.collect_schema()["date"]
    try:
        first = prices.select(parse_expr("date", raw, pl.Date()).min()).collect().item()
    except pl.exceptions.PolarsError:
        return  # unreadable dates: the load reports them row by row
    if first is not None and max(days) < first:
        asked = f"{min(days)}..{max(days)}" if len(days) > 1 else str(days[0])
        raise BadInput(
            f"{asked} is before the first price bar of {options.source!r} ({first} in "
            f"{path.name}): give a date from {first} on"
        )


def _start(
    con: duckdb.DuckDBPyConnection, guard: _RunGuard, job_name: str, record: RunRecord
) -> int:
    """Close runs left `running` by a dead process, then record this one; signals held."""
    guard.critical = True  # released once the run is recorded as started
    stale = writes.close_stale_runs(con, STALE_REASON)
    if stale:
        log.warning("event=stale_runs_closed count=%d", stale)
    job_id = writes.start_job(con, job_name, record.to_dict())
    log.info("event=run_started job_id=%d job=%s source=%s", job_id, job_name, record.source)
    return job_id


def _failure(exc: BaseException, fired: JobFailed | None) -> tuple[str, Exception]:
    """The failure reason recorded in job_runs and the exception the caller sees.

    `fired` is the timeout or stop signal that arrived during the run, if any: DuckDB
    turns an exception raised by a signal handler inside a query into its own
    "Query interrupted", which must not hide the real reason.
    """
    if isinstance(exc, KeyboardInterrupt):
        fired = JobInterrupted("stopped by SIGINT")
    if isinstance(fired, JobTimeout):
        return "timeout", fired
    if fired is not None or isinstance(exc, JobInterrupted):
        return "interrupted", JobInterrupted("run interrupted by a signal; nothing was written")
    if isinstance(exc, JobTimeout):
        return "timeout", exc
    if isinstance(exc, BadInput):  # unusable input: retrying cannot help (exit code 2)
        return exc.message, exc
    reason = str(exc) if isinstance(exc, NoPrices) else f"{type(exc).__name__}: {exc}"
    return reason, JobFailed(reason)


@dataclass
class _Run:
    """What every step of one run needs: the working copy, the settings and the guard."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    options: SourceOptions
    guard: _RunGuard
    progress: Progress | None
    skip_days_without_data: bool
    job_id: int  # this run's job_runs row, recorded on the calls and outcomes it writes
    started: float = field(default_factory=time.perf_counter)


def _execute(run: _Run, days: Sequence[dt.date] | None, record: RunRecord) -> int:
    """Load → choose the days → analyse and write → outcomes → retain; fill `record`.

    Returns the number of tickers that got a call.
    """
    data = _load(run, days, record)
    targets = _choose_days(run, data, days, record)
    if targets:
        with _chunk_prices(run, data, targets) as prices:
            tickers = _analyse_and_write(run, data, prices, targets, record)
        _set_aside_inactive(run, data, targets[-1], record)
        _fill_outcomes(run, data, targets, record)
        _retain(run, targets[-1], record)
    else:
        log.warning("event=no_bars_on_days days=%s", ",".join(map(str, record.no_data_dates)))
        run.guard.critical = True  # recording the outcome is next: hold signals
        tickers = set()
    by_type = Counter(e.get("analysis_type", "unknown") for e in record.errors)
    by_type["source"] += len(data.failed_tickers)
    record.errors_by_type = dict(by_type)
    record.errors = record.errors[:MAX_LOGGED_ITEMS]
    record.inactive_count = len(record.inactive_tickers)
    record.inactive_tickers = dict(list(record.inactive_tickers.items())[:MAX_LOGGED_ITEMS])
    record.tickers_processed = len(tickers)
    record.db_size_bytes = file_size(work_path(run.settings.database_path))
    record.peak_rss_mb, record.cpu_seconds = process_usage()
    record.timings["total"] = _since(run.started)
    return len(tickers)


def _set_aside_inactive(run: _Run, data: MarketData, day: dt.date, record: RunRecord) -> None:
    """Move tickers without recent data from the errors to `record.inactive_tickers`.

    A ticker with no bar on any analysed date (`no_bar_in_range`) whose last bar in the
    source is stale on the run's last date `day` — ARGENTA_STALE_SESSIONS or more sessions
    of its exchange behind, the stale-data alert's rule — is one the source no longer has
    (delisted, or a feed that ended): inactive, not an error. One whose exchange had no
    session since its last bar (a holiday there) is current and is neither. Fewer missing
    sessions than the setting allows (or the setting 0) stay errors.
    """
    last_bars: dict[str, dt.date] = dict(
        data.prices.group_by("ticker").agg(pl.col("date").max()).iter_rows()
    )
    errors = []
    for error in record.errors:
        ticker, last = error.get("ticker"), last_bars.get(str(error.get("ticker")))
        if error.get("code") != ERROR_NO_BAR_IN_RANGE or last is None or last >= day:
            errors.append(error)
            continue
        missing = checks.sessions_missing(calendar.exchange_for(str(ticker)), last, day)
        if checks.is_stale(missing, run.settings.stale_sessions):
            record.inactive_tickers[str(ticker)] = last
        elif missing > 0:
            errors.append(error)
    record.errors = errors


def process_usage() -> tuple[float, float]:
    """Peak memory (MB) and CPU seconds of this process so far: a run's own, in its process.

    The daemon runs each job in a child process, and `argenta run`/`backfill` are one
    process each, so these are the run's figures (plus the interpreter's start).
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = round(usage.ru_maxrss / 1024, 1)  # Linux reports KiB
    return peak_mb, round(usage.ru_utime + usage.ru_stime, 2)


def _load(run: _Run, days: Sequence[dt.date] | None, record: RunRecord) -> MarketData:
    """Read the source: `days` plus the indicators' warm-up (everything up to today if None)."""
    start = time.perf_counter()
    first = min(days) if days else None
    # The calls rank every stock of the universe: a run for some tickers loads the whole
    # universe (the configured one, or all the source has) and writes only those tickers.
    configured, wanted = run.settings.tickers, run.options.tickers
    universe = tuple(dict.fromkeys((*configured, *wanted))) if configured else ()

    def load(tickers: Sequence[str]) -> MarketData:
        return load_market_data(
            run.options.source,
            tickers=tickers,
            data_dir=run.options.data_dir,
            start=first,
            end=max(days) if days else None,
            warmup_bars=HISTORY_BARS,  # what every analysed date needs
            max_retries=run.settings.max_retries,
            cache_dir=run.settings.yfinance_cache,
        )

    data = load(universe)
    loaded = set(data.prices.get_column("ticker").unique().to_list())
    if missing := [t for t in wanted if t not in loaded and t not in data.failed_tickers]:
        extra = load(missing)  # requested, but not in the source's default universe
        data.prices = pl.concat([data.prices, extra.prices]).sort("ticker", "date")
        data.fundamentals = pl.concat([data.fundamentals, extra.fundamentals])
        data.news = pl.concat([data.news, extra.news])
        data.problems += extra.problems
        data.failed_tickers |= extra.failed_tickers
    if wanted:  # report the requested tickers only
        data.failed_tickers = {t: w for t, w in data.failed_tickers.items() if t in wanted}
        _check_some_known(run.options, data)
    record.timings["load"] = _since(start)
    record.failed_tickers = dict(list(data.failed_tickers.items())[:MAX_LOGGED_ITEMS])
    record.data_problems = [str(p) for p in data.problems[:MAX_LOGGED_ITEMS]]
    record.data_problems_count = len(data.problems)
    if run.progress:
        run.progress("load", 1, 1)
    return data


def _check_some_known(options: SourceOptions, data: MarketData) -> None:
    """Raise BadInput when the source has prices for others but none of the tickers asked."""
    unknown = [t for t in options.tickers if t in data.failed_tickers]
    if data.prices.is_empty() or len(unknown) < len(options.tickers):
        return  # nothing at all is the source failing (NoPrices); some known: they run
    reasons = "; ".join(f"{t}: {data.failed_tickers[t]}" for t in unknown[:5])
    raise UnknownTickers(
        f"the source {options.source!r} has no prices for --tickers {','.join(unknown)}"
        f" ({reasons}): check the spelling (Yahoo's, e.g. GGAL or GGAL.BA)"
    )


def _choose_days(
    run: _Run, data: MarketData, days: Sequence[dt.date] | None, record: RunRecord
) -> list[dt.date]:
    """The requested days the source has bars for (None: its latest day); the rest are logged.

    Raises NoPrices when there is nothing to analyse, except for a catch-up, which leaves
    the days without bars for its next attempt.
    """
    if data.prices.is_empty():
        raise NoPrices(_no_prices(run.options, data, days), _no_prices_params(run.options, days))
    available = set(data.prices.get_column("date").unique().to_list())
    asked = list(days) if days else [max(available)]
    record.dates = sorted(d for d in asked if d in available)
    record.no_data_dates = [d for d in asked if d not in available][:MAX_LOGGED_ITEMS]
    if not record.dates and not run.skip_days_without_data:
        raise NoPrices(_no_prices(run.options, data, asked), _no_prices_params(run.options, asked))
    return record.dates


def _analyse_and_write(
    run: _Run, data: MarketData, prices: _Prices, targets: list[dt.date], record: RunRecord
) -> set[str]:
    """Analyse in date chunks streamed into one partition replace; the tickers with a call."""
    tally = _Tally(set(run.options.tickers) if run.options.tickers else None)
    start = time.perf_counter()
    keep, only = list(data.failed_tickers), run.options.tickers or None
    stored = writes.stored_calls(run.con, targets, keep, only)
    record.recommendations_written = writes.replace_partitions(
        run.con,
        targets,
        _analysed_chunks(run, data, prices, targets, tally),
        keep_tickers=keep,
        only_tickers=only,  # a run for some tickers keeps the others'
        job_run_id=run.job_id,
        keep_when_empty=True,  # no call at all: the stored ones are not replaced by nothing
    )
    if stored and not record.recommendations_written:
        record.calls_kept = stored
        log.warning("event=stored_calls_kept calls=%d", stored)
    record.timings.update({k: round(v, 3) for k, v in tally.seconds.items()})
    record.timings["write"] = round(time.perf_counter() - start - tally.seconds["analyse"], 3)
    record.errors = tally.errors
    return tally.tickers


@dataclass
class _Tally:
    """What the analysis of the chunks found: errors, tickers with a call, seconds per stage."""

    wanted: set[str] | None = None  # a run for some tickers: only theirs are written
    errors: list[dict[str, Any]] = field(default_factory=list)
    tickers: set[str] = field(default_factory=set)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(
        self, result: Analysis, seconds: float
    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """Count one chunk's analysis; its (recommendations, details) of the wanted tickers
        and the market view of its dates."""
        self.seconds["analyse"] += seconds
        for stage, seconds_in_stage in result.timings.items():
            self.seconds[stage] += seconds_in_stage
        recs, details = result.recommendations, result.details
        if self.wanted is not None:  # ranked against the universe, written for these tickers
            keep = pl.col("ticker").is_in(list(self.wanted))
            recs, details = recs.filter(keep), details.filter(keep)
        wanted = self.wanted
        self.errors.extend(e for e in result.errors if wanted is None or e["ticker"] in wanted)
        self.tickers.update(recs.get_column("ticker").unique().to_list())
        return recs, details, result.market_view


def _analysed_chunks(
    run: _Run, data: MarketData, prices: _Prices, targets: list[dt.date], tally: _Tally
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """Each date chunk's (recommendations, details, market view), counted in `tally`."""
    groups = date_chunks(targets, prices.tickers)
    for n, group in enumerate(groups, 1):
        start = time.perf_counter()
        window = prices.window(group[0], group[-1])
        chunk_data = replace(data, prices=window, problems=[], failed_tickers={})
        del window  # the analysis lets it go after its per-ticker stage
        parts = analyse_in_parts(chunk_data, run.settings, group, calls_per_part=WRITE_CALLS)
        del chunk_data
        for result in parts:
            chunk = tally.add(result, time.perf_counter() - start)
            del result
            yield chunk
            del chunk  # written: free it before the next part is built
            start = time.perf_counter()
        if run.progress:
            run.progress("analyse", n, len(groups))
    run.guard.critical = True  # the store commits next: hold signals until recorded


def _fill_outcomes(run: _Run, data: MarketData, targets: list[dt.date], record: RunRecord) -> None:
    """Fill the call outcomes that matured, from the prices loaded for the calls."""
    start = time.perf_counter()
    record.outcomes_written = fill_outcomes(run.con, data, targets, run.job_id)
    record.timings["outcomes"] = _since(start)


def _retain(run: _Run, last: dt.date, record: RunRecord) -> None:
    """Delete partitions older than ARGENTA_RETENTION_DAYS before `last` (0 keeps all)."""
    if run.settings.history_retention_days > 0:
        cutoff = last - dt.timedelta(days=run.settings.history_retention_days)
        record.retention_deleted = writes.delete_before(run.con, cutoff)
        record.retention_cutoff = cutoff


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def _no_prices(options: SourceOptions, data: MarketData, days: Sequence[dt.date] | None) -> str:
    """Why there is nothing to analyse, naming the tickers, the days and the first problems."""
    who = ",".join(options.tickers) if options.tickers else "any ticker"
    when = "" if not days else f" on {days[0]}" + (f"..{days[-1]}" if len(days) > 1 else "")
    where = f" in {options.data_dir}" if options.data_dir else ""
    message = f"source {options.source!r}{where} has no price bar for {who}{when}"
    named = {
        t: why
        for t, why in data.failed_tickers.items()
        if not options.tickers or t in options.tickers
    }
    if named:
        failed = "; ".join(f"{t}: {why}" for t, why in list(named.items())[:3])
        message += f" (failed: {failed})"
    if data.problems:
        message += f" ({len(data.problems)} input problems, first: {data.problems[0]})"
    return message


def _no_prices_params(options: SourceOptions, days: Sequence[dt.date] | None) -> dict[str, Any]:
    """The no_prices failure's parameters (JSON values): the source, the tickers asked (empty:
    all) and the days asked (none: the latest day with data)."""
    params: dict[str, Any] = {"source": options.source, "tickers": list(options.tickers)}
    if days:
        params |= {"first": min(days).isoformat(), "last": max(days).isoformat()}
        params["dates"] = len(days)
    return params


def ticker_chunks(tickers: list[str], n_dates: int) -> list[list[str]]:
    """`tickers` in groups of about CHUNK_ROWS (ticker, date) rows over `n_dates` dates."""
    size = max(1, CHUNK_ROWS // max(1, n_dates))
    return [tickers[i : i + size] for i in range(0, len(tickers), size)]


def date_chunks(dates: list[dt.date], n_tickers: int) -> list[list[dt.date]]:
    """`dates` (sorted) in spans of about CHUNK_ROWS (ticker, date) rows over `n_tickers`."""
    size = max(1, CHUNK_ROWS // max(1, n_tickers))
    return [dates[i : i + size] for i in range(0, len(dates), size)]


def _window(prices: pl.DataFrame, first: dt.date, last: dt.date) -> pl.DataFrame:
    """The prices a span of dates needs: up to `last`, and HISTORY_BARS bars per ticker before
    `first` (fundamentals, macro and news are kept whole: they are small and as-of joined)."""
    before = pl.col("date") < first
    bars_back = before.cast(pl.Int32).cum_sum(reverse=True).over("ticker")
    in_span = pl.col("date") <= last
    return prices.filter(in_span).filter(~before | (bars_back <= HISTORY_BARS))


class _Prices:
    """A run's loaded prices, from which each chunk takes its window (`_window`)."""

    def __init__(self, prices: pl.DataFrame) -> None:
        self.prices = prices
        self.tickers = prices.get_column("ticker").n_unique()

    def window(self, first: dt.date, last: dt.date) -> pl.DataFrame:
        """The rows the span of dates first..last needs."""
        return _window(self.prices, first, last)

    def whole(self, columns: Sequence[str]) -> pl.DataFrame:
        """Every row, with `columns` (in the loaded order)."""
        return self.prices.select(columns)


# The row number of a spilled price bar (its place in the loaded frame).
_ROW = "_row"


class _SpilledPrices(_Prices):
    """The loaded prices in Parquet files in `folder`, one per block of dates, each row with
    its number in the loaded frame; in memory, only the dates and each ticker's first row.

    The loaded frame is sorted by ticker and date (`in_spill_order`), so a ticker's bars
    before a date are consecutive rows: a window is the rows up to its last date from
    HISTORY_BARS bars before its first date on, per ticker, read from the blocks it spans
    and put back in the loaded order — the rows and order `_window` gives.
    """

    def __init__(self, prices: pl.DataFrame, folder: Path) -> None:
        self.schema = prices.schema
        self.dates = prices.get_column("date")
        ticker = prices.get_column("ticker")
        self.row0 = (ticker != ticker.shift(1)).fill_null(True).arg_true().cast(pl.Int64)
        self.end = self.row0.slice(1).append(pl.Series([prices.height], dtype=pl.Int64))
        self.names = ticker.gather(self.row0)
        self.tickers = len(self.names)
        dates = self.dates.unique().sort()
        step = max(1, SPILL_ROWS // max(1, self.tickers))
        rows = prices.with_row_index(_ROW)
        self.blocks: list[tuple[dt.date, dt.date, Path]] = []
        for i in range(0, len(dates), step):
            first, last = dates[i], dates[min(i + step, len(dates)) - 1]
            path = folder / f"prices-{len(self.blocks):05d}.parquet"
            block = rows.filter(pl.col("date").is_between(first, last))
            block.write_parquet(path, compression="uncompressed", statistics=False)
            self.blocks.append((first, last, path))

    def window(self, first: dt.date, last: dt.date) -> pl.DataFrame:
        """The rows the span of dates first..last needs, read back from the blocks."""
        # Per ticker, how many of its bars are before `first`: a difference of the running
        # count of such rows (counted[k]: among the first k rows) at its last and first rows.
        counted = pl.Series([0], dtype=pl.Int64).append((self.dates < first).cast(pl.Int64))
        counted = counted.cum_sum()
        before = counted.gather(self.end) - counted.gather(self.row0)
        # The first row kept: HISTORY_BARS bars before `first` (or the ticker's first bar).
        since_row = self.row0 + (before - HISTORY_BARS).clip(lower_bound=0)
        starts = pl.DataFrame({"ticker": self.names, "_from": since_row})
        oldest = cast(dt.date, self.dates.gather(since_row).min())
        since = min(first, oldest)
        paths = [path for lo, hi, path in self.blocks if lo <= last and hi >= since]
        return (
            pl.scan_parquet(paths)
            .filter(pl.col("date").is_between(since, last))
            .join(starts.lazy(), on="ticker")
            .filter(pl.col(_ROW) >= pl.col("_from"))
            .sort(_ROW)
            .select(self.schema.names())
            .collect()
        )

    def whole(self, columns: Sequence[str]) -> pl.DataFrame:
        """Every row, with `columns`, read back in the loaded order."""
        paths = [path for _, _, path in self.blocks]
        return pl.scan_parquet(paths).select(_ROW, *columns).sort(_ROW).drop(_ROW).collect()


def in_spill_order(prices: pl.DataFrame) -> bool:
    """Whether `prices` is sorted by ticker and then strictly by date (as sources return it)."""
    ticker, date = pl.col("ticker"), pl.col("date")
    after = (ticker > ticker.shift(1)) | ((ticker == ticker.shift(1)) & (date > date.shift(1)))
    return bool(prices.select(after.slice(1).all()).item())


@contextmanager
def _chunk_prices(run: _Run, data: MarketData, targets: list[dt.date]) -> Iterator[_Prices]:
    """The prices the chunks read, spilled to disk for a run of SPILL_MIN_CHUNKS or more.

    While spilled, `data.prices` is empty; afterwards it holds the columns the outcome fill
    reads (PRICE_COLUMNS), read back. The spill folder is beside the database (on its disk,
    not in a memory-backed /tmp) and removed at the end; one left by a killed run is removed
    by the next run (`_remove_stale_spills`).
    """
    n_chunks = len(date_chunks(targets, data.prices.get_column("ticker").n_unique()))
    if n_chunks < SPILL_MIN_CHUNKS or not in_spill_order(data.prices):
        yield _Prices(data.prices)
        return
    db = run.settings.database_path
    _remove_stale_spills(db)
    folder = Path(tempfile.mkdtemp(prefix=_spill_prefix(db), dir=db.parent))
    try:
        start = time.perf_counter()
        spilled = _SpilledPrices(data.prices, folder)
        data.prices = data.prices.clear()  # the panel is freed: each chunk reads its window
        log.info("event=prices_spilled blocks=%d seconds=%.1f", len(spilled.blocks), _since(start))
        yield spilled
        data.prices = spilled.whole(PRICE_COLUMNS)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _spill_prefix(db: Path) -> str:
    return f".{db.name}.prices-"


def _remove_stale_spills(db: Path) -> None:
    """Remove spill folders of this database left by a killed run (called under the run lock)."""
    for stale in db.parent.glob(_spill_prefix(db) + "*"):
        shutil.rmtree(stale, ignore_errors=True)


def _exchanges(options: SourceOptions) -> set[str]:
    if options.tickers:
        return {calendar.exchange_for(t) for t in options.tickers}
    return {"XNYS", "XBUE"}


def _check_trading_day(day: dt.date, options: SourceOptions) -> None:
    exchanges = sorted(_exchanges(options))
    if not any(calendar.is_trading_day(x, day) for x in exchanges):
        prev = max(calendar.latest_trading_day(x, day) for x in exchanges)
        raise BadInput(
            f"{day} ({day:%A}) is not a trading day on {'/'.join(exchanges)}; "
            f"the previous one is {prev}"
        )


class _RunGuard:
    """Timeout (SIGALRM), SIGTERM and SIGINT for a run: raise at once, except when critical.

    While `critical` (recording the run's start, the final COMMIT and recording the
    outcome) a signal is held and logged, so a run is always either committed and
    completed, or rolled back and failed. Python runs a signal handler only between
    bytecodes, and DuckDB notices a pending one late or not at all, so a watcher thread
    (woken through `signal.set_wakeup_fd`) interrupts a query that still runs
    INTERRUPT_GRACE_SECONDS after the signal. Off the main thread (tests), signals are
    not touched.
    """

    def __init__(self, timeout_s: float, con: duckdb.DuckDBPyConnection) -> None:
        self.timeout_s = timeout_s
        self.con = con
        self.critical = False
        self.held: JobFailed | None = None  # arrived while critical, raised at release()
        self.fired: JobFailed | None = None  # stopped the run (DuckDB may replace it)
        self._previous: dict[int, Any] = {}
        self._wakeup: tuple[int, int] | None = None  # read end, write end
        self._previous_wakeup_fd = -1
        self._watcher: threading.Thread | None = None
        self._closing = threading.Event()
        self.finished = False  # the outcome is recorded: nothing left to interrupt

    def __enter__(self) -> _RunGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._handle)
            read, write = self._wakeup = os.pipe()
            os.set_blocking(write, False)
            self._previous_wakeup_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
            self._watcher = threading.Thread(target=self._watch, args=(read,), daemon=True)
            self._watcher.start()
            if self.timeout_s > 0:
                signal.setitimer(signal.ITIMER_REAL, self.timeout_s)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.set_wakeup_fd(self._previous_wakeup_fd)
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
        self._closing.set()
        if self._wakeup and self._watcher:
            os.close(self._wakeup[1])  # the watcher reads the end of the pipe and returns
            self._watcher.join()
            os.close(self._wakeup[0])

    def release(self) -> None:
        """Leave the critical section; raise a signal that arrived during it."""
        self.critical = False
        held, self.held = self.held, None
        if held is not None:
            raise held

    def _error(self, signum: int) -> JobFailed:
        if signum == signal.SIGALRM:
            return JobTimeout(f"run exceeded {self.timeout_s / 60:g} minutes (JOB_TIMEOUT_MINUTES)")
        return JobInterrupted(f"stopped by {signal.Signals(signum).name}")

    def _handle(self, signum: int, frame: object) -> None:
        error = self.fired or self._error(signum)
        if self.critical:
            self.held = error
            log.warning("event=signal_held_during_commit signal=%s", signal.Signals(signum).name)
            return
        self.fired = error
        raise error

    def _watch(self, wakeup: int) -> None:
        """After a signal, interrupt DuckDB every INTERRUPT_GRACE_SECONDS until the run ends.

        A query that keeps the handler from running is stopped; its "Query interrupted"
        is then recorded under the signal's reason (`fired`).
        """
        signals = os.read(wakeup, 64)
        if not signals:
            return
        error = self._error(signals[0])
        while not self._closing.wait(INTERRUPT_GRACE_SECONDS):
            if not self.critical and not self.finished:
                self.fired = self.fired or error
                log.warning("event=query_interrupted reason=%s", type(self.fired).__name__)
                self.con.interrupt()
