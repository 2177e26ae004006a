"""The files source: a folder with prices and, optionally, fundamentals, macro and news tables.

Each table is `NAME.csv` or `NAME.parquet` (Parquet wins when both exist). Headers match
ignoring case, and spaces equal underscores, so Yahoo exports ("Date", "Adj Close") load as-is.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pipeline.analysis.frames import DataProblem, MarketData, empty
from pipeline.settings import path_problem
from pipeline.sources.validate import (
    FUNDAMENTALS,
    MACRO,
    NEWS,
    PRICES,
    ROW,
    SourceError,
    TableSpec,
    conform,
    within,
)
from pipeline.sources.window import price_data

# Cell texts read as missing values in CSV files (Yahoo's CSV exports write "null").
NULL_TOKENS = ["", "null", "NULL", "nan", "NaN", "NA", "N/A", "-"]


def load(
    data_dir: Path,
    tickers: Sequence[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    source: str = "files",
    warmup_bars: int = 0,
) -> MarketData:
    """Load and validate the tables of a folder; prices are required, the others optional.

    Prices: see `price_data`. Fundamentals, macro and news: every row up to `end`, so that
    an analysed date sees the same history whatever the first date loaded.
    """
    prices_path = _prices_path(data_dir)
    data = price_data(
        source,
        scan_table(prices_path),
        file=prices_path.name,
        first_row=first_row(prices_path),
        tickers=tickers,
        start=start,
        end=end,
        warmup_bars=warmup_bars,
    )
    (fundamentals, macro, news), problems = _optional_tables(data_dir, (FUNDAMENTALS, MACRO, NEWS))
    data.problems.extend(problems)
    if tickers:
        fundamentals = fundamentals.filter(pl.col("ticker").is_in(tickers))
        news = news.filter(pl.col("ticker").is_in(tickers) | pl.col("ticker").is_null())
    data.fundamentals = within(fundamentals, "filed", None, end)
    data.macro = pl.concat([within(macro, "date", None, end), data.macro]).unique(
        ["date", "series"], keep="first", maintain_order=True
    )
    data.news = within(news, "date", None, end)
    return data


def find_table(data_dir: Path, name: str) -> Path | None:
    """The file holding table `name` in the folder: NAME.parquet, else NAME.csv, else None.

    A name that is there but cannot be read as a file (a symlink loop or dangling link, a
    folder) is a SourceError naming it, not a missing table.
    """
    for path in (data_dir / f"{name}.parquet", data_dir / f"{name}.csv"):
        if path.is_file():
            return path
        if path.is_symlink() or path.exists():
            problem = path_problem(path, folder=False) or "it is not a readable file"
            raise SourceError(
                f"{path.name} in {data_dir} cannot be read ({problem}): fix or remove it"
            )
    return None


def read_table(path: Path) -> pl.DataFrame:
    """Read a CSV (every cell as text, so bad cells can be reported) or Parquet file.

    A CSV may be an Excel export in Spanish: `;` separated (chosen when the header line
    has more `;` than `,`), with a UTF-8 byte-order mark, or in Windows-1252 when it is not
    UTF-8. Decimal commas and dd/mm/yyyy dates are read by `validate.conform`.
    """
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        text = _decoded(path.read_bytes())
        header = text.split("\n", 1)[0]
        separator = ";" if header.count(";") > header.count(",") else ","
        return pl.read_csv(
            text.encode(), separator=separator, infer_schema=False, null_values=NULL_TOKENS
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        if path.suffix != ".parquet" and isinstance(exc, pl.exceptions.PolarsError):
            raise SourceError(_csv_problem(path, text, separator)) from None
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        reason = reason.replace("`", "'")
        raise SourceError(f"{path} could not be read ({reason}): check the file") from None


def _csv_problem(path: Path, text: str, separator: str) -> str:
    """One line naming the first CSV line that cannot be parsed and how to fix it."""
    lines = text.splitlines()
    width = len(next(csv.reader(lines[:1], delimiter=separator), []))
    for number, line in enumerate(lines, 1):
        if line.count('"') % 2:
            return (
                f'{path} line {number}: a quote (") opens a field that never closes: '
                "balance the quotes on that line or remove the stray one"
            )
        fields = next(csv.reader([line], delimiter=separator), [])
        if line.strip() and len(fields) != width:
            return (
                f"{path} line {number}: {len(fields)} fields where the header has {width}: "
                f"give every line the header's {width} '{separator}'-separated fields"
            )
    return (
        f"{path} could not be parsed as CSV: save it as comma- or semicolon-separated text "
        "with one header line"
    )


def scan_table(path: Path) -> pl.LazyFrame:
    """A lazy view of a table: Parquet is scanned (only the rows and columns used are decoded);
    a CSV is read as `read_table` reads it (its text must be decoded and checked first)."""
    return pl.scan_parquet(path) if path.suffix == ".parquet" else read_table(path).lazy()


def _decoded(raw: bytes) -> str:
    """The text of a CSV file: UTF-8 (a byte-order mark is dropped), else Windows-1252."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def first_row(path: Path) -> int:
    """The number reported for a file's first data row: its line (2) for CSV, 1 otherwise."""
    return 2 if path.suffix == ".csv" else 1


def check_data_dir(data_dir: Path | None) -> None:
    """Raise SourceError unless `data_dir` is a folder (checked before a run touches the store)."""
    if data_dir is None:
        raise SourceError("--source files needs --data-dir DIR (or ARGENTA_DATA_DIR)")
    if not data_dir.is_dir():
        there = data_dir.is_symlink() or data_dir.exists()
        problem = path_problem(data_dir, folder=True) if there else None
        state = f"cannot be used ({problem})" if problem else "does not exist"
        raise SourceError(
            f"data folder {data_dir} {state}: set ARGENTA_DATA_DIR (or --data-dir) to a folder"
        )


def _prices_path(data_dir: Path) -> Path:
    check_data_dir(data_dir)
    path = find_table(data_dir, PRICES.name)
    if path is None:
        raise SourceError(
            f"no prices file in {data_dir}: add prices.csv or prices.parquet with columns "
            f"{PRICES.accepted()}"
        )
    return path


def _optional_tables(
    data_dir: Path, specs: Sequence[TableSpec]
) -> tuple[list[pl.DataFrame], list[DataProblem]]:
    frames, problems = [], []
    for spec in specs:
        path = find_table(data_dir, spec.name)
        frame, found = (empty(spec.schema), []) if path is None else _optional_table(path, spec)
        frames.append(frame)
        problems.extend(found)
    return frames, problems


def _optional_table(path: Path, spec: TableSpec) -> tuple[pl.DataFrame, list[DataProblem]]:
    try:
        frame, problems = conform(read_table(path), spec, path.name, first_row(path))
    except SourceError as exc:
        return empty(spec.schema), [DataProblem(f"{exc}; file skipped", file=path.name, fatal=True)]
    return frame.drop(ROW), problems
