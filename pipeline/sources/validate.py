"""Checks shared by every source: canonical columns, parsed values, and bars that can be real.

Bad rows are dropped and reported as `DataProblem`s naming the file, ticker and row, so one bad
ticker never stops the others. Row numbers count from `first_row`: 2 for CSV files (the header
is line 1, so the number is the line in the file), 1 for Parquet files and downloaded frames.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from zoneinfo import ZoneInfo

import polars as pl

from pipeline.analysis.calendar import BUENOS_AIRES, NEW_YORK, exchange_expr, flag_sessions
from pipeline.analysis.frames import (
    FUNDAMENTALS_SCHEMA,
    MACRO_SCHEMA,
    MIN_HISTORY_BARS,
    NEWS_SCHEMA,
    PRICES_SCHEMA,
    DataProblem,
)
from pipeline.analysis.scoring.combine import MAX_PRICE
from pipeline.errors import BadInput
from pipeline.settings import TICKER_RE

MIN_BARS = MIN_HISTORY_BARS  # fewer bars than this are reported: no call can be made
MAX_ROW_PROBLEMS = 10  # detailed problems per ticker and file; further bad rows are counted
INDEX_SERIES = {"^MERV": "merval"}  # macro series of index rows; any other "^XYZ" becomes "xyz"
ROW = "_row"  # the input row number column kept by `conform`
_PROBLEM = "_problem"
_SESSION = "_session"
# ISO dates, optionally with a time and a zone: "2024-03-08", "2024-03-08 00:00:00-03:00".
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$"
# Day-first dates as Excel writes them in Argentina: "08/03/2024", "8/3/2024 00:00".
_DAY_FIRST_DATE = r"^\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?)?$"
_PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")
_PARSED = "_parsed_"  # prefix of the parsed values while their raw cells are still needed
IS_INDEX = pl.col("ticker").str.starts_with("^")  # index rows ("^MERV") are not tickers
# A ticker as Yahoo spells it (the settings' pattern): 1-10 ASCII letters, digits, ".", "-",
# "^", "=", starting with a letter, digit or "^"; control and zero-width characters fail it.
TICKER_RULE = (
    "1-10 characters: letters, digits, '.', '-', '^', '=', starting with a letter, digit or '^'"
)
FIRST_DATE = dt.date(1900, 1, 1)  # no bar before this is believable
# The store keeps prices as DECIMAL(10, 2) (below MAX_PRICE), and a call's targets lie above
# its close: a price above MAX_PRICE / 1.5 is refused, so a close always fits with a target
# range reaching 50 % above it (a target that would not fit is stored NULL).
STORABLE_PRICE = MAX_PRICE / 1.5
EXCHANGE_ZONES = {BUENOS_AIRES: "America/Argentina/Buenos_Aires", NEW_YORK: "America/New_York"}


_Frame = TypeVar("_Frame", pl.DataFrame, pl.LazyFrame)


class SourceError(BadInput):
    """The input cannot be used at all; the message names the file or column and the fix."""


@dataclass(frozen=True)
class TableSpec:
    """One input table: its canonical columns and types, which must exist and which need values."""

    name: str
    schema: pl.Schema
    required: tuple[str, ...]
    not_null: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def accepted(self) -> str:
        """The accepted headers for messages, e.g. `ticker|symbol, ..., adj_close (optional)`."""
        return ", ".join(
            "|".join((c, *self.aliases.get(c, ()))) + ("" if c in self.required else " (optional)")
            for c in self.schema
        )


PRICES = TableSpec(
    "prices",
    PRICES_SCHEMA,
    required=("date", "ticker", "close"),  # close-only files are accepted
    not_null=("date", "ticker", "close"),
    aliases={"date": ("datetime",), "ticker": ("symbol",)},
)
FUNDAMENTALS = TableSpec(
    "fundamentals",
    FUNDAMENTALS_SCHEMA,
    required=("ticker", "metric", "value", "filed"),
    not_null=("ticker", "metric", "value", "filed"),
    aliases={"ticker": ("symbol",)},
)
MACRO = TableSpec(
    "macro",
    MACRO_SCHEMA,
    required=("date", "series", "value"),
    not_null=("date", "series", "value"),
)
NEWS = TableSpec(
    "news",
    NEWS_SCHEMA,
    required=("date", "ticker", "headline"),
    not_null=("date", "headline"),
    aliases={"ticker": ("symbol",), "headline": ("title",)},
)


def conform(
    frame: pl.DataFrame,
    spec: TableSpec,
    file: str,
    first_row: int = 1,
    limit: int = MAX_ROW_PROBLEMS,
    comma: bool | None = None,
) -> tuple[pl.DataFrame, list[DataProblem]]:
    """Rename headers to the spec's names and parse every value, dropping rows that do not parse.

    Headers match case-insensitively, with spaces or underscores ("Adj Close", "adj_close").
    A missing required column raises `SourceError`. The result keeps a row-number column
    (the frame's own `ROW` column when it has one, e.g. rows picked out of a larger file).
    `limit` is the number of bad rows reported one by one per ticker; the rest are counted.
    `comma`: whether numbers are written "1.234,56" (None: decided from this frame).
    """
    raw = canonical_columns(frame, spec, file)
    if ROW not in raw.columns:
        raw = raw.with_columns((pl.int_range(pl.len()) + first_row).alias(ROW))
    comma = decimal_comma(raw, spec) if comma is None else comma
    # Each value parsed once, beside the raw cell its problem message quotes.
    staged = raw.with_columns(
        parse_expr(c, raw.schema[c], dtype, comma).alias(_PARSED + c)
        for c, dtype in spec.schema.items()
    )
    parsed = {c: pl.col(_PARSED + c) for c in spec.schema}
    checks = [
        (_present(c, raw.schema[c]) & parsed[c].is_null(), _bad_value_message(c, dtype))
        for c, dtype in spec.schema.items()
        if dtype != pl.String
    ] + [(parsed[c].is_null(), pl.lit(f"{c} is empty; row dropped")) for c in spec.not_null]
    if "ticker" in spec.schema:
        checks.append((bad_ticker(parsed["ticker"]), _bad_ticker_message(parsed["ticker"])))
    flagged = _with_problem(staged, checks).with_columns(
        pl.col(_PARSED + c).alias(c) for c in spec.schema
    )
    flagged = flagged.drop(_PARSED + c for c in spec.schema)
    if "ticker" in spec.schema and flagged.get_column(_PROBLEM).null_count() < flagged.height:
        # a hostile ticker is shown printable and short
        bad = pl.col(_PROBLEM).is_not_null() & bad_ticker(pl.col("ticker"))
        flagged = flagged.with_columns(
            pl.when(bad).then(_printable(pl.col("ticker"))).otherwise("ticker").alias("ticker")
        )
    good, problems = _accept(flagged, file, limit)
    return good.select(ROW, *spec.schema), problems


def check_prices(
    prices: pl.DataFrame, file: str, limit: int = MAX_ROW_PROBLEMS
) -> tuple[pl.DataFrame, list[DataProblem]]:
    """Drop bars that cannot be real: dated before 1900 or after today on their exchange,
    non-positive or unstorable prices, negative volume, high below low, off-session or repeated."""
    dated = _with_problem(prices, _date_checks())
    prices, early = _accept(dated, file, limit)
    checks = (
        [
            (pl.col(c) <= 0, pl.format(f"{c} is not positive ({{}}); row dropped", pl.col(c)))
            for c in _PRICE_COLUMNS
        ]
        + [
            (
                pl.col(c) >= STORABLE_PRICE,
                pl.format(
                    f"{c} {{}} is too large to store (prices and targets are kept below "
                    f"{MAX_PRICE:,.0f}); row dropped",
                    pl.col(c),
                ),
            )
            for c in _PRICE_COLUMNS
        ]
        + [
            (pl.col("volume") < 0, pl.format("volume is negative ({}); row dropped", "volume")),
            (
                pl.col("high") < pl.col("low"),
                pl.format("high {} is below low {}; row dropped", "high", "low"),
            ),
            (
                ~pl.col(_SESSION),
                pl.format("{} is not a trading day on {}; row dropped", "date", exchange_expr()),
            ),
        ]
    )
    flagged = _with_problem(flag_sessions(prices, _SESSION), checks).drop(_SESSION)
    bars, problems = _accept(flagged, file, limit)
    message = pl.format("repeats the bar of {}; row dropped", "date")
    bars, more = _accept(_with_problem(bars, [(_repeated(bars), message)]), file, limit)
    bars = bars.with_columns(pl.coalesce("adj_close", "close").alias("adj_close"))
    return bars, early + problems + more


def _date_checks() -> list[tuple[pl.Expr, pl.Expr]]:
    """A bar before 1900, or after today in its exchange's time zone, cannot be real."""
    now = dt.datetime.now(dt.UTC)
    today = {x: now.astimezone(ZoneInfo(zone)).date() for x, zone in EXCHANGE_ZONES.items()}
    exchange = exchange_expr()
    local_today = (
        pl.when(exchange == BUENOS_AIRES)
        .then(pl.lit(today[BUENOS_AIRES]))
        .otherwise(pl.lit(today[NEW_YORK]))
    )
    return [
        (
            pl.col("date") < FIRST_DATE,
            pl.format(f"{{}} is before {FIRST_DATE}; row dropped", "date"),
        ),
        (
            pl.col("date") > local_today,
            pl.format("{} is after today ({} on {}); row dropped", "date", local_today, exchange),
        ),
    ]


def bad_ticker(ticker: pl.Expr) -> pl.Expr:
    return ticker.is_not_null() & ~ticker.str.contains(TICKER_RE.pattern)


def _bad_ticker_message(ticker: pl.Expr) -> pl.Expr:
    return pl.format(
        f"ticker '{{}}' is not a symbol ({TICKER_RULE}); row dropped", _printable(ticker)
    )


def _printable(text: pl.Expr) -> pl.Expr:
    """At most 24 characters, anything but printable ASCII shown as '?'."""
    return text.str.replace_all(r"[^\x20-\x7E]", "?").str.slice(0, 24)


def with_warmup(prices: pl.DataFrame, start: dt.date | None, warmup_bars: int) -> pl.DataFrame:
    """The bars from `start` on, plus each ticker's last `warmup_bars` bars before `start`."""
    if start is None:
        return prices
    before = pl.col("date") < start
    # Per ticker, how many bars before `start` lie on or after this one (1 = the last one).
    back = before.cast(pl.Int32).cum_sum(reverse=True).over("ticker")
    return prices.sort("ticker", "date").filter(~before | (back <= warmup_bars))


def split_indexes(prices: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Separate index rows ("^MERV") from tickers; their closes become macro series ("merval")."""
    series = pl.col("ticker").replace_strict(
        INDEX_SERIES, default=pl.col("ticker").str.strip_chars_start("^").str.to_lowercase()
    )
    macro = prices.filter(IS_INDEX).select(
        "date", series.alias("series"), pl.col("close").alias("value")
    )
    return prices.filter(~IS_INDEX), macro.sort("series", "date")


def short_history(prices: pl.DataFrame, min_bars: int = MIN_BARS) -> list[DataProblem]:
    """One problem per ticker with fewer than `min_bars` bars."""
    short = (
        prices.group_by("ticker")
        .agg(
            pl.len().alias("bars"),
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
        )
        .filter(pl.col("bars") < min_bars)
        .sort("ticker")
    )
    return [
        DataProblem(
            (f"only 1 bar, on {first}" if bars == 1 else f"only {bars} bars from {first} to {last}")
            + f"; a call needs at least {min_bars}",
            ticker=ticker,
        )
        for ticker, bars, first, last in short.iter_rows()
    ]


def within(
    frame: pl.DataFrame, column: str, start: dt.date | None, end: dt.date | None
) -> pl.DataFrame:
    """The rows whose `column` falls between `start` and `end` (either may be open)."""
    keep = pl.lit(True)
    if start is not None:
        keep &= pl.col(column) >= start
    if end is not None:
        keep &= pl.col(column) <= end
    return frame.filter(keep)


def canonical_columns(frame: _Frame, spec: TableSpec, file: str) -> _Frame:
    """The spec's columns under their own names (NULL when optional and absent), and `ROW` if any.

    Raises `SourceError` naming a missing required column or a column of nested values.
    """
    schema = frame.collect_schema()
    headers: dict[str, str] = {}
    for header in schema.names():
        if header == ROW:
            continue
        headers.setdefault(_header_key(header), header)  # the first of equal headers wins
    found = {c: _find_header(c, spec, headers) for c in spec.schema}
    missing = [c for c in spec.required if found[c] is None]
    if missing:
        raise SourceError(
            f"{file} is missing column(s) {', '.join(missing)}; accepted headers (any case, "
            f"spaces or underscores): {spec.accepted()}"
        )
    for h in filter(None, found.values()):
        dtype = schema[h]
        if dtype.is_nested() or dtype in (pl.Binary, pl.Object):
            raise SourceError(
                f"{file} column {h} holds {dtype} values, not one value per cell: "
                "write it as plain numbers, dates or text"
            )
    return frame.select(
        *([ROW] if ROW in schema else []),
        *(
            pl.col(h).alias(c) if h is not None else pl.lit(None, dtype=spec.schema[c]).alias(c)
            for c, h in found.items()
        ),
    )


def _find_header(column: str, spec: TableSpec, headers: Mapping[str, str]) -> str | None:
    keys = map(_header_key, (column, *spec.aliases.get(column, ())))
    return next((headers[k] for k in keys if k in headers), None)


def _header_key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "_", header.strip().lower())


def decimal_comma(raw: pl.DataFrame | pl.LazyFrame, spec: TableSpec) -> bool:
    """Whether the file writes numbers the Argentine way ("1.234,56"): a number cell has a comma."""
    schema = raw.collect_schema()
    columns = [c for c, t in spec.schema.items() if t == pl.Float64 and schema[c] == pl.String]
    if not columns:
        return False
    has_comma = pl.any_horizontal(pl.col(c).str.contains(",", literal=True) for c in columns)
    return bool(raw.lazy().select(has_comma.any()).collect().item())


def parse_expr(column: str, raw: pl.DataType, target: pl.DataType, comma: bool = False) -> pl.Expr:
    col = pl.col(column)
    if target == pl.Date:
        if raw == pl.Date:
            return col
        if isinstance(raw, pl.Datetime):
            return col.dt.date()
        text = col.cast(pl.String).str.strip_chars()
        iso = text.str.contains(_ISO_DATE)
        day_first = text.str.contains(_DAY_FIRST_DATE)
        return (
            pl.when(iso)
            .then(text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
            .when(day_first)
            .then(text.str.split(" ").list.first().str.to_date("%d/%m/%Y", strict=False))
        )
    if target == pl.Float64:
        number = col.str.strip_chars() if raw == pl.String else col
        if comma and raw == pl.String:  # "1.234,56": dots group thousands, the comma is decimal
            number = number.str.replace_all(".", "", literal=True)
            number = number.str.replace(",", ".", literal=True)
        number = number.cast(pl.Float64, strict=False)
        return pl.when(number.is_finite()).then(number)
    text = col.cast(pl.String).str.strip_chars()
    text = text.str.to_uppercase() if column == "ticker" else text
    return pl.when(text != "").then(text)


def _present(column: str, raw: pl.DataType) -> pl.Expr:
    present = pl.col(column).is_not_null()
    return present & pl.col(column).is_not_nan() if raw.is_float() else present


def _bad_value_message(column: str, target: pl.DataType) -> pl.Expr:
    what = "a date (YYYY-MM-DD or DD/MM/YYYY)" if target == pl.Date else "a number"
    value = pl.col(column).cast(pl.String)
    return pl.format(f"{column} is not {what}: '{{}}'; row dropped", value)


def _repeated(bars: pl.DataFrame) -> pl.Expr:
    """A bar of a (ticker, date) seen on an earlier row. In a file sorted by ticker and date
    (the usual case) the repeats follow their first bar: a comparison with the previous row."""
    ticker, date = pl.col("ticker"), pl.col("date")
    same = (ticker == ticker.shift(1)) & (date == date.shift(1))
    after = (ticker > ticker.shift(1)) | ((ticker == ticker.shift(1)) & (date >= date.shift(1)))
    present = ticker.is_not_null().all() & date.is_not_null().all()
    if bars.select(after.slice(1).fill_null(False).all() & present).item():
        return same.fill_null(False)
    return ~pl.struct("ticker", "date").is_first_distinct()


def _with_problem(frame: pl.DataFrame, checks: Sequence[tuple[pl.Expr, pl.Expr]]) -> pl.DataFrame:
    """`frame` with _PROBLEM: the message of each row's first failed check (null: none).

    The messages are built only when some row fails: formatting one for every row costs
    more than all the checks."""
    failed = pl.any_horizontal(f for f, _ in checks).fill_null(False).any()
    if frame.is_empty() or not frame.select(failed).item():
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias(_PROBLEM))
    return frame.with_columns(_first_problem(checks))


def _first_problem(checks: Sequence[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
    return pl.coalesce([pl.when(failed).then(message) for failed, message in checks]).alias(
        _PROBLEM
    )


def _accept(flagged: pl.DataFrame, file: str, limit: int) -> tuple[pl.DataFrame, list[DataProblem]]:
    bad = flagged.filter(pl.col(_PROBLEM).is_not_null())
    good = flagged.filter(pl.col(_PROBLEM).is_null()).drop(_PROBLEM)
    return good, _row_problems(bad, file, limit)


def _row_problems(bad: pl.DataFrame, file: str, limit: int) -> list[DataProblem]:
    if "ticker" not in bad.columns:
        bad = bad.with_columns(pl.lit(None, dtype=pl.String).alias("ticker"))
    ranked = bad.sort(ROW).with_columns(pl.int_range(pl.len()).over("ticker").alias("_rank"))
    shown = ranked.filter(pl.col("_rank") < limit).select(ROW, "ticker", _PROBLEM)
    hidden = ranked.filter(pl.col("_rank") >= limit).group_by("ticker", maintain_order=True)
    return [
        DataProblem(message, file=file, ticker=ticker, row=row)
        for row, ticker, message in shown.iter_rows()
    ] + [
        DataProblem(f"{n} more bad row(s) dropped", file=file, ticker=ticker)
        for ticker, n in hidden.len().iter_rows()
    ]
