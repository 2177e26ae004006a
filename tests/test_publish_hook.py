"""ARGENTA_PUBLISH_COMMAND: run after each publish with the file's path; failures never fatal."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from store.connection import open_reader, table_digests
from tests.cli_support import run_argenta


def _argenta(tmp_path: Path, db: Path, command: str, *args: str) -> subprocess.CompletedProcess:
    return run_argenta(db, *args, cwd=tmp_path, env={"ARGENTA_PUBLISH_COMMAND": command})


def _digests(db: Path) -> dict:
    with open_reader(db) as con:
        return table_digests(con)


RUN = ("run", "--source", "sample", "--date", "2024-03-08")


def test_a_replica_receives_each_published_file(tmp_path):
    db, replica = tmp_path / "argenta_ia.duckdb", tmp_path / "replica" / "argenta_ia.duckdb"
    replica.parent.mkdir()
    done = _argenta(tmp_path, db, f"cp {{path}} '{replica}'", *RUN)
    assert done.returncode == 0, done.stderr
    assert "event=publish_hook_done" in done.stdout
    assert _digests(replica) == _digests(db)


def test_the_path_is_appended_and_exported_and_nothing_runs_without_a_publish(tmp_path):
    db, calls = tmp_path / "argenta_ia.duckdb", tmp_path / "calls.txt"
    script = tmp_path / "hook.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, sys
            with open({str(calls)!r}, "a") as fh:
                fh.write(sys.argv[1] + " " + os.environ["ARGENTA_PUBLISHED_PATH"] + "\\n")
            """
        ),
        encoding="utf-8",
    )
    command = f"{sys.executable} {script}"
    assert _argenta(tmp_path, db, command, *RUN).returncode == 0
    assert calls.read_text().splitlines() == [f"{db} {db}"]
    assert _argenta(tmp_path, db, command, "migrate").returncode == 0  # nothing to publish
    assert len(calls.read_text().splitlines()) == 1


def test_a_failing_or_missing_command_is_logged_and_the_run_still_succeeds(tmp_path):
    db = tmp_path / "argenta_ia.duckdb"
    failing = _argenta(tmp_path, db, "sh -c 'echo no route to replica >&2; exit 3'", *RUN)
    assert failing.returncode == 0, failing.stderr
    assert "event=publish_hook_failed" in failing.stdout
    assert "exit code 3: no route to replica" in failing.stdout
    assert _digests(db)["daily_recommendations"][0] > 0  # published all the same
    missing = _argenta(tmp_path, db, "/nonexistent/push", *RUN)
    assert missing.returncode == 0
    assert "event=publish_hook_failed" in missing.stdout and "cannot run it" in missing.stdout
