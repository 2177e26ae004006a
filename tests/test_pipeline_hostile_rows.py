"""Hostile rows in an input file are dropped and reported at the source, never failing the run."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.sources import load_market_data
from store import reads
from store.connection import open_reader
from tests.files_support import GGAL_LINE, csv_lines, sample_bars, set_cell, write

TODAY = dt.date.today()
CLI = [sys.executable, "-m", "pipeline.ops.cli"]


def in_ticker(value: str) -> Callable[[str], str]:
    return lambda line: set_cell(line, "Symbol", value)


def in_cell(column: str, value: str) -> Callable[[str], str]:
    return lambda line: set_cell(line, column, value)


def prices(value: str) -> Callable[[str], str]:
    def edit(line: str) -> str:
        for column in ("Open", "High", "Low", "Close", "Adj Close"):
            line = set_cell(line, column, value)
        return line

    return edit


HOSTILE = [
    ("sql-in-ticker", in_ticker("GGAL'; DROP TABLE daily_recommendations;--"),
     "ticker 'GGAL'; DROP TABLE DAILY_' is not a symbol"),
    ("too-long", in_ticker("ABCDEFGHIJK"), "ticker 'ABCDEFGHIJK' is not a symbol"),
    ("zero-width", in_ticker("GG\u200bAL"), "ticker 'GG?AL' is not a symbol"),
    ("control-char", in_ticker("GG\x07AL"), "ticker 'GG?AL' is not a symbol"),
    ("starts-with-dot", in_ticker(".BA"), "ticker '.BA' is not a symbol"),
    ("far-future", in_cell("Date", "2924-03-08"), "2924-03-08 is after today ("),
    ("tomorrow", in_cell("Date", str(TODAY + dt.timedelta(days=2))), "is after today ("),
    ("before-1900", in_cell("Date", "1899-12-29"), "1899-12-29 is before 1900-01-01"),
    ("year-one", in_cell("Date", "0001-01-01"), "0001-01-01 is before 1900-01-01"),
    ("overflow", prices("1e9"), "is too large to store"),
    ("target-overflow", prices("70000000"), "is too large to store"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_a_hostile_row_is_dropped_and_named_and_the_rest_loads(tmp_path: Path, edit, message):
    bars = sample_bars()
    lines = csv_lines(bars)
    lines.append(edit(lines[GGAL_LINE - 1]))
    data = load_market_data("files", data_dir=write(tmp_path, "prices.csv", lines))
    [problem] = data.problems
    assert (problem.file, problem.row) == ("prices.csv", len(lines))
    assert message in problem.message and problem.message.endswith("row dropped")
    assert str(problem).isprintable()
    assert data.prices.equals(bars)


@pytest.mark.slow
def test_a_run_with_hostile_rows_stores_every_good_ticker(tmp_path: Path):
    # Five stocks, the fewest a call can be ranked among; GGAL's rows still come first.
    five = ("GGAL", "PAM", "TEO", "TGS", "YPF")
    lines = csv_lines(sample_bars(five))
    lines += [edit(lines[GGAL_LINE - 1]) for _, edit, _ in HOSTILE]
    folder = write(tmp_path / "data", "prices.csv", lines)
    db = tmp_path / "argenta_ia.duckdb"
    done = subprocess.run(
        [*CLI, "run", "--source", "files", "--data-dir", str(folder), "--date", "2023-12-29"],
        env={"DATABASE_URL": str(db), "PYTHONPATH": ":".join(sys.path), "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("warning:") == 10 + 1  # the first ten and a count of the rest
    with open_reader(db) as con:
        stored = reads.recommendation_history(con)
    assert sorted(stored["ticker"]) == list(five)
    assert stored["current_price"].null_count() == 0
    # Seven months of history: the 3-year target range cannot be estimated (NULL, not made up).
    assert stored["target_price"].null_count() == stored.height
