"""The whole analysis on the bundled sample: what the store and the dashboard will read."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import polars as pl
import pytest

from pipeline.analysis import analyse
from pipeline.analysis.frames import DETAIL_COLUMNS, RECOMMENDATION_COLUMNS, MarketData
from pipeline.analysis.stages import analyse_in_parts
from pipeline.settings import Settings
from pipeline.sources import load_market_data
from store import writes
from store.connection import open_writer

# What the dashboard draws candles from, and the TA-Lib names the detail must carry.
TECHNICAL_RAW_KEYS = {"open", "high", "low", "close", "close_raw", "adj_close", "volume"}
TECHNICAL_RAW_KEYS |= {"usdars_ccl"}
TALIB_NAMES = {"sma_20", "sma_50", "sma_200", "ema_12", "ema_26", "macd", "macd_signal"}
TALIB_NAMES |= {"macd_hist", "rsi_14", "bb_upper", "bb_middle", "bb_lower", "atr_14"}


@pytest.fixture(scope="module")
def sample() -> MarketData:
    """The bundled sample from 2022 on: enough warm-up for the last quarter of 2023."""
    return load_market_data("sample", start=dt.date(2022, 1, 1), end=dt.date(2023, 12, 31))


@pytest.fixture(scope="module")
def last_days(sample: MarketData) -> list[dt.date]:
    """The last 60 trading days of 2023 in the sample."""
    return sample.prices["date"].unique().sort().tail(60).to_list()


@pytest.fixture(scope="module")
def result(sample: MarketData, last_days: list[dt.date]):
    return analyse(sample, Settings(), last_days)


def test_every_ticker_with_a_bar_gets_one_recommendation_per_day_or_an_error(
    sample, last_days, result
) -> None:
    recs = result.recommendations
    assert recs.columns == RECOMMENDATION_COLUMNS
    expected = sample.prices.filter(pl.col("date").is_in(last_days)).select("date", "ticker")
    got = recs.select(pl.col("analysis_date").alias("date"), "ticker")
    assert got.is_duplicated().sum() == 0
    missing = expected.join(got, on=["date", "ticker"], how="anti")
    # ALUA.BA is alone with YPFD.BA on BYMA in late 2023: too few peers to rank it.
    assert set(missing["ticker"]) == {"ALUA.BA"}
    (error,) = [e for e in result.errors if e["ticker"] == "ALUA.BA"]
    assert "fewer than 5 stocks of its listing group" in error["message"]
    assert error["code"] == "too_few_peers_on_formation_session"  # the dashboard words it
    assert error["params"]["needed"] == 5 and error["params"]["dates"] >= 1
    assert got.join(expected, on=["date", "ticker"], how="anti").is_empty()
    assert set(recs["analysis_date"]) == set(last_days)


def test_each_recommendation_has_four_details_with_valid_json(result) -> None:
    details = result.details
    assert details.columns == DETAIL_COLUMNS
    per_call = details.group_by("analysis_date", "ticker").agg(pl.col("analysis_type").sort())
    assert per_call.height == result.recommendations.height
    assert (
        per_call["analysis_type"].to_list()
        == [["fundamental", "macro", "sentiment", "technical"]] * per_call.height
    )
    for column in ("raw_data", "indicators", "metadata"):
        for text in details[column]:
            assert isinstance(json.loads(text), dict)
    row_bytes = pl.sum_horizontal(pl.col("raw_data", "indicators", "metadata").str.len_bytes())
    # About 1.5 KB per detail row: the technical one holds the TA-Lib values, the votes, the
    # four factors with their ranks, the call's formation and the target percentiles.
    assert details.select(row_bytes.max()).item() < 1600


def test_technical_details_carry_candles_and_every_indicator(result) -> None:
    tech = result.details.filter(pl.col("analysis_type") == "technical")
    raw = json.loads(tech["raw_data"][0])
    indicators = json.loads(tech["indicators"][0])
    assert raw.keys() >= TECHNICAL_RAW_KEYS
    assert indicators.keys() >= TALIB_NAMES | {"volatility_20"}
    assert raw["usdars_ccl"] is not None  # the Rava CCL runs to 2024-11
    assert all(indicators[name] is not None for name in ("sma_200", "rsi_14", "macd", "atr_14"))


def test_sentiment_is_null_with_a_reason_on_the_sample(result) -> None:
    assert result.recommendations["sentiment_score"].null_count() == result.recommendations.height
    sentiment = result.details.filter(pl.col("analysis_type") == "sentiment")
    reasons = {json.loads(m)["reason"] for m in sentiment["metadata"]}
    assert reasons == {"the source supplied no headlines for this ticker up to this date"}


def test_null_components_say_why_and_present_ones_do_not(result) -> None:
    codes = set()
    for row in result.details.iter_rows(named=True):
        metadata = json.loads(row["metadata"])
        reason, code, params = (metadata[k] for k in ("reason", "reason_code", "reason_params"))
        assert (row["score"] is None) == (reason is not None) == (code is not None)
        assert (params is None) == (code is None) and (params is None or isinstance(params, dict))
        codes.add(code)
    assert {"no_news_for_ticker", "no_fundamentals"} <= codes


def test_scores_prices_and_calls_are_within_the_store_limits(result) -> None:
    recs = result.recommendations
    for column in ("total_score", "confidence", "technical_score", "macro_score"):
        values = recs[column].drop_nulls()
        assert values.is_between(0, 100).all()
        assert (values.round(2) == values).all()
    assert (recs["current_price"] < 1e8).all() and (recs["target_price"] < 1e8).all()
    assert set(recs["recommendation"]) <= {"COMPRAR", "MANTENER", "VENDER"}
    assert set(recs["risk_level"].drop_nulls()) <= {"BAJO", "MEDIO", "ALTO"}
    # A risk level is a tercile within the listing group: NULL only where it has < 5 stocks.
    unranked = recs.filter(pl.col("risk_level").is_null())["ticker"]
    assert unranked.str.ends_with(".BA").all()
    ranges = recs.drop_nulls("target_low")
    assert (ranges["target_low"] <= ranges["target_price"]).all()
    assert (ranges["target_price"] <= ranges["target_high"]).all()


def test_the_macro_score_is_the_same_for_every_ticker_on_a_date(result) -> None:
    spread = result.recommendations.group_by("analysis_date").agg(pl.col("macro_score").n_unique())
    assert (spread["macro_score"] == 1).all()


def test_summaries_are_spanish_and_name_the_ticker_the_call_and_its_own_ranks(result) -> None:
    for row in result.recommendations.iter_rows(named=True):
        assert row["summary"].startswith(f"{row['ticker']}: {row['recommendation']} desde el ")
        assert "/100" in row["summary"]
        assert row["summary"].endswith("(sin fundamentos ni noticias).")  # none on the sample
    # Not the same sentence for every ticker of a day (as the macro-driven summaries were).
    per_day = result.recommendations.group_by("analysis_date").agg(pl.col("summary").n_unique())
    assert (per_day["summary"] > 5).all()


def test_tickers_without_a_bar_on_the_dates_are_reported(sample, result) -> None:
    ended = {"BYMA.BA", "TXAR.BA"}  # the sample's closes for these end in 2022-08
    reported = {e["ticker"]: e for e in result.errors}
    assert ended <= reported.keys()
    assert "no price bar" in reported["BYMA.BA"]["message"]
    assert reported["BYMA.BA"]["code"] == "no_bar_in_range"
    last = sample.prices.filter(pl.col("ticker") == "BYMA.BA")["date"].max()
    assert reported["BYMA.BA"]["params"] == {"last": last.isoformat()}
    assert not ended & set(result.recommendations["ticker"])


def test_a_ticker_with_too_little_history_gets_an_error_not_a_call(sample) -> None:
    young = (
        sample.prices.filter(pl.col("ticker") == "GGAL").tail(40).with_columns(ticker=pl.lit("NEW"))
    )
    data = MarketData("test", prices=pl.concat([sample.prices, young]), macro=sample.macro)
    result = analyse(data, Settings(), [young["date"].max()])
    assert "NEW" not in set(result.recommendations["ticker"])
    (error,) = [e for e in result.errors if e["ticker"] == "NEW"]
    assert error["analysis_type"] == "technical"
    assert "too little clean price history" in error["message"]
    assert error["code"] == "no_total_on_formation_session"


def test_the_analysis_in_parts_of_whole_dates_is_the_analysis(sample, last_days, result) -> None:
    parts = list(analyse_in_parts(sample, Settings(), last_days, calls_per_part=150))
    assert len(parts) > 3
    dates = [set(p.recommendations["analysis_date"]) for p in parts]
    assert all(max(a) < min(b) for a, b in itertools.pairwise(dates))  # in order
    for name in ("recommendations", "details", "market_view"):
        joined = pl.concat([getattr(p, name) for p in parts])
        if name == "details":  # each part's details come in the whole's order of kinds
            key = ["analysis_type", "analysis_date", "ticker"]
            joined, whole = joined.sort(key, maintain_order=True), result.details.sort(key)
        else:
            whole = getattr(result, name)
        assert joined.equals(whole), name  # bit for bit, nulls included
    assert parts[0].errors == result.errors
    assert all(not p.errors for p in parts[1:])
    assert set(parts[0].timings) == set(result.timings)
    assert all(set(p.timings) == {"details"} for p in parts[1:])


def test_every_date_of_the_panel_is_analysed_when_no_dates_are_given(sample) -> None:
    adrs = sample.prices.filter(~pl.col("ticker").str.ends_with(".BA"))
    result = analyse(MarketData("test", prices=adrs), Settings())
    analysed = result.recommendations["analysis_date"].unique().sort()
    # From the first month whose first session has 63 sessions of history behind it on.
    first_formed = analysed.min()
    assert isinstance(first_formed, dt.date) and first_formed.day <= 3
    assert (
        analysed.to_list()
        == adrs.filter(pl.col("date") >= first_formed)["date"].unique().sort().to_list()
    )
    assert result.recommendations["macro_score"].null_count() == result.recommendations.height


def test_the_store_accepts_the_analysis(db_path, result) -> None:
    with open_writer(db_path) as con:
        dates = sorted(set(result.recommendations["analysis_date"]))
        written = writes.replace_partitions(con, dates, [(result.recommendations, result.details)])
    assert written == result.recommendations.height


def test_ypf_filings_feed_the_fundamental_score_from_their_filing_date() -> None:
    data = load_market_data("sample", start=dt.date(2018, 1, 1), end=dt.date(2019, 4, 30))
    days = [dt.date(2019, 4, 3), dt.date(2019, 4, 4)]  # the FY2018 20-F was filed on 4 April
    details = analyse(data, Settings(), days).details.filter(
        (pl.col("analysis_type") == "fundamental") & (pl.col("ticker") == "YPF")
    )
    metadata = [json.loads(m) for m in details.sort("analysis_date")["metadata"]]
    assert [m["as_of"] for m in metadata] == [
        {"filed": "2018-04-24", "period_end": "2017-12-31"},
        {"filed": "2019-04-04", "period_end": "2018-12-31"},
    ]
    # YPF is the only stock with fundamentals: its level is kept, but it cannot be ranked.
    levels = [json.loads(i)["level"] for i in details.sort("analysis_date")["indicators"]]
    assert all(level is not None for level in levels)
    assert details["score"].null_count() == 2
    assert {m["reason"] for m in metadata} == {
        "fewer than 5 stocks of the listing group have a value on this date"
    }


def test_headlines_reach_the_sentiment_score_and_the_summary(sample, last_days) -> None:
    day = last_days[-1]
    tone = {"YPF": "profit surges", "GGAL": "record gains", "PAM": "losses widen"}
    tone |= {"TGS": "weak demand", "BMA": "shares fall"}
    news = pl.DataFrame(
        {
            "date": [day] * len(tone),
            "ticker": list(tone),
            "headline": [f"{t} {h}" for t, h in tone.items()],
            "source": ["t"] * len(tone),
        }
    )
    data = MarketData("test", prices=sample.prices, macro=sample.macro, news=news)
    recs = analyse(data, Settings(), [day]).recommendations
    ranked = dict(zip(recs["ticker"], recs["sentiment_score"], strict=True))
    assert ranked["YPF"] > ranked["PAM"]  # ranked among the five stocks with headlines
    assert {t for t, s in ranked.items() if s is not None} == set(tone)
    ypf = recs.filter(pl.col("ticker") == "YPF").row(0, named=True)
    assert "noticias" in ypf["summary"] and "Se basa solo" not in ypf["summary"]
