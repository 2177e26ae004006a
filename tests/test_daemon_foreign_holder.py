"""A program holding the published file read-write (a DuckDB CLI opened without -readonly)
never stops a run, a backfill, `daemon --once` or the daemon's scheduled tick: the writer
only needs its working copy. Every case uses a real holder process."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.daemon_support import MISSING, SOURCE, TODAY, ZONE, argenta, partitions

pytestmark = pytest.mark.slow  # each test holds the file from another process for 4-12 s

HOLD_READ_WRITE = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])  # read-write, like `duckdb argenta_ia.duckdb`
    con.execute("SELECT count(*) FROM daily_recommendations").fetchall()
    print("OPEN", flush=True)
    sys.stdin.readline()
    """
)
FIRST_DAY = "2024-03-05"


@pytest.fixture
def held(env, db_path: Path, tmp_path: Path):
    """A published database with one day, held read-write by another process."""
    built = subprocess.run(
        argenta("run", *SOURCE, "--date", FIRST_DAY), env=env, cwd=tmp_path, capture_output=True
    )
    assert built.returncode == 0, built.stderr
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_WRITE, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout and holder.stderr
    line = holder.stdout.readline()
    assert line.startswith("OPEN"), holder.stderr.read()
    yield holder
    holder.kill()
    holder.wait()


def released(holder: subprocess.Popen, db_path: Path) -> list[dt.date]:
    """The published partitions, read once the holder has let go of the file."""
    holder.kill()
    holder.wait()
    return partitions(db_path)


@pytest.mark.parametrize(
    "command, written",
    [
        (["run", "--date", "2024-03-08"], ["2024-03-05", "2024-03-08"]),
        (
            ["backfill", "--start", "2024-03-06", "--end", "2024-03-07"],
            ["2024-03-05", "2024-03-06", "2024-03-07"],
        ),
    ],
    ids=["run", "backfill"],
)
def test_run_and_backfill_write_while_the_published_file_is_held(
    held, env, db_path, tmp_path, command, written
):
    done = subprocess.run(
        argenta(*command, *SOURCE), env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert [str(d) for d in released(held, db_path)] == written


def test_daemon_once_catches_up_while_the_published_file_is_held(held, start, env, db_path):
    daemon = start(env, *SOURCE, "--once", "--pretend-date", TODAY)
    assert daemon.wait(timeout=90) == 0, daemon.log()
    assert "DatabaseLocked" not in daemon.log()
    assert set(MISSING) <= set(released(held, db_path))


def test_the_scheduled_tick_runs_while_the_published_file_is_held(held, start, env, db_path):
    now = dt.datetime.now(ZoneInfo(ZONE))
    at = now.replace(microsecond=0) + dt.timedelta(seconds=6)
    daemon = start(env, *SOURCE, "--no-catch-up", "--at", f"{at:%H:%M:%S}", "--pretend-date", TODAY)
    daemon.wait_for("event=job_due job=daily_analysis", timeout=30)
    daemon.wait_for(r"event=run_exited .*code=0", timeout=60)
    assert daemon.stop()[0] == 0
    assert set(MISSING) <= set(released(held, db_path))
