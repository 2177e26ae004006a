"""Errors end a command with one line and the exit code their class carries (pipeline/errors.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import errors


def argenta(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"duckdb:///{database}", "MAX_RETRIES": "0"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.ops.cli", *args],
        env=env,
        cwd=database.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )


def one_error_line(stderr: str) -> str:
    """The command's error line; fails on a traceback or on more than one line."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.slow
def test_a_failed_run_exits_1_and_says_why(tmp_path: Path) -> None:
    done = argenta(tmp_path / "a.duckdb", "run", "--source", "sample", "--date", "2025-03-07")
    assert done.returncode == errors.FAILED  # the daemon retries it later
    line = one_error_line(done.stderr)
    assert line.startswith("error: run failed: source 'sample' has no price bar"), line


@pytest.mark.slow
def test_an_os_error_outside_a_run_is_the_environment_exit_1(tmp_path: Path) -> None:
    """The run lock cannot be opened (a folder stands in its place): an OSError, exit 1."""
    folder = tmp_path / "db"
    folder.mkdir()
    lock = folder / "a.duckdb.run.lock"
    lock.mkdir()  # the lock file cannot be opened: IsADirectoryError, an OSError
    done = argenta(folder / "a.duckdb", "migrate")
    assert done.returncode == errors.FAILED
    assert "a.duckdb.run.lock" in one_error_line(done.stderr)
