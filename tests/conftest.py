"""Shared fixtures: real DuckDB files in tmp_path, and real daemon processes."""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path

import pytest

from pipeline.ops.monitoring import read_heartbeat
from pipeline.settings import Settings
from store import writes
from store.connection import open_writer
from tests.daemon_support import SLOW_RUN_HOOK, Daemon, is_run
from tests.factories import SAMPLE_END, SAMPLE_START, partition


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


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built by the real pipeline from the bundled sample (shared, read-only)."""
    from pipeline.ops import jobs

    path = tmp_path_factory.mktemp("sample") / "argenta_ia.duckdb"
    settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
    jobs.backfill(settings, jobs.SourceOptions("sample"), SAMPLE_START, SAMPLE_END)
    return path


# --- real daemons (tests/daemon_support.py) --------------------------------------------


@pytest.fixture
def env(tmp_path: Path, db_path: Path) -> dict[str, str]:
    """A controlled environment: the test database, fast retries, nothing from the caller."""
    ours = ("ARGENTA_", "DATABASE_URL", "SCHEDULER_", "DAILY_ANALYSIS_", "JOB_TIMEOUT", "MAX_RE")
    base = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    base.pop("NOTIFY_SOCKET", None)
    return base | {
        "DATABASE_URL": f"duckdb:///{db_path}",
        "ARGENTA_CATCHUP_DAYS": "4",
        "ARGENTA_WEEKDAYS_ONLY": "false",
        "ARGENTA_RETRY_BACKOFF_SECONDS": "0.2",
        "ARGENTA_LOW_DISK_MB": "0",
        "MAX_RETRIES": "0",
    }


@pytest.fixture
def slow_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """`env` with the slow-run hook: each run sleeps a minute inside its job."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SLOW_RUN_HOOK, encoding="utf-8")
    paths = [str(hook), *filter(None, [env.get("PYTHONPATH")])]
    return env | {"PYTHONPATH": os.pathsep.join(paths), "TEST_RUN_SLEEP": "60"}


@pytest.fixture
def start(tmp_path: Path, db_path: Path):
    """Start daemons; any still running at the end (and their runs) are killed."""
    started: list[Daemon] = []

    def launch(env: dict[str, str], *args: str) -> Daemon:
        started.append(Daemon(tmp_path, env, *args))
        return started[-1]

    yield launch
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
    beat = read_heartbeat(db_path)
    if beat and beat.job_pid and is_run(beat.job_pid):  # a run orphaned by a killed daemon
        os.kill(beat.job_pid, signal.SIGKILL)
