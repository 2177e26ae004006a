"""The real daemon as a subprocess against a DuckDB file: schedule, catch-up, refusals,
retries, timeout, signals and recovery after kill -9.

Runs use the bundled sample with a replayed date (--pretend-date 2024-03-11, whose
yesterday is a Sunday: the missing trading days are 2024-03-06..08 with a 4-day
look-back) and two ADRs, so each run takes seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from pipeline.ops.monitoring import read_heartbeat
from tests.daemon_support import (
    MISSING,
    SOURCE,
    TODAY,
    ZONE,
    argenta,
    heartbeat,
    is_run,
    partitions,
    runs,
)

pytestmark = pytest.mark.slow  # each test drives a real daemon process for 2-16 s

STOP_SECONDS = 10  # how fast SIGTERM must stop the daemon (README: Operating the daemon)


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
    notify.settimeout(0.2)
    messages: list[str] = []
    stopped = threading.Event()

    def listen() -> None:  # as systemd does: read every datagram as it comes
        while not stopped.is_set():
            with contextlib.suppress(TimeoutError):
                messages.append(notify.recv(4096).decode())

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
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
    stopped.set()
    listener.join(timeout=5)
    with contextlib.suppress(TimeoutError):  # anything still queued
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
    logged = dt.datetime.fromisoformat(due.split()[0].removeprefix("ts="))  # logfmt, with offset
    assert logged >= at
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


@pytest.mark.parametrize("when", ["catch-up", "scheduled"])
def test_a_job_that_gives_up_ends_the_daemon_with_1_so_systemd_sees_it(
    start, slow_env, db_path, tmp_path, when
):
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(0.5)
    failing = slow_env | {"MAX_RETRIES": "1", "TEST_RUN_FAIL": "1"}
    failing["NOTIFY_SOCKET"] = notify.getsockname()
    args = [*SOURCE, "--pretend-date", TODAY]
    if when == "scheduled":  # no catch-up: the failing run is the scheduled one
        at = dt.datetime.now(ZoneInfo(ZONE)) + dt.timedelta(seconds=12)
        args += ["--no-catch-up", "--at", f"{at:%H:%M:%S}"]
    daemon = start(failing, *args)  # scheduled mode: not --once
    if when == "scheduled":
        daemon.wait_for("event=job_due", timeout=40)
    assert daemon.wait(timeout=60) == 1
    assert daemon.matching("event=job_gave_up job=daily_analysis attempts=2")
    assert daemon.matching("event=daemon_exiting reason=job_gave_up code=1")
    error = [line for line in daemon.lines if line.startswith("error:")][-1]  # the daemon's own
    assert "gave up after 2 attempts" in error and "systemd" in error
    assert [r["status"] for r in runs(db_path)] == ["failed", "failed"]
    assert heartbeat(db_path).state == "stopped"
    messages = []
    with contextlib.suppress(TimeoutError):
        while True:
            messages.append(notify.recv(4096).decode())
    notify.close()
    statuses = [m for m in messages if m.startswith("STATUS=")]
    assert any("GAVE UP after 2 attempts" in m for m in statuses), messages
    assert "STATUS=daily_analysis gave up: exiting 1 for systemd" in statuses
    assert messages[-1] == "STOPPING=1"


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
    # Retrying cannot fix a file: one attempt, refused before anything is recorded (like
    # `argenta run`), with the file and the missing column named in the daemon's log.
    assert runs(db_path) == []
    assert len(daemon.matching("event=run_spawned")) == 1
    assert [line for line in daemon.matching("missing column") if "prices.csv" in line]


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
    assert manual.stderr.count("\n") == 1 and manual.stdout == ""  # one line, no log event
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
