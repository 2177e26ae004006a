"""Shared fixtures: real DuckDB files in tmp_path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.settings import Settings
from store import writes
from store.connection import open_writer
from tests.factories import partition


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's database is published."""
    return tmp_path / "argenta_ia.duckdb"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    """Settings pointing at the test database, read from a controlled environment."""
    return Settings.from_env({"DATABASE_URL": f"duckdb:///{db_path}"}, env_file=None)


@pytest.fixture
def small_db(db_path: Path) -> Path:
    """A published database with two dates of three tickers and one completed run."""
    d1, d2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
    with open_writer(db_path) as con:
        writes.replace_partitions(
            con, [d1], [partition(d1, ["GGAL", "YPF", "PAM"], 65.0, "COMPRAR")]
        )
        writes.replace_partitions(con, [d2], [partition(d2, ["GGAL", "YPF"], 35.0, "VENDER")])
        job = writes.start_job(con, "daily_analysis", {"source": "test"})
        writes.finish_job(con, job, 2, 0, {"source": "test"})
    return db_path


SAMPLE_START, SAMPLE_END = dt.date(2023, 10, 2), dt.date(2024, 3, 8)


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built by the real pipeline from the bundled sample (shared, read-only)."""
    from pipeline.ops import jobs

    path = tmp_path_factory.mktemp("sample") / "argenta_ia.duckdb"
    settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
    jobs.backfill(settings, jobs.SourceOptions("sample"), SAMPLE_START, SAMPLE_END)
    return path
