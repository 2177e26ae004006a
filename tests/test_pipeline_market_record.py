"""The market view's track record against the Merval, checked against direct computations."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats

from pipeline.analysis import calendar
from pipeline.analysis.market_record import forward_returns, market_record
from pipeline.analysis.market_view import market_call

SESSIONS = calendar.trading_days(calendar.BUENOS_AIRES, dt.date(2021, 1, 4), dt.date(2022, 12, 30))


def view(scores: np.ndarray, merval: np.ndarray, ccl: np.ndarray) -> pl.DataFrame:
    """A stored market view on the first len(scores) XBUE sessions of SESSIONS."""
    frame = pl.DataFrame(
        {
            "analysis_date": SESSIONS[: len(scores)],
            "macro_score": scores,
            "merval": merval,
            "merval_usd": merval / ccl,
        }
    )
    return frame.with_columns(market_call(pl.col("macro_score")).alias("market_call"))


def walk(n: int, seed: int, drift: float = 0.001) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 1000.0 * np.exp(np.cumsum(rng.normal(drift, 0.02, n)))


def test_forward_returns_are_the_merval_h_sessions_later_in_pesos_and_in_usd():
    n = 120
    merval, ccl = walk(n, 1), walk(n, 2, drift=0.003)
    returns = forward_returns(view(np.full(n, 50.0), merval, ccl))
    ars = returns.filter(horizon=20, currency="ARS")
    usd = returns.filter(horizon=20, currency="USD")
    assert ars.height == usd.height == n - 20  # the last 20 dates have not matured
    assert ars["forward_return"].to_numpy() == pytest.approx(merval[20:] / merval[:-20] - 1)
    dollars = merval / ccl
    assert usd["forward_return"].to_numpy() == pytest.approx(dollars[20:] / dollars[:-20] - 1)
    later = forward_returns(view(np.full(n, 50.0), merval, ccl), "next_close")
    first = later.filter(horizon=5, currency="ARS")["forward_return"][0]
    assert first == pytest.approx(merval[6] / merval[1] - 1)  # bought a session later


def test_a_date_whose_exit_session_was_not_stored_does_not_mature():
    n = 60
    stored = view(np.full(n, 50.0), walk(n, 3), walk(n, 4)).filter(
        pl.col("analysis_date") != SESSIONS[25]
    )
    dates = forward_returns(stored).filter(horizon=5, currency="ARS")["analysis_date"]
    assert SESSIONS[20] not in dates.to_list() and SESSIONS[25] not in dates.to_list()
    assert SESSIONS[19] in dates.to_list()


def test_ic_is_spearman_and_its_t_the_newey_west_t_of_the_rank_products():
    n = 400
    merval, ccl = walk(n, 5), walk(n, 6)
    ahead = np.append(merval[20:] / merval[:-20] - 1, np.zeros(20))
    noise = np.random.default_rng(7).normal(0, 0.1, n)
    scores = np.clip(50 + 200 * (ahead + noise), 0, 100).round(2)  # informative, noisy
    record = market_record(view(scores, merval, ccl))
    row = record.ic.filter(horizon=20, currency="ARS").row(0, named=True)
    matured = n - 20
    assert row["dates"] == matured
    expected_ic = stats.spearmanr(scores[:matured], ahead[:matured]).statistic
    assert row["ic"] == pytest.approx(expected_ic, rel=1e-9)
    assert row["ic"] > 0.3
    ranks = [stats.rankdata(x[:matured]) for x in (scores, ahead)]
    product = np.prod([(r - r.mean()) / r.std() for r in ranks], axis=0)
    ols = sm.OLS(product, np.ones(matured)).fit(
        cov_type="HAC", cov_kwds={"maxlags": 20, "use_correction": False}
    )
    assert row["t_stat"] == pytest.approx(ols.tvalues[0], rel=1e-9)
    assert (row["method"], row["lags"]) == ("newey_west", 20)


def test_hit_rates_count_the_mervals_direction_next_to_the_base_rate():
    n = 30
    merval = np.array([100.0, 110.0, 90.0, 95.0, 120.0, 100.0] * 5)
    scores = np.array([80.0, 10.0, 80.0, 50.0, 10.0, 10.0] * 5)
    returns = forward_returns(view(scores, merval, np.ones(n)))
    five = returns.filter(horizon=5, currency="ARS")
    by_call = market_record(view(scores, merval, np.ones(n))).by_call
    rows = {r["market_call"]: r for r in by_call.filter(horizon=5, currency="ARS").to_dicts()}
    for call, up in (("FAVORABLE", True), ("DESFAVORABLE", False)):
        mine = five.filter(market_call=call)["forward_return"]
        hits = ((mine > 0) if up else (mine < 0)).mean()
        base = ((five["forward_return"] > 0) if up else (five["forward_return"] < 0)).mean()
        assert rows[call]["dates"] == mine.len()
        assert rows[call]["hit_rate"] == pytest.approx(hits)
        assert rows[call]["base_rate"] == pytest.approx(base)
        assert rows[call]["mean_return"] == pytest.approx(mine.mean())
    assert rows["NEUTRAL"]["hit_rate"] is None and rows["NEUTRAL"]["base_rate"] is None
    assert list(rows) == ["FAVORABLE", "NEUTRAL", "DESFAVORABLE"]


def test_the_call_cuts_the_scale_in_thirds():
    scores = pl.Series([0.0, 33.33, 33.34, 66.66, 66.67, 100.0, None])
    calls = pl.select(market_call(pl.lit(scores))).to_series().to_list()
    assert calls == [
        "DESFAVORABLE",
        "DESFAVORABLE",
        "NEUTRAL",
        "NEUTRAL",
        "FAVORABLE",
        "FAVORABLE",
        None,
    ]


def test_without_a_stored_view_every_horizon_has_no_ic():
    record = market_record(view(np.array([]), np.array([]), np.array([])))
    assert record.ic["dates"].to_list() == [0] * 6 and record.ic["ic"].null_count() == 6
    assert record.by_call.is_empty() and record.first_date is None
    with pytest.raises(ValueError, match="entry 'open'"):
        market_record(view(np.array([]), np.array([]), np.array([])), "open")
