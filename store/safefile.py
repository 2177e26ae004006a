"""Small state files written safely: never through a symlink, never half-written, not shared."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

STATE_MODE = 0o640  # owner writes, group reads (e.g. a monitoring user), others nothing


def write_atomic(path: Path, text: str, mode: int = STATE_MODE) -> None:
    """Replace `path` with `text`: a new file (O_EXCL, O_NOFOLLOW) renamed over it.

    The rename replaces a symlink at `path` instead of writing through it, and a reader
    sees either the old or the whole new content.
    """
    tmp = path.with_name(f".{path.name.lstrip('.')}.tmp-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def read_text(path: Path) -> str | None:
    """The text of a regular file at `path` (a symlink is not followed), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8", errors="replace") as fh:
        return fh.read()
