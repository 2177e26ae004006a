"""One ticker analysed on request, by the daily job's own pipeline, and never stored.

The universe the daily job would analyse is loaded (the configured tickers, or all the
source has, plus the requested one), so scores that compare tickers keep their meaning;
only the latest session the source has is analysed, and the requested ticker's call is
returned. The wait is bounded: a source that does not answer in time raises
`SourceUnreachable` (the worker thread is left to finish on its own, its result unused).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

import polars as pl

from pipeline.analysis import analyse
from pipeline.errors import BadInput, RunFailed
from pipeline.ops import jobs
from pipeline.settings import Settings
from pipeline.sources import SourceError

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 30.0


class SourceUnreachable(RunFailed):
    """The source did not answer within the bounded wait, or failed (exit 1: try later)."""


class NotAnalysed(BadInput):
    """The source answered but the ticker got no call: unknown, or too little data (exit 2)."""


@dataclass(frozen=True)
class OnDemand:
    """A call computed on request: one recommendation row, its details, when and how fast."""

    ticker: str
    recommendation: pl.DataFrame
    details: pl.DataFrame
    computed_at: dt.datetime  # aware, UTC
    seconds: float
    source: str


def analyze(
    settings: Settings,
    options: jobs.SourceOptions,
    ticker: str,
    timeout_s: float = DEFAULT_TIMEOUT_SECONDS,
) -> OnDemand:
    """Run the daily pipeline for `ticker`'s latest session from the source; store nothing."""
    ticker = ticker.strip().upper()
    universe = tuple(dict.fromkeys((*options.tickers, ticker))) if options.tickers else ()
    wanted = jobs.SourceOptions(options.source, options.data_dir, universe)
    started = time.perf_counter()
    future = _in_daemon_thread(lambda: _compute(settings, wanted, ticker))
    try:
        recommendation, details = future.result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        raise SourceUnreachable(
            f"source {options.source!r} did not answer within {timeout_s:g} s; try again later"
        ) from None
    except (SourceError, jobs.NoPrices, OSError) as exc:
        raise SourceUnreachable(f"source {options.source!r} failed: {exc}") from None
    seconds = time.perf_counter() - started
    now = dt.datetime.now(dt.UTC)
    return OnDemand(ticker, recommendation, details, now, seconds, options.source)


def _in_daemon_thread(work: Callable[[], T]) -> concurrent.futures.Future[T]:
    """Run `work` in a daemon thread: a caller that stops waiting can exit at once.

    (A ThreadPoolExecutor's worker is joined at interpreter exit, so `analyze --timeout 5`
    used to end only when the abandoned work did.)
    """
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to the waiting caller
            future.set_exception(exc)

    threading.Thread(target=run, name="analyze", daemon=True).start()
    return future


def _compute(
    settings: Settings, options: jobs.SourceOptions, ticker: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Load the source up to its latest session and analyse that session."""
    data = jobs.load_market_data(
        options.source,
        tickers=options.tickers,
        data_dir=options.data_dir,
        start=None,
        end=None,
        warmup_bars=jobs.WARMUP_BARS,
        max_retries=settings.max_retries,
        cache_dir=settings.yfinance_cache,
    )
    if data.prices.is_empty():
        raise SourceUnreachable(f"source {options.source!r} returned no prices at all")
    mine = data.prices.filter(pl.col("ticker") == ticker)
    if mine.is_empty():
        raise NotAnalysed(f"the source {options.source!r} has no prices for {ticker}")
    last = cast(dt.date, mine.get_column("date").max())
    result = analyse(data, settings, [last])
    recommendation = result.recommendations.filter(pl.col("ticker") == ticker)
    if recommendation.is_empty():
        why = next((e["message"] for e in result.errors if e.get("ticker") == ticker), None)
        raise NotAnalysed(f"{ticker} got no call on {last}: {why or 'no technical score'}")
    details = result.details.filter(pl.col("ticker") == ticker)
    return recommendation, details
