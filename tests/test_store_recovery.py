"""A damaged, foreign or missing file never costs the data another file still holds."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from store import reads, writes
from store.connection import (
    DatabaseError,
    database_problem,
    open_reader,
    open_writer,
    table_digests,
    work_path,
)
from tests.factories import partition

D3 = dt.date(2024, 3, 11)


def digests(path: Path) -> dict[str, tuple[int, int]]:
    """The rows digest of a database file (opened read-only on a copy-free path)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return table_digests(con)
    finally:
        con.close()


def truncate_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def overwrite_head(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.write(b"\0" * 4096)


def garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 100)


def set_aside(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if "damaged" in p.name)


@pytest.mark.parametrize("damage", [truncate_half, overwrite_head, garbage])
def test_a_damaged_published_file_never_overwrites_the_good_working_copy(small_db, damage, caplog):
    good = digests(work_path(small_db))
    damage(small_db)
    for _ in range(3):  # retries keep one set-aside copy, not one per attempt
        with open_writer(small_db) as con:
            assert reads.table_counts(con)["daily_recommendations"] == 5
    assert digests(work_path(small_db)) == good
    assert digests(small_db) == good  # the working copy was republished
    assert len(set_aside(small_db.parent)) == 1
    rejected = [r.getMessage() for r in caplog.records if "published_file_rejected" in r.message]
    assert rejected and all("\n" not in line for line in rejected)


def test_a_write_after_the_rejection_is_published(small_db):
    truncate_half(small_db)
    with open_writer(small_db) as con:
        writes.replace_partitions(con, [D3], [partition(D3, ["GGAL"])])
    with open_reader(small_db) as con:
        assert reads.table_counts(con)["daily_recommendations"] == 6


@pytest.mark.parametrize("damage", [truncate_half, overwrite_head, garbage])
def test_a_damaged_published_file_without_working_copy_is_refused_untouched(small_db, damage):
    work_path(small_db).unlink()
    damage(small_db)
    before = small_db.read_bytes()
    with pytest.raises(DatabaseError) as err, open_writer(small_db):
        pass
    message = str(err.value)
    assert "\n" not in message and str(small_db) in message and ".work" not in message
    assert "restore a backup" in message
    assert small_db.read_bytes() == before
    assert not work_path(small_db).exists()


def test_an_unrelated_duckdb_file_is_refused_not_adopted(db_path):
    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
    con.execute("INSERT INTO customers VALUES (1, 'Ana')")
    con.close()
    before = digests(db_path)
    with pytest.raises(DatabaseError, match=r"other tables \(customers\)"), open_writer(db_path):
        pass
    assert digests(db_path) == before
    assert database_problem(db_path) is not None


def test_an_empty_duckdb_file_is_adopted(db_path):
    duckdb.connect(str(db_path)).close()
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [D3], [partition(D3, ["GGAL"])])
    with open_reader(db_path) as con:
        assert reads.latest_date(con) == D3


@pytest.mark.parametrize("damage", [truncate_half, overwrite_head, garbage])
def test_a_damaged_working_copy_is_rebuilt_keeping_one_copy(small_db, damage):
    good = digests(small_db)
    for _ in range(2):
        damage(work_path(small_db))
        with open_writer(small_db) as con:
            assert reads.table_counts(con)["daily_recommendations"] == 5
    assert digests(work_path(small_db)) == good
    assert len(set_aside(small_db.parent)) == 1


def test_both_copies_damaged_is_one_line_naming_the_published_file(small_db):
    overwrite_head(work_path(small_db))
    overwrite_head(small_db)
    with pytest.raises(DatabaseError) as err, open_writer(small_db):
        pass
    message = str(err.value)
    assert "\n" not in message and "restore a backup of " + str(small_db) in message
