"""The relative model: factors, relative scores, monthly calls per company, target range, risk."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from pipeline.analysis import calls, factors, forecast, model, relative
from pipeline.analysis.calendar import NEW_YORK, trading_days
from pipeline.analysis.indicators import adjust_prices
from pipeline.settings import DEFAULT_WEIGHTS
from pipeline.sources import sample

NYSE_DAYS = trading_days(NEW_YORK, dt.date(2019, 1, 2), dt.date(2023, 12, 29))


def _panel(paths: dict[str, np.ndarray], days: list[dt.date] = NYSE_DAYS) -> pl.DataFrame:
    """Closes for each ticker on the first len(path) sessions of `days`."""
    return pl.concat(
        pl.DataFrame(
            {"date": days[: len(p)], "ticker": t, "close": p.astype(float)},
            schema={"date": pl.Date, "ticker": pl.String, "close": pl.Float64},
        )
        for t, p in paths.items()
    ).sort("ticker", "date")


def _walk(seed: int, n: int = 1000, sigma: float = 0.02) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0003, sigma, n)))


@pytest.fixture(scope="module")
def sample_prices() -> pl.DataFrame:
    return adjust_prices(sample.load().prices.lazy()).collect()


@pytest.fixture(scope="module")
def sample_model(sample_prices: pl.DataFrame) -> pl.DataFrame:
    return model.evaluate(sample_prices, DEFAULT_WEIGHTS)


# --- factors -------------------------------------------------------------------------


def test_factors_match_their_definitions_on_a_full_series() -> None:
    close = _walk(1)
    out = factors.add_factors(_panel({"AAA": close}))
    t = 900
    row = out.row(t, named=True)
    logs = np.diff(np.log(close))
    assert row["momentum_12_1"] == pytest.approx(close[t - 21] / close[t - 252] - 1, rel=1e-9)
    assert row["reversal_1m"] == pytest.approx(-(close[t] / close[t - 21] - 1), rel=1e-9)
    vol = np.std(logs[t - 63 : t], ddof=1) * math.sqrt(252)
    assert row["low_volatility"] == pytest.approx(-vol, rel=1e-9)
    assert row["high_52w"] == pytest.approx(close[t] / close[t - 251 : t + 1].max(), rel=1e-9)
    # Not before the window is complete.
    assert out.row(250, named=True)["momentum_12_1"] is None
    assert out.row(252, named=True)["momentum_12_1"] is not None


def test_an_implausible_move_is_flagged_and_kept_out_of_the_factors() -> None:
    close = _walk(2)
    close[600:] *= close[599] / close[600]  # no move on day 600 ...
    split = close.copy()
    split[600:] /= 10.0  # ... but an unadjusted 10:1 split here: -90 % in one day
    out = factors.add_factors(_panel({"AAA": close, "BBB": split}))
    flagged = out.filter(pl.col("implausible_move"))
    assert flagged.select("ticker", "date").rows() == [("BBB", NYSE_DAYS[600])]
    clean, broken = (out.filter(pl.col("ticker") == t) for t in ("AAA", "BBB"))
    for name in factors.FACTOR_COLUMNS:
        assert broken[name].to_list()[700] == pytest.approx(clean[name].to_list()[700], rel=1e-9)
    # A real crash inside the bound (-60 %) is kept.
    crash = close.copy()
    crash[600:] *= 0.4
    assert not factors.add_factors(_panel({"CCC": crash}))["implausible_move"].any()


def test_windows_count_sessions_and_a_long_gap_empties_them() -> None:
    close = _walk(3)
    bars = _panel({"AAA": close})
    holed = bars.filter(~pl.col("date").is_between(NYSE_DAYS[580], NYSE_DAYS[599]))
    full = factors.add_factors(bars)
    out = factors.add_factors(holed)

    def at(frame: pl.DataFrame, i: int) -> dict:
        return frame.filter(pl.col("date") == NYSE_DAYS[i]).row(0, named=True)

    # The reversal window of session 605 holds 5 clean returns: too few (15 of 21 needed).
    assert at(out, 605)["reversal_1m"] is None
    # Momentum's endpoint t-21 = 584 falls in the gap: bridged from the bar at 579 (5 back) ...
    assert at(out, 605)["momentum_12_1"] == pytest.approx(close[579] / close[353] - 1, rel=1e-9)
    # ... but not from 7 sessions back.
    assert at(out, 607)["momentum_12_1"] is None
    # Endpoints on bars: the move across the gap counts, and 210 of 231 returns are enough.
    same = at(full, 625)["momentum_12_1"]
    assert at(out, 625)["momentum_12_1"] == pytest.approx(same, rel=1e-9)
    # 633 sessions after the gap everything is back.
    late = out.filter(pl.col("date") == NYSE_DAYS[900]).row(0, named=True)
    assert all(late[c] is not None for c in factors.FACTOR_COLUMNS)


# --- relative scores -------------------------------------------------------------------


def test_relative_scores_rank_within_the_listing_group_and_date() -> None:
    day = dt.date(2024, 3, 8)
    tickers = ["A", "B", "C", "D", "E", "A.BA", "B.BA", "C.BA", "D.BA", "^MERV", "F"]
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 1.0, 2.0, 3.0, 4.0, 9.0, None]
    frame = pl.DataFrame({"date": [day] * len(tickers), "ticker": tickers, "x": values})
    out = frame.with_columns(relative.listing_group().alias("group")).with_columns(
        relative.relative_score("x")
    )
    got = dict(zip(out["ticker"], zip(out["x_score"], out["x_reason"], strict=True), strict=True))
    assert [got[t][0] for t in "ABCDE"] == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert got["C"] == (50.0, None)  # the median stock
    assert {got[t] for t in ("A.BA", "B.BA", "C.BA", "D.BA")} == {(None, "too_few_peers")}
    assert got["^MERV"] == (None, "no_group")
    assert got["F"] == (None, "no_data")


# --- calls -----------------------------------------------------------------------------


def _scored(n_tickers: int, days: list[dt.date], seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "date": [d for d in days for _ in range(n_tickers)],
            "ticker": [f"T{i}" for _ in days for i in range(n_tickers)],
            "group": "ADR",
            "total_score": rng.uniform(0, 100, n_tickers * len(days)),
        }
    )


def test_calls_are_set_on_the_first_session_of_the_month_in_fixed_proportions() -> None:
    days = [d for d in NYSE_DAYS if dt.date(2023, 1, 1) <= d <= dt.date(2023, 6, 30)]
    out = calls.monthly_calls(_scored(10, days))
    firsts = out.filter(pl.col("date") == pl.col("formed_on"))
    assert sorted(firsts["formed_on"].unique()) == [
        dt.date(2023, m, d) for m, d in ((1, 3), (2, 1), (3, 1), (4, 3), (5, 1), (6, 1))
    ]
    per_day = firsts.group_by("date", "recommendation").len()
    assert set(per_day.filter(pl.col("recommendation") == "COMPRAR")["len"]) == {2}
    assert set(per_day.filter(pl.col("recommendation") == "VENDER")["len"]) == {2}
    is_buy = pl.col("recommendation") == "COMPRAR"
    edges = firsts.group_by("date").agg(
        pl.col("total_score").filter(is_buy).min().alias("buy"),
        pl.col("total_score").filter(~is_buy).max().alias("rest"),
    )
    assert (edges["buy"] > edges["rest"]).all()
    # Held all month: one call per (ticker, month).
    per_month = out.group_by("ticker", "formed_on").agg(pl.col("recommendation").n_unique())
    assert per_month["recommendation"].max() == 1


def test_a_ticker_without_a_score_on_the_formation_session_gets_no_call_that_month() -> None:
    days = [d for d in NYSE_DAYS if dt.date(2023, 3, 1) <= d <= dt.date(2023, 3, 31)]
    frame = _scored(6, days).with_columns(
        pl.when((pl.col("ticker") == "T0") & (pl.col("date") == days[0]))
        .then(None)
        .otherwise(pl.col("total_score"))
        .alias("total_score")
    )
    out = calls.monthly_calls(frame)
    t0 = out.filter(pl.col("ticker") == "T0")
    assert t0["recommendation"].null_count() == len(days)
    assert set(t0["call_reason"]) == {calls.REASON_NOT_FORMED}
    no_bar = calls.monthly_calls(
        frame.filter((pl.col("ticker") != "T1") | (pl.col("date") > days[0]))
    )
    assert set(no_bar.filter(pl.col("ticker") == "T1")["call_reason"]) == {calls.REASON_NO_BAR}
    few = calls.monthly_calls(_scored(4, days))
    assert set(few["call_reason"]) == {calls.REASON_TOO_FEW_PEERS}


def test_both_listings_of_a_company_carry_the_call_of_the_longer_history() -> None:
    day = dt.date(2023, 3, 1)
    frame = pl.DataFrame(
        {
            "date": [day] * 4,
            "ticker": ["GGAL", "GGAL.BA", "CEPU", "CEPU.BA"],
            "recommendation": ["COMPRAR", "VENDER", "VENDER", "MANTENER"],
            "history_bars": [257, 257, 100, 257],
        }
    )
    out = calls.company_calls(frame)
    got = {r["ticker"]: (r["recommendation"], r["call_listing"]) for r in out.iter_rows(named=True)}
    assert got["GGAL"] == got["GGAL.BA"] == ("COMPRAR", "GGAL")  # tie: the ADR decides
    assert got["CEPU"] == got["CEPU.BA"] == ("MANTENER", "CEPU.BA")  # longer history


def test_adr_ratios_match_the_prices_of_the_sample(sample_prices: pl.DataFrame) -> None:
    wide = sample_prices.pivot(on="ticker", index="date", values="close_raw")
    ccl = wide["YPFD.BA"] / wide["YPF"]  # one YPF ADR is one YPFD share
    checked = 0
    for local, (adr, shares) in calls.ADR_PAIRS.items():
        if local not in wide.columns or adr not in wide.columns:
            continue
        implied = (wide[adr] * ccl / wide[local]).drop_nulls()
        assert implied.median() == pytest.approx(shares, rel=0.05), local
        checked += 1
    assert checked == 11


# --- target range and risk ---------------------------------------------------------------


def test_target_range_is_the_percentiles_of_past_63_session_returns() -> None:
    close = _walk(4, n=1200)
    out = model.price_model(_panel({"AAA": close}).with_columns(close_raw=pl.col("close")))
    t = 1100
    logs = np.log(close)
    past = logs[t - 693 : t + 1] - logs[t - 693 - 63 : t + 1 - 63]
    row = out.row(t, named=True)
    for col, q in (("q_low", 10), ("q_mid", 50), ("q_high", 90)):
        assert row[col] == pytest.approx(np.percentile(past, q), rel=1e-9)
    assert out.row(500, named=True)["q_low"] is None  # 438 returns: under 15/21 of 694


def test_a_daily_run_gets_the_same_target_range_from_its_own_rows() -> None:
    """Asked for a few dates, the model sorts those rows' windows only: the same numbers."""
    paths = {f"T{i}": _walk(20 + i, n=n) for i, n in enumerate((1100, 1100, 900, 500))}
    panel = _panel(paths).with_columns(close_raw=pl.col("close"))
    holed = panel.filter((pl.col("ticker") != "T1") | (pl.int_range(pl.len()) % 9 != 0))
    days = [NYSE_DAYS[480], NYSE_DAYS[700], NYSE_DAYS[1099]]
    every_row = model.price_model(holed).filter(pl.col("date").is_in(days))
    rows = model.price_model(holed, days).filter(pl.col("date").is_in(days))
    assert rows.equals(every_row)  # bit for bit, nulls included
    short = rows.filter(pl.col("q_low").is_null())  # under 15/21 of 694 returns yet
    assert set(short["date"]) == {NYSE_DAYS[480]} and short.height == 4
    assert rows.height == 4 + 3 + 2 - 1  # T1 has a hole on one of the days


def test_ewma_volatility_is_riskmetrics_truncated_at_one_percent() -> None:
    assert forecast.EWMA_SESSIONS == 75
    close = _walk(5)
    out = model.price_model(_panel({"AAA": close}))
    r = np.diff(np.log(close))
    t = 500
    window = r[t - 75 : t][::-1]  # newest first
    w = 0.94 ** np.arange(75)
    expected = math.sqrt((w * window**2).sum() / w.sum() * 252)
    assert out.row(t, named=True)["ewma_volatility"] == pytest.approx(expected, rel=1e-9)


def test_risk_levels_are_volatility_terciles_within_the_group() -> None:
    paths = {f"T{i}": _walk(10 + i, sigma=0.004 * 1.5**i) for i in range(6)}
    out = model.price_model(_panel(paths)).with_columns(relative.listing_group().alias("group"))
    day = out.filter(pl.col("date") == NYSE_DAYS[400]).with_columns(forecast.risk_level())
    levels = dict(zip(day["ticker"], day["risk_level"], strict=True))
    assert levels == {
        "T0": "BAJO", "T1": "BAJO", "T2": "MEDIO", "T3": "MEDIO", "T4": "ALTO", "T5": "ALTO"
    }  # fmt: skip


# --- the whole model on the sample ---------------------------------------------------------


def test_the_model_on_the_sample_meets_its_stated_properties(sample_model: pl.DataFrame) -> None:
    calls_made = sample_model.filter(pl.col("recommendation").is_not_null()).sort("ticker", "date")
    # BYMA.BA's unadjusted -88 % on 2022-07-07 is the only implausible move.
    flagged = sample_model.filter(pl.col("implausible_move")).select("ticker", "date").rows()
    assert flagged == [("BYMA.BA", dt.date(2022, 7, 7))]
    # One call per company on every shared date.
    pairs = calls.pairs_frame()
    shared = pairs.join(
        calls_made.select("date", "ticker", "recommendation"), left_on="local", right_on="ticker"
    ).join(
        calls_made.select("date", "ticker", "recommendation"),
        left_on=["adr", "date"],
        right_on=["ticker", "date"],
    )
    assert shared.height > 10_000
    assert (shared["recommendation"] == shared["recommendation_right"]).all()
    # Scores are ranks: the median stock of a group is at 50 on each date.
    medians = calls_made.group_by("date", "group").agg(pl.col("technical_score").median())
    assert medians["technical_score"].median() == pytest.approx(50.0)


def test_a_day_needs_only_the_lookback_the_daily_run_loads(sample_prices: pl.DataFrame) -> None:
    full = model.evaluate(sample_prices, DEFAULT_WEIGHTS)
    exact = ["ticker", "recommendation", "call_listing", "risk_level", "total_score"]
    exact += ["technical_score", "formed_on", "history_bars"]
    close = ["target_low", "target_price", "target_high", *factors.FACTOR_COLUMNS]
    for day in (dt.date(2016, 6, 1), dt.date(2020, 3, 20), dt.date(2022, 8, 1)):
        first = min(
            trading_days(exchange, day - dt.timedelta(days=2000), day)[-model.LOOKBACK_SESSIONS - 1]
            for exchange in ("XBUE", "XNYS")
        )
        window = sample_prices.filter(pl.col("date").is_between(first, day))
        daily = model.evaluate(window, DEFAULT_WEIGHTS).filter(pl.col("date") == day)
        stored = full.filter(pl.col("date") == day)
        assert daily.height == stored.height > 20
        daily, stored = daily.sort("ticker"), stored.sort("ticker")
        assert daily.select(exact).equals(stored.select(exact))
        for name in close:  # equal to the 10 significant digits the store keeps
            assert np.allclose(daily[name], stored[name], rtol=1e-12, atol=0, equal_nan=True)
            assert daily[name].is_null().equals(stored[name].is_null())
