"""What every benchmark shares: result rows, timing statistics, fresh processes, the machine."""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import polars as pl

from pipeline.settings import Settings

T = TypeVar("T")
VERSIONED = ("polars", "duckdb", "ta-lib", "pyarrow", "pandas", "numpy")


@dataclass(frozen=True)
class Row:
    """One figure of the final table: what was measured, its value, and the target if any."""

    benchmark: str
    measure: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None  # None: no target

    @property
    def status(self) -> str:
        """`ok`, `MISSED` or empty when there is no target."""
        return "" if self.met is None else ("ok" if self.met else "MISSED")


def below(benchmark: str, measure: str, value: float, unit: str, limit: float) -> Row:
    """A row whose target is `value < limit`."""
    return Row(benchmark, measure, value, unit, f"< {limit:g} {unit}", value < limit)


def at_least(benchmark: str, measure: str, value: float, unit: str, limit: float) -> Row:
    """A row whose target is `value >= limit`."""
    target = f">= {limit:g}{'' if unit == 'x' else ' '}{unit}"
    return Row(benchmark, measure, value, unit, target, value >= limit)


def seconds(function: Callable[[], object], runs: int) -> list[float]:
    """Wall times of `runs` calls of `function`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def median(values: Iterable[float]) -> float:
    """The median."""
    return statistics.median(values)


def p95(values: Iterable[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB.

    Linux's VmHWM, not getrusage: a spawned child's ru_maxrss starts at its parent's RSS.
    """
    try:
        with open("/proc/self/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_fresh_process(function: Callable[..., T], *args: Any) -> T:
    """Run `function(*args)` in a new Python process (its own peak memory) and return its result."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def settings_for(database: os.PathLike, data_dir: os.PathLike | None = None) -> Settings:
    """Settings for a benchmark database, reading local files, with no `.env` involved."""
    env = {"DATABASE_URL": str(database), "ARGENTA_SOURCE": "files"}
    if data_dir is not None:
        env["ARGENTA_DATA_DIR"] = str(data_dir)
    return Settings.from_env(env, env_file=None)


def machine() -> dict[str, str]:
    """Cores, memory, CPU model, OS and the versions of the libraries that matter here."""
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in VERSIONED)
    return {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": f"{_memory_gb():.1f} GB",
        "load average (1 min) at start": f"{os.getloadavg()[0]:.1f}",
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "libraries": versions,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9


def table(rows: Iterable[Row]) -> str:
    """The rows as an aligned text table."""
    frame = pl.DataFrame(
        [
            {
                "benchmark": r.benchmark,
                "measure": r.measure,
                "value": fmt(r.value),
                "unit": r.unit,
                "target": r.target,
                "status": r.status,
            }
            for r in rows
        ]
    )
    widths = {c: max(len(c), *(len(v) for v in frame[c])) for c in frame.columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in frame.columns)]
    lines.append("  ".join("-" * widths[c] for c in frame.columns))
    for record in frame.iter_rows():
        cells = [
            v.rjust(widths[c]) if c == "value" else v.ljust(widths[c])
            for c, v in zip(frame.columns, record, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def fmt(value: float) -> str:
    """A figure as the tables show it: thousands grouped, 3 significant digits below 100."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3f}"
