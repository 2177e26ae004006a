"""store.open_latest: a notebook in one process sees each newly published file."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

import store
from store import writes
from store.connection import DatabaseMissing, open_writer
from tests.factories import partition


def _publish_day(db, day, tickers):
    with open_writer(db) as con:
        writes.replace_partitions(con, [day], [partition(day, tickers)])


def _calls(con) -> int:
    return con.sql("SELECT count(*) FROM daily_recommendations").fetchall()[0][0]


def test_open_latest_reads_each_published_file_in_one_process(db_path):
    _publish_day(db_path, dt.date(2024, 3, 7), ["GGAL", "YPF"])
    try:
        first = store.open_latest(db_path)
        assert _calls(first) == 2
        assert store.open_latest(db_path) is first  # unchanged file: the same connection
        # the trap the helper avoids: a plain connection keeps the process's instance open
        plain = duckdb.connect(str(db_path), read_only=True)

        _publish_day(db_path, dt.date(2024, 3, 8), ["GGAL", "YPF", "PAM"])

        again = duckdb.connect(str(db_path), read_only=True)
        assert _calls(again) == 2  # DuckDB's in-process instance cache: still the old file
        latest = store.open_latest(db_path)
        assert _calls(latest) == 5
        assert latest.sql("SELECT count(*) FROM latest_recommendations").fetchall() == [(3,)]
        with pytest.raises(duckdb.ConnectionException):
            first.sql("SELECT 1")  # the one it held was closed
        plain.close()
        again.close()
    finally:
        store.close_latest()


def test_open_latest_defaults_to_database_url_and_names_a_missing_file(
    db_path, tmp_path, monkeypatch
):
    _publish_day(db_path, dt.date(2024, 3, 8), ["GGAL"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    try:
        assert _calls(store.open_latest()) == 1
        with pytest.raises(DatabaseMissing, match="does not exist"):
            store.open_latest(tmp_path / "nowhere.duckdb")
    finally:
        store.close_latest()
