"""The one way to open the database.

Design (see README, "How the database file is shared"): the writer never touches the
file users open. It works on a private working copy next to it, and after each run
publishes that copy atomically (copy to a temporary name, fsync, os.replace) at the
path readers, notebooks and the dashboard open read-only. So a reader can never block
the daily write, and a write can never make a reader fail: readers keep the file they
opened and see the new one when they reopen.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pwd
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

import duckdb

from pipeline.errors import USAGE, BadInput, RunFailed
from store import safefile
from store.migrate import current_version, latest_version, migrate, newer_schema

LOCK_RETRY_SECONDS = 10.0
DATABASE_MODE = 0o644  # readers (the dashboard, notebooks) may run as other users
COPY_CHUNK = 8 << 20
# After retention deletes, the working copy is rewritten when it is this much larger than
# its rows took at the last rewrite (the bound the README promises is 20 %).
COMPACT_SLACK = 0.15
log = logging.getLogger("argenta.store")


class DatabaseError(RunFailed):
    """A database problem worth one clear line to the user."""


class DatabaseMissing(DatabaseError):
    """The published database file does not exist yet."""


class DatabaseLocked(DatabaseError):
    """Another process holds a conflicting DuckDB lock on the file."""


class SchemaMismatch(DatabaseError):
    """The file's schema version is not the one this program reads (older or newer).

    Older: `argenta migrate` (or the next daily run, which migrates) brings it up to date.
    Newer: a newer argenta migrated it; this one must be upgraded.
    """

    def __init__(self, path: Path, found: int, needed: int) -> None:
        self.path, self.found, self.needed = Path(path), found, needed
        if found < needed:
            text = (
                f"database {path} is at schema version {found}, this argenta needs {needed}: "
                "run `argenta migrate` (or wait for the next daily run, which migrates it)"
            )
        else:
            text = newer_schema(found, needed, where=f"database {path}")
        super().__init__(text)

    @property
    def outdated(self) -> bool:
        """The file is older than this program (migrating it fixes the reads)."""
        return self.found < self.needed


def check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Raise SchemaMismatch unless the connection's database is at this program's version.

    One small catalog query (two on a migrated file). A file with no schema at all (version
    0: empty, or not built yet) passes: the readers say it holds no data in their own words.
    """
    found = current_version(con)
    needed = latest_version()
    if found not in (0, needed):
        raise SchemaMismatch(path, found, needed)


# How to build a database from the bundled sample (the demo's range), for messages.
BUILD_COMMAND = "argenta backfill --source sample --start 2022-03-01 --end 2024-03-08"


class FolderMissing(BadInput):
    """The database's folder does not exist: a mistyped DATABASE_URL, never created (exit 2)."""


def require_folder(path: Path) -> None:
    """Raise FolderMissing unless the folder of the database `path` exists (never created)."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise FolderMissing(
            f"the database folder {folder} does not exist: create it (mkdir -p {folder}) "
            "or correct DATABASE_URL"
        )


def missing_database(path: Path) -> DatabaseMissing:
    """The error for a published file that does not exist yet, saying how to build it."""
    return DatabaseMissing(
        f"database {path} does not exist: build it with `make demo-db` or `{BUILD_COMMAND}`"
    )


class ForeignFiles(DatabaseError):
    """The database's files belong to another user than the one running the writer."""

    exit_code = USAGE  # run the command as the files' owner: retrying as is cannot help


def _user(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def check_owner(path: Path) -> None:
    """Refuse to write when the database's files belong to someone else.

    A backfill run as root would otherwise leave root-owned files the service user
    cannot open; run as root against the service's files it would do the same. The
    owner is compared explicitly (root could write anything), for the published file,
    the working copy, the locks and the writer's state files that exist.
    """
    me = os.geteuid()
    names = [path.name, f".{path.name}.work", f"{path.name}.run.lock", f"{path.name}.daemon.lock"]
    names += [f".{path.name}.published", f".{path.name}.compacted"]
    for name in names:
        try:
            owner = (path.parent / name).stat().st_uid
        except FileNotFoundError:
            continue
        if owner != me:
            raise ForeignFiles(
                f"{path.parent / name} belongs to {_user(owner)}, not to {_user(me)} who runs "
                "this command: run it as the database's owner (deploy/argenta-as-service runs "
                "it as the service user with the service's settings), or if the files should "
                f"be yours, `chown {_user(me).split()[0]}: {path.parent}/*{path.name}*`"
            )


def work_path(path: Path) -> Path:
    """The writer's private working copy of the published file `path`."""
    return path.with_name(f".{path.name}.work")


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def _connect(
    path: Path, read_only: bool = True, retry_seconds: float = 1.0, attach_as: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open `path`, retrying a conflicting lock for up to `retry_seconds`.

    `attach_as`: attach the file read-only under that name to a private in-memory
    database instead (not shared through DuckDB's per-path instance cache).
    """
    deadline = time.monotonic() + retry_seconds
    delay = 0.05
    while True:
        try:
            if attach_as:
                con = duckdb.connect(":memory:")
            else:
                con = duckdb.connect(str(path), read_only=read_only)
            con.execute("SET enable_progress_bar = false")
            con.execute("SET TimeZone = 'UTC'")
            if attach_as:
                _attach(con, path, attach_as)
            return con
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise DatabaseError(f"cannot open database {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                first = str(exc).splitlines()[0]
                raise DatabaseLocked(
                    f"database {path} is locked by another process ({first}); "
                    "close the other program (e.g. a DuckDB CLI opened read-write) and retry"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _attach(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> None:
    """Attach `path` read-only as `name` to `con`; `con` is closed when it cannot be."""
    try:
        con.execute(f"ATTACH ? AS {name} (READ_ONLY)", [str(path)])
    except BaseException:
        con.close()
        raise


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_contents(source: BinaryIO, target: BinaryIO) -> None:
    """Copy the open file `source` into the empty `target`, in the kernel where it can.

    `os.copy_file_range` moves the bytes without passing them through this process
    (measured: a 465 MB database in a third of the time of a buffered copy, and a
    quarter of the CPU); a file system or kernel that refuses it gets the buffered copy.
    """
    size = os.fstat(source.fileno()).st_size
    done = 0
    try:
        while done < size:
            step = os.copy_file_range(source.fileno(), target.fileno(), size - done)
            if step == 0:  # the source shrank under us: copy what is left the plain way
                break
            done += step
    except OSError:
        done = 0  # start again: the plain copy rewrites from the first byte
    if done < size:
        source.seek(done)
        target.seek(done)
        target.truncate()
        shutil.copyfileobj(source, target, COPY_CHUNK)
        target.flush()


def _atomic_copy(src: Path, dst: Path) -> None:
    """Copy `src` over `dst` so that `dst` is always either the old or the whole new file."""
    tmp = dst.with_name(f".{dst.name.lstrip('.')}.copy-{os.getpid()}")
    try:
        tmp.unlink(missing_ok=True)  # a leftover, or a symlink planted there: never followed
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, DATABASE_MODE)
        with open(src, "rb") as source, os.fdopen(fd, "wb") as target:
            _copy_contents(source, target)
            os.fsync(target.fileno())
        os.replace(tmp, dst)
        _fsync_dir(dst.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# Writer connections whose working copy is rewritten compactly when they close (see
# request_compaction): ids of open connections, only ever touched by their own writer.
_compaction_requested: set[int] = set()


def request_compaction(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the working copy compactly when this writer connection closes (after deletes).

    DuckDB does not give back the space of deleted rows, so after retention deletes old
    partitions the file keeps its size. The rewrite runs after the connection is closed,
    when no transaction can be lost, and before the publish, so the published file shrinks.
    """
    _compaction_requested.add(id(con))


def compact_file(db: Path) -> tuple[int, int]:
    """Rewrite the closed database `db` into a fresh file with the same contents, atomically.

    `COPY FROM DATABASE` carries tables, views, macros, sequences (with their current
    values), constraints and comments. Returns (bytes before, bytes after).
    """
    tmp = db.with_name(f"{db.name}.compact-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    before = db.stat().st_size
    try:
        con = duckdb.connect(":memory:")
        try:
            con.execute("ATTACH ? AS source_db (READ_ONLY)", [str(db)])
            con.execute("ATTACH ? AS compact_db", [str(tmp)])
            con.execute("COPY FROM DATABASE source_db TO compact_db")
            con.execute("DETACH compact_db")
        finally:
            con.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, db)
        _fsync_dir(db.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return before, db.stat().st_size


def _state_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.published")


def _state(path: Path) -> dict[str, FileIdentity | None]:
    """What this writer last saw: the published file's and the working copy's identities."""
    try:
        saved = json.loads(safefile.read_text(_state_path(path)) or "{}")
    except ValueError:
        saved = {}
    if isinstance(saved, list):  # the format before the working copy was recorded
        saved = {"published": saved}
    state: dict[str, FileIdentity | None] = {}
    for key in ("published", "work"):
        try:
            state[key] = FileIdentity(*saved.get(key) or ())
        except (TypeError, AttributeError):
            state[key] = None
    return state


def _published_as(path: Path) -> FileIdentity | None:
    """The identity the published file had when this writer last published it."""
    return _state(path)["published"]


def _write_state(path: Path, **identities: FileIdentity | None) -> None:
    """Record identities (published=..., work=...) over the saved ones."""
    state = {**_state(path), **identities}
    text = json.dumps({k: list(v) if v else None for k, v in state.items()})
    safefile.write_atomic(_state_path(path), text)


def publish(path: Path) -> None:
    """Atomically replace the published file `path` with the writer's working copy."""
    work = work_path(path)
    if not work.exists():  # removed under the run (an operator, a clean-up script)
        raise DatabaseError(
            f"the working copy {work} was removed during the run: nothing was published and "
            f"{path} is unchanged; run again (the working copy is rebuilt from it)"
        )
    _atomic_copy(work, path)
    _write_state(path, published=file_identity(path))


def _set_aside(path: Path, copy: Path) -> Path:
    """Keep `copy` (a damaged or foreign file) as the one set-aside copy beside `path`."""
    aside = path.with_name(f".{path.name}.damaged")
    os.replace(copy, aside)  # replaces an earlier one: never more than one is kept
    return aside


def table_digests(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Each base table's row count and an order-free hash of its rows (reads every block)."""
    names = con.sql(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
    ).fetchall()
    digests = {}
    for (name,) in names:
        quoted = '"' + name.replace('"', '""') + '"'
        count, digest = con.execute(
            f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {quoted} t"
        ).fetchall()[0]
        digests[name] = (count, digest)
    return digests


def database_problem(path: Path, shown_as: Path | None = None) -> str | None:
    """Why the file at `path` cannot be our database (damaged, not DuckDB, foreign), or None.

    An empty DuckDB file or one with our `schema_migrations` passes; every block of every
    table is read, so a truncated or overwritten file is caught before it is trusted.
    Messages name `shown_as` (the file the user knows) instead of a temporary copy.
    """
    problem = _problem(path)
    return problem.replace(str(path), str(shown_as)) if problem and shown_as else problem


def _problem(path: Path) -> str | None:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return f"it does not open as a DuckDB database ({_first_line(exc)})"
    try:
        tables = table_digests(con)
    except duckdb.Error as exc:
        return f"it is damaged ({_first_line(exc)})"
    finally:
        con.close()
    if tables and "schema_migrations" not in tables:
        foreign = ", ".join(sorted(tables)[:5])
        return f"it holds other tables ({foreign}), not an Argenta IA database"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _probe_writable(folder: Path) -> None:
    """Raise OSError unless a file can be created in `folder` (modes do not tell for root)."""
    probe = folder / f".argenta-write-probe-{os.getpid()}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.close(fd)
    probe.unlink()


def _prepare_work(path: Path) -> None:
    """Make the working copy start from the published file when that is the newer truth.

    That is when there is no working copy yet (first run, or an upgrade from a copied
    file), or when the published file is not the one this writer last published (an
    operator restored a backup). The published file is adopted only once a copy of it
    opens and is empty or ours; otherwise the working copy is kept (and republished at
    the end of the run) and the rejected copy set aside. Otherwise the working copy is
    kept: it may hold a run committed just before a crash that was not published yet.
    """
    work = work_path(path)
    current = file_identity(path)
    if current is None or (work.exists() and current == _published_as(path)):
        return
    candidate = path.with_name(f".{path.name}.adopt-{os.getpid()}")
    try:
        _atomic_copy(path, candidate)
        problem = database_problem(candidate, shown_as=path)
        if problem is None:
            os.replace(candidate, work)
            _fsync_dir(path.parent)
            _write_state(path, published=current, work=file_identity(work))
            return
        if not work.exists():
            raise DatabaseError(
                f"database {path} cannot be used: {problem}; restore a backup of it, "
                "or move it away and the next run builds a new one"
            )
        aside = _set_aside(path, candidate)
        log.warning(
            "event=published_file_rejected path=%s reason=%r kept_as=%s "
            "action='the working copy is kept and republished'",
            path,
            problem,
            aside,
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def _open_work(path: Path, retry_seconds: float) -> duckdb.DuckDBPyConnection:
    """Connect to the working copy; a damaged one is set aside and rebuilt from the published."""
    work = work_path(path)
    current = file_identity(work)
    # A working copy changed since this writer closed it (a crash, a full disk, another
    # program) is read through before it is trusted; an unchanged one opens at once.
    problem = None
    if current is not None and current != _state(path)["work"]:
        problem = database_problem(work, shown_as=path)
    if problem is None:
        try:
            return _connect(work, read_only=False, retry_seconds=retry_seconds)
        except DatabaseLocked:
            raise
        except DatabaseError as exc:
            problem = _first_line(exc.__cause__ or exc).replace(str(work), str(path))
    published = database_problem(path) if path.exists() else "it does not exist"
    if published is not None:
        raise DatabaseError(
            f"the working copy of {path} is damaged ({problem}) and {path} cannot replace it "
            f"({published}); restore a backup of {path}"
        )
    aside = _set_aside(path, work)
    log.warning(
        "event=work_copy_damaged reason=%r kept_as=%s rebuilt_from=%s", problem, aside, path
    )
    _atomic_copy(path, work)
    _write_state(path, published=file_identity(path), work=file_identity(work))
    return _connect(work, read_only=False, retry_seconds=retry_seconds)


@contextlib.contextmanager
def open_writer(
    path: Path,
    retry_seconds: float = LOCK_RETRY_SECONDS,
    on_publish: Callable[[Path], None] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working copy read-write, migrated; on close, publish it if it changed.

    Publishing happens whenever the body ran, also after an error: every transaction is
    committed or rolled back by then, so what is published is always consistent. A file
    that did not change (nothing written) is not copied again. After a publish, `on_publish`
    is called with the path (ARGENTA_PUBLISH_COMMAND); its failure is only logged.

    The connection keeps DuckDB's default memory limit (80 % of the machine's memory): a
    backfill is one transaction, whose keys' indexes and sorted ticker-order rows DuckDB holds
    until the commit (0.5-1 GB at 1000 tickers x 2520 days). A 512 MB cap (session 6) made such
    a backfill fail with "Out of Memory Error" (README, Performance: backfill memory).
    """
    path = Path(path)
    check_owner(path)
    require_folder(path)
    try:
        _probe_writable(path.parent)  # an existing folder we may not write: say so first
        _prepare_work(path)
    except OSError as exc:
        raise DatabaseError(
            f"cannot write the database folder {path.parent}: {exc.strerror}; "
            "point DATABASE_URL at a writable folder"
        ) from None
    patterns = (f".{path.name}*.copy-*", f".{path.name}.adopt-*", f".{path.name}.work.compact-*")
    for pattern in patterns:
        for leftover in path.parent.glob(pattern):
            leftover.unlink(missing_ok=True)  # from a copy or compaction killed midway
    before = file_identity(work_path(path))
    con = _open_work(path, retry_seconds)
    try:
        migrate(con)
    except (RuntimeError, duckdb.Error) as exc:
        con.close()
        raise DatabaseError(f"cannot bring {path} up to date: {exc}") from exc
    completed = False
    try:
        yield con
        completed = True
    finally:
        compact = id(con) in _compaction_requested
        _compaction_requested.discard(id(con))
        con.close()
        if compact:
            _compact_work(path)
        after = file_identity(work_path(path))
        if completed and after != _state(path)["work"]:
            _write_state(path, work=after)  # closed cleanly: trusted as is next time
        if not (after == before and file_identity(path) == _published_as(path)):
            publish(path)
            _after_publish(path, on_publish)


def _after_publish(path: Path, on_publish: Callable[[Path], None] | None) -> None:
    """Call the publish hook; its failure is logged, never raised (the data is published)."""
    if on_publish is None:
        return
    try:
        on_publish(path)
    except Exception as exc:
        log.warning("event=publish_hook_failed reason=%r", str(exc))


def _compacted_state(path: Path) -> Path:
    return path.with_name(f".{path.name}.compacted")


def _calls_in(db: Path) -> int:
    """Rows of daily_recommendations in the closed database `db` (each carries its details)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS db (READ_ONLY)", [str(db)])
        return con.execute("SELECT count(*) FROM db.daily_recommendations").fetchall()[0][0]
    finally:
        con.close()


def _worth_compacting(path: Path, rows: int, size: int) -> bool:
    """Whether the working copy is over COMPACT_SLACK larger than its rows took when last rewritten.

    A rewrite reads and writes the whole file (about 10 MB/s here), so a daily run whose
    retention removes one partition of a large file does not pay it every day: the file is
    rewritten once the space its deletes left behind passes the slack.
    """
    try:
        done = json.loads(_compacted_state(path).read_text(encoding="utf-8"))
        per_row = done["bytes"] / done["rows"]
    except (FileNotFoundError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return True
    return size > (1 + COMPACT_SLACK) * per_row * rows


def _compact_work(path: Path) -> None:
    """Compact the working copy if worth it; a failure is logged and the copy published as is."""
    work = work_path(path)
    try:
        rows, size = _calls_in(work), work.stat().st_size
        if not _worth_compacting(path, rows, size):
            log.info("event=compaction_skipped bytes=%d rows=%d", size, rows)
            return
        before, after = compact_file(work)
        state = {"bytes": after, "rows": rows}
        safefile.write_atomic(_compacted_state(path), json.dumps(state))
    except (OSError, duckdb.Error) as exc:
        log.warning("event=compaction_failed path=%s reason=%r", work, str(exc))
        return
    log.info("event=compacted path=%s before_bytes=%d after_bytes=%d", path, before, after)


@contextlib.contextmanager
def open_reader(path: Path, retry_seconds: float = 2.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the published file (CLI, scripts)."""
    path = Path(path)
    if not path.exists():
        raise missing_database(path)
    fix = f"the next run republishes a good copy; else restore a backup or `{BUILD_COMMAND}`"
    try:
        con = _connect(path, read_only=True, retry_seconds=retry_seconds)
    except DatabaseLocked:
        raise
    except DatabaseError as exc:
        raise DatabaseError(f"{exc}; {fix}") from exc
    try:
        check_schema(con, path)
        yield con
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot read database {path}: {_first_line(exc)}; {fix}") from exc
    finally:
        con.close()


class FileIdentity(NamedTuple):
    """What changes when a run publishes: the published file's inode, mtime and size."""

    inode: int
    mtime_ns: int
    size: int


def file_identity(path: Path) -> FileIdentity | None:
    """The identity of the file at `path` now, or None if there is none."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return FileIdentity(st.st_ino, st.st_mtime_ns, st.st_size)


def file_size(path: Path) -> int | None:
    """The size in bytes of the file at `path`, or None if there is none."""
    identity = file_identity(path)
    return identity.size if identity else None


class _Opened:
    """One open file of a SharedReader: its connection, identity and cursors in use."""

    def __init__(self, con: duckdb.DuckDBPyConnection, identity: FileIdentity) -> None:
        self.con, self.identity = con, identity
        self.users = 0
        self.retired = False  # a newer file was opened: close this one when its last user ends


class SharedReader:
    """A long-lived read-only connection for the dashboard, reopened when a run publishes.

    One connection serves every query (no 25-40 ms open per query); each query runs on its
    own cursor, and the cursors run in parallel. Before each use the published file's
    identity (inode, mtime, size) is compared with the open one; when a run has replaced
    it, the new file is opened next to the old one (attached read-only to a private
    in-memory database, which DuckDB's per-path instance cache does not share), new
    queries go to it, and the old connection is closed when its last query ends. Only
    that check and the open hold the lock, never a query. Each file opened has its schema
    version checked once (`check_schema`): a file older or newer than this program raises
    SchemaMismatch, without reopening it, until a run publishes another. If the file was
    deleted after it was opened, the open connection keeps serving it and `stale` says so.
    """

    CATALOG = "argenta"  # the name the file is attached under (each cursor `USE`s it)

    def __init__(self, path: Path, retry_seconds: float = 1.0) -> None:
        self.path = Path(path)
        self.retry_seconds = retry_seconds
        self._open: _Opened | None = None
        self._refused: tuple[FileIdentity, SchemaMismatch] | None = None  # not reopened
        self._lock = threading.Lock()
        self.stale = False

    @contextlib.contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a cursor on the current published file (thread-safe, queries in parallel)."""
        with self._lock:
            opened = self._refresh()
            opened.users += 1
            try:
                cur = opened.con.cursor()
            except BaseException:
                self._release(opened)
                raise
        try:
            cur.execute(f"USE {self.CATALOG}")
            yield cur
        finally:
            cur.close()
            with self._lock:
                self._release(opened)

    def _release(self, opened: _Opened) -> None:
        opened.users -= 1
        if opened.retired and opened.users == 0:
            opened.con.close()

    def _refresh(self) -> _Opened:
        current = file_identity(self.path)
        opened = self._open
        if current is None:
            if opened is None:
                raise missing_database(self.path)
            self.stale = True
            return opened
        if opened is not None and current == opened.identity:
            return opened
        if self._refused is not None and self._refused[0] == current:
            refused = self._refused[1]  # this file's version is known: no reopen to say it again
            raise SchemaMismatch(self.path, refused.found, refused.needed)
        con = _connect(self.path, retry_seconds=self.retry_seconds, attach_as=self.CATALOG)
        try:
            self._check_schema(con)
        except SchemaMismatch as exc:
            con.close()
            self._refused = (current, exc)
            raise
        except BaseException:
            con.close()
            raise
        self._refused = None
        self._open = _Opened(con, current)
        self.stale = False
        if opened is not None:
            self._retire(opened)
        return self._open

    def _check_schema(self, con: duckdb.DuckDBPyConnection) -> None:
        """Check the newly opened file's schema version, once (see `check_schema`)."""
        cur = con.cursor()
        try:
            cur.execute(f"USE {self.CATALOG}")
            check_schema(cur, self.path)
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot read database {self.path}: {_first_line(exc)}") from exc
        finally:
            cur.close()

    def _retire(self, opened: _Opened) -> None:
        opened.retired = True
        if opened.users == 0:
            opened.con.close()

    def close(self) -> None:
        """Close the connection (queries still running finish on it first)."""
        with self._lock:
            opened, self._open = self._open, None
            if opened is not None:
                self._retire(opened)
