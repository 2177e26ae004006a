"""The scheduler daemon: the daily job on a `schedule` clock, with catch-up, retries and heartbeat.

One daemon per database (the daemon lock) and one run at a time (the run lock, which
manual `argenta run`/`backfill` take too). Each run happens in a child process (the
hidden `argenta run-days` command), so this loop never computes: it waits for the
child, keeps the heartbeat and systemd's watchdog fed, stops a run past
JOB_TIMEOUT_MINUTES with a hard kill, and answers SIGTERM/SIGINT within seconds.

The `schedule` library never runs a missed job, so catching up is done here: the
daily job analyses every trading day up to yesterday (in DAILY_ANALYSIS_TIMEZONE)
that has no partition within ARGENTA_CATCHUP_DAYS, all in one run, on start and at
each scheduled time.

A job that gives up (every retry failed) ends the daemon with exit code 1, so systemd sees
the failure: `Restart=on-failure` starts it again after `RestartSec` (and it catches up,
retrying), and `OnFailure=` pushes `service_failed` (README, "What systemd sees").
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import schedule

from pipeline import errors
from pipeline.ops import alert_push, jobs, monitoring
from pipeline.ops.locking import LockHeld, exclusive
from pipeline.ops.monitoring import Heartbeat, write_heartbeat
from pipeline.settings import Settings
from store import writes
from store.connection import DatabaseError, open_writer

log = logging.getLogger("argenta.daemon")

Clock = Callable[[], dt.datetime]

LOOP_SECONDS = 0.5  # how often the loop looks at signals, the child and the schedule
HEARTBEAT_SECONDS = 10.0  # see monitoring.HEARTBEAT_STALE_SECONDS
ALERT_CHECK_SECONDS = 60.0  # health checked for alert pushes (also after every job)
STOP_GRACE_SECONDS = 5.0  # a child told to stop gets this long before SIGKILL
CLEANUP_LOCK_SECONDS = 2.0  # how long closing a killed child's run may wait for the file


# The daily analysis, at 06:00 in Buenos Aires by default: the previous sessions of BYMA
# and NYSE are final and the calls are ready before the open. It fills every trading day
# up to yesterday that has no partition (usually just yesterday; after downtime, all the
# missed days within ARGENTA_CATCHUP_DAYS, in one run).
JOB_NAME = "daily_analysis"  # as recorded in job_runs


class Outcome(Enum):
    """How one attempt of a job ended."""

    DONE = "done"  # the runs completed, or nothing was missing
    FAILED = "failed"  # worth retrying
    FATAL = "fatal"  # retrying cannot help (a usage error)
    STOPPED = "stopped"  # a stop was requested


@dataclass(frozen=True)
class DaemonOptions:
    """How the daemon was asked to run (the `argenta daemon` options)."""

    at: str | None = None  # HH:MM[:SS] for every daily trigger, instead of the settings
    catch_up_on_start: bool = True
    once: bool = False  # catch up once and return, without scheduling
    verbose: bool = False


def utc_clock() -> dt.datetime:
    """The real wall clock, as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def clock_on(day: dt.date, tz: dt.tzinfo, clock: Clock = utc_clock) -> Clock:
    """A clock that reads `day` (in `tz`) at the real time of day: for replays and tests."""
    offset = dt.timedelta(days=(day - clock().astimezone(tz).date()).days)
    return lambda: clock() + offset


def backoff_seconds(base: float, retry: int) -> float:
    """The wait before retry number `retry` (1, 2, ...): base, 2 x base, 4 x base, ..."""
    return base * 2 ** (retry - 1)


def schedule_daily(
    scheduler: schedule.Scheduler, settings: Settings, job: Callable[[], Any], at: str | None = None
) -> list[schedule.Job]:
    """Register `job` at `at` (default: the settings' hour:minute) in the analysis zone,
    Monday to Friday with ARGENTA_WEEKDAYS_ONLY, else every day."""
    time_of_day = at or f"{settings.daily_analysis_hour:02d}:{settings.daily_analysis_minute:02d}"
    zone = settings.daily_analysis_timezone
    if not settings.weekdays_only:
        return [scheduler.every().day.at(time_of_day, zone).do(job)]
    return [
        scheduler.every().monday.at(time_of_day, zone).do(job),
        scheduler.every().tuesday.at(time_of_day, zone).do(job),
        scheduler.every().wednesday.at(time_of_day, zone).do(job),
        scheduler.every().thursday.at(time_of_day, zone).do(job),
        scheduler.every().friday.at(time_of_day, zone).do(job),
    ]


def child_command(
    job_id: str, days: Sequence[dt.date], source: jobs.SourceOptions, verbose: bool = False
) -> list[str]:
    """The command that runs `days` as job `job_id` in a child process."""
    cmd = [sys.executable, "-m", "pipeline.ops.cli", *(["-v"] if verbose else []), "run-days"]
    cmd += ["--job", job_id, "--source", source.source]
    if source.data_dir is not None:
        cmd += ["--data-dir", str(source.data_dir)]
    if source.tickers:
        cmd += ["--tickers", ",".join(source.tickers)]
    return cmd + [d.isoformat() for d in days]


class SystemdNotifier:
    """sd_notify(3) without libsystemd: datagrams to $NOTIFY_SOCKET (no-op outside systemd)."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec, pid = environ.get("WATCHDOG_USEC"), environ.get("WATCHDOG_PID")
        mine = not pid or int(pid) == os.getpid()
        self.watchdog_seconds = int(usec) / 1e6 / 2 if usec and mine else None
        self._last_ping = -math.inf

    def send(self, *fields: str) -> None:
        """Send `KEY=value` fields in one datagram, never waiting for a slow listener."""
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                # A full queue (net.unix.max_dgram_qlen, 10 by default) would block the loop
                # that handles SIGTERM: drop the datagram and log instead.
                sock.sendto("\n".join(fields).encode(), socket.MSG_DONTWAIT, self.address)
        except OSError as exc:
            log.warning("event=notify_failed reason=%r", str(exc))

    def ping(self) -> None:
        """Feed the watchdog, at half its interval."""
        now = time.monotonic()
        if self.watchdog_seconds and now - self._last_ping >= self.watchdog_seconds:
            self._last_ping = now
            self.send("WATCHDOG=1")


class Daemon:
    """The scheduler loop for one database and one source."""

    def __init__(
        self,
        settings: Settings,
        source: jobs.SourceOptions,
        options: DaemonOptions | None = None,
        clock: Clock = utc_clock,
        notifier: SystemdNotifier | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.options = options or DaemonOptions()
        self.clock = clock
        self.notifier = notifier or SystemdNotifier()
        self.scheduler = schedule.Scheduler()
        self.stop_requested = threading.Event()
        self._signal: str | None = None
        self._started = clock()
        self._status: dict[str, Any] = {"state": "starting", "since": self._started}
        self._last_beat = -math.inf
        self._last_alert_check = -math.inf
        self._alert_channels = alert_push.channels(settings.alert_webhook, settings.alert_command)
        self.gave_up = False  # the job's retries ran out: the daemon exits 1 for systemd

    def serve(self) -> bool:
        """Run until SIGTERM/SIGINT (or one catch-up with `once`); False if a job failed.

        SCHEDULER_ENABLED=false turns the schedule off, not an explicit `once`.
        """
        if not self.settings.scheduler_enabled and not self.options.once:
            log.info("event=scheduler_disabled reason='SCHEDULER_ENABLED=false' action=exit")
            return True
        db = self.settings.database_path
        with exclusive(db, "daemon", f"argenta daemon ({self.source.source})"):
            previous = {
                s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)
            }
            try:
                return self._serve()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                self._set_state("stopped")
                self.notifier.send("STOPPING=1")
                log.info("event=daemon_stopped signal=%s", self._signal or "none")

    def _serve(self) -> bool:
        self._set_state("starting")
        self._close_stale_runs(jobs.STALE_REASON)
        if not self.options.once:
            schedule_daily(self.scheduler, self.settings, self._scheduled_tick, self.options.at)
        self._set_state("idle")
        log.info(
            "event=daemon_started pid=%d source=%s database=%s next_run=%s",
            os.getpid(),
            self.source.source,
            self.settings.database_path,
            self._next_run(),
        )
        self.notifier.send("READY=1", f"STATUS=next run {self._next_run()}")
        ok = True
        if self.options.catch_up_on_start or self.options.once:
            ok = self.run_job()
        if self.options.once:
            return ok
        while not self.stop_requested.is_set() and not self.gave_up:
            self.scheduler.run_pending()
            self._idle(LOOP_SECONDS)
        if self.gave_up:
            log.error("event=daemon_exiting reason=job_gave_up code=%d", errors.FAILED)
            self.notifier.send(f"STATUS={JOB_NAME} gave up: exiting {errors.FAILED} for systemd")
        return not self.gave_up

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signal = signal.Signals(signum).name
        self.stop_requested.set()

    def _scheduled_tick(self) -> None:
        """The daily job's scheduled time has come."""
        log.info("event=job_due job=%s", JOB_NAME)
        self.run_job()

    def run_job(self) -> bool:
        """Run the daily job now, retrying failures with exponential backoff; True if done."""
        attempts = self.settings.max_retries + 1
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                delay = backoff_seconds(self.settings.retry_backoff_seconds, attempt - 1)
                log.info(
                    "event=retry_scheduled job=%s attempt=%d in_s=%g", JOB_NAME, attempt, delay
                )
                self._set_state("retrying", job=JOB_NAME, attempt=attempt)
                if not self._idle(delay):
                    break
            try:
                outcome = self.catch_up(attempt)
            except Exception as exc:  # e.g. an unreadable database: retried like a failed run
                log.error(
                    "event=attempt_failed job=%s attempt=%d error=%r",
                    JOB_NAME,
                    attempt,
                    f"{type(exc).__name__}: {exc}",
                )
                outcome = Outcome.FAILED
            if outcome is not Outcome.FAILED:
                self._set_state("idle")
                self._report(outcome.value)
                return outcome is Outcome.DONE
        if not self.stop_requested.is_set():
            log.error("event=job_gave_up job=%s attempts=%d", JOB_NAME, attempts)
            self._report(f"GAVE UP after {attempts} attempts")
            self.gave_up = True
        self._set_state("idle")
        return False

    def _report(self, result: str) -> None:
        """Tell systemd (STATUS=, shown by `systemctl status`) and the alert channels."""
        now = self.clock().astimezone(self.settings.tz)
        self.notifier.send(
            f"STATUS=last {JOB_NAME}: {result} at {now:%Y-%m-%d %H:%M %Z}; "
            f"next run {self._next_run()}"
        )
        self._check_alerts()

    def _check_alerts(self) -> None:
        """Push alerts that started or cleared since the last check (never raises)."""
        self._last_alert_check = time.monotonic()
        if not self._alert_channels:
            return
        try:
            alerts = monitoring.health(self.settings, now=self.clock()).alerts
        except Exception as exc:  # a check that cannot run must not stop the daemon
            log.warning("event=alert_check_failed reason=%r", f"{type(exc).__name__}: {exc}")
            return
        db = self.settings.database_path
        alert_push.push(alert_push.alert_dicts(alerts), db, self._alert_channels)

    def catch_up(self, attempt: int) -> Outcome:
        """One attempt of the daily job: analyse every missing day in one run."""
        days = self.missing_days()
        if not days:
            log.info("event=nothing_missing job=%s", JOB_NAME)
            return Outcome.DONE
        log.info(
            "event=catch_up job=%s days=%d first=%s last=%s", JOB_NAME, len(days), days[0], days[-1]
        )
        return self._run_child(days, attempt)

    def missing_days(self) -> list[dt.date]:
        """Trading days up to yesterday (by the clock, in the schedule's zone) with no partition."""
        today = self.clock().astimezone(self.settings.tz).date()
        yesterday = today - dt.timedelta(days=1)
        return jobs.missing_days(self.settings, self.source, yesterday, self.settings.catchup_days)

    def _run_child(self, days: list[dt.date], attempt: int) -> Outcome:
        """Analyse `days` in a child process, recorded by it as one job_runs row."""
        cmd = child_command(JOB_NAME, days, self.source, self.options.verbose)
        started = time.monotonic()
        child = subprocess.Popen(cmd, env=_child_env(), start_new_session=True)
        log.info(
            "event=run_spawned job=%s attempt=%d pid=%d days=%d",
            JOB_NAME,
            attempt,
            child.pid,
            len(days),
        )
        self._set_state("running", job=JOB_NAME, job_pid=child.pid, attempt=attempt)
        code = self._wait(child)
        log.info(
            "event=run_exited job=%s attempt=%d code=%d seconds=%.1f",
            JOB_NAME,
            attempt,
            code,
            time.monotonic() - started,
        )
        if self.stop_requested.is_set():
            return Outcome.STOPPED
        if code == 0:
            return Outcome.DONE
        return Outcome.FATAL if code == errors.USAGE else Outcome.FAILED

    def _wait(self, child: subprocess.Popen) -> int:
        """Wait for the child while beating; stop it on a signal, kill it past the backstop.

        A child that dies by a signal cannot record its run, so its `running` row is closed
        here: as `interrupted` or `timeout` when this loop stopped it.
        """
        timeout = self.settings.job_timeout_minutes * 60
        # The child stops itself at JOB_TIMEOUT_MINUTES; one stuck in native code does not
        # see that alarm, so it is killed a little later.
        deadline = time.monotonic() + timeout + max(5.0, timeout / 10)
        reason = None
        while child.poll() is None:
            if self.stop_requested.is_set():
                reason = "interrupted"
                self._stop_child(child)
            elif time.monotonic() > deadline:
                reason = "timeout"
                log.error("event=run_killed pid=%d reason=timeout", child.pid)
                child.kill()
                child.wait()
            else:
                self._tick()
                self.stop_requested.wait(LOOP_SECONDS)
        if child.returncode < 0:
            self._close_stale_runs(reason or f"killed by {signal.Signals(-child.returncode).name}")
        return child.returncode

    def _stop_child(self, child: subprocess.Popen) -> None:
        """SIGTERM (the run rolls back and records itself as interrupted), then SIGKILL."""
        log.info("event=run_stopping pid=%d signal=%s", child.pid, self._signal)
        self._set_state("stopping", job=self._status.get("job"), job_pid=child.pid)
        child.terminate()
        try:
            child.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("event=run_killed pid=%d reason=interrupted", child.pid)
            child.kill()
            child.wait()

    def _close_stale_runs(self, reason: str) -> None:
        """Close `running` rows as failed with `reason`, unless a live run holds the run lock."""
        db = self.settings.database_path
        try:
            with (
                exclusive(db, "run", "argenta daemon: closing stale runs"),
                open_writer(db, retry_seconds=CLEANUP_LOCK_SECONDS) as con,
            ):
                closed = writes.close_stale_runs(con, reason)
        except LockHeld:
            log.info("event=stale_runs_skipped reason='a run is in progress'")
            return
        except DatabaseError as exc:
            log.error("event=stale_runs_failed reason=%r", str(exc))
            return
        if closed:
            log.warning("event=stale_runs_closed count=%d reason=%r", closed, reason)

    def _idle(self, seconds: float) -> bool:
        """Wait `seconds` while beating; False as soon as a stop is requested."""
        deadline = time.monotonic() + seconds
        while not self.stop_requested.is_set() and (left := deadline - time.monotonic()) > 0:
            self._tick()
            self.stop_requested.wait(min(left, LOOP_SECONDS))
        return not self.stop_requested.is_set()

    def _tick(self) -> None:
        """Rewrite the heartbeat every HEARTBEAT_SECONDS and feed systemd's watchdog."""
        self.notifier.ping()
        if time.monotonic() - self._last_beat >= HEARTBEAT_SECONDS:
            self._write_beat()
        if time.monotonic() - self._last_alert_check >= ALERT_CHECK_SECONDS:
            self._check_alerts()

    def _set_state(self, state: str, **job: Any) -> None:
        """Enter `state` (with the job's name, pid and attempt) and say so in the heartbeat."""
        self._status = {**job, "state": state, "since": self.clock()}
        self._write_beat()

    def _write_beat(self) -> None:
        now = self.clock()
        beat = Heartbeat(
            os.getpid(), self._started, now, next_run=self._next_run(now), **self._status
        )
        self._last_beat = time.monotonic()
        try:
            write_heartbeat(self.settings.database_path, beat)
        except OSError as exc:
            log.warning("event=heartbeat_failed reason=%r", str(exc))

    def _next_run(self, now: dt.datetime | None = None) -> dt.datetime | None:
        """The next scheduled run, on the daemon's clock."""
        seconds = self.scheduler.idle_seconds
        if seconds is None:
            return None
        at = (now or self.clock()) + dt.timedelta(seconds=max(seconds, 0.0))
        # Scheduled times are whole seconds: drop the microseconds of reading two clocks.
        return at.replace(microsecond=0) + dt.timedelta(seconds=at.microsecond >= 500_000)


def _child_env() -> dict[str, str]:
    """The environment for a run's child, without systemd's notification variables."""
    hidden = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
    return {k: v for k, v in os.environ.items() if k not in hidden}
