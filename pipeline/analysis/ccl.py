"""The CCL (contado con liquidación) rate implied by the ADR pairs, used instead of the bundled one.

Market practice defines the CCL of a pair as the peso price of the local share times the
shares one ADR represents, over the ADR's dollar price: CCL = local close x shares per ADR /
ADR close (e.g. Canova, "ADRs y CCL", 2012; RoccaCharts, "ADR", 2008: "Precio Local = (Precio
del ADR / Factor) x Dólar Cable"). Each pair gives its own rate; one stale quote, a
dividend paid on one side only or a splice in one series moves that pair alone, so the day's
rate is the **median across pairs**: with a 50 % breakdown point (Hampel 1971; Huber &
Ronchetti, *Robust Statistics*, 2009), it ignores a minority of bad pairs. It needs at least
MIN_PAIRS pairs quoted on both exchanges that day: three is the smallest count whose median
still lies between two good quotes when one is bad.

The rule (stated, not tuned on the sample): on every date with MIN_PAIRS or more pairs, the
implied rate replaces the source's `usdars_ccl`, whatever their gap; the source's value is
kept on the other dates, except within CARRY_DAYS after an implied one (a holiday of one of
the two exchanges), where the last implied rate carries, as every macro series does, rather
than switching to a series with another level for a day. The rate of a date uses the closes
of that date only, so a daily run that loads the last sessions computes it as a backfill does.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipeline.analysis.calls import pairs_frame

MIN_PAIRS = 3
# As long as the macro score keeps a CCL observation fresh (scoring.macro INDICATORS["ccl"]).
CARRY_DAYS = 10
CCL_SERIES = "usdars_ccl"
# Long macro series added next to the rate actually used, for the details.
SOURCE_SERIES = "usdars_ccl_source_value"  # the source's own CCL on that date (the bundled one)
PAIRS_SERIES = "usdars_ccl_pairs"  # pairs behind the implied rate (0: the source's rate used)


def implied_ccl(prices: pl.DataFrame) -> pl.DataFrame:
    """Per date: `implied_ccl` (median over the pairs quoted on both exchanges) and `pairs`.

    `prices` is the tidy price frame (date, ticker, close: raw closes). Dates with fewer than
    MIN_PAIRS pairs are left out.
    """
    closes = prices.select("date", "ticker", "close").filter(pl.col("close") > 0)
    pairs = pairs_frame()
    joined = (
        closes.join(pairs, left_on="ticker", right_on="local")
        .rename({"close": "local_close"})
        .join(
            closes.rename({"ticker": "adr", "close": "adr_close"}),
            on=["date", "adr"],
        )
    )
    per_pair = pl.col("local_close") * pl.col("shares_per_adr") / pl.col("adr_close")
    return (
        joined.group_by("date")
        .agg(per_pair.median().alias("implied_ccl"), pl.len().cast(pl.Int64).alias("pairs"))
        .filter(pl.col("pairs") >= MIN_PAIRS)
        .sort("date")
    )


def with_implied_ccl(macro: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """The macro frame with `usdars_ccl` replaced by the implied rate where the rule says.

    Adds SOURCE_SERIES (the source's CCL, on its own dates) and PAIRS_SERIES (pairs behind
    the rate on each date of the resulting series, 0 where the source's rate is kept). A
    frame that already went through this is returned unchanged.
    """
    if macro.filter(pl.col("series") == PAIRS_SERIES).height:
        return macro
    implied = implied_ccl(prices)
    given = macro.filter(pl.col("series") == CCL_SERIES).select("date", "value").drop_nulls()
    last_implied = implied.select(pl.col("date").alias("_implied_on"))
    kept = (
        given.sort("date")
        .join_asof(
            last_implied,
            left_on="date",
            right_on="_implied_on",
            strategy="backward",
            tolerance=dt.timedelta(days=CARRY_DAYS),
            check_sortedness=False,
        )
        .filter(pl.col("_implied_on").is_null())
        .select("date", "value", pairs=pl.lit(0, dtype=pl.Int64))
    )
    used = pl.concat([implied.rename({"implied_ccl": "value"}), kept]).sort("date")
    schema = macro.schema
    added = [
        used.select("date", pl.lit(CCL_SERIES).alias("series"), "value"),
        used.select("date", pl.lit(PAIRS_SERIES).alias("series"), pl.col("pairs").alias("value")),
        given.select("date", pl.lit(SOURCE_SERIES).alias("series"), "value"),
    ]
    rest = macro.filter(pl.col("series") != CCL_SERIES)
    return pl.concat([rest, *[a.select(schema.names()).cast(schema) for a in added]])


# What `ccl_source` says in the macro detail.
FROM_PAIRS, FROM_SOURCE = "adr_pairs_median", "source"


def ccl_used(macro: pl.LazyFrame) -> pl.LazyFrame:
    """Per date of the replaced CCL series: `ccl_pairs` and the source's `ccl_source_value`."""

    def series(name: str, alias: str) -> pl.LazyFrame:
        return (
            macro.filter(pl.col("series") == name)
            .select("date", pl.col("value").alias(alias))
            .unique("date", keep="last")
        )

    pairs = series(PAIRS_SERIES, "ccl_pairs").with_columns(pl.col("ccl_pairs").cast(pl.Int64))
    return pairs.join(series(SOURCE_SERIES, "ccl_source_value"), on="date", how="left")


def source_expr(family: pl.Expr, pairs: pl.Expr, rate: pl.Expr) -> pl.Expr:
    """`ccl_source` of a macro row: FROM_PAIRS when the base family's rate came from the pairs."""
    return (
        pl.when(rate.is_null())
        .then(None)
        .when((family == "base") & (pairs >= MIN_PAIRS))
        .then(pl.lit(FROM_PAIRS))
        .otherwise(pl.lit(FROM_SOURCE))
    )
