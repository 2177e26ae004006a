"""Relative scores: where a stock stands against its listing group on the same date (0-100).

A stock is compared only with the stocks quoted in the same currency on the same exchange
calendar: the NYSE/Nasdaq ADRs (USD) with each other, the BYMA shares (`.BA`, ARS) with each
other. Indices (`^MERV`) and exchange rates (`=X`) belong to no group and get no score.

score = 100 x (rank - 1) / (n - 1), with the average rank for ties, among the n stocks of the
group that have a value on that date: 0 is the lowest value, 100 the highest and 50 the
median stock. Fewer than MIN_PEERS stocks with a value, or no value, give NULL with a reason,
never a neutral 50.
"""

from __future__ import annotations

import math

import polars as pl

ADR_GROUP, LOCAL_GROUP = "ADR", "BYMA"
# The calls put the top and bottom 20 % of a group in COMPRAR / VENDER: a quintile needs at
# least one stock, so a group needs 1 / 0.20 = 5 stocks with a value before anyone is ranked.
DEFAULT_EXTREME_SHARE = 0.20
MIN_PEERS = math.ceil(1 / DEFAULT_EXTREME_SHARE)
REASON_NO_DATA = "no_data"
REASON_TOO_FEW_PEERS = "too_few_peers"
REASON_NO_GROUP = "no_group"


def listing_group(ticker: str = "ticker") -> pl.Expr:
    """BYMA for `.BA` shares, ADR for other stocks, null for indices (^) and rates (=X)."""
    col = pl.col(ticker)
    not_a_stock = col.str.starts_with("^") | col.str.contains("=", literal=True)
    return (
        pl.when(not_a_stock)
        .then(pl.lit(None, dtype=pl.String))
        .when(col.str.ends_with(".BA"))
        .then(pl.lit(LOCAL_GROUP))
        .otherwise(pl.lit(ADR_GROUP))
    )


def min_peers(extreme_share: float) -> int:
    """The fewest stocks with a value for the top and bottom `extreme_share` to hold one each."""
    return max(2, math.ceil(1 / extreme_share - 1e-9))


def relative_score(
    value: str, keys: tuple[str, ...] = ("date", "group"), peers_needed: int = MIN_PEERS
) -> list[pl.Expr]:
    """`<value>_score` (0-100 rank within `keys`) and `<value>_reason` (set exactly when NULL).

    The reason is a code: `no_data` (this stock has no value), `too_few_peers` (fewer than
    `peers_needed` stocks of its group have one), `no_group` (an index or a rate).
    """
    x = pl.col(value)
    peers = x.count().over(keys)
    rank = x.rank("average").over(keys)
    score = pl.when(
        x.is_not_null() & (peers >= peers_needed) & pl.col(keys[-1]).is_not_null()
    ).then(((rank - 1.0) / (peers - 1.0) * 100.0).round(2))
    reason = (
        pl.when(pl.col(keys[-1]).is_null())
        .then(pl.lit(REASON_NO_GROUP))
        .when(x.is_null())
        .then(pl.lit(REASON_NO_DATA))
        .when(peers < peers_needed)
        .then(pl.lit(REASON_TOO_FEW_PEERS))
    )
    return [score.alias(f"{value}_score"), reason.alias(f"{value}_reason")]


def midrank_quantile(value: str, keys: tuple[str, ...] = ("date", "group")) -> pl.Expr:
    """(rank - 0.5) / n within `keys`: the share of the group below the stock, ties split.

    COMPRAR / VENDER and the risk terciles cut this at fixed shares: with n = 5 and 20 %
    exactly one stock is above 0.8 and one below 0.2.
    """
    x = pl.col(value)
    return pl.when(x.is_not_null()).then(
        (x.rank("average").over(keys) - 0.5) / x.count().over(keys)
    )
