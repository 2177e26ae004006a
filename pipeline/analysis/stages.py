"""The whole analysis as one pure function: market data in, the day's calls and details out.

indicators -> macro -> technical -> fundamental -> sentiment -> combine -> details, each a
polars plan over every (ticker, date) row at once. No I/O happens here except reading
the bundled sentiment lexicon once per process.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from pipeline.analysis.frames import DETAIL_COLUMNS, RECOMMENDATION_COLUMNS, MarketData
from pipeline.analysis.indicators import add_indicators, adjust_prices
from pipeline.analysis.scoring import fundamental, macro, sentiment, technical
from pipeline.analysis.scoring.combine import combine
from pipeline.settings import Settings

DETAIL_BUILDERS = {
    "technical": technical.detail,
    "fundamental": fundamental.detail,
    "sentiment": sentiment.detail,
}  # the macro detail is built per date
# The polars engines a stage may collect with.
Engine = Literal["auto", "in-memory", "streaming"]


@dataclass
class Analysis:
    """The calls, their four details each, the tickers that got none and why, stage timings."""

    recommendations: pl.DataFrame
    details: pl.DataFrame
    errors: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class _Stages:
    """Collects each stage's plan and records how long it took."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def run(self, name: str, plan: pl.LazyFrame, engine: Engine = "auto") -> pl.DataFrame:
        start = time.perf_counter()
        frame = plan.collect(engine=engine)
        self.timings[name] = round(time.perf_counter() - start, 3)
        return frame


def analyse(
    data: MarketData,
    settings: Settings,
    dates: Sequence[dt.date] | None = None,
    *,
    lexicon: pl.DataFrame | None = None,
) -> Analysis:
    """Score every ticker on `dates` (None: every date in the panel) from the whole history.

    Rows are the trading days present in `data.prices`; `analysis_date` is the day whose
    close was analysed. A ticker needs the technical score (enough price history) to get
    a recommendation; those without one are reported in `errors`. `lexicon` replaces the
    bundled sentiment lexicon (see `sentiment.load_lexicon`).
    """
    stages = _Stages()
    # The in-memory engine runs the indicator stage ~1.5x faster than streaming (measured).
    plan = add_indicators(adjust_prices(data.prices.lazy()))
    history = stages.run("indicators", plan, engine="in-memory")
    rows = history if dates is None else history.filter(pl.col("date").is_in(list(dates)))
    by_date = stages.run("macro", macro.score_macro(data.macro.lazy(), rows.select("date").lazy()))
    macro_columns = ["date", "usdars_ccl", "usdars_official", *macro.SCORE_COLUMNS]
    rows = rows.join(by_date.select(macro_columns), on="date", how="left", maintain_order="left")
    rows = stages.run("technical", technical.score_technical(rows.lazy()))
    errors = _no_bar_errors(history, rows) if dates is not None else []
    errors += _no_technical_errors(rows)
    rows = rows.filter(pl.col("technical_score").is_not_null())
    rows = rows.hstack(_per_ticker_components(rows, data, lexicon, stages))
    rows = stages.run("combine", combine(rows.lazy(), settings))
    calls = rows.rename({"date": "analysis_date"}).select(RECOMMENDATION_COLUMNS)
    details = stages.run("details", _details(rows.lazy(), by_date.lazy(), data.source))
    return Analysis(calls.sort("analysis_date", "ticker"), details, errors, stages.timings)


def _per_ticker_components(
    rows: pl.DataFrame, data: MarketData, lexicon: pl.DataFrame | None, stages: _Stages
) -> pl.DataFrame:
    """The fundamental and sentiment columns, computed on narrow frames in the rows' order."""
    keys = ["ticker", "date", "close_raw", "usdars_official"]
    panel = rows.lazy().select(keys)
    official = macro.macro_indicators(data.macro.lazy()).filter(pl.col("indicator") == "official")
    plan = fundamental.score_fundamental(panel, data.fundamentals.lazy(), official)
    fundamentals = stages.run("fundamental", plan.drop(keys))
    plan = sentiment.score_sentiment(panel.select("ticker", "date"), data.news.lazy(), lexicon)
    return fundamentals.hstack(stages.run("sentiment", plan.drop("ticker", "date")))


def _details(rows: pl.LazyFrame, by_date: pl.LazyFrame, source: str) -> pl.LazyFrame:
    """Four detail rows (technical, fundamental, macro, sentiment) per recommendation.

    The macro JSON depends on the date only, so it is encoded once per date.
    """
    keys = rows.select(pl.col("date").alias("analysis_date"), "ticker")
    macro_json = by_date.select(
        pl.col("date").alias("analysis_date"), **macro.detail(source), score="macro_score"
    )
    parts = [
        rows.select(
            pl.col("date").alias("analysis_date"),
            "ticker",
            analysis_type=pl.lit(kind),
            **build(source),
            score=pl.col(f"{kind}_score"),
        )
        for kind, build in DETAIL_BUILDERS.items()
    ]
    parts.append(
        keys.join(macro_json, on="analysis_date", how="left").with_columns(
            analysis_type=pl.lit("macro")
        )
    )
    return pl.concat([part.select(DETAIL_COLUMNS) for part in parts])


def _no_technical_errors(rows: pl.DataFrame) -> list[dict[str, str]]:
    """One error per ticker that lacked the technical score on some analysed dates."""
    failed = (
        rows.filter(pl.col("technical_score").is_null())
        .group_by("ticker")
        .agg(
            pl.len().alias("n"),
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
            pl.col("technical_reason").sort_by("date").last().alias("reason"),
        )
        .sort("ticker")
    )
    return [
        _error(r["ticker"], f"{r['reason']} ({r['n']} date(s), {r['first']}..{r['last']})")
        for r in failed.iter_rows(named=True)
    ]


def _no_bar_errors(history: pl.DataFrame, rows: pl.DataFrame) -> list[dict[str, str]]:
    """One error per ticker of the data with no price bar on any analysed date."""
    absent = (
        history.group_by("ticker")
        .agg(pl.col("date").max().alias("last"))
        .join(rows.select("ticker").unique(), on="ticker", how="anti")
        .sort("ticker")
    )
    return [
        _error(r["ticker"], f"no price bar on the analysed dates (last bar {r['last']})")
        for r in absent.iter_rows(named=True)
    ]


def _error(ticker: str, message: str) -> dict[str, str]:
    return {"ticker": ticker, "analysis_type": "technical", "message": message}
