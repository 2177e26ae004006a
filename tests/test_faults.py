"""Faults from outside: kill -9 at random moments of a backfill and of a publish, and a disk that
fills up mid-run. Each checks that both files open, that no partition is half written (each
file holds exactly the state before or after the run), and that the next run recovers.

The kill moments are random; the seed is printed in every assertion so a failure can be
replayed with ARGENTA_FAULT_SEED.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipeline import errors
from store.connection import database_problem, work_path

pytestmark = pytest.mark.slow

DB = "argenta_ia.duckdb"
TICKERS = "GGAL,YPF,PAM,BMA"
BASE = ["backfill", "--source", "sample", "--tickers", TICKERS, "--start", "2024-01-02"]
BACKFILL = ["backfill", "--source", "sample", "--tickers", TICKERS, "--start", "2023-03-01"]
END = ["--end", "2024-03-08"]
BACKFILL_TRIALS = 12
PUBLISH_TRIALS = 10
Content = tuple[tuple[str, int], ...]  # per date: its calls and their number of details
SEED = int(os.environ.get("ARGENTA_FAULT_SEED", random.SystemRandom().randrange(10**6)))

# Test-only hook (loaded through PYTHONPATH by the run under test): the publish copies in
# small slow chunks and says when it starts, so a kill can land inside it. Production code
# has no such hook.
SLOW_PUBLISH_HOOK = textwrap.dedent(
    """
    import sys, time
    from store import connection

    _copy = connection._copy_contents
    _publish = connection.publish

    def _slow_copy(source, target):
        while chunk := source.read(64 * 1024):
            target.write(chunk)
            time.sleep(0.004)
        target.flush()

    def _announced_publish(path):
        print("TEST_HOOK publishing", file=sys.stderr, flush=True)
        connection._copy_contents = _slow_copy
        try:
            _publish(path)
        finally:
            connection._copy_contents = _copy

    connection.publish = _announced_publish
    """
)

# Test-only hook: the run says when it is loading prices (its job_runs row is written in
# the working copy by then) and waits there until the test has created the file `go`.
PAUSED_LOAD_HOOK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipeline.ops import jobs

    _load = jobs.load_market_data

    def _paused_load(*args, **kwargs):
        print("TEST_HOOK loading", file=sys.stderr, flush=True)
        deadline = time.monotonic() + 60
        while not Path("go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return _load(*args, **kwargs)

    jobs.load_market_data = _paused_load
    """
)


def argenta(folder: Path, *args: str, hook: Path | None = None) -> subprocess.Popen:
    """`argenta ARGS` on the database in `folder`, as a real process."""
    paths = [*([str(hook)] if hook else []), *sys.path]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder),
        "PYTHONPATH": os.pathsep.join(paths),
        "DATABASE_URL": str(folder / DB),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.ops.cli", *args],
        env=env,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def content(path: Path) -> Content:
    """What a file holds, independent of ids and times: its calls and details per date."""
    assert database_problem(path) is None, f"{path.name} does not open (seed {SEED})"
    con = duckdb.connect(str(path), read_only=True)
    try:
        return tuple(
            con.execute(
                "SELECT r.analysis_date::VARCHAR || ' ' || string_agg(r.ticker || '=' ||"
                " r.total_score, ',' ORDER BY r.ticker), count(d.id)"
                " FROM daily_recommendations r LEFT JOIN analysis_details d"
                " ON d.recommendation_id = r.id GROUP BY r.analysis_date ORDER BY 1"
            ).fetchall()
        )
    finally:
        con.close()


@dataclass(frozen=True)
class States:
    """A base folder (published + working copy) and the content before and after the backfill."""

    base: Path
    before: Content
    after: Content


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> States:
    """The base folder, built once, and what the backfill leaves when it completes."""
    base = tmp_path_factory.mktemp("fault-base")
    assert finish(argenta(base, *BASE, *END))[0] == 0
    done = tmp_path_factory.mktemp("fault-done")
    copy_base(base, done)
    code, err = finish(argenta(done, *BACKFILL, *END))
    assert code == 0, err
    return States(base, content(base / DB), content(done / DB))


def copy_base(base: Path, folder: Path) -> None:
    for name in (DB, f".{DB}.work", f".{DB}.published"):
        shutil.copy2(base / name, folder / name)


def check_after_kill(folder: Path, states: States, what: str) -> None:
    """Both files open and each holds the whole state before or after; the next run recovers."""
    allowed = (states.before, states.after)
    for path in (folder / DB, work_path(folder / DB)):
        assert content(path) in allowed, f"{what}: {path.name} is half written (seed {SEED})"
    code, err = finish(argenta(folder, *BACKFILL, *END))
    assert code == 0, f"{what}: the next run failed (seed {SEED}): {err}"
    assert content(folder / DB) == states.after, f"{what}: not recovered (seed {SEED})"
    assert not list(folder.glob(".*copy-*")) and not list(folder.glob(".*adopt-*"))


def test_kill_minus_9_at_random_moments_of_a_backfill(tmp_path: Path, states) -> None:
    rng = random.Random(SEED)
    for trial in range(BACKFILL_TRIALS):
        folder = tmp_path / f"trial-{trial}"
        folder.mkdir()
        copy_base(states.base, folder)
        proc = argenta(folder, *BACKFILL, *END)
        delay = rng.uniform(0.3, 4.0)  # from imports to the write and the publish
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        check_after_kill(folder, states, f"backfill trial {trial} killed at {delay:.2f} s")


def test_kill_minus_9_at_random_moments_of_a_publish(tmp_path: Path, states) -> None:
    rng = random.Random(SEED + 1)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SLOW_PUBLISH_HOOK, encoding="utf-8")
    for trial in range(PUBLISH_TRIALS):
        folder = tmp_path / f"trial-{trial}"
        folder.mkdir()
        copy_base(states.base, folder)
        proc = argenta(folder, *BACKFILL, *END, hook=hook)
        assert proc.stderr is not None
        while "TEST_HOOK publishing" not in (line := proc.stderr.readline()):
            assert line, f"the run ended before publishing (seed {SEED})"
        delay = rng.uniform(0.0, 0.5)  # the slowed copy takes about 0.4 s
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        check_after_kill(folder, states, f"publish trial {trial} killed {delay:.3f} s in")


def test_a_working_copy_removed_mid_run_exits_1_and_publishes_nothing(tmp_path, states):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(PAUSED_LOAD_HOOK, encoding="utf-8")
    folder = tmp_path / "db"
    folder.mkdir()
    copy_base(states.base, folder)
    proc = argenta(folder, *BACKFILL, *END, hook=hook)
    assert proc.stderr is not None
    while "TEST_HOOK loading" not in (line := proc.stderr.readline()):
        assert line, "the run ended before loading prices"
    work_path(folder / DB).unlink()  # an operator or a clean-up script removes it mid-run
    (folder / "go").touch()
    code, err = finish(proc)
    lines = [line for line in err.splitlines() if "level=" not in line]
    assert code == errors.FAILED and "Traceback" not in err  # retryable: the daemon retries
    assert len(lines) == 1 and "working copy" in lines[0] and "was removed" in lines[0], err
    assert "nothing was published" in lines[0] and "run again" in lines[0]
    assert content(folder / DB) == states.before  # the published file is intact
    assert not list(folder.glob(".*copy-*"))  # no half-written publish left behind
    (folder / "go").unlink()
    code, err = finish(argenta(folder, *BACKFILL, *END))  # the next run rebuilds and recovers
    assert code == 0, err
    assert content(folder / DB) == states.after


@contextlib.contextmanager
def small_disk(folder: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of `megabytes` mounted at `folder` for the block (skipped where mount is refused)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(disk: Path, leave: int = 1_500_000) -> Path:
    """Leave `leave` bytes free on `disk` (the backfill needs several MB more)."""
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (shutil.disk_usage(disk).free - leave))
    return filler


def settle(disk: Path, states: States) -> None:
    """The base database in `disk`, adopted by the writer (so the run fails mid-write)."""
    copy_base(states.base, disk)
    assert finish(argenta(disk, "migrate"))[0] == 0


def test_a_full_disk_mid_backfill_loses_nothing_and_the_next_run_recovers(tmp_path, states):
    with small_disk(tmp_path / "disk", 32) as disk:
        settle(disk, states)
        filler = fill(disk)
        code, err = finish(argenta(disk, *BACKFILL, *END))
        lines = [line for line in err.splitlines() if "level=" not in line]
        assert code != 0 and "Traceback" not in err
        assert len(lines) == 1 and "No space left on device" in lines[0], err
        assert content(disk / DB) == states.before  # the published file was not touched
        filler.unlink()
        code, err = finish(argenta(disk, *BACKFILL, *END))
        assert code == 0, err
        assert content(disk / DB) == states.after


def test_a_full_disk_exits_1_so_the_daemon_retries(tmp_path, states):
    with small_disk(tmp_path / "disk", 32) as disk:
        settle(disk, states)
        fill(disk)
        code, _ = finish(argenta(disk, *BACKFILL, *END))
        assert code == errors.FAILED
