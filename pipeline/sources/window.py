"""Validated prices of a date window, with the window and the ticker filter applied first.

A daily run needs each ticker's last `warmup_bars` bars before its first date, not the whole
file: the ticker and date columns are read first (parsed as `validate.conform` parses them),
each ticker's cut-off date is found from them, and only the rows inside the window (plus rows
whose ticker or date cannot be read or cannot be real, which are reported) are validated. On a Parquet file the
other columns of the rows outside the window are never decoded.

Bars dropped by validation could leave a ticker fewer warm-up bars than the whole file would
give it: such tickers (and those left too short to judge) are validated again over their
whole history, so the result is exactly what validating the whole file gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

import polars as pl

from pipeline.analysis.frames import MarketData
from pipeline.sources.validate import (
    FIRST_DATE,
    IS_INDEX,
    MIN_BARS,
    PRICES,
    ROW,
    SourceError,
    bad_ticker,
    canonical_columns,
    check_prices,
    conform,
    decimal_comma,
    parse_expr,
    short_history,
    split_indexes,
    with_warmup,
    within,
)

_TICKER, _DATE = "_key_ticker", "_key_date"  # the parsed keys of every row
_CUTOFF, _LISTED, _OLDER = "_cutoff", "_listed", "_older"
_T = TypeVar("_T")


def price_data(
    source: str,
    raw: pl.DataFrame | pl.LazyFrame,
    *,
    file: str,
    first_row: int = 1,
    tickers: Sequence[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    warmup_bars: int = 0,
) -> MarketData:
    """Validated prices of the wanted tickers (all when empty), with index closes in macro.

    Ticker bars are kept from `start` to `end` plus each ticker's last `warmup_bars` bars
    before `start`, however far back they lie (a gap in the data does not shorten the
    warm-up); index closes (macro) are kept from the first bar up to `end`. Rows outside
    that window are neither validated nor reported.
    """
    numbered = raw.lazy().with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64) + first_row)
    lazy = _collected(lambda: canonical_columns(numbered, PRICES, file), file)
    comma = _collected(lambda: decimal_comma(lazy, PRICES), file)
    keyed = lazy.with_columns(*_keys(lazy))
    cutoffs, in_file = _collected(lambda: _cutoffs(keyed, tickers, start, end, warmup_bars), file)
    wanted = list(tickers) or sorted(t for t in in_file if not t.startswith("^"))
    window = _Window(keyed, source, file, comma, tickers, (start, end), warmup_bars)
    data, unsure = window.validated(cutoffs)
    if unsure:  # too few good bars in the window: judge these tickers on their whole history
        data, _ = window.validated(cutoffs.with_columns(_widened(unsure)))
    data.failed_tickers = _missing(wanted, in_file, data.prices, file)
    return data


def _keys(lazy: pl.LazyFrame) -> list[pl.Expr]:
    schema = lazy.collect_schema()
    return [
        parse_expr("ticker", schema["ticker"], pl.String).alias(_TICKER),
        parse_expr("date", schema["date"], pl.Date).alias(_DATE),
    ]


def _cutoffs(
    keyed: pl.LazyFrame,
    tickers: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    warmup_bars: int,
) -> tuple[pl.DataFrame, set[str]]:
    """Per wanted ticker, the first date to read; and every ticker the file names."""
    ticker, date = pl.col(_TICKER), pl.col(_DATE)
    readable = keyed.select(_TICKER, _DATE).filter(
        ticker.is_not_null() & ~bad_ticker(ticker) & date.is_not_null()
    )
    listed = readable.filter(~ticker.str.starts_with("^"))
    if tickers:
        listed = listed.filter(ticker.is_in(list(tickers)))
    if end is not None:
        listed = listed.filter(date <= end)
    if start is None:
        cutoff, older = pl.lit(None, dtype=pl.Date), pl.lit(False)
    else:  # the warmup_bars-th last distinct date before `start`; older: some lie before it
        before = date.filter(date < start).unique()
        last = before.top_k(warmup_bars).min() if warmup_bars > 0 else pl.lit(None, pl.Date)
        cutoff = pl.coalesce(last, pl.lit(start))
        older = before.len() > warmup_bars
    cutoffs, names = pl.collect_all(
        [
            listed.group_by(_TICKER).agg(
                cutoff.alias(_CUTOFF), older.alias(_OLDER), pl.lit(True).alias(_LISTED)
            ),
            readable.select(ticker.unique()),
        ]
    )
    return cutoffs, set(names.get_column(_TICKER).to_list())


def _widened(unsure: set[str]) -> pl.Expr:
    """No cut-off for the `unsure` tickers: their whole history up to `end` is read."""
    return (
        pl.when(pl.col(_TICKER).is_in(list(unsure)))
        .then(pl.lit(None, dtype=pl.Date))
        .otherwise(_CUTOFF)
        .alias(_CUTOFF)
    )


class _Window:
    """One selection of rows by per-ticker cut-offs, validated as `conform` + `check_prices`."""

    def __init__(
        self,
        keyed: pl.LazyFrame,
        source: str,
        file: str,
        comma: bool,
        tickers: Sequence[str],
        dates: tuple[dt.date | None, dt.date | None],
        warmup_bars: int,
    ) -> None:
        self.keyed, self.source, self.file, self.comma = keyed, source, file, comma
        self.tickers, (self.start, self.end), self.warmup_bars = list(tickers), dates, warmup_bars

    def validated(self, cutoffs: pl.DataFrame) -> tuple[MarketData, set[str]]:
        """The MarketData of the rows the cut-offs select, and the tickers it may have cut short."""
        rows = _collected(lambda: self._selected(cutoffs).collect(), self.file)
        frame, parse_problems = conform(rows, PRICES, self.file, comma=self.comma)
        if self.tickers:
            frame = frame.filter(pl.col("ticker").is_in(self.tickers) | IS_INDEX)
            wanted = set(self.tickers)
            parse_problems = [p for p in parse_problems if p.ticker is None or p.ticker in wanted]
        bars, row_problems = check_prices(frame, self.file)
        # A short history is judged on every bar up to `end`, not only the loaded window.
        history, macro = split_indexes(within(bars.drop(ROW), "date", None, self.end))
        prices = with_warmup(history, self.start, self.warmup_bars)
        data = MarketData(
            source=self.source,
            prices=prices.sort("ticker", "date"),
            macro=macro,
            problems=parse_problems + row_problems + short_history(history),
        )
        return data, self._unsure(cutoffs, history)

    def _selected(self, cutoffs: pl.DataFrame) -> pl.LazyFrame:
        ticker, date = pl.col(_TICKER), pl.col(_DATE)
        up_to_end = pl.lit(True) if self.end is None else date <= self.end
        from_cutoff = pl.col(_CUTOFF).is_null() | (date >= pl.col(_CUTOFF))
        # Rows that cannot be placed in the window, or whose date cannot be real (before 1900,
        # after yesterday in UTC: `check_prices` judges them), are read wherever they lie.
        recent = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        suspect = date.is_null() | ticker.is_null() | (date < FIRST_DATE) | (date >= recent)
        if self.tickers:  # other tickers' problems are not reported
            suspect &= ticker.is_null() | ticker.is_in(self.tickers)
        else:
            suspect |= bad_ticker(ticker)
        keep = (
            (pl.col(_LISTED).fill_null(False) & up_to_end & from_cutoff)
            | (ticker.str.starts_with("^") & up_to_end)
            | suspect
        )
        joined = self.keyed.join(cutoffs.lazy(), on=_TICKER, how="left", maintain_order="left")
        return joined.filter(keep).drop(_TICKER, _DATE, _CUTOFF, _LISTED, _OLDER)

    def _unsure(self, cutoffs: pl.DataFrame, history: pl.DataFrame) -> set[str]:
        """Cut tickers left with fewer than `warmup_bars` bars before `start` or too short."""
        cut = cutoffs.filter(pl.col(_OLDER) & pl.col(_CUTOFF).is_not_null())
        cut = cut.select(pl.col(_TICKER).alias("ticker"))
        if self.start is None or cut.is_empty():
            return set()
        counts = history.group_by("ticker").agg(
            (pl.col("date") < self.start).sum().alias("before"), pl.len().alias("bars")
        )
        found = cut.join(counts, on="ticker", how="left").fill_null(0)
        short = (pl.col("before") < self.warmup_bars) | (pl.col("bars") < MIN_BARS)
        return set(found.filter(short).get_column("ticker").to_list())


def _collected(compute: Callable[[], _T], file: str) -> _T:
    """`compute()`, with a file that cannot be read reported as one SourceError line."""
    try:
        return compute()
    except (pl.exceptions.PolarsError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(f"{file} could not be read ({reason}): check the file") from None


def _missing(
    wanted: Sequence[str], in_file: set[str], prices: pl.DataFrame, file: str
) -> dict[str, str]:
    kept = set(prices["ticker"].unique().to_list())
    return {
        t: f"no valid rows in the requested dates in {file}" if t in in_file else f"not in {file}"
        for t in wanted
        if t not in kept
    }
