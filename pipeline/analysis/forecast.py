"""The 63-session target range and the volatility forecast behind the risk level.

Target range (historical simulation): the 10th, 50th and 90th percentiles of the ticker's own
overlapping 63-session clean log returns over its last RANGE_LOOKBACK_SESSIONS sessions, applied
to the day's close. The drift of the past returns stays in (a `.BA` price in pesos carries the
peso's inflation), so the range is meant to hold 80 % of the outcomes 63 sessions later.
RANGE_LOOKBACK_SESSIONS = 756 (three years) holds twelve non-overlapping 63-session horizons;
the usual one-year minimum of historical-simulation VaR (Basel Committee 1996, "Amendment to
the capital accord to incorporate market risks", B.4) would hold only four.

Risk: the RiskMetrics exponentially weighted volatility (J.P. Morgan/Reuters 1996,
"RiskMetrics — Technical Document", 4th ed., §5.2), daily decay 0.94, zero mean, truncated where
the weights left out sum to 1 % (§5.3.2, Table 5.2: 75 sessions for 0.94) so the forecast
depends on a fixed window; the weights are re-normalised over the sessions that have a clean
return. The risk level is the forecast's tercile within the listing group on that date: BAJO
for the least volatile third, ALTO for the most volatile third, MEDIO between.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from pipeline.analysis.factors import (
    MIN_COVERAGE,
    SESSIONS_PER_YEAR,
    TICKER_KEY,
    window_return,
)
from pipeline.analysis.relative import MIN_PEERS, midrank_quantile

TARGET_HORIZON_SESSIONS = 63
RANGE_LOOKBACK_SESSIONS = 756
RANGE_QUANTILES = {"target_low": 0.10, "target_price": 0.50, "target_high": 0.90}
RANGE_COVERAGE = RANGE_QUANTILES["target_high"] - RANGE_QUANTILES["target_low"]
EWMA_DECAY = 0.94
EWMA_TOLERANCE = 0.01
EWMA_SESSIONS = math.ceil(math.log(EWMA_TOLERANCE) / math.log(EWMA_DECAY))  # 75
RISK_LEVELS = ("BAJO", "MEDIO", "ALTO")
# Sessions of data a value needs before its day.
LOOKBACK_SESSIONS = RANGE_LOOKBACK_SESSIONS
_WINDOWS = (
    RANGE_LOOKBACK_SESSIONS - TARGET_HORIZON_SESSIONS + 1
)  # 63-session returns in a look-back
# When fewer than one row in this many needs the percentiles (a daily run), each of those rows
# sorts its own window instead of the rolling percentile running over every row.
FEW_ROWS = 20
_ROWS_PER_BLOCK = 4096  # rows whose windows are sorted at once (bounded memory)


def horizon_return() -> pl.Expr:
    """`return_63`: the clean log return of the last 63 sessions (a `session_grid` frame)."""
    return window_return(TARGET_HORIZON_SESSIONS).alias("return_63")


def range_quantiles() -> list[pl.Expr]:
    """`q_low`, `q_mid`, `q_high`: percentiles of `return_63` over the look-back (log returns)."""
    needed = math.ceil(_WINDOWS * MIN_COVERAGE)
    names = {"target_low": "q_low", "target_price": "q_mid", "target_high": "q_high"}
    return [
        pl.col("return_63")
        .rolling_quantile(q, "linear", window_size=_WINDOWS, min_samples=needed)
        .over(TICKER_KEY)
        .alias(names[target])
        for target, q in RANGE_QUANTILES.items()
    ]


def target_prices(close: str = "close_raw") -> list[pl.Expr]:
    """target_low / target_price / target_high: the day's close moved by each percentile."""
    names = {"target_low": "q_low", "target_price": "q_mid", "target_high": "q_high"}
    return [(pl.col(close) * pl.col(q).exp()).alias(target) for target, q in names.items()]


def ewma_volatility() -> pl.Expr:
    """`ewma_volatility`: annualised RiskMetrics volatility forecast (a `session_grid` frame)."""
    weights = [EWMA_DECAY ** (EWMA_SESSIONS - 1 - j) for j in range(EWMA_SESSIONS)]
    r = pl.col("clean_return")
    squares = (r * r).fill_null(0.0).rolling_sum(EWMA_SESSIONS, weights=weights)
    present = r.is_not_null().cast(pl.Float64)
    weight = present.rolling_sum(EWMA_SESSIONS, weights=weights)
    count = present.rolling_sum(EWMA_SESSIONS)
    enough = (count >= math.ceil(EWMA_SESSIONS * MIN_COVERAGE)) & (
        pl.col("session") >= EWMA_SESSIONS
    )
    variance = (squares / weight).over(TICKER_KEY)
    return (
        pl.when(enough.over(TICKER_KEY))
        .then((variance * SESSIONS_PER_YEAR).sqrt())
        .alias("ewma_volatility")
    )


def risk_level(keys: tuple[str, ...] = ("date", "group")) -> pl.Expr:
    """BAJO / MEDIO / ALTO: the tercile of `ewma_volatility` in the group on the date."""
    q = midrank_quantile("ewma_volatility", keys)
    peers = pl.col("ewma_volatility").count().over(keys)
    return (
        pl.when(peers < MIN_PEERS)
        .then(pl.lit(None, dtype=pl.String))
        .when(q < 1 / 3)
        .then(pl.lit(RISK_LEVELS[0]))
        .when(q > 2 / 3)
        .then(pl.lit(RISK_LEVELS[2]))
        .when(q.is_not_null())
        .then(pl.lit(RISK_LEVELS[1]))
        .alias("risk_level")
    )


def add_forecasts(grid: pl.DataFrame, wanted: pl.Expr | None = None) -> pl.DataFrame:
    """Add return_63, q_low/q_mid/q_high and ewma_volatility to a `session_grid` frame.

    `wanted` (boolean): the rows whose percentiles are needed (None: every row). When they
    are few (FEW_ROWS), only they get them, each from its own window, with the very numbers
    of the rolling percentiles; the other rows' are null.
    """
    out = grid.with_columns(horizon_return(), ewma_volatility())
    if wanted is None:
        return out.with_columns(range_quantiles())
    rows = out.select(pl.arg_where(wanted)).to_series().to_numpy()
    if len(rows) * FEW_ROWS > out.height:
        return out.with_columns(range_quantiles())
    return out.with_columns(_quantiles_at(out, rows))


def _quantiles_at(grid: pl.DataFrame, rows: np.ndarray) -> list[pl.Series]:
    """`range_quantiles` on the grid rows `rows` only (null elsewhere), window by window.

    Each row's window is its ticker's last _WINDOWS sessions of `return_63` (fewer at its
    start), sorted; the percentile interpolates linearly between the two order statistics
    around (n - 1) * q among the n values present, as polars' rolling percentile does.
    """
    returns = grid.get_column("return_63").fill_null(np.nan).to_numpy()
    session = grid.get_column("session").to_numpy()
    needed = math.ceil(_WINDOWS * MIN_COVERAGE)
    out = {name: np.full(grid.height, np.nan) for name in ("q_low", "q_mid", "q_high")}
    back = np.arange(_WINDOWS - 1, -1, -1)
    for first in range(0, len(rows), _ROWS_PER_BLOCK):
        block = rows[first : first + _ROWS_PER_BLOCK]
        start = block - np.minimum(session[block], _WINDOWS - 1)
        at = block[:, None] - back[None, :]
        window = np.where(at >= start[:, None], returns[np.maximum(at, 0)], np.nan)
        window.sort(axis=1)  # missing values (NaN) last
        present = (~np.isnan(window)).sum(axis=1)
        line = np.arange(len(block))
        names = ("q_low", "q_mid", "q_high")
        for name, q in zip(names, RANGE_QUANTILES.values(), strict=True):
            position = (present - 1) * q
            below = np.floor(position)
            low = window[line, np.maximum(below, 0).astype(np.int64)]
            high = window[line, np.maximum(np.ceil(position), 0).astype(np.int64)]
            value = np.where(below == position, low, low + (position - below) * (high - low))
            out[name][block] = np.where(present >= needed, value, np.nan)
    return [pl.Series(name, values, nan_to_null=True) for name, values in out.items()]
