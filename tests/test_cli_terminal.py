"""What `argenta query` prints on a terminal, and the cases it used to pass over in silence.

Each test runs the real command in a subprocess on a DuckDB file in tmp_path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import polars as pl
import pytest

from store import writes
from store.connection import open_writer
from tests.cli_support import run_argenta
from tests.factories import partition

FRIDAY = dt.date(2024, 3, 8)  # a session of both NYSE and BYMA
SATURDAY = dt.date(2024, 3, 9)
LONG = (
    "PAM: COMPRAR desde el 01/03/2024, puntaje relativo 100,00/100 entre los ADR. A favor: baja "
    "volatilidad (100,0/100) y reversión de 1 mes (87,5/100); en contra: cercanía al máximo de 52 "
    "semanas (12,5/100). Se basa solo en los factores de precio (sin fundamentos ni noticias)."
)


def day_of(day: dt.date, calls: list[tuple[str, str, float]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One date's partition with a (ticker, call, score) per ticker."""
    parts = [partition(day, [ticker], score, call) for ticker, call, score in calls]
    recs = pl.concat([p[0] for p in parts])
    details = pl.concat([p[1] for p in parts])
    return recs, details


@pytest.fixture
def db(tmp_path):
    """NYSE calls on Friday 2024-03-08; a BYMA ticker whose last call is of 2022 (stale)."""
    path = tmp_path / "a.duckdb"
    old = dt.date(2022, 8, 12)
    friday = day_of(
        FRIDAY,
        [("BBAR", "VENDER", 6.25), ("GGAL", "MANTENER", 75.0), ("PAM", "COMPRAR", 87.5)],
    )
    recs = friday[0].with_columns(
        summary=pl.when(pl.col("ticker") == "PAM").then(pl.lit(LONG)).otherwise("summary"),
        current_price=pl.when(pl.col("ticker") == "GGAL").then(1512.46).otherwise("current_price"),
    )
    with open_writer(path) as con:
        writes.replace_partitions(con, [old], [day_of(old, [("MIRG.BA", "COMPRAR", 100.0)])])
        writes.replace_partitions(con, [FRIDAY], [(recs, friday[1])])
        job = writes.start_job(con, "daily_analysis", {"source": "test"})
        writes.finish_job(
            con,
            job,
            3,
            0,
            {"source": "test", "dates": {"first": "2024-03-07", "last": "2024-03-08"}},
        )
        failed = writes.start_job(con, "daily_analysis", {"source": "test"})
        reason = "source 'test' has no price bar for any ticker on 2024-03-11"
        writes.fail_job(con, failed, reason, {"source": "test", "failure_reason": reason})
    return path


def argenta(db, *args, columns=120):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(db.parent), "COLUMNS": str(columns)}
    return run_argenta(db, *args, cwd=db.parent, env=env, inherit=False, timeout=120)


def rows_of(table: str) -> list[str]:
    """The data lines of a printed table: after the header and its dashes, up to the last."""
    lines = table.splitlines()
    return [line for line in lines[2:] if line and not line[0].isdigit()]


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_query_latest_is_a_table_that_fits_with_current_calls_first(db, columns):
    proc = argenta(db, "query", "latest", columns=columns)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(len(line) <= columns for line in lines), max(map(len, lines))
    assert "shape:" not in proc.stdout and "f64" not in proc.stdout and "┆" not in proc.stdout
    assert lines[0].split()[:4] == ["ticker", "call", "score", "status"]
    tickers = [line.split()[0] for line in lines[2:] if line and line.split()[0].isupper()]
    assert tickers == ["PAM", "GGAL", "BBAR", "MIRG.BA"]  # current by call, then the stale one
    stale = next(line for line in lines if line.startswith("MIRG.BA"))
    assert "STALE 574 d" in stale and "2022-08-12" in stale
    assert lines[lines.index(stale) - 1] == ""  # a blank line sets the stale calls apart
    assert "1,512.46" in next(line for line in lines if line.startswith("GGAL"))
    closing = " ".join(lines[lines.index(stale) + 2 :])
    assert "3 current calls" in closing and "1 STALE" in closing


def test_a_long_summary_is_cut_at_a_word_never_wrapped(db):
    proc = argenta(db, "query", "latest", columns=200)
    pam = next(line for line in proc.stdout.splitlines() if line.startswith("PAM "))
    start = pam.index("PAM: COMPRAR")
    shown = pam[start:]
    assert shown.endswith("…") and len(pam) <= 200
    kept = shown[:-1]
    assert LONG.startswith(kept) and LONG[len(kept)] in " ,;:"  # ends at a word
    assert "9.75 to 12.50" in pam  # the target's stated range


def test_csv_keeps_every_column_in_the_same_order(db):
    proc = argenta(db, "query", "latest", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["ticker"] for r in rows] == ["PAM", "GGAL", "BBAR", "MIRG.BA"]
    assert rows[0]["summary"] == LONG and rows[1]["current_price"] == "1512.46"
    assert {"is_current", "days_since_latest", "macro_score", "created_at"} <= set(rows[0])


def test_query_ticker_on_a_saturday_says_which_day_it_shows(db):
    proc = argenta(db, "query", "ticker", "GGAL", "--date", str(SATURDAY))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "2024-03-09" in proc.stderr and "showing 2024-03-08" in proc.stderr
    assert proc.stdout.startswith("GGAL  MANTENER  score 75.00  on 2024-03-08")
    assert "technical" in proc.stdout and "{" not in proc.stdout  # no raw JSON
    on_friday = argenta(db, "query", "ticker", "GGAL", "--date", str(FRIDAY))
    assert on_friday.stderr == ""
    before = argenta(db, "query", "ticker", "GGAL", "--date", "2024-03-01")
    assert before.returncode == 2
    assert before.stderr == "error: no analysis of GGAL stored on or before 2024-03-01\n"


def test_query_history_refuses_a_start_after_its_end(db):
    proc = argenta(db, "query", "history", "--start", "2024-03-08", "--end", "2024-03-01")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "is after --end" in proc.stderr
    assert proc.stdout == ""


def test_query_history_names_unknown_tickers(db):
    unknown = argenta(db, "query", "history", "--tickers", "FOO")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1 and "FOO" in unknown.stderr
    some = argenta(db, "query", "history", "--tickers", "GGAL,FOO", "--format", "json")
    assert some.returncode == 0
    assert some.stderr.startswith("warning:") and "FOO" in some.stderr
    assert {r["ticker"] for r in json.loads(some.stdout)} == {"GGAL"}


def test_query_jobs_and_track_record_tables_have_no_debug_print(db):
    jobs = argenta(db, "query", "jobs", columns=200)
    assert jobs.returncode == 0, jobs.stderr
    header, _, failed, run = jobs.stdout.splitlines()[:4]  # newest first
    assert header.split()[:3] == ["id", "job", "started"]
    assert "failed" in failed and "no price bar for any ticker on 2024-03-11" in failed
    assert "completed" in run and "2024-03-07..2024-03-08" in run and "{" not in jobs.stdout
    record = argenta(db, "query", "track-record")
    assert record.returncode == 0, record.stderr
    assert "# summary" in record.stdout and "shape:" not in record.stdout


def test_analyze_prints_the_call_in_a_few_lines(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "80"}
    args = ("analyze", "GGAL", "--source", "sample")
    proc = run_argenta(tmp_path / "a.duckdb", *args, cwd=tmp_path, env=env, inherit=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("GGAL  ") and " score " in lines[0] and " on 20" in lines[0]
    assert lines[1].startswith("price ") and "80% range" in lines[1]
    assert "from source sample, not stored" in lines[2]
    assert all(len(line) <= 80 for line in lines) and "shape:" not in proc.stdout
