"""The writer's memory: a backfill's one transaction may use what DuckDB allows by default.

Session 6 capped the writer's buffer pool at 512 MB; a backfill of 1000 tickers x 2520 days
(one transaction: its keys' indexes and the ticker-order tables' sorted rows stay in the pool
until the commit) then failed with "Out of Memory Error" (reproduced with
`python -m benchmarks.bench_backfill --tickers 1000 --days 2520`). Reproducing it here would
take minutes, so this checks the cause: the writer's connection has DuckDB's default limit.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from store.connection import open_writer


def test_the_writer_keeps_duckdbs_default_memory_limit(tmp_path: Path) -> None:
    default = duckdb.connect().execute("SELECT current_setting('memory_limit')").fetchall()
    with open_writer(tmp_path / "argenta.duckdb") as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()
    assert limit == default
