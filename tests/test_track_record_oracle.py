"""The track record's IC and quintile returns equal alphalens-reloaded's on the whole sample.

alphalens counts periods in rows of a wide price frame, so it is fed one listing group at
a time, with the rows being that exchange's sessions; the product is run on the same group.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from pipeline.analysis import calendar
from pipeline.analysis import track_record as tr
from pipeline.ops import jobs
from pipeline.settings import Settings
from pipeline.sources import load_market_data
from store import reads
from store.connection import open_reader
from tests.factories import largest_gap

al = pytest.importorskip("alphalens")
pytestmark = pytest.mark.slow
EXCHANGE = {"ADR": calendar.NEW_YORK, "BYMA": calendar.BUENOS_AIRES}


@pytest.fixture(scope="module")
def full_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database backfilled over the whole bundled sample (2010-01-04..2024-03-08)."""
    path = tmp_path_factory.mktemp("full") / "argenta_ia.duckdb"
    settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
    jobs.backfill(settings, jobs.SourceOptions("sample"), dt.date(2010, 1, 4), dt.date(2024, 3, 8))
    return path


@functools.cache
def wide_prices(listing: str) -> pd.DataFrame:
    """Adjusted closes of the listing's tickers on every session of its exchange (UTC index)."""
    prices = load_market_data("sample").prices.with_columns(
        pl.col("adj_close").fill_null(pl.col("close")).alias("adj"),
        pl.col("ticker").str.ends_with(".BA").alias("local"),
    )
    mine = prices.filter(pl.col("local") == (listing == "BYMA"))
    first, last = mine["date"].min(), mine["date"].max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    sessions = pl.DataFrame({"date": calendar.trading_days(EXCHANGE[listing], first, last)})
    wide = sessions.join(mine.pivot(on="ticker", index="date", values="adj"), on="date", how="left")
    frame = wide.to_pandas().set_index("date")
    frame.index = pd.DatetimeIndex(frame.index).tz_localize("UTC")
    return frame


def alphalens_data(factor: pd.Series, prices: pd.DataFrame, horizon: int, **kw) -> pd.DataFrame:
    """alphalens' factor data: forward returns over `horizon` rows, no outlier filter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return al.utils.get_clean_factor_and_forward_returns(
            factor, prices, periods=(horizon,), filter_zscore=None, max_loss=1.0, **kw
        )


@pytest.mark.parametrize(("listing", "horizon"), [("ADR", 20), ("BYMA", 5)])
def test_ic_and_quintile_returns_equal_alphalens(full_sample, listing, horizon):
    with open_reader(full_sample) as con:
        calls, outcomes = reads.track_record_inputs(con, horizon)
    local = pl.col("ticker").str.ends_with(".BA") == (listing == "BYMA")
    calls, outcomes = calls.filter(local), outcomes.filter(local)
    record = tr.track_record(calls, outcomes, horizon)
    # The factor: the total of every matured call, on dates with enough names (the
    # product's rule; alphalens has none), so both demean over the same names.
    matured = outcomes.join(calls, on=["analysis_date", "ticker"])
    matured = matured.filter(pl.len().over("analysis_date") >= tr.MIN_NAMES_PER_DATE)
    factor = matured.select("analysis_date", "ticker", "total_score").to_pandas()
    factor["analysis_date"] = pd.DatetimeIndex(factor["analysis_date"]).tz_localize("UTC")
    factor = factor.set_index(["analysis_date", "ticker"])["total_score"]
    prices = wide_prices(listing)

    # Forward returns: alphalens' rows-ahead return is the stored forward_return.
    whole = alphalens_data(factor, prices, horizon, quantiles=None, bins=1)
    column = al.utils.get_forward_returns_columns(whole.columns)[0]
    theirs = pl.from_pandas(whole[[column]].reset_index()).rename({column: "forward"})
    theirs = theirs.with_columns(pl.col("date").dt.date(), pl.col("asset").alias("ticker"))
    both = matured.join(theirs, left_on=["analysis_date", "ticker"], right_on=["date", "ticker"])
    assert both.height == matured.height > 1000
    assert largest_gap(both["forward_return"], both["forward"]) < 1e-12

    # Daily IC.
    ic = al.performance.factor_information_coefficient(whole)[column].dropna()
    expected = pl.DataFrame(
        {"analysis_date": list(ic.index.date), "expected": ic.to_numpy()},
        schema={"analysis_date": pl.Date, "expected": pl.Float64},
    )
    got = record.ic_daily.filter(score="total").drop_nulls("ic").join(expected, on="analysis_date")
    assert got.height == expected.height == record.ic_summary.filter(score="total")["dates"][0]
    assert largest_gap(got["ic"], got["expected"]) < 1e-9
    mean_ic = record.ic_summary.filter(score="total")["mean_ic"][0]
    assert mean_ic == pytest.approx(ic.mean(), abs=1e-12)

    # Quintile returns, demeaned by date (alphalens' default).
    by_quintile = alphalens_data(factor, prices, horizon, quantiles=tr.QUINTILES)
    mean_ret, _ = al.performance.mean_return_by_quantile(by_quintile, demeaned=True)
    assert record.quintiles["quintile"].to_list() == list(mean_ret.index)
    gap = record.quintiles["mean_universe_excess"].to_numpy() - mean_ret[column].to_numpy()
    assert abs(gap).max() < 1e-9
    assert record.spread == pytest.approx(
        mean_ret[column].iloc[-1] - mean_ret[column].iloc[0], abs=1e-9
    )
