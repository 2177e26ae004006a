"""Backup while readers and runs go on, restore, and the writer's refusal of foreign files."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
import time
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


def _readme_line(start: str) -> str:
    """The README's line starting with `start` (the Runbook's backup and pruning commands)."""
    readme = Path(__file__).resolve().parents[1] / "README.md"
    return next(line for line in readme.read_text(encoding="utf-8").splitlines() if start in line)


def test_a_folder_with_a_trailing_slash_is_created_and_the_runbook_lines_work(small_db, tmp_path):
    """The README's cron backup, pruning `find` and restore, run as written into tmp_path."""
    cron = _readme_line("/opt/argenta/.venv/bin/argenta backup ")
    assert cron.rstrip().endswith(" backup /var/backups/argenta/")
    prune = _readme_line("find /var/backups/argenta ")
    prune = prune[prune.index("find ") : prune.index("-delete") + len("-delete")]
    folder = tmp_path / "var" / "backups" / "argenta"  # missing, parents too: mkdir -p
    done = _cli(small_db, "backup", f"{folder}/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (old,) = folder.iterdir()
    assert old.name.startswith("argenta_ia-") and old.suffix == ".duckdb"
    assert done.stdout.strip() == f"backed up {small_db} to {old}"
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    old.rename(folder / "argenta_ia-20200101T000000Z.duckdb")  # as a month-old night's
    again = _cli(small_db, "backup", f"{folder}/", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(list(folder.iterdir())) == 2
    pruned = subprocess.run(
        prune.replace("/var/backups/argenta", str(folder)), shell=True, check=True
    )
    assert pruned.returncode == 0
    (kept,) = folder.iterdir()  # the month-old copy is gone, tonight's is kept
    assert kept.name != "argenta_ia-20200101T000000Z.duckdb"
    restored = _cli(small_db, "restore", str(kept), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert _digests(small_db) == _digests(kept)


def test_a_trailing_slash_on_an_existing_file_is_refused_in_one_line(small_db, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("a file", encoding="utf-8")
    done = _cli(small_db, "backup", f"{taken}/", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and f"backup folder {taken} is a file" in done.stderr
    assert taken.read_text(encoding="utf-8") == "a file"
