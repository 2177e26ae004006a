"""The day's row from the relative model: prices, target range, summary naming the drivers.

The total, the call, the risk level and the target percentiles come from
`pipeline.analysis.model`; this module turns them into the stored columns. Confidence is not
estimated (NULL): see the README's Methodology ("Confidence").
"""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from pipeline.analysis.factors import FACTOR_COLUMNS
from pipeline.analysis.relative import ADR_GROUP, LOCAL_GROUP, listing_group
from pipeline.analysis.scoring import first_of, summary_es

MAX_PRICE = 1e8  # the store keeps prices as DECIMAL(10, 2)
DRIVERS_PER_SIDE = 2  # drivers named for and against the call in the summary
# Every ranked input of the total, with its Spanish name for the summary.
DRIVER_NAMES_ES = summary_es.RANKED_NAMES
assert set(DRIVER_NAMES_ES) >= {f"{c}_score" for c in FACTOR_COLUMNS}
assert set(summary_es.GROUP_NAMES) == {ADR_GROUP, LOCAL_GROUP}


def _price(x: pl.Expr) -> pl.Expr:
    return pl.when(x < MAX_PRICE).then(x.round(2))


def prices() -> list[pl.Expr]:
    """current_price (the raw close) and target_low / target_price / target_high.

    The targets are the close moved by the 10th, 50th and 90th percentiles of the ticker's
    past 63-session returns (`forecast`), in the listing currency.
    """
    close = pl.col("close_raw")
    return [
        _price(close).alias("current_price"),
        _price(close * pl.col("q_low").exp()).alias("target_low"),
        _price(close * pl.col("q_mid").exp()).alias("target_price"),
        _price(close * pl.col("q_high").exp()).alias("target_high"),
    ]


_DRIVER_SCHEMA = {
    f"{side}_{rank}": pl.Int64 for rank in range(DRIVERS_PER_SIDE) for side in ("for", "against")
}


def _driver_indices(ranks: pl.Series) -> pl.Series:
    """Per row, the indices of the highest ranks above 50 and the lowest below 50 (-1: none)."""
    matrix = ranks.struct.unnest().to_numpy().astype(float) - 50.0
    matrix = np.nan_to_num(matrix, nan=0.0)
    order = np.argsort(-matrix, axis=1, kind="stable")
    ranked = np.take_along_axis(matrix, order, axis=1)
    fields = {}
    for rank in range(DRIVERS_PER_SIDE):
        fields[f"for_{rank}"] = np.where(ranked[:, rank] > 0, order[:, rank], -1)
        fields[f"against_{rank}"] = np.where(ranked[:, -1 - rank] < 0, order[:, -1 - rank], -1)
    return pl.DataFrame(fields, schema=_DRIVER_SCHEMA).to_struct()


def with_drivers(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Add `drivers_for` / `drivers_against`: the stock's best and worst ranks, with their value.

    A driver reads "momento de 12 meses (92/100)": the stock's rank in its group on the day.
    """
    columns = list(DRIVER_NAMES_ES)
    picked = pl.struct(pl.col(c).cast(pl.Float64) for c in columns).map_batches(
        _driver_indices, return_dtype=pl.Struct(_DRIVER_SCHEMA)
    )

    def side(name: str) -> pl.Expr:
        # Only the chosen drivers are written, their name and rank picked by index (-1: none,
        # null): writing all six phrases of every row into a list took most of the stage.
        chosen = []
        for rank in range(DRIVERS_PER_SIDE):
            index = pl.col("_drivers").struct.field(f"{name}_{rank}")
            label = first_of(
                [(index == i, pl.lit(DRIVER_NAMES_ES[c])) for i, c in enumerate(columns)]
            )
            value = first_of(
                [(index == i, pl.col(c).cast(pl.Float64)) for i, c in enumerate(columns)]
            )
            chosen.append(
                pl.format(
                    summary_es.RANKED_DRIVER, label, number_es(value, summary_es.RANK_DECIMALS)
                )
            )
        return pl.concat_str(chosen, separator=summary_es.AND, ignore_nulls=True)

    return (
        frame.with_columns(picked.alias("_drivers"))
        .with_columns(side("for").alias("drivers_for"), side("against").alias("drivers_against"))
        .drop("_drivers")
    )


def number_es(value: pl.Expr, decimals: int) -> pl.Expr:
    """The value written as the dashboard writes it (`summary_es.number_es`: 59,83)."""
    return value.cast(pl.Float64).map_batches(
        lambda s: numbers_es(s, decimals), return_dtype=pl.String, is_elementwise=True
    )


# How close to a rounding tie (in units of the last decimal) a value must be for its rounding
# to be left to Python: the product by 10**decimals is off by 1e-11 at most below 1000.
_TIE_MARGIN = 1e-6


@functools.cache
def _units_es(decimals: int) -> pl.Series:
    """The text of every number from 0 to below 1000 with `decimals` decimals, by its count of
    the last decimal's units (0,0 to 999,9 for one decimal)."""
    scale = 10**decimals
    point = f",{{:0{decimals}d}}" if decimals else ""
    texts = [f"{u // scale}{point.format(u % scale)}" for u in range(1000 * scale)]
    return pl.Series(texts, dtype=pl.String)


def numbers_es(values: pl.Series, decimals: int) -> pl.Series:
    """`summary_es.number_es` of every value, the same text, without a Python call per value.

    Values from 0 to below 1000 once rounded (no thousands mark) that are not within
    _TIE_MARGIN of a rounding tie are rounded by numpy (the nearest integer of value x
    10**decimals is the correctly rounded decimal Python's format writes); the rest (ties,
    negatives, -0.0, large numbers, NaN, nulls) go through `summary_es.number_es`.
    """
    x = values.cast(pl.Float64).to_numpy()  # nulls become NaN
    scale = 10**decimals
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = x * scale
        units = np.rint(scaled)
        fast = (
            ~np.signbit(x)
            & (units < 1000 * scale)
            & (np.abs(scaled - np.floor(scaled) - 0.5) > _TIE_MARGIN)
        )
    text = _units_es(decimals).gather(np.where(fast, units, 0).astype(np.int64))
    slow = np.flatnonzero(~fast)
    if len(slow):
        rest = [summary_es.number_es(float(x[i]), decimals) for i in slow]
        text = text.scatter(slow, pl.Series(rest, dtype=pl.String))
    return text.alias(values.name)


def _date_es(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%d/%m/%Y")


def summary() -> pl.Expr:
    """Two to four Spanish sentences: the call and since when, its listing, the drivers, gaps."""
    pro, con = pl.col("drivers_for"), pl.col("drivers_against")
    # The group of the listing whose ranking set the call (the other listing of the company).
    group = listing_group("call_listing").replace_strict(
        summary_es.GROUP_NAMES, default=summary_es.GROUP_FALLBACK
    )
    headline = pl.format(
        summary_es.RELATIVE_HEADLINE,
        "ticker",
        "recommendation",
        _date_es("formed_on"),
        number_es(pl.col("total_score"), summary_es.TOTAL_DECIMALS),
        group,
    )
    company = pl.when(pl.col("call_listing") != pl.col("ticker")).then(
        pl.format(summary_es.COMPANY_CALL, "call_listing")
    )
    sides = (
        pl.when((pro != "") & (con != ""))
        .then(pl.format(summary_es.FOR_AND_AGAINST, pro, con))
        .when(pro != "")
        .then(pl.format(summary_es.FOR_ONLY, pro))
        .when(con != "")
        .then(pl.format(summary_es.AGAINST_ONLY, con))
        .otherwise(pl.lit(summary_es.NO_DRIVERS))
    )
    technical_only = pl.when(
        pl.col("fundamental_score").is_null() & pl.col("sentiment_score").is_null()
    ).then(pl.lit(summary_es.PRICE_FACTORS_ONLY))
    parts = [headline, company, sides, technical_only]
    return pl.concat_str(parts, separator=" ", ignore_nulls=True).alias("summary")


def combine(panel: pl.LazyFrame) -> pl.LazyFrame:
    """Add current_price, the target range, a NULL confidence and the summary."""
    priced = panel.with_columns(*prices(), pl.lit(None, dtype=pl.Float64).alias("confidence"))
    return with_drivers(priced).with_columns(summary())
