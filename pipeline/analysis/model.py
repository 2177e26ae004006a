"""The relative model: factor ranks -> component scores -> total -> monthly calls per company.

Every component score is a rank within the listing group on the date (`relative`): the
technical score is the rank of the equal-weight mean of the four factor ranks (`factors`);
fundamental and sentiment scores are ranked within the stocks that have them. The total is
the weighted mean of the component scores the stock has (the configured weights re-normalised
over them; macro is a market view, not part of any stock's total). Calls: `calls`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

import polars as pl

from pipeline.analysis import calls, factors, forecast
from pipeline.analysis.factors import FACTOR_COLUMNS
from pipeline.analysis.relative import MIN_PEERS, listing_group, relative_score

STOCK_COMPONENTS = ("technical", "fundamental", "sentiment")
# A calendar month has at most 23 sessions: a call is formed up to 22 sessions before its day.
MAX_SESSIONS_AFTER_FORMATION = 22
# Sessions of prices before the analysed day that every value of the model needs: the daily
# run loads at least this many, and then computes exactly what a full backfill computes. A
# company's call may be read from the other listing's row up to PARTNER_TOLERANCE earlier
# (its calendar days bound the sessions), formed up to a month before that row.
LOOKBACK_SESSIONS = max(
    factors.LOOKBACK_SESSIONS + MAX_SESSIONS_AFTER_FORMATION + calls.PARTNER_TOLERANCE.days,
    forecast.RANGE_LOOKBACK_SESSIONS + factors.BRIDGE_SESSIONS,
)


def factor_scores(frame: pl.DataFrame, peers_needed: int = MIN_PEERS) -> pl.DataFrame:
    """Add `group`, `<factor>_score` / `<factor>_reason` and the technical score and reason.

    technical_score ranks the mean of the factor scores the stock has (NULL when it has none:
    its reason is then the first factor's reason); `technical_completeness` is the share of
    the four factors present.
    """
    ranked = frame.with_columns(listing_group().alias("group")).with_columns(
        e for c in FACTOR_COLUMNS for e in relative_score(c, peers_needed=peers_needed)
    )
    scores = [pl.col(f"{c}_score") for c in FACTOR_COLUMNS]
    present = pl.sum_horizontal(s.is_not_null() for s in scores)
    ranked = ranked.with_columns(
        pl.mean_horizontal(scores).alias("factor_mean"),
        (present * (1.0 / len(FACTOR_COLUMNS))).alias("technical_completeness"),
    )
    technical = relative_score("factor_mean", peers_needed=peers_needed)
    first_reason = pl.coalesce(pl.col(f"{c}_reason") for c in FACTOR_COLUMNS)
    return (
        ranked.with_columns(technical)
        .rename({"factor_mean_score": "technical_score", "factor_mean_reason": "technical_reason"})
        .with_columns(
            pl.when(pl.col("technical_score").is_null())
            .then(pl.when(present == 0).then(first_reason).otherwise(pl.col("technical_reason")))
            .alias("technical_reason")
        )
    )


def rank_component(
    frame: pl.DataFrame, component: str, peers_needed: int = MIN_PEERS
) -> pl.DataFrame:
    """Replace `<component>_score` (absolute, 0-100) by its rank among the stocks that have one.

    The absolute score is kept as `<component>_level`; a stock without one keeps its reason,
    a stock that cannot be ranked gets `too_few_peers`.
    """
    level = f"{component}_level"
    ranked = frame.rename({f"{component}_score": level}).with_columns(
        relative_score(level, peers_needed=peers_needed)
    )
    reason = pl.col(f"{component}_reason")
    return (
        ranked.rename({f"{level}_score": f"{component}_score"})
        .with_columns(
            pl.when(pl.col(f"{component}_score").is_null())
            .then(reason.fill_null(pl.col(f"{level}_reason")))
            .alias(f"{component}_reason")
        )
        .drop(f"{level}_reason")
    )


def total_score(weights: Mapping[str, float]) -> pl.Expr:
    """The weighted mean of the stock's component scores, weights re-normalised over them."""
    scores = {k: pl.col(f"{k}_score") for k in STOCK_COMPONENTS}
    weight = {
        k: pl.when(s.is_not_null()).then(weights[k]).otherwise(0.0) for k, s in scores.items()
    }
    total_weight = pl.sum_horizontal(weight.values())
    weighted = pl.sum_horizontal(weight[k] * scores[k].fill_null(0.0) for k in STOCK_COMPONENTS)
    has_any = pl.any_horizontal(s.is_not_null() for s in scores.values())
    return pl.when(has_any & (total_weight > 0)).then((weighted / total_weight).round(2))


def score_and_call(
    frame: pl.DataFrame,
    weights: Mapping[str, float],
    buy_share: float = calls.DEFAULT_BUY_SHARE,
    sell_share: float = calls.DEFAULT_SELL_SHARE,
) -> pl.DataFrame:
    """Total score (of the formation session), monthly call and company call for each row.

    `frame` needs date, ticker, the FACTOR_COLUMNS, history_bars, and optionally absolute
    `fundamental_score` / `sentiment_score` with their `_reason` columns.
    """
    scored = factor_scores(frame)
    for component in ("fundamental", "sentiment"):
        if f"{component}_score" in scored.columns:
            scored = rank_component(scored, component)
        else:
            scored = scored.with_columns(
                pl.lit(None, dtype=pl.Float64).alias(f"{component}_score"),
                pl.lit("no_data").alias(f"{component}_reason"),
            )
    scored = scored.with_columns(total_score(weights).alias("daily_total"))
    formed = calls.monthly_calls(scored, buy_share, sell_share, score="daily_total")
    # The stored total is the one that set the call: the formation session's, of the listing
    # that decided it. The day's own total stays as `daily_total` (in the details).
    return calls.company_calls(formed).rename({"formation_total": "total_score"})


def price_model(prices: pl.DataFrame, dates: Collection[dt.date] | None = None) -> pl.DataFrame:
    """Factors, history, target percentiles and EWMA volatility on the rows that have a close.

    `prices` is the adjusted panel (date, ticker, close, and `close_raw` if wanted later).
    `dates`: the only dates whose rows will be used (None: every date); the target
    percentiles may then be left null on the other rows (`forecast.add_forecasts`).
    """
    bars = factors.bars_of(prices)
    # The grid holds only what the windows read; the bars' other columns are put back after.
    grid = factors.session_grid(bars.select("ticker", "date", "close"))
    if grid.is_empty():
        return factors.add_factors(prices)
    with_factors = grid.with_columns(factors.factor_expressions())
    wanted = None if dates is None else pl.col("observed") & pl.col("date").is_in(list(dates))
    modelled = forecast.add_forecasts(with_factors, wanted).filter(pl.col("observed"))
    # Its observed rows are the bars, in the same order.
    added = modelled.drop("ticker", "date", "close", factors.TICKER_KEY)
    returns = ["log_return", "implausible_move"]
    return bars.with_columns(added.select(returns)).hstack(added.drop(returns))


def evaluate(
    prices: pl.DataFrame,
    weights: Mapping[str, float],
    buy_share: float = calls.DEFAULT_BUY_SHARE,
    sell_share: float = calls.DEFAULT_SELL_SHARE,
) -> pl.DataFrame:
    """The whole price model: scores, calls, target range and risk level for every row."""
    rows = score_and_call(price_model(prices), weights, buy_share, sell_share)
    return rows.with_columns(*forecast.target_prices(), forecast.risk_level())
