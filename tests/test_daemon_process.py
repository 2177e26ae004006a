"""The real daemon as a subprocess against a DuckDB file: schedule, catch-up, refusals,
retries, timeout, signals and recovery after kill -9.

Runs use the bundled sample with a replayed date (--pretend-date 2024-03-11, whose
yesterday is a Sunday: the missing trading days are 2024-03-06..08 with a 4-day
look-back) and two ADRs, so each run takes seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.analysis import calendar
from pipeline.ops.monitoring import Heartbeat, read_heartbeat
from store import reads
from store.connection import open_reader

pytestmark = pytest.mark.slow  # each test drives a real daemon process for 2-16 s

TODAY = "2024-03-11"
MISSING = calendar.trading_days("XNYS", dt.date(2024, 3, 6), dt.date(2024, 3, 10))
SOURCE = ["--source", "sample", "--tickers", "GGAL,YPF"]
ZONE = "America/Argentina/Buenos_Aires"
STOP_SECONDS = 10  # how fast SIGTERM must stop the daemon (README: Operating the daemon)

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


@pytest.fixture
def env(tmp_path: Path, db_path: Path) -> dict[str, str]:
    """A controlled environment: the test database, fast retries, nothing from the caller."""
    ours = ("ARGENTA_", "DATABASE_URL", "SCHEDULER_", "DAILY_ANALYSIS_", "JOB_TIMEOUT", "MAX_RE")
    base = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    base.pop("NOTIFY_SOCKET", None)
    return base | {
        "DATABASE_URL": f"duckdb:///{db_path}",
        "ARGENTA_CATCHUP_DAYS": "4",
        "ARGENTA_WEEKDAYS_ONLY": "false",
        "ARGENTA_RETRY_BACKOFF_SECONDS": "0.2",
        "ARGENTA_LOW_DISK_MB": "0",
        "MAX_RETRIES": "0",
    }


@pytest.fixture
def slow_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """`env` with the slow-run hook: each run sleeps a minute inside its job."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SLOW_RUN_HOOK, encoding="utf-8")
    paths = [str(hook), *filter(None, [env.get("PYTHONPATH")])]
    return env | {"PYTHONPATH": os.pathsep.join(paths), "TEST_RUN_SLEEP": "60"}


@pytest.fixture
def start(tmp_path: Path, db_path: Path):
    """Start daemons; any still running at the end (and their runs) are killed."""
    started: list[Daemon] = []

    def launch(env: dict[str, str], *args: str) -> Daemon:
        started.append(Daemon(tmp_path, env, *args))
        return started[-1]

    yield launch
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
    beat = read_heartbeat(db_path)
    if beat and beat.job_pid and is_run(beat.job_pid):  # a run orphaned by a killed daemon
        os.kill(beat.job_pid, signal.SIGKILL)


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


def test_scheduler_disabled_exits_0_without_running_anything(start, env, db_path):
    daemon = start(env | {"SCHEDULER_ENABLED": "false"}, *SOURCE)
    assert daemon.wait(timeout=30) == 0
    assert daemon.matching("event=scheduler_disabled")
    assert not db_path.exists() and read_heartbeat(db_path) is None


def test_catch_up_on_start_fills_the_missing_days_and_a_second_daemon_is_refused(
    start, env, db_path, tmp_path
):
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(5)
    first = start(
        env | {"NOTIFY_SOCKET": notify.getsockname(), "WATCHDOG_USEC": "2000000"},
        *SOURCE,
        "--pretend-date",
        TODAY,
    )
    first.wait_for(r"event=run_exited .*code=0")
    assert partitions(db_path) == MISSING
    [run] = runs(db_path)
    assert (run["job_name"], run["status"]) == ("daily_analysis", "completed")
    assert run["log"]["dates"]["list"] == [str(d) for d in MISSING]  # one run for all days

    second = start(env, *SOURCE, "--pretend-date", TODAY)
    assert second.wait(timeout=30) == 3
    assert "event=refused" in second.log() and "another daemon is in progress" in second.log()

    beat = heartbeat(db_path)
    assert (beat.pid, beat.state) == (first.process.pid, "idle")
    code, seconds = first.stop()
    assert code == 0 and seconds < STOP_SECONDS
    assert heartbeat(db_path).state == "stopped"
    messages = []
    with contextlib.suppress(TimeoutError):
        while True:
            messages.append(notify.recv(4096).decode())
    assert messages[0].startswith("READY=1")
    assert "WATCHDOG=1" in messages and messages[-1] == "STOPPING=1"
    notify.close()


def test_a_scheduled_run_fires_at_its_time(start, env, db_path):
    zone = ZoneInfo(ZONE)
    now = dt.datetime.now(zone)
    at = now.replace(microsecond=0) + dt.timedelta(seconds=8)
    replayed = dt.date.fromisoformat(TODAY) - now.date()  # --pretend-date shifts whole days
    daemon = start(env, *SOURCE, "--no-catch-up", "--at", f"{at:%H:%M:%S}", "--pretend-date", TODAY)
    daemon.wait_for("event=daemon_started")
    assert heartbeat(db_path).next_run == at + replayed
    due = daemon.wait_for("event=job_due job=daily_analysis", timeout=30)
    logged = dt.datetime.fromisoformat(due.split()[0].replace("Z", "+00:00"))
    assert logged >= at  # log times are whole seconds
    daemon.wait_for(r"event=run_exited .*code=0")
    [run] = runs(db_path)
    assert run["start_time"] > at.astimezone(dt.UTC).replace(tzinfo=None)
    assert run["status"] == "completed" and partitions(db_path) == MISSING
    assert daemon.stop()[0] == 0


def test_a_failing_source_is_retried_with_backoff_and_recorded(start, slow_env, db_path):
    daemon = start(
        slow_env | {"MAX_RETRIES": "2", "SCHEDULER_ENABLED": "false", "TEST_RUN_FAIL": "1"},
        "--once",  # --once runs even when the scheduler is disabled (cron)
        *SOURCE,
        "--pretend-date",
        TODAY,
    )
    assert daemon.wait() == 1
    recorded = runs(db_path)
    assert [r["status"] for r in recorded] == ["failed"] * 3
    assert all("network unreachable" in r["log"]["failure_reason"] for r in recorded)
    assert len(daemon.matching("event=run_spawned")) == 3
    assert [re.findall(r"in_s=(\S+)", line)[0] for line in daemon.matching("retry_scheduled")] == [
        "0.2",
        "0.4",
    ]
    assert daemon.matching("event=job_gave_up job=daily_analysis attempts=3")


def test_an_unusable_input_file_is_not_retried(start, env, db_path, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "prices.csv").write_text("when,what\nyesterday,nothing\n", encoding="utf-8")
    daemon = start(
        env | {"MAX_RETRIES": "2"},
        "--once",
        "--source",
        "files",
        "--data-dir",
        str(broken),
        "--pretend-date",
        TODAY,
    )
    assert daemon.wait() == 1
    [run] = runs(db_path)  # retrying cannot fix a file: one attempt, recorded
    assert run["status"] == "failed" and "prices.csv" in run["log"]["failure_reason"]
    assert "missing column" in run["log"]["failure_reason"]
    assert len(daemon.matching("event=run_spawned")) == 1


@pytest.mark.parametrize("deaf", [False, True], ids=["cooperative", "deaf-to-signals"])
def test_sigterm_mid_run_stops_within_10_s_and_records_it_interrupted(
    start, slow_env, db_path, deaf
):
    env = slow_env | ({"TEST_RUN_DEAF": "1"} if deaf else {})
    daemon = start(env, *SOURCE, "--pretend-date", TODAY)
    daemon.wait_for("TEST_HOOK run is loading")
    code, seconds = daemon.stop()
    assert code == 0 and seconds < STOP_SECONDS
    [run] = runs(db_path)
    assert run["status"] == "failed" and run["log"]["failure_reason"] == "interrupted"
    assert partitions(db_path) == []  # nothing half-written


def test_a_manual_run_during_a_daemon_run_is_refused(start, slow_env, db_path, tmp_path):
    daemon = start(slow_env, *SOURCE, "--pretend-date", TODAY)
    daemon.wait_for("TEST_HOOK run is loading")
    manual = subprocess.run(
        argenta("run", *SOURCE, "--date", "2024-03-08"),
        cwd=tmp_path,
        env=slow_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert manual.returncode == 3
    assert "another run is in progress" in manual.stderr
    assert "event=refused" in manual.stdout
    assert daemon.stop()[0] == 0


@pytest.mark.parametrize("deaf", [False, True], ids=["cooperative", "deaf-to-signals"])
def test_a_run_past_the_timeout_is_stopped_and_recorded_as_timeout(start, slow_env, db_path, deaf):
    env = slow_env | {"JOB_TIMEOUT_MINUTES": "0.02"} | ({"TEST_RUN_DEAF": "1"} if deaf else {})
    started = time.monotonic()
    daemon = start(env, *SOURCE, "--once", "--pretend-date", TODAY)
    assert daemon.wait() == 1
    assert time.monotonic() - started < 30  # not the minute the run wanted
    [run] = runs(db_path)
    assert run["status"] == "failed" and run["log"]["failure_reason"] == "timeout"
    assert partitions(db_path) == []


def test_a_daemon_killed_mid_run_is_recovered_by_the_next_start(start, env, slow_env, db_path):
    daemon = start(slow_env, *SOURCE, "--pretend-date", TODAY)
    daemon.wait_for("TEST_HOOK run is loading")
    child = heartbeat(db_path).job_pid
    assert child is not None and is_run(child)
    for pid in (daemon.process.pid, child):  # as the OOM killer or a power cut would
        os.kill(pid, signal.SIGKILL)
    daemon.wait()

    again = start(env, *SOURCE, "--once", "--pretend-date", TODAY)
    assert again.wait() == 0
    assert again.matching("event=stale_runs_closed count=1")
    killed, recovered = runs(db_path)
    assert killed["status"] == "failed" and "process died" in killed["log"]["failure_reason"]
    assert recovered["status"] == "completed"
    assert partitions(db_path) == MISSING
