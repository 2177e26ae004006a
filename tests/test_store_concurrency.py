"""Readers and the writer in real, separate processes."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from store import reads, writes
from store.connection import open_reader, open_writer, work_path
from tests.factories import partition

D2, D3 = dt.date(2024, 3, 8), dt.date(2024, 3, 11)

HOLD_READER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    before = con.sql("SELECT count(*) FROM daily_recommendations").fetchall()[0][0]
    print("OPEN", before, flush=True)
    sys.stdin.readline()  # hold the file open until the test has written
    after = con.sql("SELECT count(*) FROM daily_recommendations").fetchall()[0][0]
    print("STILL", after, flush=True)
    """
)

HOLD_READ_WRITE = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])  # e.g. a DuckDB CLI opened without -readonly
    print("OPEN", flush=True)
    sys.stdin.readline()
    """
)

SLOW_WRITER = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from store import writes
    from store.connection import open_writer
    from tests.factories import partition
    day = dt.date(2024, 3, 8)
    def chunks():
        yield partition(day, ["AAA", "BBB"], 99.0)
        print("WRITING", flush=True)
        time.sleep(60)  # killed here, inside the transaction
        yield partition(day, ["CCC"], 99.0)
    with open_writer(sys.argv[1]) as con:
        writes.replace_partitions(con, [day], chunks())
    """
)


def spawn(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )


def expect(proc: subprocess.Popen, prefix: str) -> str:
    assert proc.stdout and proc.stderr
    line = proc.stdout.readline()
    assert line.startswith(prefix), (
        f"expected {prefix!r}, got {line!r}; stderr: {proc.stderr.read()}"
    )
    return line


def test_a_reader_holding_the_file_never_blocks_the_write(small_db):
    reader = spawn(HOLD_READER, str(small_db))
    try:
        assert expect(reader, "OPEN").split() == ["OPEN", "5"]
        started = time.monotonic()
        with open_writer(small_db, retry_seconds=0) as con:  # no waiting allowed
            writes.replace_partitions(con, [D3], [partition(D3, ["GGAL", "YPF"])])
        assert time.monotonic() - started < 5
        with open_reader(small_db) as con:  # a new connection sees the run
            assert reads.latest_date(con) == D3
        assert reader.stdin
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert expect(reader, "STILL").split() == ["STILL", "5"]  # the old reader was not broken
    finally:
        reader.kill()
        reader.wait()


def test_a_foreign_read_write_holder_of_the_published_file_does_not_block_the_write(small_db):
    holder = spawn(HOLD_READ_WRITE, str(small_db))
    try:
        expect(holder, "OPEN")
        with open_writer(small_db, retry_seconds=0) as con:
            writes.replace_partitions(con, [D3], [partition(D3, ["GGAL"])])
    finally:
        holder.kill()
        holder.wait()
    with open_reader(small_db) as con:
        assert reads.latest_date(con) == D3


@pytest.mark.slow
@pytest.mark.parametrize("run", range(3))
def test_kill_minus_9_mid_write_leaves_the_previous_state(small_db, run):
    with open_reader(small_db) as con:
        before = reads.recommendation_history(con).to_dicts()
    writer = spawn(SLOW_WRITER, str(small_db))
    try:
        expect(writer, "WRITING")
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
    finally:
        writer.kill()
    with open_reader(small_db) as con:  # the published file was never touched
        assert reads.recommendation_history(con).to_dicts() == before
    with open_writer(small_db) as con:  # the working copy rolled back and takes new writes
        assert reads.table_counts(con)["daily_recommendations"] == len(before)
        writes.replace_partitions(con, [D3], [partition(D3, ["GGAL"])])
    with open_reader(small_db) as con:
        assert reads.table_counts(con)["daily_recommendations"] == len(before) + 1
    assert work_path(small_db).exists()
    assert not list(small_db.parent.glob(".*copy-*"))


def test_a_restored_published_file_wins_over_the_old_working_copy(small_db, tmp_path):
    backup = tmp_path / "backup.duckdb"
    backup.write_bytes(small_db.read_bytes())
    with open_writer(small_db) as con:
        writes.replace_partitions(con, [D3], [partition(D3, ["GGAL"])])
    os.replace(backup, small_db)  # the operator restores yesterday's backup
    with open_writer(small_db) as con:
        assert reads.latest_date(con) == D2


def test_a_writer_that_writes_nothing_does_not_republish(small_db):
    from store.connection import file_identity

    before = file_identity(small_db)
    with open_writer(small_db):
        pass
    assert file_identity(small_db) == before


def test_an_unwritable_folder_is_one_clear_error(tmp_path):
    from store.connection import DatabaseError

    target = Path("/sys/argenta_ia.duckdb")  # a folder that exists; not even root writes it
    with (
        pytest.raises(DatabaseError, match="cannot write the database folder"),
        open_writer(target),
    ):
        pass
