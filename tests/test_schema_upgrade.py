"""After an upgrade that ships a migration, a published file still at the older schema is
named in one clear line by every reader (CLI, dashboard, notebooks) with the fix, and reads
again once `argenta migrate` has run; a file newer than the program is one clear line too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

import store
from store.connection import SchemaMismatch, SharedReader, open_reader, open_writer
from store.migrate import latest_version, migrate
from tests.cli_support import run_argenta
from tests.pages_support import assert_no_failure, messages, open_page
from ui import params

LATEST = latest_version()
OLDER = LATEST - 1
D2 = dt.date(2024, 3, 8)  # small_db's latest day: GGAL and YPF


def _older_copy(source: Path, target: Path, version: int) -> None:
    """`source`'s rows in a new file migrated only up to `version`, as an older argenta left it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target))
    try:
        migrate(con, target=version)
        con.execute("ATTACH ? AS source (READ_ONLY)", [str(source)])
        columns = con.sql(
            "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns()"
            " WHERE database_name = current_database() AND schema_name = 'main'"
            " AND table_name IN (SELECT table_name FROM duckdb_tables()"
            "   WHERE database_name = current_database() AND table_name <> 'schema_migrations')"
            " GROUP BY 1"
        ).fetchall()
        for table, names in columns:
            known = {
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns()"
                    " WHERE database_name = 'source' AND table_name = ?",
                    [table],
                ).fetchall()
            }
            shared = ", ".join(f'"{n}"' for n in names if n in known)
            con.execute(
                f'INSERT INTO main."{table}" ({shared}) SELECT {shared} FROM source."{table}"'
            )
    finally:
        con.close()


@pytest.fixture
def old_db(small_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """small_db's calls in a file one migration behind this program; DATABASE_URL points at it."""
    path = tmp_path / "upgraded" / "argenta_ia.duckdb"
    _older_copy(small_db, path, OLDER)
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{path}")
    return path


def _outdated_line(path: Path) -> str:
    return (
        f"database {path} is at schema version {OLDER}, this argenta needs {LATEST}: "
        "run `argenta migrate` (or wait for the next daily run, which migrates it)"
    )


def test_cli_query_names_the_file_versions_and_fix(old_db: Path, tmp_path: Path) -> None:
    proc = run_argenta(old_db, "query", "latest", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == f"error: {_outdated_line(old_db)}\n"
    assert proc.stdout == ""


def test_open_latest_raises_the_clear_error(old_db: Path) -> None:
    try:
        with pytest.raises(SchemaMismatch) as raised:
            store.open_latest(old_db)
        assert str(raised.value) == _outdated_line(old_db)
    finally:
        store.close_latest()


@pytest.mark.parametrize("page", [params.RECOMMENDATIONS_PAGE, params.HEALTH_PAGE])
def test_the_dashboard_asks_for_a_migration_not_a_rebuild(old_db: Path, page: str) -> None:
    at = open_page(page)
    assert_no_failure(at)
    text = messages(at)
    assert f"La base `{old_db}` está en una versión anterior del esquema" in text
    assert f"({OLDER}; esta versión del tablero necesita {LATEST})" in text
    assert "`argenta migrate`" in text and "la próxima corrida diaria" in text
    assert "dañad" not in text and "reconstruilo" not in text
    assert not at.dataframe and not at.get("plotly_chart")


def test_after_argenta_migrate_everything_reads(old_db: Path, tmp_path: Path) -> None:
    at = open_page(params.RECOMMENDATIONS_PAGE)  # left open across the upgrade
    assert "versión anterior del esquema" in messages(at)
    try:
        with pytest.raises(SchemaMismatch):
            store.open_latest(old_db)

        done = run_argenta(old_db, "migrate", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"is at schema version {LATEST}" in done.stdout

        proc = run_argenta(old_db, "query", "latest", "--format", "csv", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert {"GGAL", "YPF", "PAM"} <= set(proc.stdout.replace(",", "\n").split("\n"))
        con = store.open_latest(old_db)
        rows = con.sql("SELECT ticker FROM latest_recommendations ORDER BY 1").fetchall()
        assert rows == [("GGAL",), ("PAM",), ("YPF",)]
    finally:
        store.close_latest()
    at.run()  # the same session, no restart: the migrated file is read
    assert_no_failure(at)
    assert "versión anterior" not in messages(at)
    assert set(at.dataframe[0].value["analysis_date"].dt.date) == {D2}


def test_a_shared_reader_recovers_when_the_migrated_file_is_published(old_db: Path) -> None:
    reader = SharedReader(old_db)
    try:
        for _ in range(2):  # the second time from what it learnt: the same line
            with (
                pytest.raises(SchemaMismatch, match=f"schema version {OLDER}, this argenta"),
                reader.connection(),
            ):
                pass

        with open_writer(old_db):
            pass  # what `argenta migrate` and the daily run do: migrate and publish
        with reader.connection() as con:
            assert con.sql("SELECT count(*) FROM latest_recommendations").fetchall() == [(3,)]
    finally:
        reader.close()


@pytest.fixture
def newer_db(small_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """small_db as a newer argenta would leave it: one more migration applied."""
    con = duckdb.connect(str(small_db))
    con.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (?, 'from_the_future')", [LATEST + 1]
    )
    con.close()
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    return small_db


def test_a_newer_file_is_one_clear_line(newer_db: Path, tmp_path: Path) -> None:
    proc = run_argenta(newer_db, "query", "latest", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == (
        f"error: database {newer_db} schema version {LATEST + 1} is newer than this program "
        f"knows ({LATEST}): upgrade argenta-ia\n"
    )
    at = open_page(params.RECOMMENDATIONS_PAGE)
    assert_no_failure(at)
    assert f"está en una versión más nueva del esquema ({LATEST + 1})" in messages(at)
    assert "actualice Argenta IA" in messages(at) and "dañad" not in messages(at)


def test_a_file_with_no_schema_yet_is_not_a_version_problem(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()  # a DuckDB file with no tables: version 0
    with open_reader(empty) as con:
        assert con.sql("SELECT 1").fetchall() == [(1,)]
