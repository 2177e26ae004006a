"""Speed of the indicator stage: our polars plan vs TA-Lib per ticker vs a pandas groupby.

    python -m benchmarks.bench_indicators                  # 500x2520 and 5000x2520
    python -m benchmarks.bench_indicators 100x2520 --runs 5 --no-pandas

Every implementation computes all of `INDICATOR_COLUMNS` on the same seeded synthetic panel;
the TA-Lib ones are the reference of tests/oracles/talib_reference.py (TA-Lib where it has the
function, numpy for the rest). The table shows the median wall time
of `--runs` runs and its ratio to TA-Lib called per ticker for its 13 indicators only (the
reference of the speed target: the polars stage within 1.5x of it).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TypedDict

import numpy as np
import pandas as pd
import polars as pl

from benchmarks.synthetic import synthetic_panel
from pipeline.analysis.indicators import TALIB_INDICATORS, indicator_blocks
from pipeline.analysis.stages import Engine
from tests.oracles.talib_reference import per_ticker as talib_per_ticker

DEFAULT_SIZES = ("500x2520", "5000x2520")
REFERENCE = "talib per ticker, 13 indicators"


def polars_stage(panel: pl.DataFrame, engine: Engine = "auto") -> pl.DataFrame:
    """Our indicator stage as the analysis runs it (`stages._per_ticker_model`): its blocks of
    whole tickers collected one at a time with the given polars engine."""
    return pl.concat(block.collect(engine=engine) for block in indicator_blocks(panel.lazy()))


def pandas_groupby(panel: pl.DataFrame) -> pd.DataFrame:
    """The panel plus every indicator column, computed with a pandas groupby-apply."""
    frame = panel.to_pandas()
    inputs = frame[["ticker", "close", "high", "low", "volume"]]
    indicators = inputs.groupby("ticker", sort=False, group_keys=False).apply(_pandas_ticker)
    return frame.join(indicators)


def _pandas_ticker(frame: pd.DataFrame) -> pd.DataFrame:
    """Every indicator column for one ticker's rows."""
    close, high, low = frame["close"], frame["high"], frame["low"]
    prev_close = close.shift(1)
    change = close.diff()
    gain = _pandas_smooth(change.clip(lower=0), 14, 1 / 14, first=1)
    loss = _pandas_smooth((-change).clip(lower=0), 14, 1 / 14, first=1)
    ranges = [high - low, (high - prev_close).abs(), (low - prev_close).abs()]
    true_range = pd.concat(ranges, axis=1).max(axis=1, skipna=False)
    ema_26 = _pandas_smooth(close, 26, 2 / 27)
    line = _pandas_smooth(close, 12, 2 / 13, first=14) - ema_26
    signal = _pandas_smooth(line, 9, 0.2, first=25)
    middle, spread = close.rolling(20).mean(), 2 * close.rolling(20).std(ddof=0)
    log_return = np.log(close / prev_close)
    high_252 = close.rolling(252).max()
    out = {f"sma_{n}": close.rolling(n).mean() for n in (20, 50, 200)}
    return pd.DataFrame(
        out
        | {
            "bars": np.arange(1, len(frame) + 1),
            "ema_12": _pandas_smooth(close, 12, 2 / 13),
            "ema_26": ema_26,
            "macd": line.where(signal.notna()),
            "macd_signal": signal,
            "macd_hist": line - signal,
            "rsi_14": (100 * gain / (gain + loss)).where(gain + loss != 0, 0.0).where(gain.notna()),
            "bb_upper": middle + spread,
            "bb_middle": middle,
            "bb_lower": middle - spread,
            "atr_14": _pandas_smooth(true_range, 14, 1 / 14, first=1),
            "log_return": log_return,
            **{f"return_{n}d": close / close.shift(n) - 1 for n in (20, 60, 252)},
            "volatility_20": log_return.rolling(20).std() * math.sqrt(252),
            "volume_sma_20": frame["volume"].rolling(20).mean(),
            "high_252": high_252,
            "drawdown_252": close / high_252 - 1,
        },
        index=frame.index,
    )


def _pandas_smooth(x: pd.Series, n: int, alpha: float, first: int = 0) -> pd.Series:
    """TA-Lib's exponential average: mean of x[first : first + n] at first + n - 1, then EMA."""
    seed_at = first + n - 1
    seeded = np.full(len(x), np.nan)
    if len(x) > seed_at:
        seeded[seed_at] = x.iloc[first : seed_at + 1].mean()
        seeded[seed_at + 1 :] = x.iloc[seed_at + 1 :]
    return pd.Series(seeded, index=x.index).ewm(alpha=alpha, adjust=False).mean()


def implementations(pandas: bool = True) -> dict[str, Callable[[pl.DataFrame], object]]:
    """The timed implementations by name."""
    found: dict[str, Callable[[pl.DataFrame], object]] = {
        "polars stage (default engine)": polars_stage,
        "polars stage (in-memory engine)": partial(polars_stage, engine="in-memory"),
        REFERENCE: partial(talib_per_ticker, columns=TALIB_INDICATORS),
        "talib per ticker, all columns": talib_per_ticker,
    }
    if pandas:
        found["pandas groupby-apply, all columns"] = pandas_groupby
    return found


def median_seconds(function: Callable[[], object], runs: int) -> float:
    """Median wall time of `runs` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class Timing(TypedDict):
    """One implementation's median time on one size, and its ratio to TA-Lib's."""

    size: str
    implementation: str
    seconds: float
    ratio: float


def run(sizes: Iterable[str], runs: int = 3, pandas: bool = True) -> list[Timing]:
    """Time every implementation on each TICKERSxDAYS size; one row per (size, implementation)."""
    rows = []
    for size in sizes:
        n_tickers, n_days = (int(part) for part in size.lower().split("x"))
        panel = synthetic_panel(n_tickers, n_days, seed=42)
        timed = {
            name: median_seconds(partial(function, panel), runs)
            for name, function in implementations(pandas).items()
        }
        rows += [
            Timing(size=size, implementation=name, seconds=s, ratio=s / timed[REFERENCE])
            for name, s in timed.items()
        ]
    return rows


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "sizes", nargs="*", default=DEFAULT_SIZES, help="TICKERSxDAYS, e.g. 500x2520"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per implementation")
    parser.add_argument("--no-pandas", action="store_true", help="skip the (slow) pandas version")
    args = parser.parse_args(argv)
    print(f"{'size':<11} {'implementation':<34} {'median s':>9} {'ratio':>7}")
    for row in run(args.sizes, args.runs, pandas=not args.no_pandas):
        print(
            f"{row['size']:<11} {row['implementation']:<34} "
            f"{row['seconds']:>9.3f} {row['ratio']:>7.2f}"
        )


if __name__ == "__main__":
    main()
