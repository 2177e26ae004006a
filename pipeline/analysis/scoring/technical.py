"""Technical score: a vote of indicators in the shape of TradingView's technical rating.

Each vote is +1 (buy), -1 (sell) or 0 (neutral), NULL when an input is missing. Votes
are averaged within their group (trend, momentum, volatility, volume), the available
groups are averaged into a rating in [-1, 1], and the score is 50 + 50 x rating.
Every vote reads only the row's own indicator columns, so the score of a day does not
depend on which other days are analysed.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipeline.analysis.factors import FACTOR_COLUMNS
from pipeline.analysis.frames import MIN_HISTORY_BARS
from pipeline.analysis.indicators import INDICATOR_COLUMNS
from pipeline.analysis.scoring import (
    Factor,
    Reason,
    json_object,
    metadata_json,
    reason_columns,
    warnings_list,
)
from pipeline.analysis.scoring.summary_es import DRIVERS

GROUPS = ("trend", "momentum", "volatility", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close", "close_raw", "adj_close")
# The score needs these (SMA 50 is the longest: 50 bars); SMA 200 and the volume votes
# are used when present and lower the completeness when not.
REQUIRED = ("sma_50", "rsi_14", "macd_signal")
MIN_BARS = MIN_HISTORY_BARS
RSI_OVERSOLD, RSI_OVERBOUGHT = 30.0, 70.0
CALM_VOLATILITY, HIGH_VOLATILITY = 0.30, 0.60  # annualised volatility_20
SHORT_HISTORY = Reason(
    "short_history",
    "not enough price history: {} bars, the technical score needs {}",
    (("bars", pl.col("bars").fill_null(0)), ("needed", pl.lit(MIN_BARS))),
)
VOLUME_SPIKE = 1.5  # volume / volume_sma_20 that makes a day's direction count


@dataclass(frozen=True)
class Vote:
    """One indicator's vote: +1 buy, -1 sell, 0 neutral, NULL when an input is missing."""

    name: str
    group: str
    signal: pl.Expr


def _sign(x: pl.Expr) -> pl.Expr:
    return x.sign().cast(pl.Float64)


def _band(x: pl.Expr, buy_below: float, sell_above: float) -> pl.Expr:
    """+1 below `buy_below`, -1 above `sell_above`, 0 between, NULL when x is NULL."""
    return (
        pl.when(x < buy_below)
        .then(1.0)
        .when(x > sell_above)
        .then(-1.0)
        .when(x.is_not_null())
        .then(0.0)
    )


def _volume_vote(condition: pl.Expr, direction: pl.Expr) -> pl.Expr:
    """The sign of `direction` on days meeting `condition`; NULL without volume data."""
    has_volume = (pl.col("volume_sma_20") > 0) & pl.col("volume").is_not_null()
    return (
        pl.when(~has_volume.fill_null(False))
        .then(None)
        .when(condition)
        .then(_sign(direction))
        .otherwise(0.0)
    )


c = pl.col
# (faster, slower): each trend vote is +1 when the faster line is above the slower one.
TREND_PAIRS = (
    ("close", "sma_20"),
    ("close", "sma_50"),
    ("close", "sma_200"),
    ("sma_50", "sma_200"),
)
VOTES = (
    *(Vote(f"{fast}_vs_{slow}", "trend", _sign(c(fast) - c(slow))) for fast, slow in TREND_PAIRS),
    Vote("rsi_14", "momentum", _band(c("rsi_14"), RSI_OVERSOLD, RSI_OVERBOUGHT)),
    Vote("macd_vs_signal", "momentum", _sign(c("macd") - c("macd_signal"))),
    Vote("return_20d", "momentum", _sign(c("return_20d"))),
    Vote(
        "bollinger",
        "volatility",
        pl.when(c("close") < c("bb_lower"))
        .then(1.0)
        .when(c("close") > c("bb_upper"))
        .then(-1.0)
        .when(c("close").is_not_null() & c("bb_upper").is_not_null())
        .then(0.0),
    ),
    Vote(
        "volatility_20", "volatility", _band(c("volatility_20"), CALM_VOLATILITY, HIGH_VOLATILITY)
    ),
    Vote(
        "volume_spike",
        "volume",
        _volume_vote(c("volume") >= VOLUME_SPIKE * c("volume_sma_20"), c("log_return")),
    ),
    Vote(
        "volume_confirms_trend",
        "volume",
        _volume_vote(c("volume") > c("volume_sma_20"), c("return_20d")),
    ),
)


def _votes_in(group: str) -> list[str]:
    return [f"vote_{v.name}" for v in VOTES if v.group == group]


def score_technical(panel: pl.LazyFrame) -> pl.LazyFrame:
    """Add the votes, group ratings and `technical_score` / `_completeness` / `_reason`."""
    enough = pl.all_horizontal(c(col).is_not_null() for col in REQUIRED)
    rating = pl.mean_horizontal(c(f"technical_{g}") for g in GROUPS)
    return (
        panel.with_columns(v.signal.fill_nan(None).alias(f"vote_{v.name}") for v in VOTES)
        .with_columns(pl.mean_horizontal(_votes_in(g)).alias(f"technical_{g}") for g in GROUPS)
        .with_columns(
            *reason_columns("technical", [(~enough, SHORT_HISTORY)]),
            technical_score=pl.when(enough).then((50.0 + 50.0 * rating).round(2)),
            technical_completeness=pl.sum_horizontal(
                c(f"vote_{v.name}").is_not_null() for v in VOTES
            )
            * (1.0 / len(VOTES)),
        )
    )


def factors() -> list[Factor]:
    """Each vote's share of (technical score - 50), with its phrases for the summary."""
    groups = pl.sum_horizontal(c(f"technical_{g}").is_not_null() for g in GROUPS)
    out = []
    for v in VOTES:
        in_group = pl.sum_horizontal(c(name).is_not_null() for name in _votes_in(v.group))
        up, down = DRIVERS[v.name]
        out.append(Factor(50.0 * c(f"vote_{v.name}") / (groups * in_group), up, down))
    return out


def detail(source: str) -> dict[str, pl.Expr]:
    """The JSON columns of the technical detail row."""
    price = {col: c(col).round(2) for col in PRICE_COLUMNS}
    return {
        "raw_data": json_object(
            **price, volume=c("volume").round(0), usdars_ccl=c("usdars_ccl").round(2)
        ),
        "indicators": json_object(
            # 10 significant digits keep every TA-Lib value within 1e-9 relative; `bars`
            # (bars in the loaded window, not in the whole history) is not stored.
            **{col: c(col).round_sig_figs(10) for col in INDICATOR_COLUMNS if col != "bars"},
            ratings=pl.struct(c(f"technical_{g}").round(3).alias(g) for g in GROUPS),
            votes=pl.struct(c(f"vote_{v.name}").cast(pl.Int8).alias(v.name) for v in VOTES),
            vote_score=c("vote_score"),  # the votes' 0-100 rating: information, not the call
            factors=pl.struct(c(name).round_sig_figs(10) for name in FACTOR_COLUMNS),
            factor_ranks=pl.struct(c(f"{name}_score").alias(name) for name in FACTOR_COLUMNS),
            call=pl.struct(
                group=c("group"),
                formed_on=c("formed_on"),
                daily_total=c("daily_total"),
                decided_by=c("call_listing"),
                history_bars=c("history_bars"),
            ),
            range_63=pl.struct(c(q).round_sig_figs(10) for q in ("q_low", "q_mid", "q_high")),
            ewma_volatility=c("ewma_volatility").round_sig_figs(10),
        ),
        "metadata": metadata_json(
            source,
            "technical",
            pl.struct(prices=c("date")),
            warnings_list(
                (c("sma_200").is_null(), "fewer than 200 bars: no SMA 200 votes"),
                (c("technical_volume").is_null(), "no volume data: no volume votes"),
                (c("atr_14").is_null(), "high/low missing: no ATR"),
                (
                    c("implausible_move"),
                    "implausible one-day move (beyond ln 4): kept out of the factors",
                ),
            ),
        ),
    }
