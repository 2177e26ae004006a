"""Read latency as the dashboard experiences it: a rolling window per read, kept in a file.

The dashboard times each database read it makes (a cache miss of its shared reader; a
cached answer costs nothing) and keeps the last WINDOW durations of each read function.
They are written (atomically, without fsync: figures, not data) to
`.<database>.read_latency.json` next to the database, outside the published file that
every run replaces, so `argenta status` and the health page can show p50/p95 per read.
A folder the dashboard may not write is logged once and the figures stay in memory.
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
WINDOW = 200  # reads kept per read function
FLUSH_SECONDS = 0.0  # only cache misses are timed: few enough to write the file after each


def latency_path(database: Path) -> Path:
    """The file the read latencies of `database` are kept in."""
    return database.with_name(f".{database.name}.read_latency.json")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class LatencyLog:
    """A thread-safe rolling window of durations per read, flushed to a file now and then."""

    def __init__(self, database: Path, window: int = WINDOW, flush_seconds: float = FLUSH_SECONDS):
        self.path = latency_path(Path(database))
        self.window = window
        self.flush_seconds = flush_seconds
        self._reads: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._flushed = 0.0
        self._warned = False
        for name, values in _load(self.path).items():
            self._reads[name] = deque(values[-window:], maxlen=window)

    def record(self, name: str, seconds: float) -> None:
        """Add one read's duration; write the file when the last write is old enough."""
        with self._lock:
            self._reads.setdefault(name, deque(maxlen=self.window)).append(seconds)
            due = time.monotonic() - self._flushed >= self.flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Write every window to the file (atomically); a failure is logged once."""
        with self._lock:
            data = {name: list(values) for name, values in self._reads.items()}
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


def _load(path: Path) -> dict[str, list[float]]:
    try:
        saved = json.loads(safefile.read_text(path) or "{}")
    except ValueError:
        return {}
    reads = saved.get("reads") if isinstance(saved, dict) else None
    return reads if isinstance(reads, dict) else {}


def summary(database: Path) -> dict[str, dict[str, Any]]:
    """Per read function: reads in the window, p50 and p95 in milliseconds (from the file)."""
    out = {}
    for name, values in sorted(_load(latency_path(Path(database))).items()):
        numbers = [float(v) for v in values if isinstance(v, int | float)]
        if numbers:
            out[name] = {
                "reads": len(numbers),
                "p50_ms": round(percentile(numbers, 0.50) * 1000, 2),
                "p95_ms": round(percentile(numbers, 0.95) * 1000, 2),
            }
    return out
