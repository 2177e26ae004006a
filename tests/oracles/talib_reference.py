"""The reference value of every indicator column for one ticker, computed without polars.

TA-Lib's own functions give the thirteen TA-Lib indicators (`TALIB_INDICATORS`); the other
columns come from their textbook definitions in numpy. The indicator tests compare the polars
stage with these values; `benchmarks/bench_indicators.py` times them, called per ticker, as
the speed reference.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np
import polars as pl
import talib

from pipeline.analysis.indicators import INDICATOR_COLUMNS, TALIB_INDICATORS


def talib_indicators(close: np.ndarray, high: np.ndarray, low: np.ndarray) -> dict[str, np.ndarray]:
    """TA-Lib's value of every TALIB_INDICATORS column for one ticker."""
    out = {f"sma_{n}": talib.SMA(close, n) for n in (20, 50, 200)}
    out |= {f"ema_{n}": talib.EMA(close, n) for n in (12, 26)}
    out["macd"], out["macd_signal"], out["macd_hist"] = talib.MACD(close, 12, 26, 9)
    out["rsi_14"] = talib.RSI(close, 14)
    out["bb_upper"], out["bb_middle"], out["bb_lower"] = talib.BBANDS(close, 20, 2, 2)
    out["atr_14"] = talib.ATR(high, low, close, 14)
    return out


def defined_columns(close: np.ndarray, volume: np.ndarray) -> dict[str, np.ndarray]:
    """The other INDICATOR_COLUMNS for one ticker, from their definitions."""
    log_return = np.log(close / _lagged(close, 1))
    high_252 = _windows(close, 252).max(axis=1)
    return {
        "bars": np.arange(1, len(close) + 1, dtype=float),
        "log_return": log_return,
        **{f"return_{n}d": close / _lagged(close, n) - 1 for n in (20, 60, 252)},
        "volatility_20": _windows(log_return, 20).std(axis=1, ddof=1) * math.sqrt(252),
        "volume_sma_20": _windows(volume, 20).mean(axis=1),
        "high_252": high_252,
        "drawdown_252": close / high_252 - 1,
    }


def _lagged(values: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([np.full(min(n, len(values)), np.nan), values[:-n]])


def _windows(values: np.ndarray, n: int) -> np.ndarray:
    """Row i: the n values ending at i (NaN-padded before the first value)."""
    padded = np.concatenate([np.full(n - 1, np.nan), values])
    return np.lib.stride_tricks.sliding_window_view(padded, n)


def per_ticker(panel: pl.DataFrame, columns: Iterable[str] = INDICATOR_COLUMNS) -> pl.DataFrame:
    """The panel (sorted by ticker, date) plus `columns`, computed one ticker at a time."""
    columns = tuple(columns)
    defined = any(name not in TALIB_INDICATORS for name in columns)
    arrays = {name: panel[name].to_numpy() for name in ("close", "high", "low", "volume")}
    tickers = panel["ticker"].to_numpy()
    bounds = [0, *np.flatnonzero(tickers[1:] != tickers[:-1]) + 1, len(tickers)]
    out = {name: np.empty(len(tickers)) for name in columns}
    for start, end in itertools.pairwise(bounds):
        close, high, low, volume = (a[start:end] for a in arrays.values())
        values = talib_indicators(close, high, low)
        if defined:
            values |= defined_columns(close, volume)
        for name in columns:
            out[name][start:end] = values[name]
    return panel.with_columns(pl.Series(name, out[name], nan_to_null=True) for name in columns)
