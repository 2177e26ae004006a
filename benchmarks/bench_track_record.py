"""The track record at scale: the product's polars plan against alphalens-reloaded, same panel.

    python -m benchmarks.bench_track_record --tickers 5000 --days 2520

The panel: the synthetic market's closes (random walks on NYSE sessions), one call per
ticker and session with scores that lean on the 20-session momentum plus noise (so the
quintiles and the IC are not degenerate), and their outcomes at the horizon. The product
computes the whole track record (`pipeline.analysis.track_record.track_record`: eight
measures, the IC of five scores); alphalens computes the clean factor data, the daily IC and
the demeaned quintile returns of one factor, which is the part of the record it knows how to
compute. The target ratio compares the same work: the product's matured calls, the total
score's daily IC and the quintile returns (`same_work`), whose results are checked against
alphalens'; the whole record's ratio is printed beside it. Both start from frames in memory.
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings
from collections.abc import Callable
from typing import cast

import numpy as np
import pandas as pd
import polars as pl

from benchmarks.common import Row, at_least, below, table
from benchmarks.synthetic_market import synthetic_prices
from pipeline.analysis import track_record as tr

HORIZON = 20
TARGET_SECONDS = 15.0
TARGET_SPEEDUP = 5.0


def synthetic_calls(
    n_tickers: int, n_days: int, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Calls (tr.CALL_COLUMNS) and their outcomes at HORIZON, entry at the close."""
    rng = np.random.default_rng(seed + 7)
    prices = synthetic_prices(n_tickers, n_days, seed).select("date", "ticker", "close")
    n = prices.height
    close = pl.col("close")
    momentum = (close / close.shift(HORIZON).over("ticker") - 1).fill_null(0.0)
    forward = close.shift(-HORIZON).over("ticker") / close - 1
    has_fundamentals = pl.Series(rng.random(n_tickers) < 0.1).gather(
        np.repeat(np.arange(n_tickers), n_days)
    )
    frame = prices.with_columns(
        (50 + 100 * momentum + pl.Series(rng.normal(0, 10, n)))
        .clip(0, 100)
        .round(2)
        .alias("total_score"),
        (50 + 120 * momentum).clip(0, 100).round(2).alias("technical_score"),
        pl.when(has_fundamentals)
        .then(pl.Series(rng.uniform(0, 100, n)).round(2))
        .alias("fundamental_score"),
        pl.Series(rng.uniform(30, 70, n_days))
        .gather(pl.int_range(n) % n_days)
        .round(2)
        .alias("macro_score"),
        pl.lit(None, pl.Float64).alias("sentiment_score"),
        pl.Series(rng.choice(["BAJO", "MEDIO", "ALTO"], n)).alias("risk_level"),
        pl.lit("simulado").alias("origin"),
        forward.alias("forward_return"),
    ).rename({"date": "analysis_date"})
    frame = frame.with_columns(
        pl.when(pl.col("total_score") >= 60)
        .then(pl.lit("COMPRAR"))
        .when(pl.col("total_score") <= 40)
        .then(pl.lit("VENDER"))
        .otherwise(pl.lit("MANTENER"))
        .alias("recommendation")
    )
    return frame.select(tr.CALL_COLUMNS), _outcomes(frame, rng)


def _outcomes(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The matured calls' outcome columns, as call_outcomes stores them."""
    matured = frame.filter(pl.col("forward_return").is_not_null())
    n = matured.height
    universe = pl.col("forward_return").mean().over("analysis_date")
    band = 0.4 * (HORIZON / 252) ** 0.5
    return matured.select(
        "analysis_date",
        "ticker",
        pl.lit(HORIZON).alias("horizon_sessions"),
        pl.lit("close").alias("entry"),
        pl.lit("ADR").alias("listing"),
        "forward_return",
        (pl.col("forward_return") - universe - pl.Series(rng.normal(0, 0.01, n))).alias(
            "excess_return"
        ),
        universe.alias("universe_return"),
        (pl.col("forward_return") - universe).alias("universe_excess_return"),
        pl.Series(np.abs(rng.normal(0.4, 0.1, n))).alias("realised_volatility"),
        pl.lit(-band).alias("target_low_return"),
        pl.lit(band).alias("target_high_return"),
    )


def alphalens_inputs(calls: pl.DataFrame, outcomes: pl.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """alphalens' factor (the total of every matured call) and its wide price frame."""
    matured = calls.join(outcomes.select("analysis_date", "ticker"), on=["analysis_date", "ticker"])
    factor = matured.select("analysis_date", "ticker", "total_score").to_pandas()
    factor["analysis_date"] = pd.DatetimeIndex(factor["analysis_date"]).tz_localize("UTC")
    prices = synthetic_prices(calls["ticker"].n_unique(), calls["analysis_date"].n_unique())
    wide = prices.pivot(on="ticker", index="date", values="close").sort("date").to_pandas()
    wide = wide.set_index("date")
    wide.index = pd.DatetimeIndex(wide.index).tz_localize("UTC")
    return factor.set_index(["analysis_date", "ticker"])["total_score"], wide


def same_work(calls: pl.DataFrame, outcomes: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What alphalens computes, by the product's code: the matured calls, the total score's
    daily IC and the quintile returns (the daily IC and the quintiles, returned)."""
    matured = tr.matured_calls(calls, outcomes, HORIZON)
    ic = tr.ic_daily(matured, scores=("total",))
    return ic, tr.quintile_returns(matured.lazy()).collect()


def run_alphalens(factor: pd.Series, prices: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean factor data, daily IC and demeaned quintile returns; returns the quintile means
    and the daily IC."""
    import alphalens as al

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = al.utils.get_clean_factor_and_forward_returns(
            factor,
            prices,
            periods=(HORIZON,),
            quantiles=tr.QUINTILES,
            filter_zscore=None,
            max_loss=1.0,
        )
        ic = al.performance.factor_information_coefficient(data)
        means, _ = al.performance.mean_return_by_quantile(data, demeaned=True)
    return means, ic


def _median_seconds(work: Callable[[], object], runs: int) -> tuple[float, object]:
    """The median time of `runs` calls of `work`, and what the last call returned."""
    times, done = [], None
    for _ in range(runs):
        start = time.perf_counter()
        done = work()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), done


def _ic_gap(ours: pl.DataFrame, theirs: pd.DataFrame) -> float:
    """The largest difference between the two daily ICs of the total score, on shared dates."""
    theirs_frame = pl.DataFrame(
        {"analysis_date": list(theirs.index.date), "theirs": theirs.iloc[:, 0].to_numpy()},
        schema={"analysis_date": pl.Date, "theirs": pl.Float64},
    )
    both = ours.drop_nulls("ic").join(theirs_frame, on="analysis_date")
    if both.height < theirs_frame.height * 0.9:
        raise ValueError(f"the ICs share only {both.height} of {theirs_frame.height} dates")
    return float((both["ic"] - both["theirs"]).abs().to_numpy().max())


def _product(
    calls: pl.DataFrame, outcomes: pl.DataFrame, runs: int
) -> tuple[float, float, pl.DataFrame, pl.DataFrame]:
    """The whole record's median time, the same three's, and their IC and quintiles."""
    whole, _ = _median_seconds(lambda: tr.track_record(calls, outcomes, HORIZON), runs)
    same, done = _median_seconds(lambda: same_work(calls, outcomes), runs)
    ic, quintiles = cast(tuple[pl.DataFrame, pl.DataFrame], done)
    return whole, same, ic, quintiles


def run(n_tickers: int, n_days: int, runs: int = 3) -> list[Row]:
    """Time the product's track record and alphalens on one panel; check they agree."""
    label = f"track record {n_tickers}x{n_days}"
    calls, outcomes = synthetic_calls(n_tickers, n_days)
    whole, same, ic, quintiles = _product(calls, outcomes, runs)
    factor, prices = alphalens_inputs(calls, outcomes)
    del calls, outcomes
    gc.collect()
    start = time.perf_counter()
    means, their_ic = run_alphalens(factor, prices)
    theirs = time.perf_counter() - start
    gap = np.abs(quintiles["mean_universe_excess"].to_numpy() - means.iloc[:, 0].to_numpy()).max()
    return [
        below(
            label, f"whole track record, h={HORIZON} (median of {runs})", whole, "s", TARGET_SECONDS
        ),
        Row(
            label,
            "alphalens-reloaded: clean factor data + daily IC + quintile returns",
            theirs,
            "s",
        ),
        Row(label, f"the same three by the product (median of {runs})", same, "s"),
        at_least(
            label,
            "alphalens time / product time, the same three",
            theirs / same,
            "x",
            TARGET_SPEEDUP,
        ),
        Row(label, "alphalens time / whole track record time", theirs / whole, "x"),
        Row(
            label, "quintile returns: largest difference from alphalens", float(gap) * 1e12, "1e-12"
        ),
        Row(
            label,
            "daily IC: largest difference from alphalens",
            _ic_gap(ic, their_ic) * 1e12,
            "1e-12",
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    """Parse the sizes, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=2520)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(table(run(args.tickers, args.days, args.runs)))


if __name__ == "__main__":
    main()
