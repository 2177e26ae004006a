"""Calls in fixed proportions, set once a month and held, and one call per company.

The rule (stated once, not tuned): on the first session of each calendar month of its
exchange (the formation session), the stocks of a listing group are ranked by their total
score; the top BUY_SHARE are COMPRAR, the bottom SELL_SHARE VENDER, the rest MANTENER. Every
later session of that month carries the call formed on its first session. Monthly formation
and holding is how the factor literature builds its portfolios (Jegadeesh & Titman 1993 form
and rebalance monthly; Fama & French 1993 likewise), so a call lasts at least until the next
month and changes at most twelve times a year. The call on day D needs only the data up to the
first session of D's month: it is recomputed from prices, never read back from the database.

A stock is in the top BUY_SHARE when its mid-rank quantile (rank - 0.5) / n is above
1 - BUY_SHARE: exactly BUY_SHARE x n stocks when that is a whole number, the nearest count
otherwise.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipeline.analysis.calendar import exchange_expr, sessions_frame
from pipeline.analysis.factors import date_span
from pipeline.analysis.relative import REASON_TOO_FEW_PEERS as REASON_TOO_FEW_PEERS_CODE
from pipeline.analysis.relative import midrank_quantile, min_peers

BUY, HOLD, SELL = "COMPRAR", "MANTENER", "VENDER"
DEFAULT_BUY_SHARE = DEFAULT_SELL_SHARE = 0.20
REASON_NO_BAR = "no_bar_on_formation_session"
REASON_NOT_FORMED = "no_total_on_formation_session"
REASON_TOO_FEW_PEERS = "too_few_peers_on_formation_session"

# One call per company: BYMA share -> (ADR, local shares per ADR), from the depositary
# agreements filed with the SEC (Form F-6 / 20-F cover pages). Each ratio is also the median
# of (ADR close x implied CCL / local close) in the bundled sample, with the CCL implied by
# YPF (1:1), every year the pair is in it (checked by tests/test_pipeline_model.py).
ADR_PAIRS: dict[str, tuple[str, float]] = {
    "BBAR.BA": ("BBAR", 3.0),  # BBVA Argentina
    "BMA.BA": ("BMA", 10.0),  # Banco Macro
    "CEPU.BA": ("CEPU", 10.0),  # Central Puerto
    "CRES.BA": ("CRESY", 10.0),  # Cresud
    "EDN.BA": ("EDN", 20.0),  # Edenor
    "GGAL.BA": ("GGAL", 10.0),  # Grupo Financiero Galicia
    "PAMP.BA": ("PAM", 25.0),  # Pampa Energía
    "SUPV.BA": ("SUPV", 5.0),  # Grupo Supervielle
    "TECO2.BA": ("TEO", 5.0),  # Telecom Argentina
    "TGSU2.BA": ("TGS", 5.0),  # Transportadora de Gas del Sur
    "YPFD.BA": ("YPF", 1.0),  # YPF
    # Not in the bundled sample, ratios from the depositary agreements only:
    "IRSA.BA": ("IRS", 10.0),  # IRSA (GDS)
    "LOMA.BA": ("LOMA", 5.0),  # Loma Negra
    "VIST.BA": ("VIST", 1.0),  # Vista Energy
}
# A listing's call may come from the other listing's row up to a week earlier (the other
# exchange's holiday); on a date both trade the two rows are compared directly.
PARTNER_TOLERANCE = dt.timedelta(days=7)


def pairs_frame() -> pl.DataFrame:
    """ADR_PAIRS as rows: local, adr, shares_per_adr."""
    return pl.DataFrame(
        [(local, adr, shares) for local, (adr, shares) in ADR_PAIRS.items()],
        schema={"local": pl.String, "adr": pl.String, "shares_per_adr": pl.Float64},
        orient="row",
    )


def with_formation_session(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `formed_on`: the first session of the row's calendar month on its exchange."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.Date).alias("formed_on"))
    first, last = date_span(frame)
    firsts = (
        sessions_frame(first.replace(day=1), last)
        .group_by("exchange", pl.col("date").dt.month_start().alias("_month"))
        .agg(pl.col("date").min().alias("formed_on"))
    )
    formed_on = (
        frame.select(
            exchange_expr().alias("_exchange"), pl.col("date").dt.month_start().alias("_month")
        )
        .join(
            firsts,
            left_on=["_exchange", "_month"],
            right_on=["exchange", "_month"],
            how="left",
            maintain_order="left",
        )
        .get_column("formed_on")
    )
    return frame.with_columns(formed_on)  # joined on the keys alone: no copy of the frame


def _call(quantile: pl.Expr, buy_share: float, sell_share: float) -> pl.Expr:
    return (
        pl.when(quantile > 1.0 - buy_share)
        .then(pl.lit(BUY))
        .when(quantile < sell_share)
        .then(pl.lit(SELL))
        .when(quantile.is_not_null())
        .then(pl.lit(HOLD))
    )


def monthly_calls(
    frame: pl.DataFrame,
    buy_share: float = DEFAULT_BUY_SHARE,
    sell_share: float = DEFAULT_SELL_SHARE,
    score: str = "total_score",
) -> pl.DataFrame:
    """Add `recommendation`, `formed_on`, `formation_total` (the score on that session, which
    set the call) and `call_reason` to rows of date, ticker, group and the score.

    `recommendation` is null (and `call_reason` says why) when the ticker had no bar or no
    score on its month's formation session, or its group had too few scored stocks that day
    (also when its own score was NULL for that reason: `technical_reason` too_few_peers).
    """
    rows = with_formation_session(frame)
    peers = pl.col(score).count().over("date", "group")
    few_peers = (
        pl.col("technical_reason") == REASON_TOO_FEW_PEERS_CODE
        if "technical_reason" in frame.columns
        else pl.lit(False)
    )
    needed = min_peers(min(buy_share, sell_share))
    formed = (
        rows.filter(pl.col("date") == pl.col("formed_on"))
        .with_columns(midrank_quantile(score).alias("_q"), peers.alias("_peers"))
        .select(
            "ticker",
            "formed_on",
            pl.col(score).alias("formation_total"),
            pl.when(pl.col("_peers") >= needed)
            .then(_call(pl.col("_q"), buy_share, sell_share))
            .alias("recommendation"),
            pl.when(pl.col("_peers") < needed)
            .then(pl.lit(REASON_TOO_FEW_PEERS))
            .when(pl.col(score).is_null() & few_peers)
            .then(pl.lit(REASON_TOO_FEW_PEERS))
            .when(pl.col(score).is_null())
            .then(pl.lit(REASON_NOT_FORMED))
            .alias("call_reason"),
        )
    )
    keys = ["ticker", "formed_on"]
    added = rows.select(keys).join(formed, on=keys, how="left", maintain_order="left")
    out = rows.hstack(added.drop(keys))  # joined on the keys alone: no copy of the frame
    return out.with_columns(
        pl.when(pl.col("recommendation").is_null())
        .then(pl.col("call_reason").fill_null(pl.lit(REASON_NO_BAR)))
        .alias("call_reason")
    )


def _partners() -> pl.DataFrame:
    pairs = pairs_frame()
    return pl.concat(
        [
            pairs.select(pl.col("local").alias("ticker"), pl.col("adr").alias("partner")),
            pairs.select(pl.col("adr").alias("ticker"), pl.col("local").alias("partner")),
        ]
    )


# What a listing takes from the other listing of its company when that one decides the call.
CARRIED = ("recommendation", "formation_total", "formed_on")


def company_calls(frame: pl.DataFrame) -> pl.DataFrame:
    """One call per company: both listings take the call of the one with the longer history.

    `frame` has date, ticker, recommendation, formation_total, formed_on, history_bars. The
    listing whose row (on the date, or its latest within PARTNER_TOLERANCE before) has a call
    and more `history_bars` decides; on a tie the ADR does. The other listing takes its
    CARRIED columns (the call, the total that set it, its formation day). Adds
    `call_listing`: the ticker whose ranking set the call. Prices and component scores stay
    each listing's own.
    """
    carried = [c for c in CARRIED if c in frame.columns]
    # The calls are worked out on the columns they read; the frame only takes the results.
    narrow = frame.select("ticker", "date", "history_bars", *carried)
    keyed = narrow.with_row_index("_row").join(_partners(), on="ticker", how="left")
    other = narrow.select(
        pl.col("ticker").alias("partner"),
        pl.col("date").alias("_partner_date"),
        *[pl.col(c).alias(f"_partner_{c}") for c in carried],
        pl.col("history_bars").alias("_partner_history"),
    ).sort("_partner_date")
    matched = keyed.sort("date").join_asof(
        other,
        left_on="date",
        right_on="_partner_date",
        by="partner",
        strategy="backward",
        tolerance=PARTNER_TOLERANCE,
        check_sortedness=False,
    )
    own_history = pl.col("history_bars").fill_null(0)
    partner_history = pl.col("_partner_history").fill_null(0)
    partner_is_adr = ~pl.col("partner").str.ends_with(".BA")
    partner_decides = pl.col("_partner_recommendation").is_not_null() & (
        pl.col("recommendation").is_null()
        | (partner_history > own_history)
        | ((partner_history == own_history) & partner_is_adr)
    )
    decided = matched.select(
        "_row",
        *[
            pl.when(partner_decides).then(pl.col(f"_partner_{c}")).otherwise(pl.col(c)).alias(c)
            for c in carried
        ],
        pl.when(partner_decides)
        .then(pl.col("partner"))
        .when(pl.col("recommendation").is_not_null())
        .then(pl.col("ticker"))
        .alias("call_listing"),
    )
    return frame.with_columns(decided.sort("_row").drop("_row"))
