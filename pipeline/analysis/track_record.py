"""The calls' track record: hit rates, IC, quintiles, turnover, calibration, risk, coverage (pure).

Every measure is one polars plan over all calls and outcomes at once (no loop over dates or
tickers). Returns are plain fractions. Definitions are in the README's "Track record".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

import numpy as np
import polars as pl

from pipeline.analysis.outcomes import ADR, BYMA, HORIZONS

ALL = "todos"  # the row of a table that pools every listing or origin
PUBLISHED, SIMULATED = "publicado", "simulado"
SCORES = ("total", "technical", "fundamental", "macro", "sentiment")
COMPONENTS = SCORES[1:]
QUINTILES = 5
# A date enters the IC and the quintiles with at least one name per quintile.
MIN_NAMES_PER_DATE = QUINTILES
SESSIONS_PER_YEAR = 252
RISK_ORDER = ("BAJO", "MEDIO", "ALTO")
CALL_COLUMNS = [
    "analysis_date",
    "ticker",
    "recommendation",
    *(f"{s}_score" for s in SCORES),
    "risk_level",
    "origin",
]
__all__ = ["HORIZONS", "TrackRecord", "track_record"]


@dataclass(frozen=True)
class TrackRecord:
    """Every measure of the track record at one horizon and entry (see the README)."""

    horizon: int
    entry: str
    by_call: pl.DataFrame
    ic_daily: pl.DataFrame
    ic_summary: pl.DataFrame
    ic_by_year: pl.DataFrame
    quintiles: pl.DataFrame
    spread: float | None
    turnover: pl.DataFrame
    calibration: pl.DataFrame
    risk: pl.DataFrame
    risk_ordering: float | None
    coverage: pl.DataFrame
    first_date: dt.date | None
    last_date: dt.date | None
    matured_calls: int


def nw_method(horizon: int) -> str:
    """The text naming how the IC's t-statistic is computed."""
    return f"Newey-West (Bartlett kernel, {horizon} lags = the horizon) over the daily ICs"


def track_record(
    calls: pl.DataFrame, outcomes: pl.DataFrame, horizon: int, entry: str = "close"
) -> TrackRecord:
    """The track record of `calls` (CALL_COLUMNS) from their `outcomes` at one horizon and entry.

    `calls` are every call of the period (turnover and coverage read them all); `outcomes`
    are call_outcomes rows, filtered here to `horizon` and `entry`.
    """
    mine = outcomes.filter(
        (pl.col("horizon_sessions") == horizon) & (pl.col("entry") == entry)
    ).drop("origin", strict=False)
    matured = mine.join(calls, on=["analysis_date", "ticker"])
    ic = ic_daily(matured)
    quintiles, spread = quintile_returns(matured)
    risk, ordering = risk_levels(matured)
    days = matured.get_column("analysis_date")
    return TrackRecord(
        horizon=horizon,
        entry=entry,
        by_call=by_call(matured),
        ic_daily=ic,
        ic_summary=ic_summary(ic, horizon),
        ic_by_year=ic_by_year(ic),
        quintiles=quintiles,
        spread=spread,
        turnover=turnover(calls),
        calibration=calibration(matured),
        risk=risk,
        risk_ordering=ordering,
        coverage=coverage(calls),
        first_date=cast(dt.date | None, days.min()),
        last_date=cast(dt.date | None, days.max()),
        matured_calls=matured.height,
    )


def _listing() -> pl.Expr:
    return pl.when(pl.col("ticker").str.ends_with(".BA")).then(pl.lit(BYMA)).otherwise(pl.lit(ADR))


def _pooled(
    frame: pl.DataFrame, keys: list[str], pool: list[str], aggs: list[pl.Expr]
) -> pl.DataFrame:
    """`aggs` by `keys`, and again with each subset of `pool` (some of the keys) as "todos"."""
    parts = []
    for mask in range(2 ** len(pool)):
        pooled = [k for i, k in enumerate(pool) if mask >> i & 1]
        grouped = frame.with_columns(pl.lit(ALL).alias(k) for k in pooled)
        parts.append(grouped.group_by(keys).agg(aggs))
    return pl.concat(parts).sort(keys)


def by_call(matured: pl.DataFrame) -> pl.DataFrame:
    """Per listing, origin and call: count, mean/median excess returns, hit rate, base rate.

    A COMPRAR hits when it beat the benchmark (excess > 0), a VENDER when it trailed it;
    MANTENER states no direction (no hit rate). The base rate is the share of every call of
    the same listing and origin that beat (COMPRAR) or trailed (VENDER) the benchmark.
    """
    excess = pl.col("excess_return")
    frame = matured.with_columns(_listing().alias("listing"))
    keys = ["listing", "origin"]
    stats = [
        pl.len().alias("calls"),
        excess.mean().alias("mean_excess"),
        excess.median().alias("median_excess"),
        pl.col("universe_excess_return").mean().alias("mean_universe_excess"),
        pl.col("universe_excess_return").median().alias("median_universe_excess"),
        (excess > 0).mean().alias("_up"),
        (excess < 0).mean().alias("_down"),
    ]
    calls = _pooled(frame, [*keys, "recommendation"], keys, stats)
    base = _pooled(frame, keys, keys, stats[-2:])
    base = base.rename({"_up": "_base_up", "_down": "_base_down"})
    direction = pl.col("recommendation")
    return (
        calls.join(base, on=keys)
        .with_columns(
            pl.when(direction == "COMPRAR")
            .then(pl.col("_up"))
            .when(direction == "VENDER")
            .then(pl.col("_down"))
            .alias("hit_rate"),
            pl.when(direction == "COMPRAR")
            .then(pl.col("_base_up"))
            .when(direction == "VENDER")
            .then(pl.col("_base_down"))
            .alias("base_rate"),
        )
        .select(
            "listing",
            "recommendation",
            "origin",
            "calls",
            "mean_excess",
            "median_excess",
            "mean_universe_excess",
            "median_universe_excess",
            "hit_rate",
            "base_rate",
        )
        .sort("listing", "origin", "recommendation")
    )


def ic_daily(matured: pl.DataFrame) -> pl.DataFrame:
    """Per date and score: the Spearman rank correlation of the score with the return.

    The return is the universe excess return (each name against its listing group's mean
    that day), so ADRs and BYMA names pool on one date. Ranks are averaged over ties, names
    without the score are left out, and a date needs MIN_NAMES_PER_DATE names. A score that
    is the same for every name of a date (macro) has no IC that day.
    """
    parts = []
    ret = pl.col("universe_excess_return")
    for score in SCORES:
        value = pl.col(f"{score}_score")
        part = (
            matured.filter(value.is_not_null())
            .group_by("analysis_date")
            .agg(pl.corr(value, ret, method="spearman").alias("ic"), pl.len().alias("tickers"))
            .filter(pl.col("tickers") >= MIN_NAMES_PER_DATE)
            .with_columns(pl.col("ic").fill_nan(None), pl.lit(score).alias("score"))
        )
        parts.append(part)
    columns = ["analysis_date", "score", "ic", "tickers"]
    return pl.concat(parts).select(columns).sort("score", "analysis_date")


def newey_west_t(ic: pl.Expr, lags: int) -> pl.Expr:
    """t-statistic of the mean of a date-ordered series, with Newey-West (1987) variance.

    var(mean) = (g0 + 2 sum_{j=1..L} (1 - j/(L+1)) g_j) / T, g_j = sum_t e_t e_{t-j} / T,
    e = ic - mean(ic): the Bartlett-kernel HAC estimator, lag L = the horizon, because
    the forward returns of dates less than a horizon apart overlap.
    """
    e = ic - ic.mean()
    n = ic.count()
    gammas = [(e * e.shift(j)).sum() / n for j in range(lags + 1)]
    weighted = gammas[0] + 2 * pl.sum_horizontal(
        (1 - j / (lags + 1)) * gammas[j] for j in range(1, lags + 1)
    )
    return pl.when(n >= 2).then(ic.mean() / (weighted / n).sqrt())


def ic_summary(ic: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """Per score: mean daily IC, its Newey-West t-statistic and the number of dates (0: none)."""
    stats = (
        ic.drop_nulls("ic")
        .sort("score", "analysis_date")
        .group_by("score", maintain_order=True)
        .agg(
            pl.col("ic").mean().alias("mean_ic"),
            newey_west_t(pl.col("ic"), horizon).alias("t_stat"),
            pl.len().alias("dates"),
        )
    )
    every = pl.DataFrame({"score": list(SCORES)})
    return every.join(stats, on="score", how="left", maintain_order="left").with_columns(
        pl.col("dates").fill_null(0), pl.lit(nw_method(horizon)).alias("method")
    )


def ic_by_year(ic: pl.DataFrame) -> pl.DataFrame:
    """Per calendar year and score: mean daily IC and the number of dates."""
    return (
        ic.drop_nulls("ic")
        .group_by(pl.col("analysis_date").dt.year().alias("year"), "score")
        .agg(pl.col("ic").mean().alias("mean_ic"), pl.len().alias("dates"))
        .sort("year", "score")
    )


def _qcut_probabilities(q: int) -> list[float]:
    """pandas.qcut's probabilities for q bins: linspace(0, 1, q+1), rounded up where inexact.

    pandas nudges a probability up by one ulp where q x p is not the integer it should be
    (0.6000000000000001 for 3/5), which keeps apart edges that would otherwise tie.
    """
    probabilities = np.linspace(0, 1, q + 1)
    inexact = q * probabilities != np.arange(q + 1)
    return np.where(inexact, np.nextafter(probabilities, 1), probabilities).tolist()


_QCUT_PROBABILITIES = _qcut_probabilities(QUINTILES)


def _quintile() -> list[pl.Expr]:
    """Per date, the quintile of the total (pandas.qcut's rule) and whether it is defined.

    Edges are the 0, 20, ..., 100 % quantiles (linear interpolation); a name is in quintile
    1 + the number of inner edges strictly below it. A date with repeated edges (many tied
    totals) or fewer than MIN_NAMES_PER_DATE names has no quintiles, as in alphalens.
    """
    total = pl.col("total_score")
    edges = [
        total.quantile(p, interpolation="linear").over("analysis_date") for p in _QCUT_PROBABILITIES
    ]
    unique = pl.all_horizontal(edges[k] < edges[k + 1] for k in range(QUINTILES))
    enough = pl.len().over("analysis_date") >= MIN_NAMES_PER_DATE
    inner = pl.sum_horizontal((edges[k] < total).cast(pl.Int32) for k in range(1, QUINTILES))
    return [(1 + inner).alias("quintile"), (unique & enough).alias("_has_quintiles")]


def quintile_returns(matured: pl.DataFrame) -> tuple[pl.DataFrame, float | None]:
    """Mean universe excess return per quintile of the total (mean of the daily means), Q5-Q1."""
    daily = (
        matured.with_columns(_quintile())
        .filter(pl.col("_has_quintiles"))
        .group_by("analysis_date", "quintile")
        .agg(pl.col("universe_excess_return").mean().alias("mean"), pl.len().alias("calls"))
    )
    table = (
        daily.group_by("quintile")
        .agg(pl.col("mean").mean().alias("mean_universe_excess"), pl.col("calls").sum())
        .sort("quintile")
    )
    means = dict(
        zip(table["quintile"].to_list(), table["mean_universe_excess"].to_list(), strict=True)
    )
    spread = means[QUINTILES] - means[1] if {1, QUINTILES} <= set(means) else None
    return table, spread


def turnover(calls: pl.DataFrame) -> pl.DataFrame:
    """Per listing: call changes per ticker-year (252 sessions) and median run length in sessions.

    A change is a call that differs from the same ticker's previous call; a run is a stretch
    of consecutive equal calls (the last run of each ticker is still open and counts as is).
    """
    ordered = calls.sort("ticker", "analysis_date").with_columns(
        (pl.col("recommendation") != pl.col("recommendation").shift(1).over("ticker"))
        .fill_null(False)
        .alias("_change"),
        _listing().alias("listing"),
    )
    runs = (
        ordered.with_columns(pl.col("_change").cum_sum().over("ticker").alias("_run"))
        .group_by("listing", "ticker", "_run")
        .agg(pl.len().alias("_length"))
    )
    rates = _pooled(
        ordered,
        ["listing"],
        ["listing"],
        [pl.col("_change").sum().alias("_changes"), pl.len().alias("calls")],
    )
    lengths = _pooled(
        runs,
        ["listing"],
        ["listing"],
        [pl.col("_length").median().alias("median_duration_sessions")],
    )
    return rates.join(lengths, on="listing").select(
        "listing",
        (pl.col("_changes") / (pl.col("calls") / SESSIONS_PER_YEAR)).alias(
            "changes_per_ticker_year"
        ),
        "median_duration_sessions",
        "calls",
    )


def calibration(matured: pl.DataFrame) -> pl.DataFrame:
    """Per listing: shares of outcomes inside, above and below the range the call stated."""
    ret, low, high = (
        pl.col(c) for c in ("forward_return", "target_low_return", "target_high_return")
    )
    stated = matured.filter(low.is_not_null() & high.is_not_null()).with_columns(
        _listing().alias("listing")
    )
    return _pooled(
        stated,
        ["listing"],
        ["listing"],
        [
            ret.is_between(low, high).mean().alias("inside"),
            (ret > high).mean().alias("above"),
            (ret < low).mean().alias("below"),
            pl.len().alias("calls"),
        ],
    )


def risk_levels(matured: pl.DataFrame) -> tuple[pl.DataFrame, float | None]:
    """Mean realised volatility per risk level, and how often same-date pairs are ordered right.

    The ordering share is, over every pair of names of the same date and listing with
    different levels, the share where the higher level had the higher realised volatility
    (ties count half: the Mann-Whitney statistic over all pairs).
    """
    rated = matured.filter(
        pl.col("risk_level").is_in(RISK_ORDER) & pl.col("realised_volatility").is_not_null()
    ).with_columns(_listing().alias("listing"))
    table = (
        rated.group_by("risk_level")
        .agg(pl.col("realised_volatility").mean().alias("realised_vol"), pl.len().alias("calls"))
        .sort(pl.col("risk_level").replace_strict(RISK_ORDER, range(len(RISK_ORDER))))
    )
    right = pairs = 0.0
    for i, low in enumerate(RISK_ORDER):
        for high in RISK_ORDER[i + 1 :]:
            u, n = _concordant(rated, low, high)
            right, pairs = right + u, pairs + n
    return table, (right / pairs if pairs else None)


def _concordant(rated: pl.DataFrame, low: str, high: str) -> tuple[float, float]:
    """(pairs where the `high` name was more volatile, ties half; all pairs) of two levels."""
    block = ["analysis_date", "listing"]
    both = rated.filter(pl.col("risk_level").is_in([low, high]))
    vol = pl.col("realised_volatility")
    is_high = pl.col("risk_level") == high
    ranked = both.with_columns(
        vol.rank("average").over(block).alias("_joint"),
        vol.rank("average").over([*block, "risk_level"]).alias("_own"),
        is_high.sum().over(block).alias("_n_high"),
        (~is_high).sum().over(block).alias("_n_low"),
    )
    u = ranked.filter(is_high).select((pl.col("_joint") - pl.col("_own")).sum()).item()
    n = (
        ranked.group_by(block)
        .agg((pl.col("_n_high").first() * pl.col("_n_low").first()).alias("_pairs"))
        .select(pl.col("_pairs").cast(pl.Float64).sum())
        .item()
    )
    return float(u or 0.0), float(n or 0.0)


def coverage(calls: pl.DataFrame) -> pl.DataFrame:
    """Per component: the share of calls where its score is NULL."""
    n = calls.height
    return pl.DataFrame(
        {
            "component": list(COMPONENTS),
            "null_share": [
                calls.get_column(f"{c}_score").null_count() / n if n else None for c in COMPONENTS
            ],
            "calls": [n] * len(COMPONENTS),
        },
        schema={"component": pl.String, "null_share": pl.Float64, "calls": pl.Int64},
    )


def summary(record: TrackRecord) -> pl.DataFrame:
    """One row: horizon, entry, the dates covered, matured calls, Q5-Q1 spread, risk ordering."""
    return pl.DataFrame(
        [
            {
                "horizon_sessions": record.horizon,
                "entry": record.entry,
                "first_date": record.first_date,
                "last_date": record.last_date,
                "matured_calls": record.matured_calls,
                "quintile_spread": record.spread,
                "risk_ordering": record.risk_ordering,
            }
        ],
        schema={
            "horizon_sessions": pl.Int64,
            "entry": pl.String,
            "first_date": pl.Date,
            "last_date": pl.Date,
            "matured_calls": pl.Int64,
            "quintile_spread": pl.Float64,
            "risk_ordering": pl.Float64,
        },
    )


def tables(record: TrackRecord) -> dict[str, pl.DataFrame]:
    """Every table of the record by name, the summary first (what `argenta query` prints)."""
    return {
        "summary": summary(record),
        "by_call": record.by_call,
        "ic_summary": record.ic_summary,
        "ic_by_year": record.ic_by_year,
        "quintiles": record.quintiles,
        "turnover": record.turnover,
        "calibration": record.calibration,
        "risk": record.risk,
        "coverage": record.coverage,
    }
