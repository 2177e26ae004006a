"""Validated prices of a date window, with the window and the ticker filter applied first.

A daily run needs each ticker's last `warmup_bars` bars before its first date, not the whole
file: the ticker and date columns are read first (parsed as `validate.conform` parses them,
each distinct ticker cell once), each ticker's cut-off date is found from them, and only the
rows inside the window (plus rows whose ticker or date cannot be read or cannot be real,
which are reported) are validated. On a Parquet file the other columns of the rows outside
the window are never decoded.

Bars dropped by validation could leave a ticker fewer warm-up bars than the whole file would
give it: such tickers (and those left too short to judge) are validated again over their
whole history, so the result is exactly what validating the whole file gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

import polars as pl

from pipeline.analysis.frames import DataProblem, MarketData
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
_CUTOFF, _LISTED, _OLDER, _ENDS = "_cutoff", "_listed", "_older", "_ends"
_GOOD, _SUSPECT, _MINE, _ROWS, _GROUP = "_good", "_suspect", "_mine", "_rows", "_group"
GROUP_ROWS = 2_000_000  # rows validated at a time: bounds the memory of a large file's load
_READABLE = pl.col(_GOOD) & pl.col(_ENDS).is_not_null()  # a good ticker with a dated row
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
    keyed = lazy.with_columns(
        parse_expr("date", lazy.collect_schema()["date"], pl.Date()).alias(_DATE)
    )
    spellings = _collected(lambda: _spellings(keyed, tickers, start, end, warmup_bars), file)
    in_file = set(spellings.filter(_READABLE).get_column(_TICKER).to_list())
    wanted = list(tickers) or sorted(t for t in in_file if not t.startswith("^"))
    window = _Window(keyed, source, file, comma, tickers, (start, end), warmup_bars)
    data, unsure = window.validated(spellings)
    if unsure:  # too few good bars in the window: judge these tickers on their whole history
        data, _ = window.validated(spellings.with_columns(_widened(unsure)))
    data.failed_tickers = _missing(wanted, in_file, data.prices, file)
    return data


def _spellings(
    keyed: pl.LazyFrame,
    tickers: Sequence[str],
    start: dt.date | None,
    end: dt.date | None,
    warmup_bars: int,
) -> pl.DataFrame:
    """One row per distinct ticker cell of the file: the ticker it parses to, and how to read it.

    Tickers are parsed and checked once per distinct cell, not once per row. `_CUTOFF` is the
    first date to read (the warmup_bars-th last date before `start`; the earliest over the
    cells that spell the same ticker), `_OLDER` says whether bars lie before it, `_LISTED`
    that the ticker is wanted and has bars up to `end`, `_SUSPECT` that the cell itself is
    a problem to report, `_MINE` that its rows' problems are reported.
    """
    date = pl.col(_DATE)
    if start is None:
        cutoff, older = pl.lit(None, dtype=pl.Date), pl.lit(False)
    else:  # duplicated dates make the cut-off later: the re-check in `price_data` covers it
        before = date.filter(date < start)
        last = before.top_k(warmup_bars).min() if warmup_bars > 0 else pl.lit(None, pl.Date)
        cutoff, older = pl.coalesce(last, pl.lit(start)), before.len() > warmup_bars
    up_to_end = pl.lit(True) if end is None else date <= end
    dated = keyed.filter(date.is_not_null()).group_by("ticker")
    cells, per_cell = pl.collect_all(
        [
            keyed.select(pl.col("ticker").unique()),
            dated.agg(
                cutoff.alias(_CUTOFF),
                older.alias(_OLDER),
                up_to_end.any().alias(_ENDS),
                ((date >= cutoff).fill_null(True) & up_to_end).sum().alias(_ROWS),
            ),
        ]
    )
    ticker = parse_expr("ticker", cells.schema["ticker"], pl.String())
    cells = cells.with_columns(ticker.alias(_TICKER)).join(per_cell, on="ticker", how="left")
    parsed = pl.col(_TICKER)
    mine = parsed.is_null() | parsed.is_in(list(tickers)) if tickers else pl.lit(True)
    cells = cells.with_columns(
        (parsed.is_not_null() & ~bad_ticker(parsed)).alias(_GOOD), mine.alias(_MINE)
    ).with_columns(
        (
            pl.col(_GOOD) & ~parsed.str.starts_with("^") & pl.col(_ENDS).fill_null(False) & mine
        ).alias(_LISTED),
        (parsed.is_null() | (~pl.col(_GOOD) & pl.lit(not tickers))).alias(_SUSPECT),
    )
    same = pl.col(_LISTED) & parsed.is_not_null()  # spellings of one ticker read together
    return cells.with_columns(
        pl.col(_CUTOFF).min().over(pl.when(same).then(parsed)),
        pl.col(_OLDER).fill_null(False).any().over(pl.when(same).then(parsed)),
    )


def _groups(spellings: pl.DataFrame) -> list[pl.DataFrame]:
    """The ticker cells in groups of about GROUP_ROWS rows, in ticker order; the cells of one
    ticker (or of no readable ticker) stay together."""
    per_ticker = (
        spellings.group_by(_TICKER)
        .agg(pl.col(_ROWS).fill_null(0).sum())
        .sort(_TICKER, nulls_last=False)
        .with_columns((pl.col(_ROWS).cum_sum() // GROUP_ROWS).alias(_GROUP))
    )
    grouped = spellings.join(
        per_ticker.select(_TICKER, _GROUP), on=_TICKER, how="left", nulls_equal=True
    )
    numbers = sorted(grouped.get_column(_GROUP).unique().to_list()) or [None]
    return [grouped.filter(pl.col(_GROUP).eq_missing(n)).drop(_GROUP) for n in numbers]


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

    def validated(self, spellings: pl.DataFrame) -> tuple[MarketData, set[str]]:
        """The MarketData of the rows the cut-offs select, and the tickers it may have cut short.

        Tickers are validated in groups of about GROUP_ROWS rows, so a large file's
        validation never holds more than one group's intermediate columns.
        """
        parse: list[DataProblem] = []
        checked: list[DataProblem] = []
        short: list[DataProblem] = []
        prices, macro, unsure = [], [], set()
        for n, group in enumerate(_groups(spellings)):
            rows = _collected(partial(self._rows, group, n == 0), self.file)
            found = self._validated_group(rows)
            prices.append(found[0])
            macro.append(found[1])
            parse += found[2]
            checked += found[3]
            short += short_history(found[4])
            unsure |= self._unsure(group, found[4])
            del rows, found
        data = MarketData(
            source=self.source,
            prices=pl.concat(prices),
            macro=pl.concat(macro).sort("series", "date"),
            problems=parse + checked + short,
        )
        return data, unsure

    def _validated_group(self, rows: pl.DataFrame) -> tuple:
        """(prices with warm-up, index closes, parse problems, bar problems, history to `end`)."""
        frame, parse_problems = conform(rows, PRICES, self.file, comma=self.comma)
        if self.tickers:
            frame = frame.filter(pl.col("ticker").is_in(self.tickers) | IS_INDEX)
            wanted = set(self.tickers)
            parse_problems = [p for p in parse_problems if p.ticker is None or p.ticker in wanted]
        bars, row_problems = check_prices(frame, self.file)
        del frame
        # A short history is judged on every bar up to `end`, not only the loaded window.
        history, macro = split_indexes(within(bars.drop(ROW), "date", None, self.end))
        prices = with_warmup(history, self.start, self.warmup_bars).sort("ticker", "date")
        return prices, macro, parse_problems, row_problems, history

    def _rows(self, group: pl.DataFrame, first: bool) -> pl.DataFrame:
        """The rows of the group's ticker cells (and, in the first group, rows without one)."""
        cell = pl.col("ticker")
        mine = cell.is_in(group.get_column("ticker").drop_nulls().implode())
        return self._selected(group, mine | cell.is_null() if first else mine).collect()

    def _selected(self, spellings: pl.DataFrame, cells: pl.Expr) -> pl.LazyFrame:
        date = pl.col(_DATE)
        up_to_end = pl.lit(True) if self.end is None else date <= self.end
        from_cutoff = pl.col(_CUTOFF).is_null() | (date >= pl.col(_CUTOFF))
        # Rows whose date cannot be placed in the window or cannot be real (before 1900, after
        # yesterday in UTC: `check_prices` judges them) are read wherever they lie.
        recent = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        odd_date = date.is_null() | (date < FIRST_DATE) | (date >= recent)
        index = pl.col(_TICKER).str.starts_with("^")
        keep = (
            (pl.col(_LISTED) & up_to_end & from_cutoff)
            | (index & up_to_end)
            | pl.col(_SUSPECT)
            | (odd_date & pl.col(_MINE))
        ).fill_null(False) | pl.col("ticker").is_null()
        # A cheap first cut on the date alone (pushed into the scan), then the per-ticker one.
        listed = spellings.filter(_LISTED)
        special = spellings.filter(pl.col(_SUSPECT) | pl.col(_TICKER).str.starts_with("^"))
        first = listed.get_column(_CUTOFF).min() if not listed.is_empty() else None
        rows = self.keyed.filter(cells)
        if first is not None and listed.get_column(_CUTOFF).null_count() == 0:
            rows = rows.filter(
                (date >= first)
                | odd_date
                | pl.col("ticker").is_null()
                | pl.col("ticker").is_in(special.get_column("ticker").implode())
            )
        columns = ["ticker", _TICKER, _CUTOFF, _LISTED, _SUSPECT, _MINE]
        joined = rows.join(
            spellings.lazy().select(columns), on="ticker", how="left", maintain_order="left"
        )
        return joined.filter(keep).drop(*columns[1:], _DATE)

    def _unsure(self, cutoffs: pl.DataFrame, history: pl.DataFrame) -> set[str]:
        """Cut tickers left with fewer than `warmup_bars` bars before `start` or too short."""
        cut = cutoffs.filter(pl.col(_OLDER) & pl.col(_CUTOFF).is_not_null() & pl.col(_LISTED))
        cut = cut.select(pl.col(_TICKER).alias("ticker")).unique()
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
