"""The daemon in process: the daily job on the schedule, catch-up days, retries, sd_notify."""

from __future__ import annotations

import datetime as dt
import itertools
import socket
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import schedule

from pipeline.analysis import calendar
from pipeline.ops import daemon
from pipeline.ops.daemon import Daemon, Outcome, SystemdNotifier
from pipeline.ops.jobs import SourceOptions
from pipeline.ops.monitoring import read_heartbeat
from pipeline.settings import Settings
from store import writes
from store.connection import open_writer
from tests.factories import partition

SAMPLE = SourceOptions("sample")


def make_settings(db_path: Path, **env: str) -> Settings:
    return Settings.from_env({"DATABASE_URL": str(db_path), **env}, env_file=None)


def registered(settings: Settings, at: str | None = None) -> list[schedule.Job]:
    scheduler = schedule.Scheduler()
    daemon.schedule_daily(scheduler, settings, lambda: None, at)
    return scheduler.jobs


def test_the_daily_job_runs_monday_to_friday_at_the_configured_time(db_path):
    settings = make_settings(db_path, DAILY_ANALYSIS_HOUR="7", DAILY_ANALYSIS_MINUTE="45")
    jobs = registered(settings)
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]
    assert sorted(str(j.start_day) for j in jobs) == sorted(weekdays)
    assert {(j.at_time, str(j.at_time_zone)) for j in jobs} == {
        (dt.time(7, 45), "America/Argentina/Buenos_Aires")
    }


def test_every_day_and_an_explicit_time_when_asked(db_path):
    settings = make_settings(db_path, ARGENTA_WEEKDAYS_ONLY="false")
    [job] = registered(settings, at="21:30:15")
    assert (job.unit, job.interval, job.at_time) == ("days", 1, dt.time(21, 30, 15))


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Madrid", "Australia/Sydney"])
def test_the_next_run_is_at_the_wall_clock_time_of_a_zone_with_daylight_saving(db_path, zone):
    settings = make_settings(db_path, DAILY_ANALYSIS_TIMEZONE=zone, ARGENTA_WEEKDAYS_ONLY="false")
    [job] = registered(settings)
    assert job.next_run is not None
    local = job.next_run.astimezone(ZoneInfo(zone))  # next_run is naive system-local time
    assert (local.hour, local.minute) == (6, 0)
    assert dt.timedelta(0) < job.next_run - dt.datetime.now() <= dt.timedelta(days=1)


def fixed(moment: str) -> daemon.Clock:
    return lambda: dt.datetime.fromisoformat(moment)


@pytest.mark.parametrize(
    ("now_utc", "yesterday"),
    [
        ("2024-03-11T12:00:00+00:00", dt.date(2024, 3, 10)),
        # 23:00 on the 11th in Buenos Aires is already the 12th in UTC: the zone decides.
        ("2024-03-12T02:00:00+00:00", dt.date(2024, 3, 10)),
    ],
)
def test_catch_up_covers_the_trading_days_up_to_yesterday_on_the_clock(db_path, now_utc, yesterday):
    settings = make_settings(db_path, ARGENTA_CATCHUP_DAYS="10")
    days = Daemon(settings, SAMPLE, clock=fixed(now_utc)).missing_days()
    start = yesterday - dt.timedelta(days=10)
    sessions = {d for x in calendar.EXCHANGES for d in calendar.trading_days(x, start, yesterday)}
    assert days == sorted(sessions)
    assert days[-1] == dt.date(2024, 3, 8)  # Friday: the weekend is not a trading day


def test_the_replay_clock_reads_the_given_day_at_the_real_time_of_day():
    tz = ZoneInfo("America/Argentina/Buenos_Aires")
    clock = daemon.clock_on(dt.date(2024, 3, 11), tz)
    now = dt.datetime.now(dt.UTC)
    pretend = clock()
    assert pretend.astimezone(tz).date() == dt.date(2024, 3, 11)
    assert (pretend - now).seconds < 5  # whole days apart: the same time of day


class Recording(Daemon):
    """A daemon that records the batches of days it would run instead of spawning runs."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, SAMPLE, clock=fixed("2024-03-11T12:00:00+00:00"))
        self.batches: list[list[dt.date]] = []

    def _run_child(self, days: list[dt.date], attempt: int) -> Outcome:
        self.batches.append(days)
        return Outcome.DONE


def test_missed_days_are_filled_in_one_run(db_path):
    recording = Recording(make_settings(db_path))
    days = recording.missing_days()
    assert len(days) > 1
    assert recording.catch_up(attempt=1) is Outcome.DONE
    assert recording.batches == [days]


def test_nothing_runs_when_no_day_is_missing(db_path):
    recording = Recording(make_settings(db_path))
    days = recording.missing_days()
    with open_writer(db_path) as con:
        writes.replace_partitions(con, days, [partition(d, ["GGAL"]) for d in days])
    assert recording.missing_days() == []
    assert recording.catch_up(attempt=1) is Outcome.DONE
    assert recording.batches == []


class Scripted(Daemon):
    """A daemon whose job attempts return scripted outcomes instead of spawning runs."""

    def __init__(self, settings: Settings, outcomes: list[Outcome]) -> None:
        super().__init__(settings, SAMPLE)
        self.outcomes = outcomes
        self.attempts: list[tuple[int, float]] = []

    def catch_up(self, attempt: int) -> Outcome:
        self.attempts.append((attempt, time.monotonic()))
        return self.outcomes.pop(0)


@pytest.mark.parametrize(
    ("retries", "outcomes", "done", "attempts"),
    [
        ("2", [Outcome.FAILED, Outcome.FAILED, Outcome.DONE], True, 3),
        ("1", [Outcome.FAILED, Outcome.FAILED, Outcome.DONE], False, 2),
        ("3", [Outcome.FATAL], False, 1),  # a usage error is not retried
    ],
)
def test_failed_attempts_are_retried_with_exponential_backoff(
    db_path, retries, outcomes, done, attempts
):
    env = {"MAX_RETRIES": retries, "ARGENTA_RETRY_BACKOFF_SECONDS": "0.2"}
    scripted = Scripted(make_settings(db_path, **env), outcomes)
    assert scripted.run_job() is done
    assert [n for n, _ in scripted.attempts] == list(range(1, attempts + 1))
    times = [t for _, t in scripted.attempts]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(wait <= gap < wait + 0.5 for gap, wait in zip(gaps, (0.2, 0.4, 0.8), strict=False))
    beat = read_heartbeat(db_path)
    assert beat is not None and beat.state == "idle"


def test_a_stop_request_cuts_the_backoff_short(db_path):
    env = {"MAX_RETRIES": "3", "ARGENTA_RETRY_BACKOFF_SECONDS": "60"}
    scripted = Scripted(make_settings(db_path, **env), [Outcome.FAILED] * 4)
    threading.Timer(0.3, scripted.stop_requested.set).start()
    started = time.monotonic()
    assert scripted.run_job() is False
    assert time.monotonic() - started < 2
    assert len(scripted.attempts) == 1


@pytest.fixture
def notify_socket(tmp_path: Path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(2)
    yield sock
    sock.close()


def test_the_notifier_speaks_sd_notify_and_paces_the_watchdog(notify_socket):
    env = {"NOTIFY_SOCKET": notify_socket.getsockname(), "WATCHDOG_USEC": "400000"}
    notifier = SystemdNotifier(env)
    assert notifier.watchdog_seconds == pytest.approx(0.2)
    notifier.send("READY=1", "STATUS=idle")
    notifier.ping()
    notifier.ping()  # too soon: not sent
    time.sleep(0.25)
    notifier.ping()
    notify_socket.settimeout(0.5)
    received = []
    with pytest.raises(TimeoutError):
        while True:
            received.append(notify_socket.recv(1024).decode())
    assert received == ["READY=1\nSTATUS=idle", "WATCHDOG=1", "WATCHDOG=1"]


def test_the_notifier_never_blocks_on_a_listener_that_does_not_read(notify_socket, caplog):
    notifier = SystemdNotifier({"NOTIFY_SOCKET": notify_socket.getsockname()})

    def flood() -> None:  # far beyond the kernel's datagram queue (10 by default)
        for _ in range(100):
            notifier.send("WATCHDOG=1")

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    sender.join(timeout=5)
    assert not sender.is_alive(), "send() blocked on a full notify socket"
    assert "event=notify_failed" in caplog.text
    notify_socket.settimeout(0.5)
    assert notify_socket.recv(1024) == b"WATCHDOG=1"  # what fitted in the queue was delivered


def test_the_notifier_is_silent_outside_systemd_and_for_another_pid():
    assert SystemdNotifier({}).address == ""
    SystemdNotifier({}).send("READY=1")  # no socket: nothing happens
    other = SystemdNotifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert other.watchdog_seconds is None
    assert SystemdNotifier({"NOTIFY_SOCKET": "@abstract"}).address == "\0abstract"


def test_the_child_command_carries_the_days_and_the_source(tmp_path):
    options = SourceOptions("files", tmp_path, ("GGAL", "YPF"))
    days = [dt.date(2024, 3, 7), dt.date(2024, 3, 8)]
    cmd = daemon.child_command("daily_analysis", days, options)
    assert cmd[-2:] == ["2024-03-07", "2024-03-08"]
    joined = " ".join(cmd)
    assert "run-days --job daily_analysis --source files" in joined
    assert f"--data-dir {tmp_path}" in joined and "--tickers GGAL,YPF" in joined
