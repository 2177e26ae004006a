"""`git status` stays clean after the product runs: every runtime file is ignored."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli_support import run_argenta

ROOT = Path(__file__).resolve().parents[1]


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.slow
def test_the_files_a_run_and_its_readers_leave_beside_the_database_are_ignored(tmp_path):
    """As after `make demo`: a run, a status and a query next to a git checkout's .gitignore."""
    git(tmp_path, "init", "-q")
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    db = tmp_path / "argenta_ia.duckdb"
    for args in (
        ("run", "--source", "sample", "--date", "2024-03-08"),
        ("status",),
        ("query", "latest"),
    ):
        done = run_argenta(db, *args, cwd=tmp_path, timeout=300)
        assert done.returncode in (0, 4), done.stderr  # 4: status reports an alert
    left = sorted(p.name for p in tmp_path.iterdir() if p.name not in (".git", ".gitignore"))
    assert ".argenta_ia.duckdb.published" in left and "argenta_ia.duckdb.run.lock" in left
    assert git(tmp_path, "status", "--porcelain", "--untracked-files=all") == "?? .gitignore\n"
    # The names only other commands leave (the daemon, a demo build, backups, a damaged copy).
    others = [
        "argenta_ia.duckdb.daemon.lock",
        "argenta_ia.duckdb.building",
        ".argenta_ia.duckdb.building.work",
        ".argenta_ia.duckdb.damaged",
        ".argenta_ia.duckdb.compacted",
        "argenta_ia.duckdb.heartbeat.json",
    ]
    ignored = git(tmp_path, "check-ignore", "--no-index", *others).split()
    assert ignored == others
