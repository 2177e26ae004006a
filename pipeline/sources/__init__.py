"""Market data sources (the bundled sample, a folder of files, Yahoo Finance) behind one call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from pipeline.analysis.frames import MarketData
from pipeline.settings import SOURCES
from pipeline.sources import files, sample, yahoo
from pipeline.sources.validate import SourceError

__all__ = ["SourceError", "load_market_data"]


def load_market_data(
    source: str,
    *,
    tickers: Sequence[str] = (),
    data_dir: Path | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    max_retries: int = 3,
    timeout_s: float = 60.0,
    cache_dir: Path | None = None,
) -> MarketData:
    """Prices, fundamentals, macro and news for `tickers` (empty: the source's whole universe).

    `start` is the first day of price history needed (include the indicators' warm-up) and
    `end` the last. `max_retries` and `timeout_s` bound each Yahoo call; `cache_dir` is where
    yfinance keeps its cache. Raises `SourceError` when the source cannot be used at all.
    """
    wanted = list(dict.fromkeys(t.strip().upper() for t in tickers if t.strip()))
    if source == "sample":
        return sample.load(wanted, start, end)
    if source == "files":
        if data_dir is None:
            raise SourceError("the files source needs a folder: set ARGENTA_DATA_DIR")
        return files.load(data_dir, wanted, start, end)
    if source == "yfinance":
        return yahoo.load(
            wanted, start, end, max_retries=max_retries, timeout_s=timeout_s, cache_dir=cache_dir
        )
    raise SourceError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
