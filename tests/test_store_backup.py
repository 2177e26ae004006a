"""Backup while readers and runs go on, restore, and the writer's refusal of foreign files."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from store import backup as backup_module
from store import writes
from store.backup import backup, restore
from store.connection import ForeignFiles, open_reader, open_writer, table_digests, work_path
from tests.cli_support import run_argenta
from tests.factories import partition

OTHER_UID = 54321  # no such user here: the files then belong to "someone else"


def _digests(db: Path) -> dict:
    with open_reader(db) as con:
        return table_digests(con)


def _cli(db: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_argenta(db, *args, cwd=cwd)


def _publish_day(db: Path, day: dt.date, tickers: list[str]) -> None:
    with open_writer(db) as con:
        writes.replace_partitions(con, [day], [partition(day, tickers)])


def test_backup_while_a_reader_holds_the_file(small_db, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys, time
                con = duckdb.connect({str(small_db)!r}, read_only=True)
                con.sql("SELECT count(*) FROM daily_recommendations").fetchall()
                print("holding", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        folder = tmp_path / "backups"
        folder.mkdir()
        done = _cli(small_db, "backup", str(folder), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        (copy,) = folder.iterdir()
        assert copy.name.startswith("argenta_ia-") and copy.suffix == ".duckdb"
        assert f"to {copy}" in done.stdout
        assert _digests(copy) == _digests(small_db)
        assert holder.poll() is None  # the reader was never disturbed
    finally:
        holder.kill()
        holder.wait()


def test_a_publish_during_the_copy_does_not_mix_two_files(small_db, tmp_path, monkeypatch):
    before = _digests(small_db)
    real_copy = shutil.copyfileobj
    published: list[bool] = []

    def publish_then_copy(src, dst, length=0):
        if not published:  # the first copy is the backup's: a run publishes right then
            published.append(True)
            _publish_day(small_db, dt.date(2024, 3, 11), ["GGAL", "YPF", "PAM", "BMA"])
        return real_copy(src, dst, length)

    monkeypatch.setattr(backup_module.shutil, "copyfileobj", publish_then_copy)
    copy = backup(small_db, tmp_path / "b.duckdb")
    assert _digests(copy) == before  # the file that was open when the backup started
    assert published and _digests(small_db) != before  # while the published file moved on


def test_restore_makes_the_backup_the_data_the_next_run_continues_from(small_db, tmp_path):
    copy = backup(small_db, tmp_path / "b.duckdb")
    _publish_day(small_db, dt.date(2024, 3, 11), ["GGAL"])
    done = _cli(small_db, "restore", str(copy), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _digests(small_db) == _digests(copy)
    _publish_day(small_db, dt.date(2024, 3, 12), ["YPF"])  # the writer adopts the backup
    with open_reader(small_db) as con:
        days = con.sql("SELECT DISTINCT analysis_date FROM daily_recommendations ORDER BY 1")
        assert [d for (d,) in days.fetchall()] == [
            dt.date(2024, 3, 7),
            dt.date(2024, 3, 8),
            dt.date(2024, 3, 12),
        ]


def test_restore_refuses_a_file_that_is_not_a_database(small_db, tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database" * 100)
    before = _digests(small_db)
    done = _cli(small_db, "restore", str(junk), cwd=tmp_path)
    assert done.returncode == 2 and "cannot be restored" in done.stderr  # bad input
    assert "argenta backup" in done.stderr  # what to give instead
    assert len(done.stderr.strip().splitlines()) == 1
    assert _digests(small_db) == before
    missing = _cli(small_db, "restore", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def _give_away(db: Path) -> dict[Path, tuple[int, int]]:
    """Chown every file of the database to OTHER_UID; returns each file's (uid, mtime)."""
    files = [f for f in db.parent.iterdir() if db.name in f.name]
    for f in files:
        os.chown(f, OTHER_UID, OTHER_UID)
    return {f: (f.stat().st_uid, f.stat().st_mtime_ns) for f in files}


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_the_writer_refuses_files_that_belong_to_someone_else(small_db, tmp_path):
    assert work_path(small_db).exists()
    state = _give_away(small_db)
    with pytest.raises(ForeignFiles, match=f"belongs to uid {OTHER_UID}"):
        _publish_day(small_db, dt.date(2024, 3, 11), ["GGAL"])
    done = _cli(small_db, "run", "--source", "sample", "--date", "2024-03-08", cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert f"belongs to uid {OTHER_UID}, not to root (uid 0)" in line
    assert "deploy/argenta-as-service" in line
    # nothing was written, created or re-owned
    after = {f: (f.stat().st_uid, f.stat().st_mtime_ns) for f in small_db.parent.iterdir()}
    assert after == state
    restore_done = _cli(small_db, "restore", str(small_db), cwd=tmp_path)
    assert restore_done.returncode == 2 and "belongs to" in restore_done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
def test_reading_and_backing_up_foreign_files_still_works(small_db, tmp_path):
    _give_away(small_db)
    assert _cli(small_db, "query", "latest", "--format", "csv", cwd=tmp_path).returncode == 0
    assert backup(small_db, tmp_path / "b.duckdb").exists()
    with pytest.raises(ForeignFiles):
        restore(tmp_path / "b.duckdb", small_db)
