"""The day's call from the four components: total, confidence, call, target, risk, summary."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from pipeline.analysis.scoring import (
    COMPONENTS,
    Factor,
    fundamental,
    macro,
    sentiment,
    summary_es,
    technical,
)
from pipeline.settings import Settings

# Target price: the total's distance from 50 scales one standard deviation of the
# return over TARGET_HORIZON_DAYS trading days (a total of 100 targets +1 sigma).
TARGET_HORIZON_DAYS = 63
TRADING_DAYS_PER_YEAR = 252
# Risk level from volatility_20 (annualised) and drawdown_252 (from the 52-week high).
HIGH_RISK_VOLATILITY, LOW_RISK_VOLATILITY = 0.60, 0.30
HIGH_RISK_DRAWDOWN, LOW_RISK_DRAWDOWN = -0.40, -0.20
MAX_TARGET_MOVE = 0.5  # the target stays within +/-50% of the close
MAX_PRICE = 1e8  # the store keeps prices as DECIMAL(10, 2)
DRIVERS_PER_SIDE = 2  # drivers named for and against the call in the summary
FACTORS = {
    "technical": technical.factors,
    "fundamental": fundamental.factors,
    "macro": macro.factors,
    "sentiment": sentiment.factors,
}


def _score(component: str) -> pl.Expr:
    return pl.col(f"{component}_score")


def weight_shares(weights: dict[str, float]) -> list[pl.Expr]:
    """`weight_<component>`: its share of the total among the components that have a score.

    The configured weights are re-normalised over the present components; if those all
    weigh zero, the present components share equally.
    """
    present = {k: _score(k).is_not_null() for k in COMPONENTS}
    weight_sum = pl.sum_horizontal(
        pl.when(present[k]).then(weights[k]).otherwise(0.0) for k in COMPONENTS
    )
    n_present = pl.sum_horizontal(present.values())
    return [
        pl.when(present[k])
        .then(pl.when(weight_sum > 0).then(weights[k] / weight_sum).otherwise(1.0 / n_present))
        .alias(f"weight_{k}")
        for k in COMPONENTS
    ]


def total_score() -> pl.Expr:
    """The weighted mean of the present component scores."""
    return (
        pl.sum_horizontal(pl.col(f"weight_{k}") * _score(k) for k in COMPONENTS)
        .clip(0.0, 100.0)
        .round(2)
        .alias("total_score")
    )


def confidence(weights: dict[str, float]) -> pl.Expr:
    """100 x data coverage x agreement between the present components.

    coverage: configured weight of the present components, each times its completeness,
    over the total configured weight. agreement: 1 - (population standard deviation of
    the present component scores) / 50, so identical scores agree fully and scores split
    between 0 and 100 not at all.
    """
    all_weight = sum(weights.values())
    coverage = pl.sum_horizontal(
        pl.when(_score(k).is_not_null()).then(weights[k] * pl.col(f"{k}_completeness"))
        for k in COMPONENTS
    ) * (1.0 / all_weight)
    scores = [_score(k) for k in COMPONENTS]
    mean = pl.mean_horizontal(scores)
    spread = pl.mean_horizontal((s - mean) ** 2 for s in scores).sqrt()
    agreement = (1.0 - spread * (1.0 / 50.0)).clip(0.0, 1.0)
    return (100.0 * coverage * agreement).clip(0.0, 100.0).round(2).alias("confidence")


def recommendation(buy_threshold: float, sell_threshold: float) -> pl.Expr:
    """COMPRAR at or above the buy threshold, VENDER at or below the sell one, else MANTENER."""
    total = pl.col("total_score")
    return (
        pl.when(total >= buy_threshold)
        .then(pl.lit("COMPRAR"))
        .when(total <= sell_threshold)
        .then(pl.lit("VENDER"))
        .otherwise(pl.lit("MANTENER"))
        .alias("recommendation")
    )


def _annual_volatility() -> pl.Expr:
    """volatility_20, or ATR(14) relative to the close annualised when it is missing."""
    atr_based = pl.col("atr_14") / pl.col("close") * math.sqrt(TRADING_DAYS_PER_YEAR)
    return pl.col("volatility_20").fill_null(atr_based)


def _price(x: pl.Expr) -> pl.Expr:
    return pl.when(x < MAX_PRICE).then(x.round(2))


def prices() -> list[pl.Expr]:
    """current_price (the raw close) and the indicative target_price, in the listing currency.

    target = close x (1 + (total - 50) / 50 x sigma), sigma being the annualised
    volatility scaled to TARGET_HORIZON_DAYS: sigma = vol x sqrt(63 / 252); the move
    is capped at MAX_TARGET_MOVE either way.
    """
    sigma = _annual_volatility() * math.sqrt(TARGET_HORIZON_DAYS / TRADING_DAYS_PER_YEAR)
    move = (pl.col("total_score") - 50.0) * (1.0 / 50.0) * sigma
    move = move.clip(-MAX_TARGET_MOVE, MAX_TARGET_MOVE)
    return [
        _price(pl.col("close_raw")).alias("current_price"),
        _price(pl.col("close_raw") * (1.0 + move)).alias("target_price"),
    ]


def risk_level() -> pl.Expr:
    """ALTO, BAJO or MEDIO from the annualised volatility and the 52-week drawdown."""
    vol, drawdown = _annual_volatility(), pl.col("drawdown_252")
    return (
        pl.when((vol >= HIGH_RISK_VOLATILITY) | (drawdown <= HIGH_RISK_DRAWDOWN))
        .then(pl.lit("ALTO"))
        .when((vol < LOW_RISK_VOLATILITY) & (drawdown.is_null() | (drawdown > LOW_RISK_DRAWDOWN)))
        .then(pl.lit("BAJO"))
        .when(vol.is_not_null())
        .then(pl.lit("MEDIO"))
        .alias("risk_level")
    )


def _all_factors() -> list[tuple[str, Factor]]:
    return [(k, f) for k in COMPONENTS for f in FACTORS[k]()]


_DRIVER_SCHEMA = pl.Schema(
    {f"{side}_{rank}": pl.Int64 for rank in range(DRIVERS_PER_SIDE) for side in ("for", "against")}
)


def _driver_indices(impacts: pl.Series) -> pl.Series:
    """Per row, the indices of the largest positive and negative impacts (-1: none).

    One numpy argsort over the (rows x factors) matrix: a per-row sort in polars (list
    columns, or horizontal max passes) is several times slower on a backfill.
    """
    matrix = impacts.struct.unnest().fill_null(0.0).to_numpy()
    order = np.argsort(-matrix, axis=1, kind="stable")
    ranked = np.take_along_axis(matrix, order, axis=1)
    fields = {}
    for rank in range(DRIVERS_PER_SIDE):
        fields[f"for_{rank}"] = np.where(ranked[:, rank] > 0, order[:, rank], -1)
        fields[f"against_{rank}"] = np.where(ranked[:, -1 - rank] < 0, order[:, -1 - rank], -1)
    return pl.DataFrame(fields, schema=_DRIVER_SCHEMA).to_struct()


def with_drivers(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Add `drivers_for` / `drivers_against`: the phrases of the factors that move the total most.

    A factor's impact is its points times its component's weight share, i.e. exactly what
    it adds to (total - 50).
    """
    factors = _all_factors()
    impacts = pl.struct(
        (pl.col(f"weight_{k}") * f.points).alias(f"f{i}") for i, (k, f) in enumerate(factors)
    )
    picked = impacts.map_batches(_driver_indices, return_dtype=pl.Struct(_DRIVER_SCHEMA))

    def phrases(side: str, texts: list[str]) -> pl.Expr:
        chosen = [
            pl.col("_drivers")
            .struct.field(f"{side}_{rank}")
            .replace_strict(range(len(texts)), texts, default=None, return_dtype=pl.String)
            for rank in range(DRIVERS_PER_SIDE)
        ]
        return pl.concat_str(chosen, separator=summary_es.AND, ignore_nulls=True)

    # The indices are materialised once: each use of an expression would re-run the sort.
    return (
        frame.with_columns(picked.alias("_drivers"))
        .with_columns(
            phrases("for", [f.up for _, f in factors]).alias("drivers_for"),
            phrases("against", [f.down for _, f in factors]).alias("drivers_against"),
        )
        .drop("_drivers")
    )


def summary() -> pl.Expr:
    """Two or three Spanish sentences: the call, its drivers for and against, missing data."""
    pro, con = pl.col("drivers_for"), pl.col("drivers_against")
    headline = pl.format(
        summary_es.HEADLINE,
        "ticker",
        "recommendation",
        pl.col("total_score").round(0).cast(pl.Int64),
        pl.col("confidence").round(0).cast(pl.Int64),
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
    missing = pl.concat_str(
        [
            pl.when(_score(k).is_null()).then(pl.lit(summary_es.COMPONENT_NAMES[k]))
            for k in COMPONENTS
        ],
        separator=", ",
        ignore_nulls=True,
    )
    gaps = pl.when(missing != "").then(pl.format(summary_es.NO_DATA, missing))
    return pl.concat_str([headline, sides, gaps], separator=" ", ignore_nulls=True).alias("summary")


def combine(panel: pl.LazyFrame, settings: Settings) -> pl.LazyFrame:
    """Add total_score, confidence, recommendation, prices, risk_level and summary."""
    scored = (
        panel.with_columns(weight_shares(settings.weights))
        .with_columns(total_score(), confidence(settings.weights))
        .with_columns(
            recommendation(settings.buy_threshold, settings.sell_threshold), risk_level(), *prices()
        )
    )
    return with_drivers(scored).with_columns(summary())
