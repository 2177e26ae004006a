"""Export every table and view to Parquet or CSV for other tools, with a data dictionary.

Layout of an export folder (hive partitioning, readable by polars, DuckDB, Spark, Trino):

    daily_recommendations/year=2024/data_0.parquet      tables and views with a date
    analysis_details/year=2024/month=3/data_0.parquet   detail-level relations: year and month
    job_runs/year=2024/data_0.parquet                   runs by start_time
    known_tickers.parquet                               small catalogs: one file
    dictionary.json, DICTIONARY.md                      every relation and column, from the comments
    schemas/analysis_details.raw_data.schema.json       a JSON Schema per JSON column

The folder is written under a temporary name next to DEST and renamed into place, so a
reader never sees half an export. Each relation is one COPY (its row count is what COPY
returns); the export's connection runs with bounded memory (`EXPORT_SETTINGS`, restored
after) and spills beside DEST, never next to the database. TIMESTAMP columns (UTC
wall-clock in the database) are written as UTC instants (TIMESTAMPTZ), so no reader can
take them for local time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipeline.errors import BadInput
from pipeline.textsafe import FORMULA_START, PLAIN_NUMBER
from store.json_schemas import json_schemas
from store.migrate import current_version

FORMATS = ("parquet", "csv")
# Tables not exported: copies, in another order, of rows other relations export
# (daily_recommendations; technical_daily's columns), kept for the dashboard's per-ticker reads.
NOT_EXPORTED = ("ticker_calls", "technical_series")
# Relations with one row per detail are split by month too (four rows per call).
DETAIL_LEVEL = ("analysis_details", "analysis_components")
DICTIONARY_JSON, DICTIONARY_MD, SCHEMA_DIR = "dictionary.json", "DICTIONARY.md", "schemas"
CSV_NOTE = (
    "A text cell that a spreadsheet would run as a formula (one starting with =, +, -, @, tab"
    " or CR that is not a number) is written with a leading apostrophe (')."
)


# Settings of the export's connection, restored after it. A partitioned COPY buffers each
# partition's rows until it holds `partitioned_write_flush_threshold` of them (524,288 by
# default): a month of details (~420,000 rows at 5000 tickers) never reached it, so the whole
# table was held in memory until the end (19 GB, then spilling: 5x slower than one file).
# 100,000 rows per flush keeps the row groups large enough for the dictionary encoding;
# insertion order is not kept (rows are not ordered in a Parquet file anyway) so no buffer
# holds rows back to reorder them.
EXPORT_SETTINGS = {
    "memory_limit": "2GB",
    "preserve_insertion_order": "false",
    "partitioned_write_flush_threshold": "100000",
}

# Types written differently from the database: (SQL cast, what the dictionary says). UTC
# wall-clock timestamps become instants; JSON becomes text (Parquet readers such as polars
# would read the JSON logical type as binary).
_EXPORT_CASTS = {
    "TIMESTAMP": ("::TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE (UTC)"),
    "JSON": ("::VARCHAR", "VARCHAR (JSON text)"),
}
# Text cells of a CSV export that a spreadsheet would run as formulas (OWASP "CSV injection":
# =, +, -, @, tab or CR first, and not a number) get a leading apostrophe.
_TEXT_TYPES = ("VARCHAR", "JSON")
_NEUTRALISED = (
    "CASE WHEN regexp_matches({v}, $formula) AND NOT regexp_matches({v}, $number)"
    " THEN chr(39) || {v} ELSE {v} END"
)


class ExportError(BadInput):
    """The export cannot be written where asked (one line for the user)."""


@dataclass(frozen=True)
class Relation:
    """One table or view as exported: how its rows are dated and split into partitions."""

    name: str
    kind: str  # "table" or "view"
    comment: str
    columns: list[dict[str, Any]]
    date_expr: str | None  # the SQL date each row is partitioned and filtered by
    joins: str = ""  # FROM-clause addition the date needs (details get theirs from the call)

    @property
    def partitions(self) -> list[str]:
        """The hive partition columns: none, year, or year and month."""
        if self.date_expr is None:
            return []
        return ["year", "month"] if self.name in DETAIL_LEVEL else ["year"]


@dataclass(frozen=True)
class ExportResult:
    """What was written: the folder and the rows per relation."""

    path: Path
    rows: dict[str, int]
    bytes: int


def relations(con: duckdb.DuckDBPyConnection) -> list[Relation]:
    """Every table and view of the database with its columns and comments, by name."""
    rows = con.sql(
        """SELECT table_name, 'table', comment FROM duckdb_tables()
           WHERE database_name = current_database() AND schema_name = 'main'
           UNION ALL
           SELECT view_name, 'view', comment FROM duckdb_views()
           WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
           ORDER BY 1"""
    ).fetchall()
    cols = con.sql(
        """SELECT table_name, column_name, data_type, is_nullable, comment FROM duckdb_columns()
           WHERE database_name = current_database() AND schema_name = 'main'
           ORDER BY table_name, column_index"""
    ).fetchall()
    by_table: dict[str, list[dict[str, Any]]] = {}
    for table, name, dtype, nullable, comment in cols:
        by_table.setdefault(table, []).append(
            {"name": name, "type": dtype, "nullable": nullable, "description": comment or ""}
        )
    return [
        _relation(name, kind, comment or "", by_table.get(name, []))
        for name, kind, comment in rows
        if name not in NOT_EXPORTED
    ]


def _relation(name: str, kind: str, comment: str, columns: list[dict[str, Any]]) -> Relation:
    names = {c["name"] for c in columns}
    if name == "analysis_details":
        join = "JOIN daily_recommendations _r ON _r.id = t.recommendation_id"
        return Relation(name, kind, comment, columns, "_r.analysis_date", join)
    if "analysis_date" in names and name not in ("known_tickers", "partitions"):
        return Relation(name, kind, comment, columns, "t.analysis_date")
    if name == "job_runs":
        return Relation(name, kind, comment, columns, "t.start_time::DATE")
    return Relation(name, kind, comment, columns, None)


def _select(rel: Relation, fmt: str, hive: bool = True) -> tuple[str, dict[str, Any]]:
    """The SELECT of one relation and its parameters: timestamps as UTC instants, a CSV's
    formula cells neutralised, the filter, and with `hive` the partition columns."""
    items, params = [], {}
    for col in rel.columns:
        quoted = '"' + col["name"].replace('"', '""') + '"'
        value = f"t.{quoted}{_EXPORT_CASTS.get(col['type'], ('', ''))[0]}"
        if fmt == "csv" and col["type"] in _TEXT_TYPES:
            value = _NEUTRALISED.format(v=value)
            params = {"formula": FORMULA_START, "number": PLAIN_NUMBER}
        items.append(f"{value} AS {quoted}")
    if hive:
        items += [f"{part}({rel.date_expr}) AS {part}" for part in rel.partitions]
    where = ""
    if rel.date_expr:
        d = rel.date_expr
        where = f"WHERE ({d} BETWEEN $first::DATE AND $last::DATE) OR ($undated AND {d} IS NULL)"
    return f'SELECT {", ".join(items)} FROM "{rel.name}" t {rel.joins} {where}', params


def _copy(
    con: duckdb.DuckDBPyConnection,
    rel: Relation,
    out: Path,
    fmt: str,
    since: dt.date | None,
    years: tuple[int, int] | None,
) -> int:
    """Write one relation (bound parameters); returns the rows its COPYs wrote.

    A partitioned relation is written one partition at a time, each year (or month) of
    `years` (the span of the dated tables) by a COPY to its own `year=Y[/month=M]/data_0`
    file: a COPY with PARTITION_BY copies every row into a buffer per partition first, twice
    the CPU for the details. Anything dated before or after the span, and undated rows, go
    through one partitioned COPY each (none in a database the writer keeps).
    """
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER"
    if not rel.partitions:
        select, params = _select(rel, fmt)
        target = out / f"{rel.name}.{fmt}"
        if rel.date_expr:
            params |= {"first": since or dt.date.min, "last": dt.date.max, "undated": not since}
        done = con.execute(f"COPY ({select}) TO $path ({options})", {**params, "path": str(target)})
        return int(done.fetchall()[0][0])
    target = out / rel.name
    target.mkdir()  # an empty relation keeps its (empty) folder
    hive, hive_params = _select(rel, fmt)
    plain, plain_params = _select(rel, fmt, hive=False)
    hive_options = f"{options}, PARTITION_BY ({', '.join(rel.partitions)}), OVERWRITE_OR_IGNORE"
    rows = 0
    for first, last, folder in _partition_ranges(years, since, rel.partitions):
        undated = not since and folder is None and last == dt.date.max  # once, in the tail
        bounds = {"first": first, "last": last, "undated": undated}
        if folder is None:  # outside the span: DuckDB names the partitions
            sql, params, path = f"COPY ({hive}) TO $path ({hive_options})", hive_params, target
        else:
            path = target / folder / f"data_0.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            sql, params = f"COPY ({plain}) TO $path ({options})", plain_params
        written = int(con.execute(sql, {**params, **bounds, "path": str(path)}).fetchall()[0][0])
        if folder is not None and not written:  # no row there: no file, as PARTITION_BY does
            path.unlink()
            for empty in (path.parent, path.parent.parent):
                if empty != target and not any(empty.iterdir()):
                    empty.rmdir()
        rows += written
    return rows


def _partition_ranges(
    years: tuple[int, int] | None, since: dt.date | None, parts: list[str]
) -> list[tuple[dt.date, dt.date, str | None]]:
    """(first, last, folder) of every year (or month, with "month" in `parts`) of `years`
    from `since` on, each with its hive folder, plus the dates before and after them with
    folder None (written by a partitioned COPY, which takes the undated rows too)."""
    start = since or dt.date.min
    if years is None:
        return [(start, dt.date.max, None)]
    ranges: list[tuple[dt.date, dt.date, str | None]] = []
    if start < dt.date(years[0], 1, 1):
        ranges.append((start, dt.date(years[0], 1, 1) - dt.timedelta(days=1), None))
    for year in range(years[0], years[1] + 1):
        months = range(1, 13) if "month" in parts else [None]
        for month in months:
            first = dt.date(year, month or 1, 1)
            after = dt.date(year + (month or 12) // 12, (month or 12) % 12 + 1, 1)
            last = after - dt.timedelta(days=1)
            if last >= start:
                folder = f"year={year}" + (f"/month={month}" if month else "")
                ranges.append((max(first, start), last, folder))
    tail = dt.date(years[1] + 1, 1, 1) if years[1] < dt.date.max.year else dt.date.max
    ranges.append((max(tail, start), dt.date.max, None))
    return ranges


def _year_span(con: duckdb.DuckDBPyConnection, rels: list[Relation]) -> tuple[int, int] | None:
    """The first and last year of the dated tables (views derive their dates from them)."""
    parts = [
        f'SELECT min({r.date_expr}) AS lo, max({r.date_expr}) AS hi FROM "{r.name}" t'
        for r in rels
        if r.kind == "table" and r.date_expr and not r.joins
    ]
    if not parts:
        return None
    lo, hi = con.sql(f"SELECT min(lo), max(hi) FROM ({' UNION ALL '.join(parts)})").fetchall()[0]
    return (lo.year, hi.year) if lo is not None else None


@contextlib.contextmanager
def _bounded(con: duckdb.DuckDBPyConnection, spill: Path) -> Iterator[None]:
    """Run with EXPORT_SETTINGS and spill files under `spill`; the settings before are restored."""
    names = [*EXPORT_SETTINGS, "temp_directory"]
    before = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE list_contains($names, name)",
            {"names": names},
        ).fetchall()
    )
    wanted = {**EXPORT_SETTINGS, "temp_directory": str(spill)}
    try:
        for name, value in wanted.items():
            con.execute(f"SET {name} = $value", {"value": value})
        yield
    finally:
        for name in names:
            old = before.get(name)
            if old is None:
                con.execute(f"RESET {name}")
                continue
            if name == "memory_limit":
                old = _shown_limit(old)
            con.execute(f"SET {name} = $value", {"value": old})


def _shown_limit(shown: str) -> str:
    """A memory limit that DuckDB shows as `shown` again ('2.7 GiB' -> '2.75 GiB').

    DuckDB shows a limit cut to one decimal, so setting the shown text back would lower it
    a step at each export; the middle of the step keeps it where it was, within 0.05 unit.
    """
    number, _, unit = shown.partition(" ")
    try:
        return f"{float(number) + 0.05:.2f} {unit}" if "." in number else shown
    except ValueError:
        return shown


def export(
    con: duckdb.DuckDBPyConnection, dest: Path, fmt: str = "parquet", since: dt.date | None = None
) -> ExportResult:
    """Export every table and view of `con` into the folder `dest`, replacing it atomically."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    dest = Path(dest).absolute()
    _check_destination(dest)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    spill = dest.with_name(f".{dest.name}.spill-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        rels = relations(con)
        with _bounded(con, spill):
            years = _year_span(con, rels)
            rows = {rel.name: _copy(con, rel, tmp, fmt, since, years) for rel in rels}
        dictionary = _dictionary(con, rels, rows, fmt, since)
        _write_dictionary(tmp, dictionary)
        _swap_into_place(tmp, dest)
    except OSError as exc:
        raise ExportError(f"cannot write the export to {dest}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(spill, ignore_errors=True)
    size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file())
    return ExportResult(dest, rows, size)


def _check_destination(dest: Path) -> None:
    """Refuse to replace a folder that is not an earlier export (it may hold anything)."""
    if dest.exists() and not dest.is_dir():
        raise ExportError(f"{dest} is a file: give a folder for the export")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / DICTIONARY_JSON).exists():
        raise ExportError(
            f"{dest} is not empty and is not an earlier export (no {DICTIONARY_JSON}): "
            "give a new or empty folder"
        )


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Rename the finished export to `dest`; an earlier export there is moved aside first."""
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):
        fd = os.open(dest.parent, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)


def _dictionary(
    con: duckdb.DuckDBPyConnection,
    rels: list[Relation],
    rows: dict[str, int],
    fmt: str,
    since: dt.date | None,
) -> dict[str, Any]:
    """The data dictionary: every exported relation and column with its description."""
    schemas = json_schemas()
    out = []
    for rel in rels:
        columns = []
        for col in rel.columns:
            entry = dict(col)
            if col["type"] in _EXPORT_CASTS:
                entry["exported_type"] = _EXPORT_CASTS[col["type"]][1]
            key = f"{rel.name}.{col['name']}"
            if key in schemas:
                entry["json_schema"] = f"{SCHEMA_DIR}/{key}.schema.json"
            columns.append(entry)
        partitions = [
            {"name": p, "type": "INTEGER", "description": f"{p} of the row's date (in the path)"}
            for p in rel.partitions
        ]
        path = f"{rel.name}/" if rel.partitions else f"{rel.name}.{fmt}"
        out.append(
            {
                "name": rel.name,
                "kind": rel.kind,
                "description": rel.comment,
                "path": path,
                "partitioned_by": partitions,
                "rows": rows[rel.name],
                "columns": columns,
            }
        )
    return {
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "schema_version": current_version(con),
        "format": fmt,
        "since": since.isoformat() if since else None,
        "relations": out,
    }


def _write_dictionary(folder: Path, dictionary: dict[str, Any]) -> None:
    """dictionary.json, DICTIONARY.md and the JSON Schemas of the JSON columns."""
    (folder / DICTIONARY_JSON).write_text(json.dumps(dictionary, indent=2), encoding="utf-8")
    (folder / DICTIONARY_MD).write_text(dictionary_markdown(dictionary), encoding="utf-8")
    (folder / SCHEMA_DIR).mkdir()
    for key, schema in json_schemas().items():
        path = folder / SCHEMA_DIR / f"{key}.schema.json"
        path.write_text(json.dumps(schema, indent=2), encoding="utf-8")


def dictionary_markdown(dictionary: dict[str, Any]) -> str:
    """The data dictionary as Markdown: one section and one column table per relation."""
    lines = [
        "# Argenta IA data dictionary",
        "",
        f"Exported {dictionary['exported_at']} (schema version {dictionary['schema_version']}, "
        f"{dictionary['format']}"
        + (f", rows dated on or after {dictionary['since']}" if dictionary["since"] else "")
        + "). Timestamps are UTC instants.",
    ]
    if dictionary["format"] == "csv":
        lines += ["", CSV_NOTE]
    for rel in dictionary["relations"]:
        parts = ", ".join(p["name"] for p in rel["partitioned_by"]) or "none"
        lines += [
            "",
            f"## {rel['name']} ({rel['kind']})",
            "",
            rel["description"],
            "",
            f"Path `{rel['path']}`, {rel['rows']} rows, partitioned by: {parts}.",
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        for col in rel["columns"]:
            text = col["description"].replace("|", "\\|")
            if "json_schema" in col:
                text += f" (JSON Schema: `{col['json_schema']}`)"
            lines.append(f"| `{col['name']}` | {col.get('exported_type', col['type'])} | {text} |")
    return "\n".join(lines) + "\n"
