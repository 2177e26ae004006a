"""The market view: one row per analysed date with the macro score, its call and inputs (pure).

The macro score (`scoring.macro`) is the same for every stock of a date and is not part of
any stock's total: it is the day's context. This module shapes it into the stored row of
`market_view` (migration 9) and states its call: the score's 0-100 scale cut in equal
thirds, FAVORABLE at 66.67 or more, DESFAVORABLE at 33.33 or less, NEUTRAL between. The
edges are the thirds of the scale, fixed before any data was looked at (each sub-score maps
its input linearly from a stated worst value, 0, to a stated best one, 100).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipeline.analysis.scoring import macro

FAVOURABLE, NEUTRAL, UNFAVOURABLE = "FAVORABLE", "NEUTRAL", "DESFAVORABLE"
MARKET_CALLS = (FAVOURABLE, NEUTRAL, UNFAVOURABLE)
# The thirds of the 0-100 scale (not fitted: see the module docstring).
UNFAVOURABLE_AT_MOST, FAVOURABLE_AT_LEAST = 100.0 / 3.0, 200.0 / 3.0
# The Merval counts on a date when its latest close is at most this old (the macro score's
# rule for its daily series, `macro.INDICATORS`).
MERVAL_MAX_AGE_DAYS = macro.INDICATORS["merval_trend"][1]

SUB_SCORE_COLUMNS = list(macro.SUB_SCORES)
# The stored columns of `market_view`, in table order.
MARKET_VIEW_COLUMNS = [
    "analysis_date",
    "macro_score",
    "market_call",
    "macro_completeness",
    *SUB_SCORE_COLUMNS,
    "usdars_ccl",
    "usdars_official",
    "exchange_gap",
    "merval",
    "merval_usd",
    "merval_vs_sma200",
    "merval_usd_vs_sma200",
    "embi_spread_pct",
    "cpi_mom_pct",
    "policy_rate_pct",
    "fx_family",
    "macro_reason",
]
_TEXT = {"analysis_date": pl.Date(), "market_call": pl.String(), "fx_family": pl.String()}
_TEXT["macro_reason"] = pl.String()
MARKET_VIEW_SCHEMA = pl.Schema({c: _TEXT.get(c, pl.Float64()) for c in MARKET_VIEW_COLUMNS})


def market_call(score: pl.Expr) -> pl.Expr:
    """FAVORABLE / NEUTRAL / DESFAVORABLE by thirds of the 0-100 scale; NULL without a score."""
    return (
        pl.when(score >= FAVOURABLE_AT_LEAST)
        .then(pl.lit(FAVOURABLE))
        .when(score <= UNFAVOURABLE_AT_MOST)
        .then(pl.lit(UNFAVOURABLE))
        .when(score.is_not_null())
        .then(pl.lit(NEUTRAL))
    )


def _merval(series: pl.DataFrame) -> pl.DataFrame:
    """The Merval's closes (macro series "merval") as (_merval_date, merval), sorted."""
    return (
        series.filter(pl.col("series") == "merval")
        .select(pl.col("date").alias("_merval_date"), pl.col("value").alias("merval"))
        .drop_nulls()
        .unique("_merval_date", keep="last")
        .sort("_merval_date")
    )


def market_view(by_date: pl.DataFrame, series: pl.DataFrame, dates: list[dt.date]) -> pl.DataFrame:
    """The stored market view of `dates` from `macro.score_macro`'s frame and the macro series.

    The Merval is its latest close at most MERVAL_MAX_AGE_DAYS old; in USD it is divided by
    the CCL the macro score used on the date (`usdars_ccl`).
    """
    if not dates:
        return pl.DataFrame(schema=MARKET_VIEW_SCHEMA)
    days = pl.DataFrame({"date": sorted(set(dates))}, schema={"date": pl.Date})
    rows = days.join(by_date, on="date", how="left").join_asof(
        _merval(series),
        left_on="date",
        right_on="_merval_date",
        strategy="backward",
        tolerance=dt.timedelta(days=MERVAL_MAX_AGE_DAYS),
        check_sortedness=False,
    )
    return rows.select(
        pl.col("date").alias("analysis_date"),
        pl.col("macro_score"),
        market_call(pl.col("macro_score")).alias("market_call"),
        pl.col("macro_completeness"),
        *SUB_SCORE_COLUMNS,
        pl.col("ccl").alias("usdars_ccl"),
        pl.col("official").alias("usdars_official"),
        pl.col("gap").alias("exchange_gap"),
        pl.col("merval"),
        (pl.col("merval") / pl.col("ccl")).alias("merval_usd"),
        pl.col("merval_trend").alias("merval_vs_sma200"),
        pl.col("merval_usd_trend").alias("merval_usd_vs_sma200"),
        pl.col("embi").alias("embi_spread_pct"),
        pl.col("cpi").alias("cpi_mom_pct"),
        pl.col("policy_rate").alias("policy_rate_pct"),
        pl.col("fx_family"),
        pl.col("macro_reason"),
    ).cast(MARKET_VIEW_SCHEMA)
