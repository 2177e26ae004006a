"""Backup and restore of the published file, safe while readers and the daemon run.

A published file is never written in place: each run replaces it whole (os.replace). So
a backup that opens it once and copies from that open file gets one consistent database,
even if a run publishes a new one halfway through the copy (the copy keeps reading the
file it opened). The copy is checked (every block of every table read) before it is
given its name.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from pipeline.errors import BadInput
from store.connection import (
    DATABASE_MODE,
    DatabaseError,
    _atomic_copy,
    _fsync_dir,
    check_owner,
    database_problem,
    missing_database,
)


def is_folder(dest: str | Path) -> bool:
    """Whether a backup destination names a folder: it is one, or it ends with a separator."""
    text = os.fspath(dest)
    return text.endswith((os.sep, "/")) or Path(text).is_dir()


def backup_target(path: Path, dest: str | Path) -> Path:
    """The file a backup of `path` goes to: `dest` itself, or a time-stamped name inside it.

    A `dest` that is a folder, or ends with `/` (`argenta backup /var/backups/argenta/`),
    is a folder: created (with its parents, like `mkdir -p`) when missing, so a nightly
    backup never overwrites one file named like the folder.
    """
    if not is_folder(dest):
        return Path(dest)
    folder = Path(dest)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise BadInput(f"backup folder {folder} is a file: give a folder or a file name") from None
    except OSError as exc:
        raise DatabaseError(
            f"cannot create the backup folder {folder}: {exc.strerror or exc}"
        ) from None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return folder / f"{path.stem}-{stamp}{path.suffix}"


def backup(path: Path, dest: str | Path) -> Path:
    """Copy the published file `path` to `dest` (a file, or a folder), checked; returns it.

    `dest` as given (a string keeps a trailing `/`, which makes it a folder).
    """
    path = Path(path)
    try:
        src = open(path, "rb")  # noqa: SIM115 - held open: a publish cannot change what is read
    except FileNotFoundError:
        raise missing_database(path) from None
    try:
        target = backup_target(path, dest)
    except BaseException:
        src.close()
        raise
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        tmp.unlink(missing_ok=True)  # a leftover or a planted symlink: never written through
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with src, os.fdopen(os.open(tmp, flags, DATABASE_MODE), "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        problem = database_problem(tmp, shown_as=path)
        if problem is not None:
            raise DatabaseError(f"the copy of {path} does not check out ({problem}); not kept")
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        raise DatabaseError(f"cannot write the backup {target}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


class BadBackup(BadInput):
    """The file given to restore is missing or not a usable database (exit code 2)."""


def restore(backup_file: Path, path: Path) -> None:
    """Make `backup_file` the published file `path` (atomically, after checking it).

    Readers keep the file they have open; the next writer adopts the restored file as
    its working copy (the published file changed, so the backup wins) and migrates it.
    """
    backup_file, path = Path(backup_file), Path(path)
    if not backup_file.is_file():
        raise BadBackup(f"backup {backup_file} does not exist: give the file to restore")
    check_owner(path)
    problem = database_problem(backup_file)
    if problem is not None:
        raise BadBackup(
            f"{backup_file} cannot be restored: {problem}; give a file made by `argenta backup`"
        )
    try:
        _atomic_copy(backup_file, path)
    except OSError as exc:
        raise DatabaseError(f"cannot write {path}: {exc.strerror or exc}") from None
