"""`argenta export`: every table and view as hive-partitioned Parquet/CSV, a data dictionary,
JSON Schemas; read back with polars and DuckDB; written atomically."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import jsonschema
import polars as pl
import pytest

from store import export as export_module
from store.connection import open_reader
from store.export import ExportError, export
from store.json_schemas import json_schemas
from tests.cli_support import run_argenta


@pytest.fixture(scope="module")
def exported(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample database exported to Parquet once for the module."""
    dest = tmp_path_factory.mktemp("export") / "argenta"
    with open_reader(sample_db) as con:
        export(con, dest)
    return dest


def _counts(db: Path) -> dict[str, int]:
    with open_reader(db) as con:
        names = [r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()]
        names += [
            r[0]
            for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        ]
        names = [n for n in names if n not in export_module.NOT_EXPORTED]
        return {n: con.sql(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in names}


def test_every_table_and_view_reads_back_with_polars_and_duckdb(sample_db, exported):
    counts = _counts(sample_db)
    assert {"daily_recommendations", "analysis_details", "job_runs", "technical_daily"} <= set(
        counts
    )
    for name, rows in counts.items():
        folder = exported / name
        if folder.is_dir():
            frame = pl.scan_parquet(folder, hive_partitioning=True).collect()
            files = f"{folder}/**/*.parquet"
            sql = f"SELECT count(*) FROM read_parquet('{files}', hive_partitioning=true)"
        else:
            frame = pl.read_parquet(exported / f"{name}.parquet")
            sql = f"SELECT count(*) FROM read_parquet('{exported}/{name}.parquet')"
        assert frame.height == rows, name
        assert duckdb.execute(sql).fetchall()[0][0] == rows, name


def test_partitions_are_by_year_and_by_month_for_the_details(sample_db, exported):
    recs = pl.scan_parquet(exported / "daily_recommendations", hive_partitioning=True).collect()
    assert (recs["year"] == recs["analysis_date"].dt.year()).all()
    years = sorted(p.name for p in (exported / "daily_recommendations").iterdir())
    assert years == ["year=2023", "year=2024"]
    details = pl.scan_parquet(exported / "analysis_details", hive_partitioning=True).collect()
    dated = details.join(
        recs.select("id", "analysis_date"), left_on="recommendation_id", right_on="id"
    )
    assert dated.height == details.height
    assert (dated["month"] == dated["analysis_date"].dt.month()).all()
    assert (exported / "analysis_details" / "year=2024" / "month=3").is_dir()
    with open_reader(sample_db) as con:
        total = con.sql("SELECT sum(total_score)::DOUBLE FROM daily_recommendations").fetchall()
    again = duckdb.execute(
        f"SELECT sum(total_score)::DOUBLE FROM read_parquet("
        f"'{exported}/daily_recommendations/*/*.parquet', hive_partitioning=true)"
    ).fetchall()
    assert again == total


def test_timestamps_are_utc_instants_and_json_is_text(exported):
    runs = pl.scan_parquet(exported / "job_runs", hive_partitioning=True).collect()
    assert runs.schema["start_time"] == pl.Datetime("us", "UTC")
    details = pl.scan_parquet(exported / "analysis_details", hive_partitioning=True)
    assert details.collect_schema()["indicators"] == pl.String


@pytest.mark.slow
def test_every_exported_json_document_matches_its_schema(exported):
    schemas = json_schemas()
    details = pl.scan_parquet(exported / "analysis_details", hive_partitioning=True).collect()
    for column in ("raw_data", "indicators", "metadata"):
        validator = jsonschema.Draft202012Validator(schemas[f"analysis_details.{column}"])
        for doc in details[column]:
            validator.validate(json.loads(doc))
    runs = pl.read_parquet(exported / "job_runs" / "**" / "*.parquet")
    for doc in runs["log_data"]:
        jsonschema.validate(json.loads(doc), schemas["job_runs.log_data"])
    # the votes are signed: the schema says so and the data has sell votes
    votes = schemas["analysis_details.indicators"]["$defs"]["technical"]["properties"]["votes"]
    assert votes["properties"]["rsi_14"]["minimum"] == -1
    assert details["indicators"].str.contains('"macd_vs_signal":-1').any()


def test_the_dictionary_describes_every_relation_and_column(sample_db, exported):
    dictionary = json.loads((exported / "dictionary.json").read_text())
    names = {rel["name"] for rel in dictionary["relations"]}
    assert names == set(_counts(sample_db))
    for rel in dictionary["relations"]:
        assert rel["description"], rel["name"]
        assert all(col["description"] for col in rel["columns"]), rel["name"]
    details = next(r for r in dictionary["relations"] if r["name"] == "analysis_details")
    assert [p["name"] for p in details["partitioned_by"]] == ["year", "month"]
    raw = next(c for c in details["columns"] if c["name"] == "raw_data")
    schema = json.loads((exported / raw["json_schema"]).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    markdown = (exported / "DICTIONARY.md").read_text()
    assert all(f"## {name} (" in markdown for name in names)
    assert "| `vote_rsi_14` | TINYINT |" in markdown


def test_since_keeps_later_rows_and_the_whole_catalogs(sample_db, tmp_path):
    since = dt.date(2024, 2, 1)
    with open_reader(sample_db) as con:
        result = export(con, tmp_path / "out", fmt="csv", since=since)
        later = con.sql(
            "SELECT count(*) FROM daily_recommendations WHERE analysis_date >= ?", params=[since]
        ).fetchall()[0][0]
    assert result.rows["daily_recommendations"] == later
    recs = duckdb.execute(
        f"SELECT min(analysis_date), count(*) FROM read_csv('{tmp_path}/out/daily_recommendations"
        "/*/*.csv', hive_partitioning=true)"
    ).fetchall()[0]
    assert recs[0] >= since and recs[1] == later
    details = duckdb.execute(
        f"SELECT count(*) FROM read_csv('{tmp_path}/out/analysis_details/*/*/*.csv',"
        " hive_partitioning=true)"
    ).fetchall()[0][0]
    assert details == 4 * later
    assert result.rows["known_tickers"] == _counts(sample_db)["known_tickers"]


def test_an_export_replaces_the_previous_one_whole_or_not_at_all(small_db, tmp_path, monkeypatch):
    dest = tmp_path / "out"
    with open_reader(small_db) as con:
        export(con, dest)
        first = (dest / "dictionary.json").read_text()

        def disk_full(folder, dictionary):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(export_module, "_write_dictionary", disk_full)
        with pytest.raises(ExportError, match="No space left on device"):
            export(con, dest)
        assert (dest / "dictionary.json").read_text() == first  # the earlier export is intact
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temp left
        monkeypatch.undo()
        export(con, dest, since=dt.date(2024, 3, 8))
    assert json.loads((dest / "dictionary.json").read_text())["since"] == "2024-03-08"


def test_a_folder_that_is_not_an_export_is_refused(small_db, tmp_path):
    dest = tmp_path / "notes"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with open_reader(small_db) as con, pytest.raises(ExportError, match="not an earlier export"):
        export(con, dest)
    assert (dest / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_cli_export(small_db, tmp_path):
    out = str(tmp_path / "x")
    done = run_argenta(
        small_db, "export", out, "--format", "csv", "--since", "2024-03-08", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "daily_recommendations: 2 rows" in done.stdout
    assert (tmp_path / "x" / "daily_recommendations" / "year=2024").is_dir()
    bad = run_argenta(small_db, "export", str(tmp_path / "y"), "--format", "xlsx", cwd=tmp_path)
    assert bad.returncode == 2 and "xlsx" in bad.stderr


def test_the_export_runs_with_bounded_memory_and_restores_the_connection(
    small_db, tmp_path, monkeypatch
):
    seen = []
    copy = export_module._copy

    def watched(con, *args):
        seen.append(con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0])
        return copy(con, *args)

    monkeypatch.setattr(export_module, "_copy", watched)
    with open_reader(small_db) as con:
        con.execute("SET memory_limit = '3GB'")
        con.execute("SET preserve_insertion_order = true")
        settings = (
            "SELECT current_setting('memory_limit'), current_setting('preserve_insertion_order')"
        )
        before = con.sql(settings).fetchall()
        result = export(con, tmp_path / "exports" / "out")
        assert con.sql(settings).fetchall() == before
    assert seen and set(seen) == {"1.8 GiB"}  # 2 GB while every relation is written
    assert result.rows == _counts(small_db)  # the rows COPY reports are the relation's rows
    assert [p.name for p in (tmp_path / "exports").iterdir()] == ["out"]  # no spill folder left


def test_each_partition_with_rows_is_one_file_and_no_other_is_written(sample_db, exported):
    with open_reader(sample_db) as con:
        months = con.sql(
            "SELECT DISTINCT year(analysis_date), month(analysis_date) FROM daily_recommendations"
        ).fetchall()
        years = {y for y, _ in months}
    for name in ("analysis_details", "analysis_components"):
        files = sorted(p.relative_to(exported / name) for p in (exported / name).rglob("*"))
        folders = {(int(f.parts[0][5:]), int(f.parts[1][6:])) for f in files if len(f.parts) == 3}
        assert folders == set(months), name
        assert {f.name for f in files if len(f.parts) == 3} == {"data_0.parquet"}
        assert len(files) == len(years) + 2 * len(months)  # year and month folders, one file each
    for name in ("daily_recommendations", "technical_daily"):
        assert sorted(p.name for p in (exported / name).iterdir()) == [
            f"year={y}" for y in sorted(years)
        ]
        assert all(
            [f.name for f in p.iterdir()] == ["data_0.parquet"] for p in (exported / name).iterdir()
        )


def test_the_files_hold_what_one_partitioned_copy_writes(sample_db, exported, tmp_path):
    """The partitions written one COPY each equal a single COPY ... PARTITION_BY's."""
    with open_reader(sample_db) as con:
        for rel in export_module.relations(con):
            if rel.name not in ("analysis_details", "technical_daily", "job_runs"):
                continue
            select, params = export_module._select(rel, "parquet")
            bounds = {"first": dt.date.min, "last": dt.date.max, "undated": True}
            parts = ", ".join(rel.partitions)
            con.execute(
                f"COPY ({select}) TO $path (FORMAT parquet, PARTITION_BY ({parts}))",
                {**params, **bounds, "path": str(tmp_path / rel.name)},
            )
            ours = sorted(p.relative_to(exported) for p in (exported / rel.name).rglob("*.parquet"))
            once = sorted(p.relative_to(tmp_path) for p in (tmp_path / rel.name).rglob("*.parquet"))
            assert ours == once, rel.name
            for a, b in ((exported, tmp_path), (tmp_path, exported)):
                files = [f"read_parquet('{d / rel.name}/**/*.parquet')" for d in (a, b)]
                differ = duckdb.execute(
                    f"SELECT count(*) FROM (SELECT * FROM {files[0]}"
                    f" EXCEPT ALL SELECT * FROM {files[1]})"
                ).fetchall()[0][0]
                assert differ == 0, rel.name
