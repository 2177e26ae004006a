"""Read latency as the dashboard experiences it: a rolling window per read, kept in a file.

Two windows per read function (a `store.reads` function):
- `page`: every read a page makes, as long as the page waited for it — a cached answer
  (Streamlit's cache, which also copies the frame) or a database read;
- `database`: only the reads that went to the database (cache misses): what a query costs.

The last WINDOW durations of each are written (atomically, without fsync: figures, not
data) to `.<database>.read_latency.json` next to the database, outside the published file
that every run replaces, so `argenta status` and the health page show p50/p95 of both. The
file is written at most every FLUSH_SECONDS, and at once when a read is seen for the first
time. A folder the dashboard may not write is logged once and the figures stay in memory.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from store import safefile

log = logging.getLogger("argenta.latency")
WINDOW = 200  # durations kept per read function and kind
FLUSH_SECONDS = 2.0  # a page view makes ~10 reads: one write for them, not ten
KINDS = ("page", "database")  # as the page waited for it; only the database reads


def latency_path(database: Path) -> Path:
    """The file the read latencies of `database` are kept in."""
    return database.with_name(f".{database.name}.read_latency.json")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class LatencyLog:
    """Thread-safe rolling windows of durations per read and kind, flushed to a file."""

    def __init__(
        self, database: Path, window: int = WINDOW, flush_seconds: float | None = None
    ) -> None:
        self.path = latency_path(Path(database))
        self.window = window
        self.flush_seconds = FLUSH_SECONDS if flush_seconds is None else flush_seconds
        self._reads: dict[str, dict[str, deque[float]]] = {kind: {} for kind in KINDS}
        self._lock = threading.Lock()
        self._flushed = 0.0
        self._warned = False
        for kind, reads in _load(self.path).items():
            for name, values in reads.items():
                self._reads[kind][name] = deque(values[-window:], maxlen=window)

    def record(self, name: str, seconds: float, kind: str = "page") -> None:
        """Add one read's duration; write the file when due or when the read is new."""
        with self._lock:
            windows = self._reads[kind]
            new = name not in windows
            windows.setdefault(name, deque(maxlen=self.window)).append(seconds)
            due = new or time.monotonic() - self._flushed >= self.flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Write every window to the file (atomically); a failure is logged once."""
        with self._lock:
            data = {
                kind: {n: list(v) for n, v in reads.items()} for kind, reads in self._reads.items()
            }
            self._flushed = time.monotonic()
        tmp = self.path.with_name(f"{self.path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            tmp.unlink(missing_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"reads": data, "at": time.time()}, fh)
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if not self._warned:
                self._warned = True
                log.warning("event=read_latency_not_saved path=%s reason=%r", self.path, str(exc))


def _load(path: Path) -> dict[str, dict[str, list[float]]]:
    """The saved windows by kind; a file from before the two kinds held database reads only."""
    try:
        saved = json.loads(safefile.read_text(path) or "{}")
    except ValueError:
        saved = {}
    reads = saved.get("reads") if isinstance(saved, dict) else None
    if not isinstance(reads, dict):
        reads = {}
    if not set(reads) <= set(KINDS) or not all(isinstance(v, dict) for v in reads.values()):
        reads = {"database": reads}
    return {
        kind: {n: v for n, v in reads.get(kind, {}).items() if isinstance(v, list)}
        for kind in KINDS
    }


def _figures(values: list[Any]) -> dict[str, Any] | None:
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    if not numbers:
        return None
    return {
        "reads": len(numbers),
        "p50_ms": round(percentile(numbers, 0.50) * 1000, 2),
        "p95_ms": round(percentile(numbers, 0.95) * 1000, 2),
    }


def summary(database: Path) -> dict[str, dict[str, Any]]:
    """Per read function: `page` and `database` figures (reads, p50_ms, p95_ms), from the file.

    A kind with no read in its window is None.
    """
    saved = _load(latency_path(Path(database)))
    names = sorted(set().union(*(saved[kind] for kind in KINDS)))
    return {name: {kind: _figures(saved[kind].get(name, [])) for kind in KINDS} for name in names}
