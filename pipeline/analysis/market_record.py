"""The market view's own track record: does the macro score time the Merval? (pure)

From the stored market view alone (one row per analysed date, with the Merval in pesos
and in USD), for each horizon h of `outcomes.HORIZONS` sessions of Buenos Aires (XBUE):

- forward return of the Merval from the entry session (the analysed day's close, or the
  next session's) to h sessions later, in pesos and in USD (`merval_usd`, through the CCL);
  a date matures when both ends have a stored Merval;
- IC: Spearman rank correlation over dates between the macro score and that return, with a
  Newey-West t (lag = h, as the returns of dates less than h apart overlap) of the mean of
  the products of the standardised ranks, whose mean is the IC;
- by call (FAVORABLE, NEUTRAL, DESFAVORABLE): dates, mean return, hit rate (FAVORABLE when
  the Merval rose, DESFAVORABLE when it fell) next to the base rate of all matured dates.

The Merval is a price index: dividends are not in its returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

import polars as pl

from pipeline.analysis import calendar
from pipeline.analysis.market_view import FAVOURABLE, MARKET_CALLS, UNFAVOURABLE
from pipeline.analysis.outcomes import ENTRIES, HORIZONS
from pipeline.analysis.track_record import IC_METHOD, newey_west_t

CURRENCIES = {"ARS": "merval", "USD": "merval_usd"}  # currency -> stored Merval column
# What the track record reads from `market_view`.
INPUT_COLUMNS = ["analysis_date", "macro_score", "market_call", *CURRENCIES.values()]
MIN_DATES = 3  # fewer matured dates: no IC


@dataclass(frozen=True)
class MarketRecord:
    """The market view's track record at every horizon, in pesos and in USD, for one entry."""

    entry: str
    # horizon, currency, dates, ic, t_stat, favourable_minus_unfavourable, method, lags
    ic: pl.DataFrame
    by_call: pl.DataFrame  # horizon, currency, market_call, dates, mean_return, hit_rate, base_rate
    first_date: dt.date | None
    last_date: dt.date | None


def forward_returns(view: pl.DataFrame, entry: str = "close") -> pl.DataFrame:
    """One row per matured (analysis_date, horizon, currency): score, call, Merval return."""
    schema = {"analysis_date": pl.Date, "horizon": pl.Int32, "currency": pl.String}
    schema |= {"macro_score": pl.Float64, "market_call": pl.String, "forward_return": pl.Float64}
    rows = view.select(INPUT_COLUMNS).drop_nulls("macro_score")
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    first, last = cast(dt.date, rows["analysis_date"].min()), view["analysis_date"].max()
    sessions = pl.DataFrame(
        {"analysis_date": calendar.trading_days(calendar.BUENOS_AIRES, first, cast(dt.date, last))}
    ).with_row_index("idx")
    levels = view.select("analysis_date", *CURRENCIES.values()).join(sessions, on="analysis_date")
    keyed = rows.drop(*CURRENCIES.values()).join(sessions, on="analysis_date")  # XBUE only
    parts = []
    for h in HORIZONS:
        ends = keyed.with_columns(
            (pl.col("idx") + ENTRIES[entry]).alias("_in"),
            (pl.col("idx") + ENTRIES[entry] + h).alias("_out"),
        )
        for side in ("_in", "_out"):
            named = levels.select(
                pl.col("idx").alias(side), *(pl.col(c).alias(c + side) for c in CURRENCIES.values())
            )
            ends = ends.join(named, on=side)
        for currency, column in CURRENCIES.items():
            ret = pl.col(f"{column}_out") / pl.col(f"{column}_in") - 1.0
            parts.append(
                ends.select(
                    "analysis_date",
                    pl.lit(h, pl.Int32).alias("horizon"),
                    pl.lit(currency).alias("currency"),
                    "macro_score",
                    "market_call",
                    ret.alias("forward_return"),
                ).drop_nulls("forward_return")
            )
    return pl.concat(parts).sort("horizon", "currency", "analysis_date").cast(schema)  # type: ignore[arg-type]


def _standardised_rank(column: str) -> pl.Expr:
    rank = pl.col(column).rank("average")
    return (rank - rank.mean()) / rank.std(ddof=0)


def ic(returns: pl.DataFrame) -> pl.DataFrame:
    """Per horizon and currency: dates, Spearman IC, its Newey-West t (`method`, `lags`), and
    the mean return of FAVORABLE dates minus that of DESFAVORABLE ones."""
    keys = ["horizon", "currency"]
    product = (_standardised_rank("macro_score") * _standardised_rank("forward_return")).over(keys)
    mean_of = {
        c: pl.col("forward_return").filter(pl.col("market_call") == c).mean() for c in MARKET_CALLS
    }
    frames = [
        returns.filter(horizon=h)
        .sort("currency", "analysis_date")
        .with_columns(product.fill_nan(None).alias("_u"))  # NaN: a constant score or return
        .group_by(keys, maintain_order=True)
        .agg(
            pl.len().alias("dates"),
            pl.col("_u").mean().alias("ic"),
            newey_west_t(pl.col("_u"), h).alias("t_stat"),
            (mean_of[FAVOURABLE] - mean_of[UNFAVOURABLE]).alias("favourable_minus_unfavourable"),
        )
        for h in HORIZONS
    ]
    enough = pl.col("dates") >= MIN_DATES
    found = pl.concat(frames).with_columns(
        pl.when(enough).then(pl.col(c)).alias(c) for c in ("ic", "t_stat")
    )
    every = pl.DataFrame(
        [(h, c) for h in HORIZONS for c in CURRENCIES],
        schema={"horizon": pl.Int32, "currency": pl.String},
        orient="row",
    )
    return every.join(found, on=keys, how="left", maintain_order="left").with_columns(
        pl.col("dates").fill_null(0).cast(pl.UInt32),
        pl.lit(IC_METHOD).alias("method"),
        pl.col("horizon").alias("lags"),
    )


def by_call(returns: pl.DataFrame) -> pl.DataFrame:
    """Per horizon, currency and call: dates, mean Merval return, hit rate and base rate."""
    keys = ["horizon", "currency"]
    up, down = (
        (pl.col("forward_return") > 0).cast(pl.Float64),
        (pl.col("forward_return") < 0).cast(pl.Float64),
    )
    direction = pl.col("market_call")
    hit = pl.when(direction == FAVOURABLE).then(up).when(direction == UNFAVOURABLE).then(down)
    base = (
        pl.when(direction == FAVOURABLE)
        .then(up.mean().over(keys))
        .when(direction == UNFAVOURABLE)
        .then(down.mean().over(keys))
    )
    order = pl.col("market_call").replace_strict(
        {c: i for i, c in enumerate(MARKET_CALLS)}, return_dtype=pl.Int32
    )
    return (
        returns.with_columns(hit.alias("_hit"), base.alias("_base"))
        .group_by(*keys, "market_call")
        .agg(
            pl.len().alias("dates"),
            pl.col("forward_return").mean().alias("mean_return"),
            pl.col("_hit").mean().alias("hit_rate"),
            pl.col("_base").first().alias("base_rate"),
        )
        .sort("horizon", "currency", order)
    )


def market_record(view: pl.DataFrame, entry: str = "close") -> MarketRecord:
    """The market view's track record from stored `market_view` rows (INPUT_COLUMNS)."""
    if entry not in ENTRIES:
        raise ValueError(f"entry {entry!r} is not one of {', '.join(ENTRIES)}")
    returns = forward_returns(view, entry)
    first = returns["analysis_date"].min() if returns.height else None
    last = returns["analysis_date"].max() if returns.height else None
    return MarketRecord(
        entry,
        ic(returns),
        by_call(returns),
        cast(dt.date | None, first),
        cast(dt.date | None, last),
    )


def tables(record: MarketRecord) -> dict[str, pl.DataFrame]:
    """The record's tables by name, as `argenta query track-record` prints them."""
    return {"market_view_ic": record.ic, "market_view_by_call": record.by_call}
