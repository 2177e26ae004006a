"""What happened after each call: forward returns at fixed horizons, against benchmarks (pure)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import cast

import polars as pl

from pipeline.analysis import calendar, ccl
from pipeline.analysis.forecast import TARGET_HORIZON_SESSIONS as TARGET_HORIZON_DAYS
from pipeline.analysis.frames import by_ticker_and_date, ticker_key

TRADING_DAYS_PER_YEAR = 252

# Holding periods, in sessions of the ticker's exchange.
HORIZONS = (5, 20, 60)
# close: bought at the close of the analysed day; next_close: at the next session's close
# (calls are published the next morning, so this is what a reader could actually get).
ENTRIES = {"close": 0, "next_close": 1}
ADR, BYMA = "ADR", "BYMA"
# A benchmark value older than this (calendar days) on a session is not used: the same
# freshness rule as the macro score's daily series.
BENCHMARK_MAX_AGE_DAYS = 10

OUTCOME_COLUMNS = [
    "analysis_date",
    "ticker",
    "horizon_sessions",
    "entry",
    "listing",
    "entry_date",
    "entry_price",
    "exit_date",
    "exit_price",
    "forward_return",
    "benchmark_return",
    "excess_return",
    "universe_return",
    "universe_excess_return",
    "realised_volatility",
    "target_low_return",
    "target_high_return",
]
# What a call must carry: its key, its prices, the annualised volatility the first model's
# target used, and the relative model's 63-session range (NULL in the first model's rows).
CALL_COLUMNS = ["analysis_date", "ticker", "current_price", "target_price", "stated_volatility"]
CALL_COLUMNS += ["target_low", "target_high"]


def listing_expr(ticker: str = "ticker") -> pl.Expr:
    """ADR for NYSE-listed tickers, BYMA for `.BA` ones: the group of benchmark and universe."""
    local = calendar.exchange_expr(ticker) == calendar.BUENOS_AIRES
    return pl.when(local).then(pl.lit(BYMA)).otherwise(pl.lit(ADR))


def stated_volatility(volatility_20: pl.Expr, atr_14: pl.Expr, close: pl.Expr) -> pl.Expr:
    """Volatility behind a call's target: volatility_20, else ATR(14)/close x √252 (annual)."""
    return volatility_20.fill_null(atr_14 / close * math.sqrt(TRADING_DAYS_PER_YEAR))


def _session_index(first: dt.date, last: dt.date) -> pl.DataFrame:
    """(exchange, date, idx): every session of both exchanges numbered in order."""
    return (
        calendar.sessions_frame(first, last)
        .sort("exchange", "date")
        .with_columns(pl.int_range(pl.len()).over("exchange").alias("idx"))
    )


# A bar's key: its ticker's number times 2**32 plus its date's day number (shifted to be
# non-negative), so the bars sorted by ticker and date are sorted by key, and the last bar of
# a ticker on or before a date is one binary search (`Series.search_sorted`) away.
_DAY_SHIFT = 2**31
_TICKER_SHIFT = 2**32


def _bar_key(ticker: pl.Expr, date: pl.Expr) -> pl.Expr:
    """The key of (ticker number, date): ordered as the pairs are."""
    days = date.cast(pl.Int32).cast(pl.Int64) + _DAY_SHIFT
    return ticker.cast(pl.Int64) * _TICKER_SHIFT + days


@dataclass(frozen=True)
class _Bars:
    """Every loaded bar, sorted by ticker and date: `bars` holds its key (`_bar_key`), adjusted
    and raw close and the running sums of log returns (`_s1`, `_s2`) of its ticker's bars;
    `tickers` each ticker's number (`_tk`, its place in sorted order), first row and last date."""

    bars: pl.DataFrame
    tickers: pl.DataFrame


def _bars(prices: pl.DataFrame) -> _Bars:
    """Per ticker and bar: adjusted close, raw close, and running sums of log returns."""
    adjusted = pl.col("adj_close").fill_null(pl.col("close"))
    key = "_tk"
    log_ret = (pl.col("adj") / pl.col("adj").shift(1).over(key)).log().fill_null(0.0)
    bars = by_ticker_and_date(prices.select("ticker", "date", "close", adjusted.alias("adj")))
    ticker = bars.get_column("ticker")
    row0 = (ticker != ticker.shift(1)).fill_null(True).arg_true().cast(pl.Int64)
    last = row0.slice(1).append(pl.Series([bars.height], dtype=pl.Int64)) - 1
    tickers = pl.DataFrame(
        {
            "ticker": ticker.gather(row0),
            key: pl.int_range(len(row0), dtype=pl.UInt32, eager=True),
            "_row0": row0,
            "_last_bar": bars.get_column("date").gather(last),
        }
    )
    del ticker
    # Per ticker, in blocks of whole tickers: only one block's intermediate columns at a time.
    parts = []
    for first, start, end in _ticker_blocks(row0, bars.height):
        block = bars.slice(start, end - start).with_columns(ticker_key(key))
        number = pl.col(key).cast(pl.Int64) + first  # the ticker's number among all
        parts.append(
            block.select(
                _bar_key(number, pl.col("date")).alias("_key"),
                "adj",
                "close",
                log_ret.cum_sum().over(key).alias("_s1"),
                (log_ret**2).cum_sum().over(key).alias("_s2"),
            )
        )
    del bars
    return _Bars(pl.concat(parts), tickers)


_BLOCK_BARS = 1_000_000  # bars per block of whole tickers in `_bars`


def _ticker_blocks(row0: pl.Series, height: int) -> list[tuple[int, int, int]]:
    """(first ticker, first row, end row) of consecutive blocks of whole tickers of about
    _BLOCK_BARS rows (`row0`: each ticker's first row); one block when there are no rows."""
    blocks, first = [], 0
    starts = [*row0.to_list(), height]
    for k in range(1, len(starts)):
        if starts[k] - starts[first] >= _BLOCK_BARS or k == len(starts) - 1:
            blocks.append((first, starts[first], starts[k]))
            first = k
    return blocks or [(0, 0, height)]


def _last_bars(prices: pl.DataFrame) -> pl.DataFrame:
    """Each ticker's last date (ticker, _last_bar), read at the ends of its rows once sorted
    by ticker and date (the loaded order: then nothing is sorted, or grouped by the text)."""
    ordered = by_ticker_and_date(prices.select("ticker", "date"))
    ticker = ordered.get_column("ticker")
    ends = (ticker != ticker.shift(-1)).fill_null(True).arg_true()
    return ordered.select(pl.col("ticker", "date").gather(ends)).rename({"date": "_last_bar"})


# The Merval and, for the dollar Merval, the CCL of each family (macro.py's families:
# the unsuffixed series first, the `_rava` one when the first is missing or stale).
BENCHMARK_SERIES = {"merval": "merval", "ccl": "usdars_ccl", "ccl_rava": "usdars_ccl_rava"}


def _benchmark_series(macro: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Each benchmark series as a (date, value) frame sorted by date."""
    return {
        key: macro.filter(pl.col("series") == name)
        .select(pl.col("date").alias(f"_{key}_date"), pl.col("value").alias(f"_{key}"))
        .drop_nulls()
        .unique(f"_{key}_date", keep="last")
        .sort(f"_{key}_date")
        for key, name in BENCHMARK_SERIES.items()
    }


def _price_at(
    bars: pl.DataFrame, frame: pl.DataFrame, on: str, prefix: str, columns: tuple[str, ...]
) -> pl.DataFrame:
    """Add the last bar on or before column `on` of each row (as-of, per ticker): its row
    number (`{prefix}_bar`) and `columns` of `bars` (each as `{prefix}_{name}`).

    `frame` carries each row's ticker number and first bar row (`_tk`, `_row0`, from
    `_Bars.tickers`); its rows keep their order. A row whose ticker has no bar on or before
    `on` gets nulls."""
    wanted = frame.select(_bar_key(pl.col("_tk"), pl.col(on))).to_series()
    found = bars.get_column("_key").search_sorted(wanted, side="right").cast(pl.Int64) - 1
    del wanted
    ends = pl.DataFrame({"found": found, "first": frame.get_column("_row0")})
    row = ends.select(pl.when(pl.col("found") >= pl.col("first")).then("found")).to_series()
    picked = bars.select(
        row.alias(f"{prefix}_bar"),
        *(pl.col(c).gather(row).alias(f"{prefix}_{c.lstrip('_')}") for c in columns),
    )
    return frame.hstack(picked)


def _bench_at(
    series: dict[str, pl.DataFrame], frame: pl.DataFrame, on: str, suffix: str
) -> pl.DataFrame:
    """Add each benchmark series as of column `on`, at most BENCHMARK_MAX_AGE_DAYS old
    (looked up once per distinct date; the rows keep their order)."""
    joined = frame.select(pl.col(on).unique().sort())
    for key, values in series.items():
        joined = joined.join_asof(
            values,
            left_on=on,
            right_on=f"_{key}_date",
            strategy="backward",
            tolerance=dt.timedelta(days=BENCHMARK_MAX_AGE_DAYS),
            check_sortedness=False,
        ).rename({f"_{key}": f"_{key}{suffix}"})
    joined = joined.drop(f"_{key}_date" for key in series)
    return frame.join(joined, on=on, how="left", maintain_order="left")


def _benchmark_return() -> pl.Expr:
    """Merval in pesos (BYMA), or in USD through one CCL family at both ends (ADR)."""
    merval = pl.col("_merval1") / pl.col("_merval0")
    usd = [merval / (pl.col(f"_{key}1") / pl.col(f"_{key}0")) for key in ("ccl", "ccl_rava")]
    return pl.when(pl.col("listing") == BYMA).then(merval).otherwise(pl.coalesce(usd)) - 1.0


def _schedule(
    calls: pl.DataFrame, sessions: pl.DataFrame, horizons: tuple[int, ...]
) -> pl.DataFrame:
    """One row per call, horizon and entry with its entry and exit sessions: in the calls'
    order, each call's in the order of `horizons` and ENTRIES; a row whose exit is past the
    last session of `sessions` is left out."""
    counts = sessions.group_by("exchange").agg(pl.len().alias("_sessions"))
    numbered = sessions.with_row_index("_pos").join(counts, on="exchange")
    keyed = calls.with_columns(
        calendar.exchange_expr().alias("exchange"), listing_expr().alias("listing")
    ).join(
        numbered,
        left_on=["exchange", "analysis_date"],
        right_on=["exchange", "date"],
        maintain_order="left",
    )
    plans = pl.DataFrame(
        [(h, entry, offset) for h in horizons for entry, offset in ENTRIES.items()],
        schema={"horizon_sessions": pl.Int32, "entry": pl.String, "_offset": pl.Int64},
        orient="row",
    )
    # Sessions are numbered in order per exchange (`idx`) and in the frame (`_pos`): the
    # entry and exit are the rows `_offset` and `_offset + horizon` after the call's.
    rows = keyed.join(plans, how="cross", maintain_order="left_right").filter(
        pl.col("idx") + pl.col("_offset") + pl.col("horizon_sessions") < pl.col("_sessions")
    )
    entry = rows.select(pl.col("_pos") + pl.col("_offset")).to_series()
    exit_ = rows.select(pl.col("_pos") + pl.col("_offset") + pl.col("horizon_sessions"))
    days = sessions.get_column("date")
    return rows.with_columns(
        days.gather(entry).alias("entry_date"), days.gather(exit_.to_series()).alias("exit_date")
    )


def matured_rows(
    calls: pl.DataFrame, last_bars: pl.DataFrame, horizons: tuple[int, ...] = HORIZONS
) -> pl.Series:
    """Per call (analysis_date, ticker), how many (horizon, entry) rows its prices can settle.

    `last_bars` holds each ticker's last bar (ticker, last_bar): a row matures once the
    ticker has a bar on or after its exit session, so a ticker that stopped trading is due
    only the rows that exited by its last bar. A row whose entry has no bar stays unfilled,
    so this is still an upper bound (`changed_outcomes` keeps such rows from being rewritten).
    """
    if calls.is_empty() or last_bars.is_empty():
        return pl.Series("due", [0] * calls.height, dtype=pl.Int32)
    first = cast(dt.date, calls["analysis_date"].min())
    sessions = _session_index(first, cast(dt.date, last_bars["last_bar"].max()))
    offsets = [h + offset for h in horizons for offset in ENTRIES.values()]
    left = pl.col("_last_idx") - pl.col("idx")
    due = pl.sum_horizontal((left >= k).cast(pl.Int32) for k in offsets)
    ends = sessions.select(
        "exchange", pl.col("date").alias("_end"), pl.col("idx").alias("_last_idx")
    )
    return (
        calls.with_row_index("_row")
        .with_columns(calendar.exchange_expr().alias("exchange"))
        .join(last_bars, on="ticker", how="left")
        .join(
            sessions,
            left_on=["exchange", "analysis_date"],
            right_on=["exchange", "date"],
            how="left",
        )
        .sort("last_bar")
        .join_asof(
            ends.sort("_end"),
            left_on="last_bar",
            right_on="_end",
            by="exchange",
            strategy="backward",
            check_sortedness=False,
        )
        .sort("_row")
        .select(due.fill_null(0).alias("due"))
        .to_series()
    )


# Two stored values closer than this (relative) are the same outcome: the realised volatility
# is a difference of running sums that start where the loaded prices do.
SAME_VALUE_TOLERANCE = 1e-12


def changed_outcomes(new: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """The rows of `new` that are not stored yet or whose stored values differ.

    Dates, texts and the NULL pattern must match exactly; numbers to SAME_VALUE_TOLERANCE
    (relative). A run writes only these, so a stored outcome keeps its job_run_id.
    """
    if stored.is_empty():  # a first fill (a backfill into a new file): every row is new
        return new
    keys = ["analysis_date", "ticker", "horizon_sessions", "entry"]
    values = [c for c in OUTCOME_COLUMNS if c not in keys]
    joined = new.join(stored.select(OUTCOME_COLUMNS), on=keys, how="left", suffix="_old")
    differs = []
    for name in values:
        now, old = pl.col(name), pl.col(f"{name}_old")
        if new.schema[name] == pl.Float64:
            scale = pl.max_horizontal(now.abs(), old.abs(), pl.lit(1e-300))
            off = (now - old).abs() > SAME_VALUE_TOLERANCE * scale
        else:
            off = now != old
        differs.append(off.fill_null(now.is_null() != old.is_null()))
    return joined.filter(pl.any_horizontal(differs)).select(new.columns)


def empty_outcomes() -> pl.DataFrame:
    """An outcome frame with no rows and the stored schema."""
    schema = dict.fromkeys(OUTCOME_COLUMNS, pl.Float64) | {
        "analysis_date": pl.Date,
        "ticker": pl.String,
        "horizon_sessions": pl.Int32,
        "entry": pl.String,
        "listing": pl.String,
        "entry_date": pl.Date,
        "exit_date": pl.Date,
    }
    return pl.DataFrame(schema=schema)


class PriceBars:
    """The bars and benchmark series every outcome reads, computed on first use and kept:
    a backfill filling its outcomes in groups of dates computes them once."""

    def __init__(self, prices: pl.DataFrame, macro: pl.DataFrame) -> None:
        self._prices, self._macro = prices, macro
        self._bars: _Bars | None = None
        self._series: dict[str, pl.DataFrame] | None = None

    @property
    def bars(self) -> _Bars:
        """Every bar with its key, adjusted and raw close and running sums of log returns,
        and each ticker's number, first row and last date (as `_price_at` reads them)."""
        if self._bars is None:
            self._bars = _bars(self._prices)
        return self._bars

    @property
    def series(self) -> dict[str, pl.DataFrame]:
        """The benchmark series; the dollar Merval through the same CCL the analysis used
        (`ccl`: the ADR pairs' median)."""
        if self._series is None:
            self._series = _benchmark_series(ccl.with_implied_ccl(self._macro, self._prices))
        return self._series

    def last_bars(self) -> pl.DataFrame:
        """Each ticker's last date (ticker, _last_bar): once the bars are computed, their
        `tickers` (with each one's number and first row); before, from the prices, cheaply
        (a run with nothing matured reads no bar)."""
        if self._bars is not None:
            return self._bars.tickers
        return _last_bars(self._prices)


def compute_outcomes(
    calls: pl.DataFrame,
    prices: pl.DataFrame,
    macro: pl.DataFrame,
    horizons: tuple[int, ...] = HORIZONS,
    prepared: PriceBars | None = None,
) -> pl.DataFrame:
    """The matured outcomes of `calls` (CALL_COLUMNS) from tidy prices and macro series.

    A (call, horizon, entry) row matures when the ticker has a bar on or after its exit
    session; every value comes from bars and benchmark values on or before that session.
    The universe return is the mean over the matured rows of the same listing group,
    analysis_date, horizon and entry among `calls`, so pass every call of those dates
    (the dates themselves may come in groups: a date's rows depend on its calls only).
    `prepared` is `PriceBars(prices, macro)`, when the caller keeps it for several calls.
    """
    if calls.is_empty() or prices.is_empty():
        return empty_outcomes()
    prepared = prepared or PriceBars(prices, macro)
    first, last = calls["analysis_date"].min(), prices["date"].max()
    sessions = _session_index(cast(dt.date, first), cast(dt.date, last))
    # Every step keeps the rows' order: the universe mean sums each block in that order.
    calls = calls.select(CALL_COLUMNS).join(
        prepared.last_bars(), on="ticker", maintain_order="left"
    )
    rows = _schedule(calls, sessions, horizons).filter(pl.col("exit_date") <= pl.col("_last_bar"))
    if rows.is_empty():  # nothing matured (a daily run's own calls): no bar is read
        return empty_outcomes()
    bars, series = prepared.bars, prepared.series
    if "_tk" not in rows.columns:  # the bars were computed just now
        ids = bars.tickers.select("ticker", "_tk", "_row0")
        rows = rows.join(ids, on="ticker", maintain_order="left")
    rows = _price_at(bars.bars, rows, "entry_date", "in", ("adj", "_s1", "_s2"))
    rows = _price_at(bars.bars, rows, "exit_date", "out", ("adj", "close", "_s1", "_s2"))
    rows = rows.filter(pl.col("in_adj").is_not_null())
    rows = _bench_at(series, _bench_at(series, rows, "entry_date", "0"), "exit_date", "1")
    return (
        _returns(rows)
        .select(OUTCOME_COLUMNS)
        .sort("analysis_date", "ticker", "horizon_sessions", "entry")
    )


def _stated_range(old_low: pl.Expr, old_high: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The range a call stated, as returns at the row's horizon h.

    Relative model (target_low/high stored): its 63-session percentiles in log terms, the
    median's drift scaled by h/63 and each edge's distance from it by sqrt(h/63) (exactly the
    stated range at 63 sessions). First model: the given centre -/+ volatility band.
    """
    h = pl.col("horizon_sessions") / TARGET_HORIZON_DAYS
    price = pl.col("current_price")
    mid = (pl.col("target_price") / price).log()
    ends = []
    for edge, old in (("target_low", old_low), ("target_high", old_high)):
        log_edge = (pl.col(edge) / price).log()
        scaled = (mid * h + (log_edge - mid) * h.sqrt()).exp() - 1.0
        ends.append(pl.when(pl.col(edge).is_not_null()).then(scaled).otherwise(old))
    return ends[0], ends[1]


def _returns(rows: pl.DataFrame) -> pl.DataFrame:
    """Forward, benchmark, excess and universe returns, volatility and the stated range."""
    forward = pl.col("out_adj") / pl.col("in_adj") - 1.0
    n = pl.col("out_bar") - pl.col("in_bar")
    total = pl.col("out_s1") - pl.col("in_s1")
    variance = (pl.col("out_s2") - pl.col("in_s2") - total**2 / n) / (n - 1)
    years = pl.col("horizon_sessions") / TRADING_DAYS_PER_YEAR
    move = pl.col("target_price") / pl.col("current_price") - 1.0
    centre = move * pl.col("horizon_sessions") / TARGET_HORIZON_DAYS
    half = pl.col("stated_volatility") * years.sqrt()
    low, high = _stated_range(centre - half, centre + half)
    block = ["analysis_date", "listing", "horizon_sessions", "entry"]
    return (
        rows.with_columns(
            forward.alias("forward_return"),
            (pl.col("in_adj") * pl.col("out_close") / pl.col("out_adj")).alias("entry_price"),
            pl.col("out_close").alias("exit_price"),
            _benchmark_return().alias("benchmark_return"),
            pl.when(n >= 2)
            .then((variance.clip(0.0) * TRADING_DAYS_PER_YEAR).sqrt())
            .alias("realised_volatility"),
            low.alias("target_low_return"),
            high.alias("target_high_return"),
        )
        .with_columns(
            (pl.col("forward_return") - pl.col("benchmark_return")).alias("excess_return"),
            pl.col("forward_return").mean().over(block).alias("universe_return"),
        )
        .with_columns(
            (pl.col("forward_return") - pl.col("universe_return")).alias("universe_excess_return")
        )
    )
