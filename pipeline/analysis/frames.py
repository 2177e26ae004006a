"""The one tidy shape every source returns, and the problems found while reading it."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

PRICES_SCHEMA = pl.Schema(
    {
        "date": pl.Date,
        "ticker": pl.String,
        "open": pl.Float64,
        "high": pl.Float64,
        "low": pl.Float64,
        "close": pl.Float64,
        "adj_close": pl.Float64,
        "volume": pl.Float64,
    }
)
# Long form; `filed` is the date the figure became public (filing date, or the
# snapshot date for yfinance's Ticker.info), so analyses never look ahead.
FUNDAMENTALS_SCHEMA = pl.Schema(
    {
        "ticker": pl.String,
        "period_end": pl.Date,
        "filed": pl.Date,
        "metric": pl.String,
        "value": pl.Float64,
        "unit": pl.String,
    }
)
MACRO_SCHEMA = pl.Schema({"date": pl.Date, "series": pl.String, "value": pl.Float64})
NEWS_SCHEMA = pl.Schema(
    {"date": pl.Date, "ticker": pl.String, "headline": pl.String, "source": pl.String}
)
# Bars a ticker needs before it gets a call: the technical score needs SMA 50.
MIN_HISTORY_BARS = 50
# Bars of history before an analysed date that every source loads for each ticker (when the
# ticker has them). The longest window is 252 bars (drawdown, 1-year return); TA-Lib's
# recursive averages (EMA 26, Wilder 14, MACD signal) forget their seed to below 1e-12
# relative after ~380 bars. So from 420 bars on, a value does not depend on how much more
# history was loaded: the daily run and a backfill compute the same numbers.
WARMUP_BARS = 420


def by_ticker_and_date(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` sorted by ticker then date; not sorted again when already in that order (the
    sources return their prices so), which is much cheaper than sorting on the text."""
    ticker, date = pl.col("ticker"), pl.col("date")
    after = (ticker > ticker.shift(1)) | ((ticker == ticker.shift(1)) & (date > date.shift(1)))
    in_order = frame.select(after.slice(1).all()).item()
    return frame if in_order else frame.sort("ticker", "date")


def ticker_key(name: str) -> pl.Expr:
    """The ticker's 0-based position in a frame sorted by ticker, as a sorted UInt32 column:
    windows grouped by it (`.over(name)`) cost a fraction of grouping by the text."""
    ticker = pl.col("ticker")
    starts = (ticker != ticker.shift(1)).fill_null(True)
    return (starts.cum_sum() - 1).cast(pl.UInt32).set_sorted().alias(name)


def empty(schema: pl.Schema) -> pl.DataFrame:
    """An empty frame with the given schema."""
    return pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class DataProblem:
    """One problem in the input, located as precisely as we can (file, ticker, row)."""

    message: str
    file: str | None = None
    ticker: str | None = None
    row: int | None = None
    fatal: bool = False  # True when the whole input is unusable (e.g. a missing column)

    def __str__(self) -> str:
        where = [
            f"{k}={v}"
            for k, v in (("file", self.file), ("ticker", self.ticker), ("row", self.row))
            if v is not None
        ]
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass
class MarketData:
    """What a source returns: prices, and where it has them fundamentals, macro and news."""

    source: str
    prices: pl.DataFrame = field(default_factory=lambda: empty(PRICES_SCHEMA))
    fundamentals: pl.DataFrame = field(default_factory=lambda: empty(FUNDAMENTALS_SCHEMA))
    macro: pl.DataFrame = field(default_factory=lambda: empty(MACRO_SCHEMA))
    news: pl.DataFrame = field(default_factory=lambda: empty(NEWS_SCHEMA))
    problems: list[DataProblem] = field(default_factory=list)
    # Per-ticker failures of the source itself (e.g. yfinance returned nothing).
    failed_tickers: dict[str, str] = field(default_factory=dict)


# The columns of a day's calls and of their details, in the order the store writes them.
RECOMMENDATION_COLUMNS = [
    "analysis_date",
    "ticker",
    "recommendation",
    "total_score",
    "confidence",
    "technical_score",
    "fundamental_score",
    "macro_score",
    "sentiment_score",
    "current_price",
    "target_price",
    "risk_level",
    "summary",
    "target_low",
    "target_high",
]
DETAIL_COLUMNS = [
    "analysis_date",
    "ticker",
    "analysis_type",
    "raw_data",
    "indicators",
    "score",
    "metadata",
]
