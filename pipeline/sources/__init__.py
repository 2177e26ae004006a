"""Market data sources (the bundled sample, a folder of files, Yahoo Finance) behind one call."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

from pipeline.analysis.frames import MarketData
from pipeline.settings import SOURCES
from pipeline.sources import files, sample, yahoo
from pipeline.sources.validate import SourceError

__all__ = ["SourceError", "load_market_data", "warmup_calendar_days"]

CALENDAR_DAYS_PER_BAR = 660 / 420  # BYMA's 2010-2024 calendar needs 645 days for 420 sessions


def warmup_calendar_days(bars: int) -> int:
    """Calendar days that hold `bars` sessions of an uninterrupted BYMA or NYSE listing.

    BYMA, with more holidays than NYSE, needed up to 645 calendar days for 420 sessions over
    2010-2024: 420 bars -> 660 days.
    """
    return math.ceil(bars * CALENDAR_DAYS_PER_BAR)


def load_market_data(
    source: str,
    *,
    tickers: Sequence[str] = (),
    data_dir: Path | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    warmup_bars: int = 0,
    max_retries: int = 3,
    timeout_s: float = 60.0,
    cache_dir: Path | None = None,
) -> MarketData:
    """Prices, fundamentals, macro and news for `tickers` (empty: the source's whole universe).

    Prices run from `start` to `end`, plus each ticker's last `warmup_bars` bars before
    `start` (Yahoo: the calendar span that holds them, `warmup_calendar_days`); fundamentals,
    macro and news hold their whole history up to `end` (Yahoo: what it returns from that
    span on). `max_retries` and `timeout_s` bound each Yahoo call; `cache_dir` is where
    yfinance keeps its cache. Raises `SourceError` when the source cannot be used at all.
    """
    wanted = list(dict.fromkeys(t.strip().upper() for t in tickers if t.strip()))
    if source == "sample":
        return sample.load(wanted, start, end, warmup_bars)
    if source == "files":
        if data_dir is None:
            raise SourceError("the files source needs a folder: set ARGENTA_DATA_DIR")
        return files.load(data_dir, wanted, start, end, warmup_bars=warmup_bars)
    if source == "yfinance":
        if start is not None:
            start -= dt.timedelta(days=warmup_calendar_days(warmup_bars))
        return yahoo.load(
            wanted, start, end, max_retries=max_retries, timeout_s=timeout_s, cache_dir=cache_dir
        )
    raise SourceError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
