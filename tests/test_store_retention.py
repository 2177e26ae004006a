"""Retention that compacts: after old partitions are deleted the file shrinks to about the
size of a fresh build of the rows that remain."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from pipeline.ops import jobs
from pipeline.settings import Settings
from store import writes
from store.connection import open_reader, work_path

START, END = dt.date(2022, 3, 1), dt.date(2024, 3, 8)
KEEP_DAYS = 365
CUTOFF = END - dt.timedelta(days=KEEP_DAYS)


def _db(tmp_path: Path, name: str) -> Path:
    """A database path in its own new folder (the store never creates a folder)."""
    folder = tmp_path / name
    folder.mkdir()
    return folder / "a.duckdb"


def _backfill(db: Path, start: dt.date, retention_days: int = 0) -> None:
    env = {"DATABASE_URL": str(db), "ARGENTA_RETENTION_DAYS": str(retention_days)}
    settings = Settings.from_env(env, env_file=None)
    jobs.backfill(settings, jobs.SourceOptions("sample"), start, END)


def _rows(db: Path) -> tuple[int, int, dt.date]:
    with open_reader(db) as con:
        return con.sql(
            "SELECT count(*), (SELECT count(*) FROM analysis_details), min(analysis_date)"
            " FROM daily_recommendations"
        ).fetchall()[0]


def test_retention_rewrites_the_file_within_20_percent_of_a_fresh_build(tmp_path):
    retained, fresh = _db(tmp_path, "retained"), _db(tmp_path, "fresh")
    _backfill(retained, START, retention_days=KEEP_DAYS)
    _backfill(fresh, CUTOFF)
    assert _rows(retained) == _rows(fresh)
    assert _rows(retained)[2] >= CUTOFF
    ratio = retained.stat().st_size / fresh.stat().st_size
    assert ratio <= 1.2, f"retained file is {ratio:.2f}x a fresh build"
    # the working copy was compacted too (the next run starts from it)
    assert work_path(retained).stat().st_size <= 1.2 * fresh.stat().st_size
    with open_reader(retained) as con:  # ids keep counting after the rewrite
        seq = con.sql(
            "SELECT last_value FROM duckdb_sequences()"
            " WHERE sequence_name = 'daily_recommendations_id_seq'"
        ).fetchall()[0][0]
        top = con.sql("SELECT max(id) FROM daily_recommendations").fetchall()[0][0]
        comments = con.sql(
            "SELECT count(*) FROM duckdb_columns() WHERE comment IS NULL"
            " AND database_name = current_database() AND NOT internal"
        ).fetchall()[0][0]
    assert seq >= top and comments == 0


def test_deleting_without_the_rewrite_leaves_the_file_large(tmp_path):
    """The problem the rewrite solves, measured: DuckDB keeps the space of deleted rows."""
    whole, fresh = _db(tmp_path, "whole"), _db(tmp_path, "fresh")
    _backfill(whole, START)
    _backfill(fresh, CUTOFF)
    copy = tmp_path / "plain.duckdb"
    shutil.copyfile(whole, copy)
    con = duckdb.connect(str(copy))
    writes.delete_before(con, CUTOFF)  # no open_writer: nothing compacts
    con.close()
    assert copy.stat().st_size > 1.2 * fresh.stat().st_size


def test_daily_runs_with_retention_keep_the_file_within_20_percent(tmp_path):
    db = _db(tmp_path, "daily")
    last_days = [dt.date(2024, 3, d) for d in (4, 5, 6, 7, 8)]
    env = {"DATABASE_URL": str(db), "ARGENTA_RETENTION_DAYS": str(KEEP_DAYS)}
    settings = Settings.from_env(env, env_file=None)
    jobs.backfill(settings, jobs.SourceOptions("sample"), START, dt.date(2024, 3, 1))
    for day in last_days:  # each run deletes the partitions that age out that day
        jobs.run_daily(settings, jobs.SourceOptions("sample"), day)
    fresh = _db(tmp_path, "fresh")
    _backfill(fresh, CUTOFF)
    assert _rows(db) == _rows(fresh)
    assert db.stat().st_size <= 1.2 * fresh.stat().st_size
