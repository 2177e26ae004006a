"""The real `argenta daemon` in a subprocess, and what the daemon tests read back.

The runs use the bundled sample with a replayed date (--pretend-date 2024-03-11, whose
yesterday is a Sunday: the missing trading days are 2024-03-06..08 with a 4-day look-back)
and two ADRs, so each run takes seconds. The fixtures that start daemons (`env`, `slow_env`,
`start`) are in conftest.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from pipeline.analysis import calendar
from pipeline.ops.monitoring import Heartbeat, read_heartbeat
from store import reads
from store.connection import open_reader

TODAY = "2024-03-11"
MISSING = calendar.trading_days("XNYS", dt.date(2024, 3, 6), dt.date(2024, 3, 10))
SOURCE = ["--source", "sample", "--tickers", "GGAL,YPF"]
ZONE = "America/Argentina/Buenos_Aires"

# Test-only hook, loaded through PYTHONPATH by every Python process of a test that asks for
# it (the daemon and its runs): each run sleeps inside its job, after the job_runs row is
# written and before any data is, optionally deaf to SIGTERM/SIGALRM like a run stuck in
# native code. Production code has no such hook.
SLOW_RUN_HOOK = textwrap.dedent(
    """
    import os, signal, time
    from pipeline.ops import jobs

    _load = jobs.load_market_data

    def _slow_load(*args, **kwargs):
        if os.environ.get("TEST_RUN_FAIL"):  # the network vendor is down
            raise ConnectionError("network unreachable (test hook)")
        if os.environ.get("TEST_RUN_DEAF"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGALRM})
        print("TEST_HOOK run is loading", flush=True)
        time.sleep(float(os.environ["TEST_RUN_SLEEP"]))
        return _load(*args, **kwargs)

    jobs.load_market_data = _slow_load
    """
)


class Daemon:
    """`argenta daemon` in a subprocess, its log lines collected as they come."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            argenta("daemon", *args),
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._eof = False
        self._new_line = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout
        for line in self.process.stdout:
            with self._new_line:
                self.lines.append(line.rstrip("\n"))
                self._new_line.notify_all()
        with self._new_line:
            self._eof = True
            self._new_line.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        """The first log line matching `pattern`, waiting for it up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._new_line:
            while not (found := self.matching(pattern)):
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise AssertionError(f"no line matching {pattern!r} in:\n{self.log()}")
                self._new_line.wait(min(left, 0.5))
        return found[0]

    def matching(self, pattern: str) -> list[str]:
        return [line for line in self.lines if re.search(pattern, line)]

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, float]:
        """Send `sig`; return the exit code and how long the daemon took to exit."""
        started = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        return code, time.monotonic() - started

    def wait(self, timeout: float = 90) -> int:
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        return "\n".join(self.lines)


def argenta(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.ops.cli", *args]


def is_run(pid: int) -> bool:
    try:
        return b"run-days" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False


def heartbeat(db_path: Path) -> Heartbeat:
    """The daemon's heartbeat, which the test expects to be there."""
    beat = read_heartbeat(db_path)
    assert beat is not None, f"no heartbeat next to {db_path}"
    return beat


def runs(db_path: Path) -> list[dict]:
    with open_reader(db_path) as con:
        frame = reads.job_runs(con)
    return [row | {"log": json.loads(row.pop("log_data"))} for row in reversed(frame.to_dicts())]


def partitions(db_path: Path) -> list[dt.date]:
    with open_reader(db_path) as con:
        return reads.analysis_dates(con)
