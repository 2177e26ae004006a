"""A folder of price files made from the bundled sample, for the files-source tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from pipeline.sources import sample

SAMPLE_PRICES = pl.read_parquet(sample.SAMPLE_DIR / "prices.parquet")
YAHOO_HEADER = ["Date", "Symbol", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
FILE_START, FILE_END = dt.date(2023, 6, 1), dt.date(2023, 12, 29)
GGAL_LINE = 5  # in csv_lines(sample_bars()), line 1 is the header: the fourth GGAL bar, 2023-06-06


def sample_bars(tickers: Sequence[str] = ("GGAL", "YPF")) -> pl.DataFrame:
    """Real bars from the sample, in the order a file would list them."""
    return SAMPLE_PRICES.filter(
        pl.col("ticker").is_in(tickers), pl.col("date").is_between(FILE_START, FILE_END)
    ).sort("ticker", "date")


def csv_lines(bars: pl.DataFrame, header: Sequence[str] = YAHOO_HEADER) -> list[str]:
    """The lines of a prices CSV with the given header names (in the canonical order)."""
    return bars.rename(dict(zip(bars.columns, header, strict=True))).write_csv().splitlines()


def write(folder: Path, name: str, lines: Sequence[str]) -> Path:
    """Write `lines` as the file `name` in `folder` (created if needed); return the folder."""
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def set_cell(line: str, column: str, value: str) -> str:
    """`line` of a YAHOO_HEADER CSV with `column` set to `value`."""
    cells = line.split(",")
    cells[YAHOO_HEADER.index(column)] = value
    return ",".join(cells)
