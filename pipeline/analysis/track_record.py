"""The calls' track record: hit rates, IC, quintiles, turnover, calibration, risk, coverage (pure).

Every measure is one polars plan over all calls and outcomes at once (no loop over dates or
tickers). Returns are plain fractions. Definitions are in the README's "Track record".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
# How `ic_summary` computes the t-statistic, as a code (`method`) with its lag count (`lags`):
# Newey-West (1987) over the daily ICs, Bartlett kernel, lags = the horizon.
IC_METHOD = "newey_west"
RISK_ORDER = ("BAJO", "MEDIO", "ALTO")
# The by-call columns that are fractions (returns and rates), after its keys and count.
BY_CALL_SHARES = (
    "mean_excess",
    "median_excess",
    "mean_universe_excess",
    "median_universe_excess",
    "hit_rate",
    "base_rate",
)
CALL_COLUMNS = [
    "analysis_date",
    "ticker",
    "recommendation",
    *(f"{s}_score" for s in SCORES),
    "risk_level",
    "origin",
]
_OUTCOME_COLUMNS = (
    "forward_return",
    "excess_return",
    "universe_excess_return",
    "realised_volatility",
    "target_low_return",
    "target_high_return",
)
_TEXT_COLUMNS = ("recommendation", "risk_level", "origin")
_LOCAL_SUFFIX = ".BA"
_LISTINGS = pl.Enum([ADR, BYMA])
# The join reads its pairs off a days x tickers grid unless the grid would have more cells
# than this many per row of the two frames, plus the slack (a sparse panel: then it hashes).
_GRID_ROWS_PER_ROW = 4
_GRID_SLACK = 1 << 20
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


def track_record(
    calls: pl.DataFrame, outcomes: pl.DataFrame, horizon: int, entry: str = "close"
) -> TrackRecord:
    """The track record of `calls` (CALL_COLUMNS) from their `outcomes` at one horizon and entry.

    `calls` are every call of the period (turnover and coverage read them all); `outcomes`
    are call_outcomes rows, filtered here to `horizon` and `entry`. The matured calls are
    joined once, ordered by date, and every measure reads that frame.
    """
    every = calls.lazy()
    matured, coded = _matured_and_coded(calls, outcomes, horizon, entry)
    done = {
        "by_call": by_call(matured),
        "ic_daily": ic_daily(matured),
        "quintiles": quintile_returns(matured.lazy()).collect(),
        "turnover": turnover(coded.lazy()).collect(),
        "calibration": calibration(matured.lazy()).collect(),
        "risk": risk_levels(matured.lazy()).collect(),
        "ordering": risk_ordering(matured.lazy()).collect(),
        "coverage": coverage(every).collect(),
        "span": matured.select(
            pl.col("analysis_date").min().alias("first"),
            pl.col("analysis_date").max().alias("last"),
            pl.len().alias("n"),
        ),
    }
    ic = done["ic_daily"]
    first, last, n = done["span"].row(0)
    right, pairs = done["ordering"].row(0)
    return TrackRecord(
        horizon=horizon,
        entry=entry,
        by_call=done["by_call"],
        ic_daily=ic,
        ic_summary=ic_summary(ic, horizon),
        ic_by_year=ic_by_year(ic),
        quintiles=done["quintiles"],
        spread=quintile_spread(done["quintiles"]),
        turnover=done["turnover"],
        calibration=done["calibration"],
        risk=done["risk"],
        risk_ordering=right / pairs if pairs else None,
        coverage=done["coverage"],
        first_date=first,
        last_date=last,
        matured_calls=n,
    )


def matured_calls(
    calls: pl.DataFrame, outcomes: pl.DataFrame, horizon: int, entry: str = "close"
) -> pl.DataFrame:
    """The calls with an outcome at `horizon` and `entry`, joined to it, ordered by date.

    The frame every measure of `track_record` reads (`ic_daily`, `quintile_returns`, ...),
    so a caller can compute one measure alone (the benchmark times the part alphalens does).
    """
    return _matured_and_coded(calls, outcomes, horizon, entry)[0]


def _matured_and_coded(
    calls: pl.DataFrame, outcomes: pl.DataFrame, horizon: int, entry: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`matured_calls`, and every call with its ticker coded (turnover reads them)."""
    due = outcomes.filter(
        (pl.col("horizon_sessions") == horizon) & (pl.col("entry") == entry)
    ).drop("origin", "listing", strict=False)
    due, coded, adr = _coded(due, calls)
    return _matured(due, coded, adr), coded


def _coded(due: pl.DataFrame, calls: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """`due` and `calls` with each ticker as its code, text as categorical; the ADR codes.

    The codes are an enum of every ticker of either frame, the ADRs first and the ".BA"
    tickers after them (so a code at or above the returned count is a BYMA ticker).
    Categorical text is cheaper to gather and group than text, and the codes make the
    join key an integer.
    """
    names = pl.concat([due["ticker"].unique(), calls["ticker"].unique()]).cast(pl.String)
    names = names.unique().drop_nulls()
    local = names.str.ends_with(_LOCAL_SUFFIX)
    adr = names.filter(~local).sort()
    codes = pl.Enum(pl.concat([adr, names.filter(local).sort()]))

    def code(frame: pl.DataFrame) -> pl.DataFrame:
        text = [pl.col(c).cast(pl.Categorical) for c in _TEXT_COLUMNS if c in frame.columns]
        return frame.with_columns(pl.col("ticker").cast(pl.String).cast(codes), *text)

    return code(due), code(calls), adr.len()


def _matured(due: pl.DataFrame, calls: pl.DataFrame, adr: int) -> pl.DataFrame:
    """The `due` outcomes joined to their `calls` (both `_coded`), ordered by date and listing.

    What an inner join on (analysis_date, ticker) gives (a column both have is the
    outcome's), with only the columns the measures read, its rows sorted by date, then ADR
    before BYMA, so `_block` (date and listing) is sorted too. The listing is an enum.
    """
    wanted = [c for c in (*CALL_COLUMNS[2:], *_OUTCOME_COLUMNS) if c != "ticker"]
    from_due = [c for c in wanted if c in due.columns]
    from_calls = [c for c in wanted if c not in due.columns]
    pairs = _pairs(due, calls, adr)
    joined = pl.concat(
        [
            due.select("analysis_date", *from_due)[pairs["_o"]],
            calls.select(from_calls)[pairs["_c"]],
        ],
        how="horizontal",
    )
    return joined.select(
        pl.col("analysis_date").set_sorted(),
        pl.when(pairs["_local"])
        .then(pl.lit(BYMA, dtype=_LISTINGS))
        .otherwise(pl.lit(ADR, dtype=_LISTINGS))
        .alias("listing"),
        *wanted,
        pairs["_block"].set_sorted(),
    )


def _pairs(due: pl.DataFrame, calls: pl.DataFrame, adr: int) -> pl.DataFrame:
    """The rows of `due` and of `calls` with the same (analysis_date, ticker), in key order.

    Columns `_o` and `_c` (the rows), `_local` (a BYMA ticker) and `_block` (an integer
    sorted like (date, listing)). The key is the day (from the earliest) times the number
    of tickers plus the ticker's code, so key order is date, listing, ticker. Where each
    key is on at most one row of each side and the days x tickers grid is not much larger
    than the frames, each side's rows are written into the grid and the pairs read off it
    in key order (no hashing, no sort); otherwise a hash join on the key, sorted.
    """
    date = pl.col("analysis_date")
    days = pl.concat([due.select(date.cast(pl.Int32)), calls.select(date.cast(pl.Int32))])
    first, last = days.select(
        pl.col("analysis_date").min().alias("first"), pl.col("analysis_date").max().alias("last")
    ).row(0)
    width = len(calls.schema["ticker"].categories)  # type: ignore[attr-defined]
    if first is None or last is None or width == 0:
        empty = pl.Series([], dtype=pl.Int64)
        return pl.DataFrame({"_o": empty, "_c": empty, "_local": [], "_block": empty})
    key = (
        (date.cast(pl.Int32) - first).cast(pl.Int64) * width
        + pl.col("ticker").to_physical().cast(pl.Int64)
    ).alias("_key")
    left = due.select(key).with_row_index("_o").drop_nulls("_key")
    right = calls.select(key).with_row_index("_c").drop_nulls("_key")
    size = (last - first + 1) * width
    unique = False
    if size <= _GRID_ROWS_PER_ROW * (left.height + right.height) + _GRID_SLACK:
        cells = [_grid(left["_key"], left["_o"], size), _grid(right["_key"], right["_c"], size)]
        unique = all(  # no key written twice
            cell.len() - cell.null_count() == side.height
            for cell, side in zip(cells, (left, right), strict=True)
        )
    if unique:
        both = cells[0].is_not_null() & cells[1].is_not_null()
        pairs = pl.DataFrame(
            {"_o": cells[0].filter(both), "_c": cells[1].filter(both), "_key": both.arg_true()}
        )
    else:
        pairs = left.join(right, on="_key").sort("_key")
    key_col = pairs["_key"].cast(pl.Int64)
    day = key_col // width
    is_local = (key_col - day * width) >= adr
    return pairs.select(
        "_o",
        "_c",
        is_local.alias("_local"),
        ((day + first) * 2 + is_local.cast(pl.Int64)).alias("_block"),
    )


def _grid(keys: pl.Series, rows: pl.Series, size: int) -> pl.Series:
    """A `size`-long series holding each row at its key (null where no row has the key)."""
    cells = pl.repeat(None, size, dtype=rows.dtype, eager=True)
    return cells.scatter(keys, rows)


def _listing() -> pl.Expr:
    local = pl.col("ticker").cast(pl.String).str.ends_with(_LOCAL_SUFFIX)
    return pl.when(local).then(pl.lit(BYMA)).otherwise(pl.lit(ADR))


def _pooled(
    frame: pl.LazyFrame, keys: list[str], pool: list[str], aggs: list[pl.Expr]
) -> pl.LazyFrame:
    """`aggs` by `keys`, and again with each subset of `pool` (some of the keys) as "todos"."""
    parts = []
    for mask in range(2 ** len(pool)):
        pooled = [k for i, k in enumerate(pool) if mask >> i & 1]
        grouped = frame.with_columns(pl.lit(ALL).alias(k) for k in pooled)
        parts.append(grouped.group_by(keys).agg(aggs).with_columns(pl.col(keys).cast(pl.String)))
    return pl.concat(parts).sort(keys)


def _pooled_parts(frame: pl.DataFrame, stats: list[pl.Expr]) -> pl.DataFrame:
    """`stats` by listing, origin and recommendation, and pooling listings and/or origins.

    The frame is split once by the three; a row that pools listings or origins ("todos")
    reads its parts together, so no group is hashed twice. Sorted by the three (as text).
    """
    keys = ["listing", "origin", "recommendation"]
    parts = frame.partition_by(keys, as_dict=True)
    rows = []
    for mask in range(4):  # bit 0: every listing, bit 1: every origin
        groups: dict[tuple[object, ...], list[pl.DataFrame]] = {}
        for (listing, origin, call), part in parts.items():
            name = (ALL if mask & 1 else listing, ALL if mask & 2 else origin, call)
            groups.setdefault(name, []).append(part)
        for group, members in groups.items():
            labels = (pl.lit(v, pl.String).alias(k) for k, v in zip(keys, group, strict=True))
            rows.append(pl.concat(members).select(*labels, *stats))
    if not rows:  # no matured call: the same columns, no row
        rows.append(frame.head(0).select(*keys, *stats).with_columns(pl.col(keys).cast(pl.String)))
    return pl.concat(rows).sort(keys)


def by_call(matured: pl.DataFrame) -> pl.DataFrame:
    """Per listing, origin and call: count, mean/median excess returns, hit rate, base rate.

    A COMPRAR hits when it beat the benchmark (excess > 0), a VENDER when it trailed it;
    MANTENER states no direction (no hit rate). The base rate is the share of every call of
    the same listing and origin that beat (COMPRAR) or trailed (VENDER) the benchmark.
    """
    excess = pl.col("excess_return")
    keys = ["listing", "origin"]
    calls = _pooled_parts(
        matured.select(*keys, "recommendation", "excess_return", "universe_excess_return"),
        [
            pl.len().alias("calls"),
            excess.mean().alias("mean_excess"),
            excess.median().alias("median_excess"),
            pl.col("universe_excess_return").mean().alias("mean_universe_excess"),
            pl.col("universe_excess_return").median().alias("median_universe_excess"),
            (excess > 0).mean().alias("_up"),
            (excess < 0).mean().alias("_down"),
            excess.count().alias("_valid"),
        ],
    )
    share = pl.col("_valid") / pl.col("_valid").sum().over(keys)
    base = calls.with_columns(
        (pl.col("_up") * share).sum().over(keys).alias("_base_up"),
        (pl.col("_down") * share).sum().over(keys).alias("_base_down"),
    )
    direction = pl.col("recommendation")
    return (
        base.with_columns(
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
        .select("listing", "recommendation", "origin", "calls", *BY_CALL_SHARES)
        .sort("listing", "origin", "recommendation")
    )


def ic_daily(matured: pl.DataFrame, scores: tuple[str, ...] = SCORES) -> pl.DataFrame:
    """Per date and score: the Spearman rank correlation of the score with the return.

    The return is the universe excess return (each name against its listing group's mean
    that day), so ADRs and BYMA names pool on one date. Ranks are averaged over ties, names
    without the score are left out, and a date needs MIN_NAMES_PER_DATE names. A score that
    is the same for every name of a date (macro) has no IC that day.

    Computed as polars' Spearman correlation does it: the names with both the score and the
    return, each ranked within the date, and the Pearson correlation of the two ranks. The
    returns' ranks are computed once and reused for every score that no such name lacks.
    `scores` names the scores to measure (SCORES, all of them, by default).
    """
    date, ret = pl.col("analysis_date"), pl.col("universe_excess_return")
    values = [f"{score}_score" for score in scores]
    frame = matured.select("analysis_date", "universe_excess_return", *values)
    names = frame.group_by("analysis_date").agg(
        pl.col(value).count().alias(score) for score, value in zip(scores, values, strict=True)
    )
    lacking = frame.select(  # does a name with a return lack the score?
        (pl.col(value).is_null() & ret.is_not_null()).any().alias(score)
        for score, value in zip(scores, values, strict=True)
    ).row(0, named=True)
    if frame["universe_excess_return"].null_count():
        frame = frame.filter(ret.is_not_null())
    ret_rank = ret.rank().over(date).alias("_ret_rank")
    paired = frame.with_columns(ret_rank)
    parts = []
    for score, value in zip(scores, values, strict=True):
        both = paired.select("analysis_date", value, "universe_excess_return", "_ret_rank")
        if lacking[score]:  # the returns' ranks among the names with the score only
            both = both.filter(pl.col(value).is_not_null()).with_columns(ret_rank)
        x = pl.col(value)  # a date where every name has the same score has no IC: no ranks
        varies = both.group_by("analysis_date").agg(
            ((x.max() > x.min()) | x.is_nan().any()).alias("_varies")
        )
        if not varies["_varies"].all():
            dates = varies.filter("_varies")["analysis_date"]
            both = both.filter(pl.col("analysis_date").is_in(dates.implode()))
        ic = (
            both.select(
                "analysis_date", pl.col(value).rank().over(date).alias("_rank"), "_ret_rank"
            )
            .group_by("analysis_date")
            .agg(pl.corr("_rank", "_ret_rank").alias("ic"))
        )
        part = (
            names.select("analysis_date", pl.col(score).alias("tickers"))
            .filter(pl.col("tickers") >= MIN_NAMES_PER_DATE)
            .join(ic, on="analysis_date", how="left")
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
    """Per score: mean daily IC, its Newey-West t, the dates (0: none), `method` and `lags`."""
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
        pl.col("dates").fill_null(0),
        pl.lit(IC_METHOD).alias("method"),
        pl.lit(horizon, dtype=pl.Int32).alias("lags"),
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


def _quintile(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Per date, the quintile of the total (pandas.qcut's rule), on dates where it is defined.

    Edges are the quantiles at pandas.qcut's probabilities (linear interpolation); a name is
    in quintile 1 + the number of inner edges strictly below it. A date with repeated edges
    (many tied totals) or fewer than MIN_NAMES_PER_DATE names has no quintiles, as in
    alphalens (which drops such a date).
    """
    total = pl.col("total_score")
    names = [f"_q{k}" for k in range(QUINTILES + 1)]
    edges = frame.group_by("analysis_date").agg(
        *(
            total.quantile(p, interpolation="linear").alias(name)
            for name, p in zip(names, _QCUT_PROBABILITIES, strict=True)
        ),
        pl.len().alias("_names"),
    )
    unique = pl.all_horizontal(pl.col(names[k]) < pl.col(names[k + 1]) for k in range(QUINTILES))
    inner = pl.sum_horizontal(
        (pl.col(names[k]) < total).cast(pl.Int32) for k in range(1, QUINTILES)
    )
    return (
        frame.join(
            edges.filter(unique & (pl.col("_names") >= MIN_NAMES_PER_DATE)), on="analysis_date"
        )
        .with_columns((1 + inner).alias("quintile"))
        .drop(*names, "_names")
    )


def quintile_returns(matured: pl.LazyFrame) -> pl.LazyFrame:
    """Mean universe excess return per quintile of the total: the mean of the daily means."""
    daily = (
        _quintile(matured)
        .group_by("analysis_date", "quintile")
        .agg(pl.col("universe_excess_return").mean().alias("mean"), pl.len().alias("calls"))
    )
    return (
        daily.group_by("quintile")
        .agg(pl.col("mean").mean().alias("mean_universe_excess"), pl.col("calls").sum())
        .sort("quintile")
    )


def quintile_spread(quintiles: pl.DataFrame) -> float | None:
    """Top minus bottom quintile (None unless both have calls)."""
    means = dict(quintiles.select("quintile", "mean_universe_excess").iter_rows())
    return means[QUINTILES] - means[1] if {1, QUINTILES} <= set(means) else None


def turnover(calls: pl.LazyFrame) -> pl.LazyFrame:
    """Per listing: call changes per ticker-year (252 sessions) and median run length in sessions.

    A change is a call that differs from the same ticker's previous call; a run is a stretch
    of consecutive equal calls (the last run of each ticker is still open and counts as is),
    so a ticker's changes are its runs minus one.
    """
    in_order = pl.col("recommendation").sort_by("analysis_date")
    runs = (
        calls.group_by("ticker")
        .agg(in_order.rle().struct.field("len").alias("_length"))
        .with_columns(
            _listing().alias("listing"), (pl.col("_length").list.len() - 1).alias("_changes")
        )
    )
    stats = [
        pl.col("_changes").sum().alias("_changes"),
        pl.col("_length").list.sum().sum().alias("calls"),
        pl.col("_length").explode().median().alias("median_duration_sessions"),
    ]
    per_year = pl.col("_changes") / (pl.col("calls") / SESSIONS_PER_YEAR)
    return _pooled(runs, ["listing"], ["listing"], stats).select(
        "listing",
        per_year.alias("changes_per_ticker_year"),
        pl.col("median_duration_sessions").cast(pl.Float64),
        "calls",
    )


def calibration(matured: pl.LazyFrame) -> pl.LazyFrame:
    """Per listing: shares of outcomes inside, above and below the range the call stated."""
    ret, low, high = (
        pl.col(c) for c in ("forward_return", "target_low_return", "target_high_return")
    )
    stated = matured.filter(low.is_not_null() & high.is_not_null())
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


def _rated(matured: pl.LazyFrame) -> pl.LazyFrame:
    return matured.filter(
        pl.col("risk_level").is_in(RISK_ORDER) & pl.col("realised_volatility").is_not_null()
    )


def risk_levels(matured: pl.LazyFrame) -> pl.LazyFrame:
    """Mean realised forward volatility per risk level (BAJO, MEDIO, ALTO)."""
    order = pl.col("risk_level").replace_strict(RISK_ORDER, range(len(RISK_ORDER)))
    return (
        _rated(matured)
        .group_by("risk_level")
        .agg(pl.col("realised_volatility").mean().alias("realised_vol"), pl.len().alias("calls"))
        .with_columns(pl.col("risk_level").cast(pl.String))
        .sort(order)
    )


def risk_ordering(matured: pl.LazyFrame) -> pl.LazyFrame:
    """One row (right, pairs): same-date pairs where the higher level had the higher volatility.

    Over every pair of names of the same date and listing with different levels, `right`
    counts those where the higher level had the higher realised volatility, ties half (the
    Mann-Whitney statistic). From ranks within each date and listing (averaged over ties):
    an ALTO name's rank among every rated name, less one, is the names below it plus half
    those tied, so the sum of the ALTO ranks less n(n+1)/2 counts the ALTO-over-lower pairs;
    the MEDIO names' ranks among the BAJO and MEDIO names count the MEDIO-over-BAJO pairs.
    Every term is a multiple of one half, so the sums are exact.
    """
    names = matured.collect_schema().names()
    block = ["_block"] if "_block" in names else ["analysis_date", "listing"]
    vol, level = pl.col("realised_volatility"), pl.col("risk_level")
    low, mid, high = (level == name for name in RISK_ORDER)
    ranks = _rated(matured).select(
        *block,
        low.alias("_low"),
        mid.alias("_mid"),
        high.alias("_high"),
        vol.rank().over(block).alias("_all"),
        pl.when(~high).then(vol).rank().over(block).alias("_lower"),
    )
    n = [pl.col(c).sum().cast(pl.Float64) for c in ("_low", "_mid", "_high")]
    per_block = ranks.group_by(block).agg(
        (
            pl.col("_all").filter("_high").sum()
            - n[2] * (n[2] + 1) / 2
            + pl.col("_lower").filter("_mid").sum()
            - n[1] * (n[1] + 1) / 2
        ).alias("right"),
        (n[0] * n[1] + n[0] * n[2] + n[1] * n[2]).alias("pairs"),
    )
    return per_block.select(
        pl.col("right").sum().cast(pl.Float64), pl.col("pairs").sum().cast(pl.Float64)
    )


def coverage(calls: pl.LazyFrame) -> pl.LazyFrame:
    """Per component: the share of calls where its score is NULL."""
    n = pl.len()
    shares = calls.select(
        pl.struct(
            pl.lit(c).alias("component"),
            pl.when(n > 0).then(pl.col(f"{c}_score").null_count() / n).alias("null_share"),
            n.cast(pl.Int64).alias("calls"),
        ).alias(c)
        for c in COMPONENTS
    )
    return shares.unpivot().select(pl.col("value").struct.unnest())


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
