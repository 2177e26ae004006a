"""Secrets are never shown, exported cells never run as formulas, stored text is never markup,
and lock and state files are never written through a symlink."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline.errors import BadInput
from pipeline.ops.locking import exclusive, lock_path
from pipeline.settings import ConfigError, Settings
from store import writes
from store.connection import open_writer
from tests.factories import partition
from tests.pages_support import assert_no_failure, open_page
from ui import params, tables

SECRET = "S3cr3t"
URLS = [
    f"postgresql://argenta:{SECRET}@db.example.com/argenta",
    f"postgresql://argenta:p@ss{SECRET}@db.example.com:5432/argenta",
    f"sqlite://:{SECRET}@/argenta.db",
]
FORMULAS = ["=2+5", "@SUM(1)", "+1+1", "-2+3", "\tTAB", "\rCR"]
CLI = [sys.executable, "-m", "pipeline.ops.cli"]


def argenta(
    tmp_path: Path, env: dict[str, str], *args: str, text: bool = True
) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": ":".join(sys.path)}
    return subprocess.run(
        [*CLI, *args], env=base | env, cwd=tmp_path, capture_output=True, text=text
    )


@pytest.mark.parametrize("url", URLS)
def test_a_database_url_password_is_never_in_the_error(url: str):
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"DATABASE_URL": url}, env_file=None)
    assert SECRET not in str(err.value) and ":***@" in str(err.value)


@pytest.mark.parametrize(
    "command", [["run", "--source", "sample"], ["query", "latest"], ["status"]]
)
def test_the_cli_never_prints_the_password(tmp_path: Path, command: list[str]):
    done = argenta(tmp_path, {"DATABASE_URL": URLS[0]}, *command)
    assert done.returncode == 2
    assert SECRET not in done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert "DATABASE_URL" in line and "duckdb:///" in line


def test_the_dashboard_never_shows_the_password(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", URLS[0])
    at = open_page(params.RECOMMENDATIONS_PAGE)
    assert_no_failure(at)
    shown = " ".join(str(e.value) for kind in (at.error, at.warning, at.info) for e in kind)
    assert "DATABASE_URL" in shown and SECRET not in shown


@pytest.fixture
def formula_db(db_path: Path) -> Path:
    """A database whose tickers a spreadsheet would run as formulas (written before validation)."""
    day = dt.date(2024, 3, 8)
    recs, details = partition(day, [*FORMULAS, "GGAL"])
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [day], [(recs, details)])
    return db_path


def test_query_csv_neutralises_formula_cells(tmp_path: Path, formula_db: Path):
    env = {"DATABASE_URL": str(formula_db)}
    done = argenta(tmp_path, env, "query", "latest", "--format", "csv", text=False)
    assert done.returncode == 0, done.stderr
    frame = pl.read_csv(done.stdout, infer_schema=False)  # bytes: a CR stays a CR
    tickers = set(frame["ticker"])
    assert {f"'{t}" for t in FORMULAS} | {"GGAL"} == tickers
    assert all(float(x) > 0 for x in frame["total_score"])  # numbers stay numbers


def test_export_csv_neutralises_formula_cells_in_every_file(tmp_path: Path, formula_db: Path):
    out = tmp_path / "export"
    done = argenta(
        tmp_path, {"DATABASE_URL": str(formula_db)}, "export", str(out), "--format", "csv"
    )
    assert done.returncode == 0, done.stderr
    files = sorted(out.rglob("*.csv"))
    assert files
    for path in files:  # no cell of any table or view would run as a formula
        frame = pl.read_csv(path, infer_schema=False)
        for name in frame.columns:
            cells = frame[name].drop_nulls()
            risky = cells.filter(
                cells.str.contains(r"^[=+\-@\t\r]") & ~cells.str.contains(r"^[+-]?[0-9.eE+-]+$")
            )
            assert risky.is_empty(), f"{path.relative_to(out)}:{name} {risky.to_list()}"
    calls = pl.scan_csv(out / "daily_recommendations" / "*" / "*.csv", infer_schema=False)
    assert set(calls.collect()["ticker"]) == {f"'{t}" for t in FORMULAS} | {"GGAL"}
    typed = pl.scan_csv(out / "daily_recommendations" / "*" / "*.csv").collect_schema()
    assert typed["total_score"].is_numeric() and typed["current_price"].is_numeric()
    assert "leading apostrophe" in (out / "DICTIONARY.md").read_text(encoding="utf-8")


def test_dashboard_csv_neutralises_formula_cells():
    frame = pl.DataFrame({"ticker": [*FORMULAS, "GGAL"], "current_price": [-1.5] * 7})
    day = dt.date(2024, 3, 8)
    frame = frame.with_columns(pl.lit("-1.5").alias("as_text"), pl.lit(day).alias("analysis_date"))
    out = pl.read_csv(tables.csv(frame, day), infer_schema=False)
    assert list(out["ticker"]) == [f"'{t}" for t in FORMULAS] + ["GGAL"]
    assert set(out["as_text"]) == {"-1.5"} and set(out["current_price"]) == {"-1.5"}


def test_the_detail_page_shows_a_ticker_as_text_not_markup(monkeypatch, db_path: Path):
    day = dt.date(2024, 3, 8)
    hostile = "[x](y)**B**"[:10]
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [day], [partition(day, [hostile])])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(params.DETAIL_PAGE, ticker=hostile)
    assert_no_failure(at)
    headings = [m.value for m in at.markdown if m.value.startswith("## ")]
    assert headings and "\\[x\\]\\(y\\)" in headings[0]


def test_a_symlinked_lock_file_is_never_followed(tmp_path: Path):
    database = tmp_path / "argenta_ia.duckdb"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock_path(database, "run").symlink_to(victim)
    with pytest.raises(BadInput, match="symbolic link") as err, exclusive(database, "run", "test"):
        pass
    assert victim.read_text() == "precious\n"
    assert "\n" not in str(err.value)


def test_cli_names_a_symlinked_lock_file_in_one_line(tmp_path: Path):
    database = tmp_path / "argenta_ia.duckdb"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock_path(database, "run").symlink_to(victim)
    done = argenta(tmp_path, {"DATABASE_URL": str(database)}, "run", "--source", "sample")
    assert done.returncode == 2 and victim.read_text() == "precious\n"
    [line] = done.stderr.splitlines()
    assert "run.lock" in line and "symbolic link" in line and "remove it" in line


def test_state_files_are_not_followed_and_not_world_readable(tmp_path: Path):
    database = tmp_path / "argenta_ia.duckdb"
    victims: list[Path] = []
    for name in (".argenta_ia.duckdb.published", ".argenta_ia.duckdb.copy-" + str(os.getpid())):
        victim = tmp_path / f"victim{len(victims)}.txt"
        victim.write_text("precious\n")
        (tmp_path / name).symlink_to(victim)
        victims.append(victim)
    with open_writer(database) as con:
        writes.start_job(con, "test")
    assert all(v.read_text() == "precious\n" for v in victims)
    with exclusive(database, "run", "test") as lock:
        assert stat.S_IMODE(lock.stat().st_mode) & 0o077 == 0
    state = tmp_path / ".argenta_ia.duckdb.published"
    assert not state.is_symlink() and stat.S_IMODE(state.stat().st_mode) & 0o007 == 0
