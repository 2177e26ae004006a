"""Logs: real logfmt read back by a logfmt parser, and journald priorities on the journal."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import subprocess
import sys
from pathlib import Path

import logfmt

from pipeline.ops.locking import exclusive
from pipeline.ops.logfmt import LogfmtFormatter, message_pairs
from tests.cli_support import run_argenta

RUN = ("run", "--source", "sample", "--date", "2024-03-08")


def _lines(text: str) -> list[dict[str, str]]:
    return [logfmt.parse_line(line) for line in text.splitlines() if line.startswith("ts=")]


def test_every_line_of_a_run_and_a_refusal_is_logfmt(tmp_path):
    db = tmp_path / "argenta_ia.duckdb"
    done = run_argenta(db, *RUN, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with exclusive(db, "run", "a test holding the lock"):
        refused = run_argenta(db, *RUN, cwd=tmp_path)
    assert refused.returncode == 3
    records = _lines(done.stdout)
    assert {"run_started", "run_completed"} <= {r["event"] for r in records}
    for record in records:
        stamp = dt.datetime.fromisoformat(record["ts"])
        assert stamp.utcoffset() == dt.timedelta(0)
        assert record["level"] in {"debug", "info", "warning", "error", "critical"}
        assert record["logger"].startswith("argenta")
    # outside the journal a refusal is its one error line; the journal gets the event, as
    # the product writes it (test_priorities_prefix_each_line_when_stdout_is_the_journal)
    assert refused.stdout == "" and refused.stderr.count("\n") == 1
    message = refused.stderr.strip().removeprefix("error: ")
    line = logging.LogRecord(
        "argenta.cli", logging.WARNING, __file__, 1, "event=refused reason=%r", (message,), None
    )
    refusal = logfmt.parse_line(LogfmtFormatter().format(line))
    # a value with spaces and quotes comes back whole: the same text as the error line
    assert refusal["reason"] == refused.stderr.strip().removeprefix("error: ")
    assert "(pid " in refusal["reason"] and refusal["level"] == "warning"


def test_a_value_with_a_space_or_a_python_literal_is_one_logfmt_value():
    values = (
        dt.datetime(2026, 11, 30, 22, 24, 4, tzinfo=dt.UTC),
        'the "files" folder\'s last bar is old',
    )
    message = "event=next_run_set next_run=%s reason=%r"  # as the product's log calls write
    record = logging.LogRecord("argenta.daemon", logging.INFO, __file__, 1, message, values, None)
    parsed = logfmt.parse_line(LogfmtFormatter().format(record))
    assert parsed["next_run"] == "2026-11-30 22:24:04+00:00"
    assert parsed["reason"] == 'the "files" folder\'s last bar is old'
    assert message_pairs("not key value text") == [("msg", "not key value text")]


def test_priorities_prefix_each_line_when_stdout_is_the_journal(tmp_path):
    record = logging.LogRecord("argenta.jobs", logging.ERROR, __file__, 1, "event=x", None, None)
    assert LogfmtFormatter(journal=True).format(record).startswith("<3>ts=")
    db = tmp_path / "argenta_ia.duckdb"
    out = tmp_path / "journal.txt"
    with open(out, "w") as stdout:
        st = os.fstat(stdout.fileno())
        env = {**os.environ, "DATABASE_URL": f"duckdb:///{db}"}
        env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        run_to_journal = functools.partial(
            subprocess.run,
            [sys.executable, "-m", "pipeline.ops.cli", *RUN],
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            timeout=300,
        )
        run_to_journal(check=True)
        with exclusive(db, "run", "a test holding the lock"):
            run_to_journal()  # refused: the lock is held
    logged = [line for line in out.read_text().splitlines() if "ts=" in line]
    assert any(line.startswith("<6>ts=") and "event=run_completed" in line for line in logged)
    assert any(line.startswith("<4>ts=") and "event=refused" in line for line in logged)
    plain = run_argenta(db, *RUN, cwd=tmp_path, env={"JOURNAL_STREAM": "1:2"})  # not stdout
    assert all(line.startswith("ts=") for line in plain.stdout.splitlines() if "ts=" in line)


def test_the_readme_names_the_log_format():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "journalctl -u argenta-pipeline -p warning" in readme
