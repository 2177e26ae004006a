"""Test data: small valid recommendation/detail frames (independent of the pipeline) and the
sample period the shared `sample_db` fixture is built over."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

ANALYSIS_TYPES = ("technical", "fundamental", "macro", "sentiment")
# The days of the bundled sample that the session-wide `sample_db` fixture analyses.
SAMPLE_START, SAMPLE_END = dt.date(2023, 10, 2), dt.date(2024, 3, 8)


def partition(
    day: dt.date, tickers: list[str], score: float = 55.0, call: str = "MANTENER"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One date's recommendations and their four details, with the given score and call."""
    n = len(tickers)
    recs = pl.DataFrame(
        {
            "analysis_date": [day] * n,
            "ticker": tickers,
            "recommendation": [call] * n,
            "total_score": [score] * n,
            "confidence": [70.0] * n,
            "technical_score": [score] * n,
            "fundamental_score": [None] * n,
            "macro_score": [50.0] * n,
            "sentiment_score": [None] * n,
            "current_price": [10.5] * n,
            "target_price": [11.25] * n,
            "risk_level": ["MEDIO"] * n,
            "summary": [f"{t}: {call} con puntaje {score:.0f}/100." for t in tickers],
            "target_low": [9.75] * n,
            "target_high": [12.5] * n,
        },
        schema_overrides={"fundamental_score": pl.Float64, "sentiment_score": pl.Float64},
    )
    details = pl.DataFrame(
        [
            {
                "analysis_date": day,
                "ticker": t,
                "analysis_type": kind,
                "raw_data": json.dumps({"close": 10.5, "open": 10.0, "high": 11.0, "low": 9.9}),
                "indicators": json.dumps({"sma_20": 10.1, "rsi_14": 55.0}),
                "score": score if kind == "technical" else None,
                "metadata": json.dumps({"source": "test"}),
            }
            for t in tickers
            for kind in ANALYSIS_TYPES
        ],
        schema_overrides={"score": pl.Float64},
    )
    return recs, details


def market_rows(days: list[dt.date], score: float = 50.0) -> pl.DataFrame:
    """The market view of `days` (one row each) with the given macro score and fixed inputs."""
    from pipeline.analysis.market_view import MARKET_VIEW_COLUMNS, MARKET_VIEW_SCHEMA

    n = len(days)
    values = dict.fromkeys(MARKET_VIEW_COLUMNS, [score] * n) | {
        "analysis_date": days,
        "market_call": ["NEUTRAL"] * n,
        "macro_completeness": [1.0] * n,
        "usdars_ccl": [1000.0] * n,
        "usdars_official": [800.0] * n,
        "exchange_gap": [0.25] * n,
        "merval": [1_500_000.0] * n,
        "merval_usd": [1500.0] * n,
        "fx_family": ["base"] * n,
        "macro_reason": [None] * n,
    }
    return pl.DataFrame(values, schema=MARKET_VIEW_SCHEMA)


def largest_gap(a: pl.Series, b: pl.Series | float) -> float:
    """The largest absolute difference, over the rows where both sides have a value."""
    value = (a - b).abs().max()
    assert isinstance(value, float), "no row to compare"
    return value
