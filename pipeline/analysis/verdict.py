"""Textbook rules that turn the track record's numbers into verdicts (fixed before any data).

- The mean IC of a score is told apart from zero when its Newey-West t is at least 2 in
  absolute value (the usual two-sided test at about 5 %).
- A call's hit rate beats (or trails) its base rate when the base rate falls outside the hit
  rate's 95 % Wilson score interval (Wilson 1927). The interval treats the calls as independent,
  which they are not (a call is held for a month and neighbouring outcomes overlap), so it is
  narrower than the truth: a rate inside it says nothing, and one outside it is still weaker
  evidence than it looks.
"""

from __future__ import annotations

import math

import polars as pl

T_RULE = 2.0  # |t| >= 2: the textbook two-sided test at about 5 %
Z_95 = 1.959963984540054  # the normal quantile of a two-sided 95 % interval
# How a hit rate stands against its base rate (the `versus` column).
ABOVE, BELOW, INSIDE = "above", "below", "inside"


def wilson(rate: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `rate` observed over `n` trials."""
    if n <= 0:
        return (0.0, 1.0)
    z2 = z * z
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def with_intervals(by_call: pl.DataFrame, z: float = Z_95) -> pl.DataFrame:
    """A by-call frame with the hit rate's Wilson interval (`ci_low`, `ci_high`) and `versus`.

    Rows without a hit rate, a base rate or calls (MANTENER) get nulls.
    """
    rate, base, n = pl.col("hit_rate"), pl.col("base_rate"), pl.col("calls").cast(pl.Float64)
    known = rate.is_not_null() & base.is_not_null() & (n > 0)
    z2 = z * z
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * (rate * (1 - rate) / n + z2 / (4 * n * n)).sqrt()
    framed = by_call.with_columns(
        pl.when(known).then((centre - half).clip(lower_bound=0.0)).alias("ci_low"),
        pl.when(known).then((centre + half).clip(upper_bound=1.0)).alias("ci_high"),
    )
    return framed.with_columns(
        pl.when(~known)
        .then(None)
        .when(base < pl.col("ci_low"))
        .then(pl.lit(ABOVE))
        .when(base > pl.col("ci_high"))
        .then(pl.lit(BELOW))
        .otherwise(pl.lit(INSIDE))
        .alias("versus")
    )


def edge(mean_ic: float | None, t_stat: float | None) -> str | None:
    """ "positive", "negative" or "none": whether a mean IC is told apart from zero by its t;
    None when there is nothing to judge."""
    if mean_ic is None or t_stat is None or math.isnan(t_stat):
        return None
    if abs(t_stat) < T_RULE:
        return "none"
    return "positive" if mean_ic > 0 else "negative"
