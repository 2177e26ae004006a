"""A run restricted with --tickers on a stored day replaces only those tickers' calls."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from store import reads, writes
from store.connection import open_reader, open_writer
from tests.factories import partition

D1 = dt.date(2024, 3, 7)


def calls(db) -> dict[str, float]:
    with open_reader(db) as con:
        frame = reads.recommendation_history(con, D1, D1)
    return dict(zip(frame["ticker"], frame["total_score"].cast(float), strict=True))


def test_replacing_some_tickers_keeps_the_others_calls(small_db):
    with open_writer(small_db) as con:
        writes.replace_partitions(con, [D1], [partition(D1, ["GGAL"], 80.0)], only_tickers=["GGAL"])
        assert reads.table_counts(con)["analysis_details"] == 4 * 5  # no orphan, no loss
    assert calls(small_db) == {"GGAL": 80.0, "YPF": 65.0, "PAM": 65.0}


def test_a_full_replace_still_replaces_the_whole_day(small_db):
    with open_writer(small_db) as con:
        writes.replace_partitions(con, [D1], [partition(D1, ["GGAL"], 80.0)])
    assert calls(small_db) == {"GGAL": 80.0}


@pytest.mark.slow
def test_run_with_tickers_on_a_stored_day_keeps_the_other_calls(tmp_path):
    db = tmp_path / "argenta_ia.duckdb"
    env = {"DATABASE_URL": str(db), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    cli = [sys.executable, "-m", "pipeline.ops.cli"]

    def run(*args: str) -> None:
        done = subprocess.run(
            [*cli, "run", "--source", "sample", "--date", "2024-03-08", *args],
            env=env | {"PYTHONPATH": ":".join(sys.path)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr

    run()
    with open_reader(db) as con:
        full = reads.recommendation_history(con).sort("ticker")
    run("--tickers", "GGAL")
    with open_reader(db) as con:
        after = reads.recommendation_history(con).sort("ticker")
        assert reads.table_counts(con)["analysis_details"] == 4 * after.height
    assert after["ticker"].to_list() == full["ticker"].to_list() and after.height > 1
    others = ~after["ticker"].is_in(["GGAL"])
    assert after.filter(others).to_dicts() == full.filter(others).to_dicts()
    ggal_before = full.filter(full["ticker"] == "GGAL")["id"].item()
    assert after.filter(after["ticker"] == "GGAL")["id"].item() != ggal_before  # rewritten
