"""Price factors with their textbook definitions, counted in sessions of each ticker's exchange.

Every window is a number of sessions of the ticker's own exchange (BYMA for `.BA`, NYSE for
ADRs; `pipeline.analysis.calendar`), not a number of rows: each ticker is laid on the grid of
its exchange's sessions from its first to its last bar, so a missing bar is a hole in the
window rather than a reason to reach further back. A value needs only the data of its own
window, so the daily run, which loads `LOOKBACK_SESSIONS` before the analysed day, computes
exactly what a backfill over the whole history computes.

All factors are read from one clean log-price index per ticker: its log close with the
implausible one-day moves taken out (they move nothing in the index, are not counted as
observations, and are flagged in `implausible_move`).

| factor | definition | reference |
|---|---|---|
| `momentum_12_1` | return from session t-252 to t-21 | Jegadeesh & Titman (1993) |
| `reversal_1m` | minus the return of the last 21 sessions | Jegadeesh (1990) |
| `low_volatility` | minus the annualised volatility of the last 63 sessions | Ang et al. (2006) |
| `high_52w` | close / highest close of the last 252 sessions | George & Hwang (2004) |

Each factor's sign is the one its paper found to predict higher returns, so a higher value is
always the better-ranked stock.

References: Jegadeesh, N. & Titman, S. (1993), Returns to buying winners and selling losers,
Journal of Finance 48(1). Jegadeesh, N. (1990), Evidence of predictable behavior of security
returns, Journal of Finance 45(3). Ang, A., Hodrick, R., Xing, Y. & Zhang, X. (2006), The
cross-section of volatility and expected returns, Journal of Finance 61(1). George, T. & Hwang,
C.-Y. (2004), The 52-week high and momentum investing, Journal of Finance 59(5). Ince, O. &
Porter, R. B. (2006), Individual equity return data from Thomson Datastream: handle with care!,
Journal of Financial Research 29(4).
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from pipeline.analysis.calendar import EXCHANGES, exchange_expr, sessions_frame
from pipeline.analysis.frames import by_ticker_and_date, ticker_key

SESSIONS_PER_YEAR = 252
MOMENTUM_START, MOMENTUM_END = 252, 21  # Jegadeesh & Titman (1993): 12 months, skip the last
REVERSAL_SESSIONS = 21  # Jegadeesh (1990): last month's return reverses
VOLATILITY_SESSIONS = 63  # Ang et al. (2006): realised volatility, here over three months
HIGH_SESSIONS = 252  # George & Hwang (2004): the 52-week high
# Ang et al. (2006) require at least 15 daily returns in a month (about 21 sessions) before a
# volatility is estimated; the same share of a window must hold clean returns for every factor.
MIN_COVERAGE = 15 / 21
# A missing bar may be bridged by the last close for at most one trading week: the endpoints
# of a window (session t-k) are read from the last bar in the 5 sessions up to them.
BRIDGE_SESSIONS = 5
# Plausibility bound on one-day moves. Ince & Porter (2006, "Individual equity return data from
# Thomson Datastream: handle with care!") treat a daily return above +300 % as a data error;
# a fall to a quarter of the price is the same log move downwards, so |ln(P_t / P_t-1)| > ln 4
# (above +300 % or below -75 %) is flagged. Argentina's real crashes stay inside it (the
# 2019-08-12 primary-election crash took -45 to -62 % in one day).
IMPLAUSIBLE_LOG_MOVE = math.log(4.0)
FACTOR_COLUMNS = ("momentum_12_1", "reversal_1m", "low_volatility", "high_52w")
# The listing with more bars in its last LOOKBACK_SESSIONS sessions has the longer history.
# Sessions of data a value needs before its day: the longest window plus the bridge.
LOOKBACK_SESSIONS = max(MOMENTUM_START, HIGH_SESSIONS) + BRIDGE_SESSIONS

# The column the windows group by: the ticker's position in the sorted grid (`session_grid`).
TICKER_KEY = "ticker_key"
_DAYS_PER_EXCHANGE = 1 << 24  # a calendar key: exchange number * this + days since 1970

_INDEX = pl.col("log_index")  # clean cumulative log return, bridged over short gaps


def session_grid(prices: pl.DataFrame) -> pl.DataFrame:
    """Each ticker on its exchange's sessions from its first to its last bar, with its clean index.

    `prices` holds `date, ticker, close` (adjusted closes; other columns are kept on the rows
    that have a bar). Adds `observed` (the row has a bar), `session` (0-based), `log_return`
    (to the previous bar, null on the first), `implausible_move`, `clean_return` (one-session
    log return; null when flagged, across a gap or without a bar), `log_index` (the clean
    index, bridged over at most BRIDGE_SESSIONS missing bars) and TICKER_KEY, the ticker's
    position (the frame is sorted by it: the windows group by this integer, not the text).
    """
    bars = bars_of(prices)
    bars = bars.with_columns(_ticker_key()).with_columns(_bar_returns(_ticker_starts()))
    if bars.is_empty():
        return _empty_grid(bars)
    grid = _calendar_grid(bars)
    session = pl.col("_session")
    if grid is None:  # a bar on a day its exchange's calendar does not know
        keys = _grid_dates(bars).with_columns(_ticker_key())
        grid = keys.join(
            bars.drop(TICKER_KEY), on=["ticker", "date"], how="left", maintain_order="left"
        )
        session = pl.int_range(pl.len(), dtype=pl.Int32).over(TICKER_KEY)
    return (
        grid.with_columns(observed=pl.col("close").is_not_null(), session=session)
        .drop("_session", strict=False)
        .with_columns(_clean_columns())
        .with_columns(pl.col("log_index").forward_fill(limit=BRIDGE_SESSIONS).over(TICKER_KEY))
    )


def bars_of(prices: pl.DataFrame) -> pl.DataFrame:
    """The rows of `prices` with a positive close, ticker and date first, sorted by them.

    The sources give their prices in that order already: then nothing is sorted.
    """
    bars = prices.filter(pl.col("close").is_not_null() & (pl.col("close") > 0))
    return by_ticker_and_date(bars.select("ticker", "date", pl.exclude("ticker", "date")))


def _ticker_starts() -> pl.Expr:
    """True on the first row of each ticker (a frame sorted by ticker)."""
    ticker = pl.col("ticker")
    return (ticker != ticker.shift(1)).fill_null(True)


def _ticker_key() -> pl.Expr:
    return ticker_key(TICKER_KEY)


def _bar_returns(starts: pl.Expr) -> list[pl.Expr]:
    """Log return to the previous bar of the same ticker and whether it is implausible."""
    log_return = pl.when(~starts).then((pl.col("close") / pl.col("close").shift(1)).log())
    return [
        log_return.alias("log_return"),
        (log_return.abs() > IMPLAUSIBLE_LOG_MOVE).fill_null(False).alias("implausible_move"),
    ]


def _calendar_grid(bars: pl.DataFrame) -> pl.DataFrame | None:
    """The grid of `bars` (sorted by ticker and date, with TICKER_KEY), with `_session`.

    Built in order from each ticker's first and last session on its exchange's calendar, and
    the bars placed on it by position; None when a bar is on a day the calendar does not
    know (`_grid_dates` then adds it).
    """
    sessions = sessions_frame(*date_span(bars))
    number = {x: i for i, x in enumerate(EXCHANGES)}
    keyed = pl.col("exchange").replace_strict(number, return_dtype=pl.Int64) * _DAYS_PER_EXCHANGE
    calendar = sessions.select("date", key=keyed + pl.col("date").cast(pl.Int64))
    if not calendar.get_column("key").is_sorted():
        return None
    spans = bars.group_by(TICKER_KEY, maintain_order=True).agg(
        pl.col("ticker").first(), pl.len().alias("bars")
    )
    exchange = spans.select(exchange_expr().alias("exchange")).with_columns(keyed.alias("base"))
    base = exchange.get_column("base").gather(bars.get_column(TICKER_KEY))
    bar_key = base + bars.get_column("date").cast(pl.Int64)
    keys = calendar.get_column("key")
    position = keys.search_sorted(bar_key, side="left")
    found = keys.gather(position.clip(upper_bound=len(keys) - 1))
    if not (found == bar_key).all():
        return None
    ends = spans.get_column("bars").cum_sum()
    first = position.gather(ends - spans.get_column("bars"))
    last = position.gather(ends - 1)
    length = (last - first + 1).alias("length")
    offset = length.cum_sum() - length
    key = bars.get_column(TICKER_KEY)
    grid_row = offset.gather(key) + position - first.gather(key)
    rows = pl.repeat(None, int(length.sum()), dtype=pl.UInt32, eager=True).scatter(
        grid_row, pl.int_range(len(bars), dtype=pl.UInt32, eager=True)
    )
    frame = pl.DataFrame({TICKER_KEY: spans.get_column(TICKER_KEY), "first": first, "n": length})
    grid = frame.select(
        pl.col(TICKER_KEY).repeat_by("n").explode(),
        pl.int_ranges("first", pl.col("first") + pl.col("n")).explode().alias("_at"),
        pl.int_ranges(0, "n", dtype=pl.Int32).explode().alias("_session"),
    )
    values = bars.select(pl.exclude("ticker", "date", TICKER_KEY).gather(rows))
    return (
        pl.DataFrame(
            {
                "ticker": spans.get_column("ticker").gather(grid.get_column(TICKER_KEY)),
                "date": calendar.get_column("date").gather(grid.get_column("_at")),
            }
        )
        .hstack(values)
        .with_columns(grid.get_column(TICKER_KEY).set_sorted(), grid.get_column("_session"))
    )


def _grid_dates(bars: pl.DataFrame) -> pl.DataFrame:
    """(ticker, date) for every session of each ticker's exchange within its span of bars.

    The ticker's own bar dates are kept too (a bar the calendar does not know stays a row).
    """
    spans = bars.group_by("ticker").agg(
        pl.col("date").min().alias("first"), pl.col("date").max().alias("last")
    )
    sessions = sessions_frame(*date_span(bars))
    on_calendar = (
        spans.with_columns(exchange_expr().alias("exchange"))
        .join(sessions, on="exchange")
        .filter(pl.col("date").is_between(pl.col("first"), pl.col("last")))
        .select("ticker", "date")
    )
    return pl.concat([on_calendar, bars.select("ticker", "date")]).unique().sort("ticker", "date")


def date_span(frame: pl.DataFrame) -> tuple[dt.date, dt.date]:
    """The first and last `date` of a non-empty frame."""
    first, last = frame["date"].min(), frame["date"].max()
    if not isinstance(first, dt.date) or not isinstance(last, dt.date):
        raise ValueError("the frame has no dates")
    return first, last


def _clean_columns() -> list[pl.Expr]:
    """clean_return (one-session, plausible) and the clean log index on the rows with a bar."""
    observed = pl.col("observed")
    previous_bar = (
        pl.when(observed).then(pl.col("session")).forward_fill().shift(1).over(TICKER_KEY)
    )
    one_session = (pl.col("session") - previous_bar) == 1
    plausible = observed & ~pl.col("implausible_move")
    clean_return = pl.when(plausible & one_session).then(pl.col("log_return"))
    # Every plausible move enters the index (a move across a gap too); flagged ones are taken
    # out. ln(close) minus the flagged moves so far, rather than a running sum of every return:
    # a difference of two log closes does not depend on where the loaded data starts.
    flagged = pl.when(observed & pl.col("implausible_move")).then(pl.col("log_return"))
    taken_out = flagged.fill_null(0.0).cum_sum().over(TICKER_KEY)
    index = pl.when(observed).then(pl.col("close").log() - taken_out)
    return [clean_return.alias("clean_return"), index.alias("log_index")]


def _empty_grid(bars: pl.DataFrame) -> pl.DataFrame:
    extra = {
        "observed": pl.Boolean,
        "session": pl.Int32,
        "clean_return": pl.Float64,
        "log_index": pl.Float64,
    }
    return bars.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in extra.items())


def lag(expr: pl.Expr, sessions: int) -> pl.Expr:
    """`expr` as it was `sessions` sessions earlier on the ticker's grid (null before its start)."""
    return expr.shift(sessions).over(TICKER_KEY)


def clean_count(sessions: int, end_lag: int = 0) -> pl.Expr:
    """Clean one-session returns in the `sessions` sessions ending `end_lag` sessions ago."""
    counted = pl.col("clean_return").is_not_null().cast(pl.Int32)
    return counted.rolling_sum(sessions, min_samples=1).shift(end_lag).over(TICKER_KEY)


def _covered(sessions: int, end_lag: int = 0) -> pl.Expr:
    """The window holds enough clean returns (MIN_COVERAGE) and lies inside the ticker's grid."""
    needed = math.ceil(sessions * MIN_COVERAGE)
    inside = pl.col("session") >= sessions + end_lag
    return inside & (clean_count(sessions, end_lag) >= needed)


def window_return(start: int, end: int = 0) -> pl.Expr:
    """Clean log return from session t-start to t-end (null when the window lacks data)."""
    value = lag(_INDEX, end) - lag(_INDEX, start)
    return pl.when(_covered(start - end, end)).then(value)


def factor_expressions() -> list[pl.Expr]:
    """The four FACTOR_COLUMNS and `history_bars` over a `session_grid` frame.

    `history_bars`: bars in the last LOOKBACK_SESSIONS sessions (how long a history the
    listing has, counted the same way however much was loaded).
    """
    bars = pl.col("observed").cast(pl.Int32).rolling_sum(LOOKBACK_SESSIONS, min_samples=1)
    volatility = pl.col("clean_return").rolling_std(VOLATILITY_SESSIONS, min_samples=2)
    high = _INDEX.rolling_max(HIGH_SESSIONS, min_samples=1).over(TICKER_KEY)
    return [
        (window_return(MOMENTUM_START, MOMENTUM_END).exp() - 1.0).alias("momentum_12_1"),
        (1.0 - window_return(REVERSAL_SESSIONS).exp()).alias("reversal_1m"),
        pl.when(_covered(VOLATILITY_SESSIONS))
        .then(-volatility.over(TICKER_KEY) * math.sqrt(SESSIONS_PER_YEAR))
        .alias("low_volatility"),
        pl.when(_covered(HIGH_SESSIONS) & pl.col("observed"))
        .then((_INDEX - high).exp())
        .alias("high_52w"),
        bars.over(TICKER_KEY).alias("history_bars"),
    ]


def add_factors(prices: pl.DataFrame) -> pl.DataFrame:
    """The rows of `prices` that have a close, with the `session_grid` columns and the factors."""
    grid = session_grid(prices)
    if grid.is_empty():
        nulls = [pl.lit(None, dtype=pl.Float64).alias(c) for c in FACTOR_COLUMNS]
        nulls.append(pl.lit(None, dtype=pl.Int32).alias("history_bars"))
        return grid.with_columns(*nulls).drop(TICKER_KEY)
    return grid.with_columns(factor_expressions()).filter(pl.col("observed")).drop(TICKER_KEY)
