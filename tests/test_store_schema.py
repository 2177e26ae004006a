"""The schema: migrations from nothing and from each earlier version, constraints, comments."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from store import writes
from store.connection import open_reader, open_writer
from store.migrate import available_migrations, current_version, migrate
from tests.factories import partition
from tests.public_schema import PUBLIC_COLUMNS
from tests.reasons_support import declared_reasons

PUBLIC_TABLES = tuple(PUBLIC_COLUMNS)


def schema_of(con: duckdb.DuckDBPyConnection) -> dict:
    cols = con.sql(
        "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns()"
        " WHERE schema_name = 'main' AND table_name <> 'schema_migrations' ORDER BY ALL"
    ).fetchall()
    constraints = con.sql(
        "SELECT table_name, constraint_type, expression, constraint_column_names"
        " FROM duckdb_constraints() WHERE schema_name = 'main' ORDER BY ALL"
    ).fetchall()
    views = con.sql(
        "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY 1"
    ).fetchall()
    return {"columns": cols, "constraints": constraints, "views": views}


def test_fresh_schema_has_the_plans_tables_and_columns(tmp_path):
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    assert migrate(con) == [m.version for m in available_migrations()]
    for table, columns in PUBLIC_COLUMNS.items():
        got = [
            r[0]
            for r in con.sql(
                "SELECT column_name FROM duckdb_columns()"
                " WHERE table_name = ? ORDER BY column_index",
                params=[table],
            ).fetchall()
        ]
        assert got == columns
    types = dict(
        con.sql(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?",
            params=["daily_recommendations"],
        ).fetchall()
    )
    assert types["total_score"] == "DECIMAL(5,2)" and types["current_price"] == "DECIMAL(10,2)"
    assert migrate(con) == []  # idempotent


@pytest.mark.parametrize("start", range(1, len(available_migrations())))
def test_upgrade_from_each_earlier_version_matches_fresh(tmp_path, start):
    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    migrate(fresh)
    old = duckdb.connect(str(tmp_path / "old.duckdb"))
    migrate(old, target=start)
    assert current_version(old) == start
    migrate(old)
    assert current_version(old) == current_version(fresh)
    assert schema_of(old) == schema_of(fresh)


def test_every_table_view_and_column_has_a_comment(tmp_path):
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    migrate(con)
    columns = con.sql(
        "SELECT table_name || '.' || column_name, comment FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"
    ).fetchall()
    assert len(columns) > 100  # tables and views are both walked
    assert [name for name, comment in columns if not comment] == []
    relations = con.sql(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'"
        " UNION ALL SELECT view_name, comment FROM duckdb_views()"
        " WHERE NOT internal AND schema_name = 'main'"
    ).fetchall()
    assert {"daily_recommendations", "technical_daily", "macro_daily"} <= {r[0] for r in relations}
    assert [name for name, comment in relations if not comment] == []


def test_newer_database_than_program_is_refused(tmp_path):
    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    migrate(con)
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')")
    with pytest.raises(RuntimeError, match="newer than this program"):
        migrate(con)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("recommendation", "'COMPRA FUERTE'", "CHECK"),
        ("total_score", "101", "CHECK"),
        ("ticker", "'ABCDEFGHIJK'", "CHECK"),
        ("analysis_date", "NULL", "NOT NULL"),
    ],
)
def test_constraints_reject_bad_rows(db_path, column, value, message):
    row = {
        "analysis_date": "DATE '2024-03-08'",
        "ticker": "'GGAL'",
        "recommendation": "'COMPRAR'",
        "total_score": "70",
        "confidence": "50",
    }
    row[column] = value
    columns, values = ", ".join(row), ", ".join(row.values())
    with open_writer(db_path) as con, pytest.raises(duckdb.ConstraintException, match=message):
        con.execute(f"INSERT INTO daily_recommendations ({columns}) VALUES ({values})")


def test_unique_rejects_a_duplicate_day_and_ticker(small_db):
    with open_writer(small_db) as con, pytest.raises(duckdb.ConstraintException, match="unique"):
        con.execute(
            "INSERT INTO daily_recommendations (analysis_date, ticker, recommendation, total_score,"
            " confidence) VALUES (?, ?, 'MANTENER', 50, 50)",
            [dt.date(2024, 3, 8), "GGAL"],
        )


def test_timestamps_are_utc(db_path):
    before = writes.utc_now()
    day = dt.date(2024, 3, 8)
    with open_writer(db_path) as con:
        con.execute("SET TimeZone = 'Asia/Tokyo'")  # a session zone must not leak into the data
        writes.replace_partitions(con, [day], [partition(day, ["GGAL"])])
    with open_reader(db_path) as con:
        created = con.sql("SELECT created_at FROM daily_recommendations").fetchall()[0][0]
    assert abs((created - before).total_seconds()) < 60


def test_the_comments_name_every_metadata_key_and_reason_code_stored(sample_db):
    with open_reader(sample_db) as con:
        comments = dict(
            con.sql(
                "SELECT table_name || '.' || column_name, comment FROM duckdb_columns()"
                " WHERE schema_name = 'main' AND column_name IN ('metadata', 'reason_code')"
            ).fetchall()
        )
        stored = con.sql("SELECT DISTINCT json_keys(metadata) FROM analysis_details").fetchall()
    keys = {key for (row,) in stored for key in row}
    assert {"reason", "reason_code", "reason_params"} <= keys
    assert [k for k in keys if k not in comments["analysis_details.metadata"]] == []
    codes = {reason.code for reason in declared_reasons()}
    assert {"too_few_peers", "no_fundamentals", "no_fresh_macro"} <= codes
    listed = comments["analysis_components.reason_code"]
    assert [code for code in sorted(codes) if code not in listed] == []
