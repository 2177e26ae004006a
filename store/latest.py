"""`open_latest()`: a notebook's connection that always reads the newest published file.

Inside one Python process, `duckdb.connect(path, read_only=True)` returns the instance
already open for that path while any connection to it lives, so after a run publishes a
new file a notebook keeps reading the old one. This helper does not go through that
cache: it attaches the file to a private in-memory database, read-only, and when the
published file has changed since (new inode, mtime or size) it closes the connection it
returned before and attaches the new file.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from store.connection import FileIdentity, check_schema, file_identity, missing_database

CATALOG = "argenta"  # the name the file is attached under (`USE`d, so names need no prefix)
_held: dict[Path, tuple[duckdb.DuckDBPyConnection, FileIdentity]] = {}
_lock = threading.Lock()


def _default_path() -> Path:
    from pipeline.settings import Settings  # the environment, as the CLI reads it

    return Settings.from_env().database_path


def open_latest(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the newest published file; closes the one it gave before.

    Call it again before each piece of work: while the file is unchanged it returns the
    same connection (no 25-40 ms open); after a publish the old connection is closed
    (using it raises "connection closed") and a new one reads the new file.
    `path` defaults to DATABASE_URL (environment or .env). A file at another schema
    version than this program's raises SchemaMismatch (e.g. "run `argenta migrate`").
    """
    target = Path(path) if path is not None else _default_path()
    key = target.absolute()
    with _lock:
        current = file_identity(key)
        if current is None:
            raise missing_database(key)
        held = _held.get(key)
        if held is not None and held[1] == current:
            return held[0]
        if held is not None:
            held[0].close()
            del _held[key]
        con = duckdb.connect(":memory:")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET TimeZone = 'UTC'")
        try:
            con.execute(f"ATTACH ? AS {CATALOG} (READ_ONLY)", [str(key)])
            con.execute(f"USE {CATALOG}")
            check_schema(con, key)
        except BaseException:
            con.close()  # a file at another schema version (SchemaMismatch) or not readable
            raise
        _held[key] = (con, current)
        return con


def close_latest() -> None:
    """Close every connection `open_latest` holds (e.g. at the end of a notebook)."""
    with _lock:
        for con, _ in _held.values():
            con.close()
        _held.clear()
