"""Every database read of the dashboard, and what the user sees when one cannot be made.

One `store.connection.SharedReader` per database path lives in `st.cache_resource`: it
holds the *published* file, which the writer never opens, so the app never blocks the
daily run, pays no connection per query, and reopens the file when a run publishes a
new one. Results are cached with `st.cache_data` keyed on the published file's identity,
so a rerun (any widget change) costs nothing until the next run publishes. A locked file
(a foreign read-write process holding it) is retried by the reader; after that the pages
show the last results read, with a notice. Missing, empty or unreadable databases, and a
file at another schema version than this program's (an upgrade not migrated yet), stop
the page with a Spanish message saying what to do: never a traceback.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import duckdb
import streamlit as st

from pipeline.analysis import calendar
from pipeline.ops.latency import LatencyLog
from pipeline.settings import ConfigError, Settings
from store import reads
from store.connection import (
    BUILD_COMMAND,
    DatabaseError,
    DatabaseLocked,
    DatabaseMissing,
    FileIdentity,
    SchemaMismatch,
    SharedReader,
    file_identity,
)
from ui import format as fmt

T = TypeVar("T")

BUILD_HINT = (
    f"Para crearla con los datos de ejemplo ejecutá `make demo` o `{BUILD_COMMAND}`; "
    "después el proceso diario (`argenta daemon`) la actualiza cada mañana."
)
_REMEMBERED_RESULTS = 256  # last good results kept per database, for a locked file


def settings() -> Settings:
    """The validated settings; a wrong one stops the page with a message naming it."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        wrong = fmt.setting_error(exc.variable, exc.value, exc.code, exc.params)
        st.error(
            f"La configuración no es válida: {wrong}. Corregila (en el entorno o en `.env`) "
            "y volvé a iniciar el tablero.",
            icon=":material/settings_alert:",
        )
        st.stop()


@dataclass
class Database:
    """The published database as the pages see it during one script run."""

    path: Path
    version: FileIdentity | None
    fallback: bool = False  # the file is locked: reads answer with the last good results

    def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`query(con, *args, **kwargs)` (a store.reads function), cached per published file.

        How long the page waited for it, cached or not, goes to the read-latency log.
        """
        name = f"{query.__module__}.{query.__qualname__}"
        key = repr((name, args, sorted(kwargs.items())))
        memory = _memory(str(self.path))
        if not self.fallback:
            start = time.perf_counter()
            try:
                result = _cached_read(str(self.path), self.version, key, query, args, kwargs)
                _latency(str(self.path)).record(query.__name__, time.perf_counter() - start)
            except DatabaseLocked:
                self.fallback = True
            except (DatabaseError, duckdb.Error) as exc:
                _stop_unreadable(self.path, exc)
            else:
                memory.put(key, result)
                return result
        if key in memory:
            return memory.get(key)
        _stop_locked(self.path)


def database(cfg: Settings, require_data: bool = True) -> Database:
    """The published database, checked: missing, empty or broken files stop the page."""
    path = cfg.database_path
    db = Database(path, file_identity(path))
    try:
        with _reader(str(path)).connection():
            pass  # opens the file, or reopens it when a run has published a new one
    except DatabaseMissing:
        st.info(
            f"Todavía no existe la base de datos `{path}`. {BUILD_HINT}", icon=":material/info:"
        )
        st.stop()
    except DatabaseLocked:
        db.fallback = True
        st.warning(
            "La base de datos está bloqueada por otro proceso en este momento: se muestran "
            "los últimos datos leídos. Recargá la página en unos segundos para ver los nuevos.",
            icon=":material/lock_clock:",
        )
    except DatabaseError as exc:
        _stop_unreadable(path, exc)
    if require_data and db.read(reads.latest_date) is None:
        st.info(f"La base `{path}` todavía no tiene recomendaciones. {BUILD_HINT}")
        st.stop()
    return db


def last_session(tickers: Iterable[str], today: dt.date) -> dt.date:
    """The latest session before `today` on the tickers' exchanges: the daily run's target."""
    exchanges = {calendar.exchange_for(t) for t in tickers} or set(calendar.EXCHANGES)
    yesterday = today - dt.timedelta(days=1)
    return max(calendar.latest_trading_day(x, yesterday) for x in exchanges)


def today(cfg: Settings) -> dt.date:
    """Today's date in the configured analysis time zone."""
    return dt.datetime.now(cfg.tz).date()


@st.cache_resource(show_spinner=False)
def _reader(path: str) -> SharedReader:
    return SharedReader(Path(path))


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_read(
    path: str,
    version: FileIdentity | None,
    key: str,
    _query: Callable[..., T],
    _args: tuple,
    _kwargs: dict[str, Any],
) -> T:
    """One read; `path`, `version` and `key` identify it (the query itself is not hashable).

    Its duration (a cache miss: the database's time) goes to the read-latency log.
    """
    start = time.perf_counter()
    with _reader(path).connection() as con:
        result = _query(con, *_args, **_kwargs)
    _latency(path).record(_query.__name__, time.perf_counter() - start, kind="database")
    return result


@st.cache_resource(show_spinner=False)
def _latency(path: str) -> LatencyLog:
    return LatencyLog(Path(path))


class _Memory:
    """A bounded, thread-safe map of the last good result of each read."""

    def __init__(self, capacity: int) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def get(self, key: str) -> Any:
        with self._lock:
            return self._items[key]

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items


@st.cache_resource(show_spinner=False)
def _memory(path: str) -> _Memory:
    return _Memory(_REMEMBERED_RESULTS)


def _stop_locked(path: Path) -> NoReturn:
    st.error(
        f"La base `{path}` está bloqueada por otro proceso (por ejemplo, una consola de DuckDB "
        "abierta en modo escritura) y todavía no hay datos leídos para mostrar. "
        "Cerrá ese programa y recargá la página.",
        icon=":material/lock:",
    )
    st.stop()


def _stop_unreadable(path: Path, exc: Exception) -> NoReturn:
    if isinstance(exc, SchemaMismatch):
        _stop_schema(path, exc)
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    st.error(
        f"No se pudo leer la base `{path}`: {detail}. Si el archivo está dañado, "
        f"reconstruilo. {BUILD_HINT}",
        icon=":material/error:",
    )
    st.stop()


def _stop_schema(path: Path, exc: SchemaMismatch) -> NoReturn:
    """The file is sound but at another schema version: say which, and who fixes it."""
    if exc.outdated:
        st.warning(
            f"La base `{path}` está en una versión anterior del esquema ({exc.found}; esta "
            f"versión del tablero necesita {exc.needed}). Pedile al operador que ejecute "
            "`argenta migrate`; la próxima corrida diaria también la actualiza.",
            icon=":material/update:",
        )
    else:
        st.error(
            f"La base `{path}` está en una versión más nueva del esquema ({exc.found}) que la "
            f"que conoce este tablero ({exc.needed}). Pedile al operador que actualice "
            "Argenta IA y reinicie el tablero.",
            icon=":material/update:",
        )
    st.stop()
