"""A seeded synthetic price panel (OHLCV random walks) shared by the benchmarks."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipeline.analysis.frames import PRICES_SCHEMA


def synthetic_panel(n_tickers: int, n_days: int, seed: int = 0) -> pl.DataFrame:
    """A PRICES_SCHEMA panel of n_tickers × n_days business days, sorted by ticker and date."""
    rng = np.random.default_rng(seed)
    shape = (n_tickers, n_days)
    daily_vol = rng.uniform(0.01, 0.04, size=(n_tickers, 1))
    start = np.exp(rng.normal(3.0, 1.5, size=(n_tickers, 1)))  # prices from cents to thousands
    log_close = np.log(start) + np.cumsum(rng.normal(0.0002, 1.0, shape) * daily_vol, axis=1)
    close = np.exp(log_close)
    prev_close = np.exp(np.concatenate([log_close[:, :1], log_close[:, :-1]], axis=1))
    open_ = prev_close * np.exp(rng.normal(0.0, 0.3, shape) * daily_vol)
    wick = np.abs(rng.normal(0.0, 0.5, (2, *shape))) * daily_vol
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    # Dividends: a cumulative adjustment factor that is 1 on the last day and smaller before.
    payouts = np.where(rng.random(shape) < 1 / 250, rng.uniform(0.005, 0.03, shape), 0.0)
    factor = np.exp(-np.cumsum(np.log1p(-payouts[:, ::-1]), axis=1)[:, ::-1])
    volume = np.round(np.exp(rng.normal(12.0, 1.0, shape)))
    return pl.DataFrame(
        {
            "date": np.tile(_business_days(n_days), n_tickers),
            "ticker": pl.Series([f"T{i:05d}" for i in range(n_tickers)]).gather(
                np.repeat(np.arange(n_tickers), n_days)
            ),
            "open": open_.ravel(),
            "high": high.ravel(),
            "low": low.ravel(),
            "close": close.ravel(),
            "adj_close": (close / factor).ravel(),
            "volume": volume.ravel(),
        },
        schema=PRICES_SCHEMA,
    )


def _business_days(n_days: int) -> np.ndarray:
    """The first n_days weekdays from 2015-01-01."""
    return np.busday_offset(np.datetime64(date(2015, 1, 1)), np.arange(n_days), roll="forward")
