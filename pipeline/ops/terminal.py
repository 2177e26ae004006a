"""Readable tables for a terminal: what `--format table` prints.

A table shows the columns a reader needs, numbers rounded, fitted to the terminal's width: a
long text column is cut at a word with "…", then the rightmost columns not marked `keep` are
left out until the table fits. No cell is ever wrapped. `--format csv|json` prints every
column at full precision; this module is only the terminal's view.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

DEFAULT_WIDTH = 120  # when stdout is not a terminal and COLUMNS is unset
MIN_WIDTH = 40
GAP = "  "
NULL = "-"
ELLIPSIS = "…"
MIN_TEXT = 40  # a long text column is not cut below this many characters (else left out)

# Generic tables (track record): floats named like these are fractions, printed as percentages.
_PERCENT = re.compile(r"excess|rate|return|spread|share|inside|above|below|vol|minus")


@dataclass(frozen=True)
class Column:
    """One column of the terminal view of a frame."""

    name: str
    header: str = ""
    digits: int = 2  # decimals of a float
    percent: bool = False  # a fraction, printed as a percentage
    text: bool = False  # long text: cut at a word to fit the width
    keep: bool = False  # never left out to fit the width
    shortest: int = MIN_TEXT  # a text column is cut down to this width, then left out

    @property
    def title(self) -> str:
        return self.header or self.name


def terminal_width() -> int:
    """The width to fit: COLUMNS, else the terminal's, else DEFAULT_WIDTH."""
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def generic_columns(frame: pl.DataFrame, first: Sequence[str] = ()) -> list[Column]:
    """Every column, `first` ones first (kept longest when the width is short), floats rounded
    by their name: fractions as %, ICs to 3 decimals."""
    columns: list[Column] = []
    names = [n for n in first if n in frame.columns]
    names += [n for n in frame.columns if n not in names]
    for name in names:
        dtype = frame.schema[name]
        if dtype.is_float():
            percent = bool(_PERCENT.search(name))
            digits = 3 if "ic" in name.split("_") else 2
            columns.append(Column(name, digits=digits, percent=percent))
        else:
            columns.append(Column(name, keep=not columns))
    return columns


def table(
    frame: pl.DataFrame,
    columns: Sequence[Column] | None = None,
    width: int | None = None,
    gap_before: Sequence[int] = (),
) -> str:
    """`frame` as an aligned plain-text table no wider than `width`, ending with a newline.

    Columns (default: `generic_columns`) that are absent or entirely null are left out;
    `gap_before` lists row positions that start a new block (a blank line before them).
    """
    width = width or terminal_width()
    if frame.is_empty():
        return "(no rows)\n"
    chosen = [
        c
        for c in (columns or generic_columns(frame))
        if c.name in frame.columns
        and (c.keep or frame.get_column(c.name).null_count() < frame.height)
    ]
    cells = [[_cell(v, c) for v in frame.get_column(c.name).to_list()] for c in chosen]
    right = [_is_number(frame.schema[c.name]) for c in chosen]
    widths = [
        max(len(c.title), *(len(v) for v in col)) for c, col in zip(chosen, cells, strict=True)
    ]
    keep = list(range(len(chosen)))

    def total() -> int:
        return sum(widths[i] for i in keep) + len(GAP) * (len(keep) - 1)

    for i in keep:  # first cut long text, down to MIN_TEXT
        if chosen[i].text and total() > width:
            shortest = max(chosen[i].shortest, len(chosen[i].title))
            widths[i] = max(min(shortest, widths[i]), widths[i] - (total() - width))
    while total() > width:  # then leave out the rightmost optional columns
        optional = [i for i in keep if not chosen[i].keep]
        if not optional:
            break
        keep.remove(optional[-1])

    def line(values: Sequence[str]) -> str:
        parts = []
        for i in keep:
            text = _cut(values[i], widths[i])
            parts.append(text.rjust(widths[i]) if right[i] else text.ljust(widths[i]))
        return GAP.join(parts).rstrip()

    out = [line([c.title for c in chosen])]
    out.append(line(["-" * widths[i] for i in range(len(chosen))]))
    for row in range(frame.height):
        if row in gap_before and row:
            out.append("")
        out.append(line([col[row] for col in cells]))
    return "\n".join(out) + "\n"


def _is_number(dtype: pl.DataType) -> bool:
    return dtype.is_numeric()


def _cell(value: object, column: Column) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return NULL
        if column.percent:
            return f"{value * 100:.{column.digits}f}%"
        return f"{value:,.{column.digits}f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return " ".join(str(value).split())  # one line: newlines and runs of spaces as one space


def _cut(text: str, width: int) -> str:
    """`text` in at most `width` characters: cut at the last word that fits, then "…"."""
    if len(text) <= width:
        return text
    room = text[: width - 1]
    head = room.rsplit(" ", 1)[0] if " " in room else room
    return head.rstrip(" ,;:") + ELLIPSIS
