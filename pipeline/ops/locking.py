"""Cross-process locks beside the database file: one run at a time, one daemon at a time."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import BadInput, Refused
from store import safefile
from store.connection import check_owner, require_folder

LOCK_MODE = 0o600  # only the owner: the file names the holder's command line


class LockHeld(Refused):
    """Another process holds the lock; the message names it."""


def lock_path(database: Path, kind: str) -> Path:
    """The lock file of `kind` ("run" or "daemon") for this database."""
    database = Path(database)
    return database.with_name(f"{database.name}.{kind}.lock")


def holder(path: Path) -> str:
    """Who wrote the lock file last (pid and command), for messages."""
    return (safefile.read_text(path) or "").strip() or "unknown process"


def _open_lock(path: Path) -> int:
    """Open (create, owner-only) the lock file, never through a symlink planted in its place."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, LOCK_MODE)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise BadInput(
            f"{path}: is a symbolic link, which lock files never follow: remove it "
            "(it is recreated)"
        ) from None


@contextlib.contextmanager
def exclusive(database: Path, kind: str, what: str) -> Iterator[Path]:
    """Hold the `kind` lock for the block, or raise LockHeld at once if another process has it.

    The kernel releases an flock when its holder dies, so a killed process never leaves
    a stale lock behind. Files owned by another user are refused before the lock file is
    created, so a command run as the wrong user leaves nothing behind.
    """
    check_owner(Path(database))
    require_folder(Path(database))  # a mistyped DATABASE_URL creates nothing
    path = lock_path(database, kind)
    fd = _open_lock(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(
                f"{what} refused: another {kind} is in progress ({holder(path)}); "
                "wait for it to finish or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}: {what}\n".encode())
        yield path
    finally:
        os.close(fd)
