"""The four component scores and their combination, on crafted inputs with known results."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import polars as pl
import pytest

from pipeline.analysis.factors import FACTOR_COLUMNS
from pipeline.analysis.frames import FUNDAMENTALS_SCHEMA, MACRO_SCHEMA, NEWS_SCHEMA
from pipeline.analysis.indicators import INDICATOR_COLUMNS
from pipeline.analysis.scoring import (
    fundamental,
    macro,
    sentiment,
    summary_es,
    technical,
)
from pipeline.analysis.scoring.combine import combine, numbers_es
from ui import format as fmt

DAY = dt.date(2024, 3, 8)
FLOAT_COLUMNS = (
    "open",
    "high",
    "low",
    "close",
    "close_raw",
    "adj_close",
    "volume",
    "usdars_ccl",
    *(name for name in INDICATOR_COLUMNS if name != "bars"),
)
# Every vote neutral: price on its averages, RSI 50, MACD on its signal, flat month.
NEUTRAL = {
    "open": 100.0,
    "high": 101.0,
    "low": 99.0,
    "close": 100.0,
    "close_raw": 100.0,
    "adj_close": 100.0,
    "volume": 1000.0,
    "sma_20": 100.0,
    "sma_50": 100.0,
    "sma_200": 100.0,
    "ema_12": 100.0,
    "ema_26": 100.0,
    "macd": 0.0,
    "macd_signal": 0.0,
    "macd_hist": 0.0,
    "rsi_14": 50.0,
    "bb_upper": 110.0,
    "bb_middle": 100.0,
    "bb_lower": 90.0,
    "atr_14": 2.0,
    "volatility_20": 0.45,
    "log_return": 0.0,
    "return_20d": 0.0,
    "return_60d": 0.0,
    "return_252d": 0.0,
    "volume_sma_20": 1000.0,
    "high_252": 110.0,
    "drawdown_252": -0.09,
    "bars": 400,
}
UPTREND = {
    "close": 120.0,
    "sma_20": 110.0,
    "sma_50": 100.0,
    "sma_200": 90.0,
    "macd": 1.0,
    "macd_signal": 0.5,
    "return_20d": 0.08,
    "bb_upper": 130.0,
}
DOWNTREND = {
    "close": 80.0,
    "sma_20": 90.0,
    "sma_50": 100.0,
    "sma_200": 110.0,
    "macd": -1.0,
    "macd_signal": -0.5,
    "return_20d": -0.08,
    "bb_lower": 70.0,
}


def bars(*rows: dict) -> pl.DataFrame:
    """Panel rows: NEUTRAL overridden by each dict (which may set ticker and date)."""
    full = [{"ticker": "GGAL", "date": DAY, **NEUTRAL, **row} for row in rows]
    schema = {"ticker": pl.String, "date": pl.Date, "bars": pl.Int64}
    schema |= dict.fromkeys(FLOAT_COLUMNS, pl.Float64)
    return pl.DataFrame(full, schema=schema)


def technical_scores(*rows: dict) -> list[float]:
    return technical.score_technical(bars(*rows).lazy()).collect()["technical_score"].to_list()


# --- technical ---------------------------------------------------------------------------


def test_uptrend_scores_above_50_and_downtrend_mirrors_it() -> None:
    neutral, up, down = technical_scores({}, UPTREND, DOWNTREND)
    assert neutral == 50.0
    assert up > 60.0 and down < 40.0
    assert up - 50.0 == pytest.approx(50.0 - down)


@pytest.mark.parametrize(("rsi", "vote"), [(75.0, -1), (25.0, 1), (50.0, 0)])
def test_rsi_votes_sell_when_overbought_and_buy_when_oversold(rsi: float, vote: int) -> None:
    scored = technical.score_technical(bars({"rsi_14": rsi}).lazy()).collect()
    assert scored["vote_rsi_14"].item() == vote
    assert (scored["technical_score"].item() - 50.0) * vote >= 0


def test_close_above_upper_bollinger_band_votes_sell() -> None:
    scored = technical.score_technical(bars({"close": 115.0}, {"close": 85.0}).lazy()).collect()
    assert scored["vote_bollinger"].to_list() == [-1, 1]


def test_short_history_gives_no_technical_score_and_says_why() -> None:
    row = {"sma_50": None, "sma_200": None, "bars": 30}
    scored = technical.score_technical(bars(row).lazy()).collect()
    assert scored["technical_score"].item() is None
    assert "30 bars" in scored["technical_reason"].item()


def test_missing_volume_leaves_the_volume_votes_out() -> None:
    scored = technical.score_technical(bars({"volume": None}, UPTREND).lazy()).collect()
    assert scored["technical_volume"].to_list()[0] is None
    assert scored["technical_score"][0] == 50.0
    assert scored["technical_completeness"][0] < scored["technical_completeness"][1]


def test_technical_factor_points_add_up_to_the_score() -> None:
    scored = technical.score_technical(bars(UPTREND, DOWNTREND, {"rsi_14": 80.0}).lazy())
    points = scored.select(
        pl.sum_horizontal(f.points for f in technical.factors()).alias("points"),
        pl.col("technical_score") - 50.0,
    ).collect()
    assert points["points"].to_list() == pytest.approx(
        points["technical_score"].to_list(), abs=0.01
    )


# --- fundamental -------------------------------------------------------------------------


def facts(*rows: tuple) -> pl.LazyFrame:
    """Fundamentals rows (ticker, period_end, filed, metric, value, unit)."""
    return pl.DataFrame(rows, schema=FUNDAMENTALS_SCHEMA, orient="row").lazy()


def ypf_filing(filed: dt.date, eps: float, year: int = 2019) -> list[tuple]:
    end = dt.date(year, 12, 31)
    return [
        ("YPF", end, filed, "eps_basic_diluted", eps, "ARS/shares"),
        ("YPF", end, filed, "net_income", 10_000.0, "ARS"),
        ("YPF", end, filed, "revenue", 100_000.0, "ARS"),
    ]


def price_rows(
    *days: dt.date,
    ticker: str = "YPF",
    close: float = 10.0,
    rate: float = 100.0,
    ccl: float | None = 100.0,
) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "ticker": [ticker] * len(days),
            "date": list(days),
            "close_raw": [close] * len(days),
            "usdars_official": [rate] * len(days),
            "usdars_ccl": [ccl] * len(days),
        },
        schema_overrides={"usdars_ccl": pl.Float64},
    )


NO_RATES = pl.LazyFrame(schema={"date": pl.Date, "family": pl.String, "value": pl.Float64})


def score_fundamentals(panel: pl.LazyFrame, fundamentals: pl.LazyFrame) -> pl.DataFrame:
    return fundamental.score_fundamental(panel, fundamentals, NO_RATES).collect()


def test_fundamentals_are_not_used_before_their_filing_date() -> None:
    filed = dt.date(2020, 4, 24)
    panel = price_rows(filed - dt.timedelta(days=1), filed)
    scored = score_fundamentals(panel, facts(*ypf_filing(filed, eps=50.0)))
    before, on_the_day = scored.rows(named=True)
    assert before["fundamental_score"] is None
    assert "no fundamentals filed" in before["fundamental_reason"]
    assert on_the_day["fundamental_score"] is not None


def test_a_later_filing_replaces_the_earlier_one_from_its_filing_date() -> None:
    first, second = dt.date(2019, 4, 4), dt.date(2020, 4, 24)
    rows = ypf_filing(first, eps=50.0, year=2018) + ypf_filing(second, eps=20.0, year=2019)
    panel = price_rows(second - dt.timedelta(days=1), second)
    scored = score_fundamentals(panel, facts(*rows))
    # The USD price 10 at a CCL of 100 ARS/USD is 1000 ARS: P/E 1000/50, then 1000/20.
    assert scored["pe"].to_list() == pytest.approx([20.0, 50.0])


def test_a_figure_missing_from_the_latest_report_is_not_carried_over() -> None:
    first, second = dt.date(2019, 4, 4), dt.date(2020, 4, 24)
    dividends = ("YPF", dt.date(2018, 12, 31), first, "dividends_paid", 100.0, "ARS")
    shares = ("YPF", dt.date(2019, 12, 31), second, "shares_outstanding", 10.0, "shares")
    rows = [*ypf_filing(first, 50.0, year=2018), dividends, *ypf_filing(second, 20.0), shares]
    scored = score_fundamentals(price_rows(second), facts(*rows))
    assert scored["dividends_paid"].item() is None
    assert scored["statement_currency"].item() == "ARS"


def test_a_filing_older_than_the_limit_is_not_used() -> None:
    filed = dt.date(2020, 4, 24)
    late = filed + dt.timedelta(days=fundamental.MAX_FILING_AGE_DAYS + 1)
    scored = score_fundamentals(price_rows(late), facts(*ypf_filing(filed, eps=50.0)))
    assert scored["fundamental_score"].item() is None
    assert "over the 550-day limit" in scored["fundamental_reason"].item()
    # The same reason for programs: a code and its parameters.
    assert scored["fundamental_reason_code"].item() == "filing_too_old"
    params = json.loads(scored["fundamental_reason_params"].item())
    assert params == {"filed": "2020-04-24", "age_days": 551, "limit_days": 550}


def test_a_ticker_without_fundamentals_is_null_with_a_reason() -> None:
    scored = score_fundamentals(
        price_rows(DAY, ticker="GGAL"), facts(*ypf_filing(dt.date(2020, 4, 24), 50.0))
    )
    assert scored["fundamental_score"].item() is None
    # The same words whether the ticker never had a filing or has none yet: a call may use only
    # data up to its date, which cannot tell the two apart.
    reason = "the source has no fundamentals filed on or before this date"
    assert scored["fundamental_reason"].item() == reason


def ypf_book_and_dividends(filed: dt.date) -> list[tuple]:
    """YPF's 2019 20-F figures (sample file): equity, shares, and a dividend of 4 bn ARS."""
    end = dt.date(2019, 12, 31)
    return [
        ("YPF", end, filed, "equity_attributable_to_parent", 542_549_000_000.0, "ARS"),
        ("YPF", end, filed, "shares_outstanding", 393_312_793.0, "shares"),
        ("YPF", end, filed, "dividends_paid", -4_000_000_000.0, "ARS"),
    ]


def test_peso_ratios_take_the_local_shares_price_not_the_adr_at_the_official_rate() -> None:
    filed = dt.date(2020, 4, 24)
    # The ADR closes at 6 USD; the official rate is 70 and the CCL 110 (2020's gap). The local
    # share YPFD.BA closes at 650 ARS that day (one share per ADR).
    adr = price_rows(filed, close=6.0, rate=70.0, ccl=110.0)
    local = price_rows(filed, ticker="YPFD.BA", close=650.0, rate=70.0, ccl=110.0)
    scored = score_fundamentals(pl.concat([adr, local]), facts(*ypf_book_and_dividends(filed)))
    row = scored.row(0, named=True)
    # By hand: P/B = 650 x 393,312,793 / 542,549,000,000 = 0.47121; dividend yield =
    # 4e9 / 393,312,793 / 650 = 1.5646 %. At 6 x 70 = 420 ARS they would be 0.30447 and 2.4214 %.
    assert row["price_basis"] == "local_share" and row["price_stmt"] == 650.0
    assert row["pb"] == pytest.approx(0.471208, rel=1e-5)
    assert row["dividend_yield"] == pytest.approx(0.0156462, rel=1e-5)


def test_without_a_local_close_the_adr_converts_at_the_ccl_per_ordinary_share() -> None:
    filed = dt.date(2020, 4, 24)
    panel = price_rows(filed, close=6.0, rate=70.0, ccl=110.0)  # no YPFD.BA bar that day
    row = score_fundamentals(panel, facts(*ypf_book_and_dividends(filed))).row(0, named=True)
    # 6 USD x 110 / 1 share per ADR = 660 ARS: P/B = 660 x 393,312,793 / 542,549e6 = 0.47846.
    assert row["price_basis"] == "adr_ccl" and row["price_stmt"] == pytest.approx(660.0)
    assert row["pb"] == pytest.approx(0.478457, rel=1e-5)
    # GGAL's ADR is 10 local shares: one ordinary share is worth a tenth of the ADR.
    ggal = price_rows(filed, ticker="GGAL", close=20.0, rate=70.0, ccl=110.0)
    facts_ggal = facts(
        ("GGAL", dt.date(2019, 12, 31), filed, "eps_basic_diluted", 22.0, "ARS/shares")
    )
    pe = score_fundamentals(ggal, facts_ggal)["pe"].item()
    assert pe == pytest.approx(20.0 * 110.0 / 10.0 / 22.0)


def test_without_a_local_close_or_a_ccl_price_ratios_are_skipped_and_said() -> None:
    filed = dt.date(2020, 4, 24)
    panel = price_rows(filed, close=6.0, rate=70.0, ccl=None)
    scored = score_fundamentals(panel, facts(*ypf_book_and_dividends(filed)))
    assert scored["pb"].item() is None and scored["dividend_yield"].item() is None
    warnings = json.loads(scored.select(fundamental.detail("sample")["metadata"]).item())[
        "warnings"
    ]
    assert "no local share price and no CCL: price-based ratios skipped" in warnings


def test_a_loss_makes_valuation_the_worst() -> None:
    filed = dt.date(2020, 4, 24)
    scored = score_fundamentals(price_rows(filed), facts(*ypf_filing(filed, eps=-5.0)))
    assert scored["fundamental_valuation"].item() == 0.0


def test_source_ratios_score_cheap_and_profitable_above_expensive_and_weak() -> None:
    filed = dt.date(2024, 3, 1)

    def ratios(ticker: str, pe: float, roe: float) -> list[tuple]:
        return [
            (ticker, None, filed, "trailing_pe", pe, "ratio"),
            (ticker, None, filed, "return_on_equity", roe, "ratio"),
        ]

    panel = pl.concat([price_rows(DAY, ticker="GOOD"), price_rows(DAY, ticker="BAD")])
    scored = score_fundamentals(
        panel, facts(*ratios("GOOD", 6.0, 0.25), *ratios("BAD", 40.0, -0.1))
    )
    good, bad = scored["fundamental_score"].to_list()
    assert good > 80.0 > 20.0 > bad
    assert scored["fundamental_completeness"].to_list() == [0.4, 0.4]


def test_ars_revenue_growth_is_measured_in_dollars() -> None:
    # Revenue doubles in pesos while the peso halves: no growth in dollars.
    filed = dt.date(2020, 4, 24)
    rows = [
        ("YPF", dt.date(2018, 12, 31), filed, "revenue", 100.0, "ARS"),
        ("YPF", dt.date(2019, 12, 31), filed, "revenue", 200.0, "ARS"),
    ]
    rates = pl.LazyFrame(
        {
            "date": [dt.date(2018, 12, 28), dt.date(2019, 12, 30)],
            "family": ["base", "base"],
            "value": [40.0, 80.0],
        }
    )
    scored = fundamental.score_fundamental(price_rows(filed), facts(*rows), rates).collect()
    assert scored["revenue_growth"].item() == pytest.approx(0.0)


# --- macro -------------------------------------------------------------------------------


def series(*points: tuple[dt.date, str, float]) -> pl.LazyFrame:
    return pl.DataFrame(points, schema=MACRO_SCHEMA, orient="row").lazy()


def score_macro_on(macro_rows: pl.LazyFrame, *days: dt.date) -> pl.DataFrame:
    return macro.score_macro(macro_rows, pl.LazyFrame({"date": list(days)})).collect().sort("date")


def test_macro_ignores_a_stale_series_and_says_so() -> None:
    old = DAY - dt.timedelta(days=20)
    scored = score_macro_on(series((old, "embi_spread_argentina_pct", 10.0)), DAY)
    assert scored["macro_score"].item() is None
    assert "no fresh macro series" in scored["macro_reason"].item()
    assert scored["macro_stale"].to_list() == [[f"stale, ignored: embi (last {old})"]]


def test_the_official_rate_counts_while_the_ccl_is_stale() -> None:
    old = DAY - dt.timedelta(days=40)
    macro = series((old, "usdars_ccl", 300.0), (DAY, "usdars_official", 350.0))
    scored = score_macro_on(macro, DAY)
    assert scored["usdars_official"].item() == 350.0  # it converts prices for fundamentals
    assert scored["usdars_ccl"].item() is None


def test_higher_country_risk_lowers_the_macro_score() -> None:
    calm, stressed = DAY, DAY + dt.timedelta(days=1)
    scored = score_macro_on(
        series(
            (calm, "embi_spread_argentina_pct", 5.0),
            (stressed, "embi_spread_argentina_pct", 20.0),
        ),
        calm,
        stressed,
    )
    assert scored["macro_score"][0] > scored["macro_score"][1]


def test_macro_picks_the_fresh_family_and_never_mixes_families() -> None:
    stale = DAY - dt.timedelta(days=30)
    scored = score_macro_on(
        series(
            (stale, "usdars_ccl", 200.0),
            (stale, "usdars_official", 100.0),
            (DAY, "usdars_ccl_rava", 150.0),
            (DAY, "usdars_official_rava", 100.0),
            (DAY, "usdars_ccl", 300.0),  # fresh base CCL, but no fresh base official
        ),
        DAY,
    )
    row = scored.row(0, named=True)
    assert row["fx_family"] == "rava"
    assert row["gap"] == pytest.approx(0.5)  # 150/100 - 1, not 300/100 - 1
    assert row["usdars_ccl"] == 150.0


def test_cpi_counts_only_from_its_publication_mid_next_month() -> None:
    month_end = dt.date(2024, 1, 31)
    published = month_end + dt.timedelta(days=macro.CPI_PUBLICATION_LAG_DAYS)
    scored = score_macro_on(
        series((month_end, "cpi_mom_pct", 5.0)), published - dt.timedelta(days=1), published
    )
    assert scored["cpi"].to_list() == [None, 5.0]


def test_macro_factor_points_add_up_to_the_score() -> None:
    scored = macro.score_macro(
        series(
            (DAY, "embi_spread_argentina_pct", 8.0),
            (DAY, "usdars_ccl", 130.0),
            (DAY, "usdars_official", 100.0),
        ),
        pl.LazyFrame({"date": [DAY]}),
    ).select(pl.sum_horizontal(f.points for f in macro.factors()), pl.col("macro_score") - 50.0)
    points, score = scored.collect().row(0)
    assert points == pytest.approx(score, abs=0.01)


# --- sentiment ---------------------------------------------------------------------------


def news(*items: tuple[dt.date, str, str]) -> pl.LazyFrame:
    rows = [(day, ticker, text, "test") for day, ticker, text in items]
    return pl.DataFrame(rows, schema=NEWS_SCHEMA, orient="row").lazy()


def sentiment_of(headlines: pl.LazyFrame, *keys: tuple[str, dt.date]) -> pl.DataFrame:
    panel = pl.LazyFrame({"ticker": [k[0] for k in keys], "date": [k[1] for k in keys]})
    return sentiment.score_sentiment(panel, headlines).collect()


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        (
            "YPF shares surge after record profit",
            "Galicia shares plunge on weak results and lawsuit",
        ),
        # Spanish, with accents stripped before the lexicon lookup
        (
            "Las acciones de YPF suben con ganancias récord",
            "Caída de las acciones de Galicia por pérdidas",
        ),
    ],
)
def test_positive_headlines_score_above_negative_ones(good: str, bad: str) -> None:
    headlines = news((DAY, "YPF", good), (DAY, "GGAL", bad))
    scored = sentiment_of(headlines, ("YPF", DAY), ("GGAL", DAY))
    assert scored["sentiment_score"].to_list() == [100.0, 0.0]


def test_sentiment_uses_only_the_window_before_the_date() -> None:
    old = DAY - dt.timedelta(days=sentiment.WINDOW_DAYS)
    future = DAY + dt.timedelta(days=1)
    headlines = news((old, "YPF", "Profit surge"), (future, "YPF", "Bankruptcy"))
    scored = sentiment_of(headlines, ("YPF", DAY))
    assert scored["sentiment_score"].item() is None
    assert scored["sentiment_reason"].item() == "no headlines in the last 7 days"


def test_no_news_at_all_gives_null_sentiment_with_a_reason() -> None:
    scored = sentiment_of(news(), ("YPF", DAY))
    assert scored["sentiment_score"].item() is None
    assert (
        scored["sentiment_reason"].item()
        == "the source supplied no headlines for this ticker up to this date"
    )


def test_headlines_without_a_lexicon_word_give_null_not_a_neutral_50() -> None:
    scored = sentiment_of(
        news((DAY, "YPF", "YPF to present at an investor conference")), ("YPF", DAY)
    )
    assert scored["sentiment_score"].item() is None
    assert "lexicon" in scored["sentiment_reason"].item()


def test_load_lexicon_reads_the_loughran_mcdonald_layout(tmp_path: Path) -> None:
    path = tmp_path / "lm.csv"
    path.write_text("Word,Negative,Positive\nGAIN,0,2009\nLOSS,2009,0\nABLE,0,-2020\n")
    lexicon = sentiment.load_lexicon(path)
    assert dict(lexicon.iter_rows()) == {"gain": 1, "loss": -1}


# --- combine -----------------------------------------------------------------------------


def ranked_row(**ranks: float | None) -> pl.LazyFrame:
    """One GGAL row as the model leaves it: factor ranks, call, target percentiles."""
    row: dict = {"ticker": "GGAL", "date": DAY, "close_raw": 100.0, "group": "ADR"}
    row |= {"recommendation": "COMPRAR", "total_score": 85.0, "formed_on": dt.date(2024, 3, 1)}
    row |= {"call_listing": "GGAL", "q_low": -0.2, "q_mid": 0.05, "q_high": 0.3}
    row |= {f"{c}_score": 50.0 for c in FACTOR_COLUMNS}
    row |= {"fundamental_score": None, "sentiment_score": None}
    row |= {k: v for k, v in ranks.items()}
    return pl.DataFrame([row]).cast({pl.Null: pl.Float64}).lazy()


def combined(**ranks: float | None) -> dict:
    return combine(ranked_row(**ranks)).collect().row(0, named=True)


def test_targets_are_the_close_moved_by_the_return_percentiles() -> None:
    row = combined()
    assert row["current_price"] == 100.0
    expected = [round(100 * math.exp(q), 2) for q in (-0.2, 0.05, 0.3)]
    assert [row["target_low"], row["target_price"], row["target_high"]] == expected


def test_confidence_is_not_estimated() -> None:
    assert combined()["confidence"] is None


def test_summary_names_the_stocks_own_ranks_and_when_the_call_was_set() -> None:
    summary = combined(momentum_12_1_score=92.0, high_52w_score=81.0, low_volatility_score=12.0)[
        "summary"
    ]
    assert summary.startswith("GGAL: COMPRAR desde el 01/03/2024, puntaje relativo 85,00/100 entre")
    pro = "A favor: momento de 12 meses (92,0/100) y cercanía al máximo de 52 semanas (81,0/100)"
    assert pro in summary
    assert "en contra: baja volatilidad (12,0/100)." in summary
    assert summary.endswith("Se basa solo en los factores de precio (sin fundamentos ni noticias).")


def test_summary_writes_the_numbers_as_the_dashboard_shows_them() -> None:
    # The table shows the total as stored (59,83), the detail a rank with one decimal: the
    # summary must not say "60/100" for a stock the table puts at 59,83.
    frame = ranked_row(momentum_12_1_score=91.96, low_volatility_score=7.35).with_columns(
        total_score=pl.lit(59.83)
    )
    summary = combine(frame).collect()["summary"].item()
    assert f"puntaje relativo {fmt.number(59.83)}/100" in summary
    assert "puntaje relativo 59,83/100" in summary
    assert f"momento de 12 meses ({fmt.number(91.96, 1)}/100)" in summary
    assert "momento de 12 meses (92,0/100)" in summary
    assert f"baja volatilidad ({fmt.number(7.35, 1)}/100)" in summary


@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_summary_numbers_are_written_as_one_number_at_a_time(decimals: int) -> None:
    # ranks as the model gives them (k of m), ties (0,25 -> 0,2), the edge of the thousands
    # mark, negatives, -0.0, NaN, infinities and nulls: the text of summary_es.number_es
    ranks = [k / m * 100 for m in range(1, 120) for k in range(m + 1)]
    edges = [0.0, -0.0, 0.05, 0.25, 0.35, 2.675, 0.125, 99.995, 999.94999, 999.95, 999.995]
    edges += [1000.0, 12345.678, -3.14159, -0.004, 1e-300, 1e300, math.inf, -math.inf, math.nan]
    values = pl.Series("v", [*ranks, *edges, *(k / 997 for k in range(100_000)), None])
    expected = [summary_es.number_es(v, decimals) for v in values]
    assert numbers_es(values, decimals).to_list() == expected


def test_summary_of_a_listing_whose_call_comes_from_the_other_one() -> None:
    frame = ranked_row(fundamental_score=70.0).with_columns(
        ticker=pl.lit("GGAL.BA"), group=pl.lit("BYMA")
    )
    summary = combine(frame).collect()["summary"].item()
    assert "puntaje relativo 85,00/100 entre los ADR" in summary  # GGAL's ranking set the call
    assert "Es el llamado de GGAL" in summary
    assert "fundamentos (70,0/100)" in summary and "Se basa solo" not in summary
