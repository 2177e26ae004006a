"""Health and alerts on crafted job_runs histories, heartbeats, databases and disks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from pipeline import errors
from pipeline.analysis import calendar
from pipeline.ops import cli, monitoring
from pipeline.ops.monitoring import (
    ALERT_TEXT,
    Heartbeat,
    describe,
    health,
    read_heartbeat,
    write_heartbeat,
)
from pipeline.settings import Settings
from store import writes
from store.connection import open_writer
from tests.factories import partition
from ui.alerts import ALERTAS, mensaje

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def quiet(db_path: Path) -> Settings:
    """Settings whose only possible alerts come from the runs (no daemon, no disk threshold)."""
    env = {
        "DATABASE_URL": str(db_path),
        "SCHEDULER_ENABLED": "false",
        "ARGENTA_LOW_DISK_MB": "0",
    }
    return Settings.from_env(env, env_file=None)


def record(db_path: Path, *runs: tuple[str, str], minutes: float = 1.0, reason: str = "boom"):
    """Append finished runs (job_name, completed|failed), oldest first, each `minutes` long."""
    clock = [NOW.replace(tzinfo=None) - dt.timedelta(days=1)]

    def tick(step: float) -> dt.datetime:
        clock[0] += dt.timedelta(minutes=step)
        return clock[0]

    with pytest.MonkeyPatch.context() as mp, open_writer(db_path) as con:
        for job, status in runs:
            mp.setattr(writes, "utc_now", lambda: tick(1))
            job_id = writes.start_job(con, job)
            mp.setattr(writes, "utc_now", lambda: tick(minutes))
            if status == "completed":
                log = {"errors_by_type": {"source": 2, "fundamental": 1}}
                writes.finish_job(con, job_id, 30, 3, log)
            else:
                writes.fail_job(con, job_id, reason)


def codes(settings: Settings, now: dt.datetime = NOW) -> list[str]:
    return [a.code for a in health(settings, now).alerts]


FAILED, DONE = ("daily_analysis", "failed"), ("daily_analysis", "completed")


@pytest.mark.parametrize(
    ("history", "alerted"),
    [
        ([DONE, FAILED, FAILED, FAILED], False),  # three in a row: not yet
        ([DONE, FAILED, FAILED, FAILED, FAILED], True),  # more than three
        ([FAILED, FAILED, FAILED, FAILED, DONE], False),  # a success ends the streak
        ([FAILED, FAILED, ("backfill", "failed"), FAILED, ("backfill", "completed")], False),
    ],
    ids=["three", "four", "recovered", "other-job-between"],
)
def test_more_than_three_failures_in_a_row_alert(quiet, db_path, history, alerted):
    record(db_path, *history, reason="timeout")
    report = health(quiet, NOW)
    assert ("consecutive_failures" in [a.code for a in report.alerts]) is alerted
    if alerted:
        alert = report.alerts[0]
        assert alert.severity == "critical"
        assert alert.params == {"job": "daily_analysis", "count": 4, "reason": "timeout"}
        assert describe(alert) == "daily_analysis failed 4 times in a row (latest reason: timeout)"
        assert mensaje(alert, "UTC") == (
            "La corrida diaria falló 4 veces seguidas (último motivo: tiempo agotado)."
        )


def test_a_healthy_history_reports_its_metrics_and_no_alert(quiet, db_path):
    record(db_path, FAILED, DONE, DONE, DONE, minutes=2)
    report = health(quiet, NOW)
    assert report.healthy and report.alerts == ()
    assert report.success_rate == 0.75
    assert report.consecutive_failures == 0
    assert report.last_run is not None
    assert report.last_run["status"] == "completed"
    assert report.last_run["duration_s"] == pytest.approx(120)
    assert report.last_run["tickers_processed"] == 30
    assert report.errors_by_type == {"source": 2, "fundamental": 1}
    assert report.runs.height == 4 and report.runs["failure_reason"].to_list()[-1] == "boom"
    assert report.db_size_bytes == db_path.stat().st_size


@pytest.mark.parametrize(
    ("minutes", "status", "alerted"),
    [(59, "completed", False), (61, "completed", True), (75, "failed", True)],
)
def test_a_run_longer_than_an_hour_alerts(quiet, db_path, minutes, status, alerted):
    record(db_path, ("daily_analysis", status), minutes=minutes)
    assert ("long_run" in codes(quiet)) is alerted


@pytest.mark.parametrize(("minutes", "alerted"), [(50, False), (70, True)])
def test_a_run_in_progress_for_more_than_an_hour_alerts(quiet, db_path, minutes, alerted):
    record(db_path, DONE, minutes=40)  # usually 40 minutes: 50 is not yet twice that
    since = NOW - dt.timedelta(minutes=minutes)
    write_heartbeat(db_path, Heartbeat(1, since, NOW, "running", since, job="daily_analysis"))
    alerts = health(quiet, NOW).alerts
    assert [a.code for a in alerts] == (["long_run"] if alerted else [])
    if alerted:
        assert (alerts[0].key, alerts[0].params["minutes"]) == ("long_run.running", 70)
        assert "daily_analysis run in progress has been running for 70 minutes" in describe(
            alerts[0]
        )
        assert mensaje(alerts[0], "UTC") == (
            "La corrida diaria en curso lleva 70 minutos (más de 60)."
        )


HOLD_READ_WRITE = (  # e.g. a DuckDB CLI opened on the published file without -readonly
    "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('OPEN', flush=True);"
    " sys.stdin.readline()"
)


@pytest.mark.parametrize(
    "problem", ["missing", "corrupt", pytest.param("locked", marks=pytest.mark.slow)]
)
def test_database_connection_errors_alert(quiet, db_path, problem):
    holder = None
    if problem == "corrupt":
        db_path.write_bytes(b"not a duckdb file" * 100)
    elif problem == "locked":
        record(db_path, DONE)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_READ_WRITE, str(db_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout and holder.stdout.readline().startswith("OPEN")
    try:
        report = health(quiet, NOW)
    finally:
        if holder:
            holder.communicate("\n", timeout=10)
    assert [a.code for a in report.alerts] == ["database_error"]
    assert report.alerts[0].severity == "critical"
    assert {"missing": "does not exist", "corrupt": "not a valid", "locked": "locked"}[
        problem
    ] in describe(report.alerts[0])
    assert report.runs.is_empty()


def test_low_disk_space_alerts_below_the_threshold(quiet, db_path):
    record(db_path, DONE)
    free_bytes = health(quiet, NOW).free_disk_bytes
    assert free_bytes is not None
    free_mb = free_bytes / monitoring.MB
    below = dataclasses.replace(quiet, low_disk_threshold_mb=int(free_mb) + 1024)
    above = dataclasses.replace(quiet, low_disk_threshold_mb=max(1, int(free_mb) - 1024))
    assert codes(below) == ["low_disk"]
    assert codes(above) == []


def beat(state: str = "idle", seconds_ago: float = 5) -> Heartbeat:
    tick = NOW - dt.timedelta(seconds=seconds_ago)
    since = NOW - dt.timedelta(minutes=10)
    return Heartbeat(
        4242, NOW - dt.timedelta(days=2), tick, state, since, NOW + dt.timedelta(hours=3)
    )


@pytest.mark.parametrize(
    ("heartbeat", "alerted"),
    [
        (None, True),
        (beat(), False),
        (beat("running", seconds_ago=60), False),
        (beat(seconds_ago=monitoring.HEARTBEAT_STALE_SECONDS + 60), True),
        (beat("stopped"), True),
    ],
    ids=["missing", "fresh", "running", "stale", "stopped"],
)
def test_the_daemon_heartbeat_alerts_when_missing_stale_or_stopped(
    quiet, db_path, heartbeat, alerted
):
    record(db_path, DONE)
    if heartbeat:
        write_heartbeat(db_path, heartbeat)
    enabled = dataclasses.replace(quiet, scheduler_enabled=True)
    assert ("daemon_down" in codes(enabled)) is alerted
    assert codes(quiet) == []  # without a scheduler there is no daemon to miss
    for alert in health(enabled, NOW).alerts:  # every situation reads in both languages
        assert describe(alert) and mensaje(alert, "America/Argentina/Buenos_Aires")


def test_a_heartbeat_reads_back_as_written(db_path):
    write_heartbeat(db_path, beat("running"))
    assert read_heartbeat(db_path) == beat("running")
    assert monitoring.heartbeat_path(db_path).name == "argenta_ia.duckdb.heartbeat.json"


def test_the_summary_is_json_and_names_every_alert(quiet, db_path):
    record(db_path, *[FAILED] * 5)
    report = health(dataclasses.replace(quiet, scheduler_enabled=True), NOW)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["healthy"] is False
    assert {a["code"] for a in data["alerts"]} == {"consecutive_failures", "daemon_down"}
    assert len(data["recent_runs"]) == 5 and data["consecutive_failures"] == 5
    # every timestamp says its zone (the store's naive UTC times included)
    stamps = [data["checked_at"]] + [r["start_time"] for r in data["recent_runs"]]
    assert all(dt.datetime.fromisoformat(t).utcoffset() == dt.timedelta(0) for t in stamps)
    text = monitoring.render_text(report)
    assert "2 alerts" in text and "CRITICAL  consecutive_failures" in text


@pytest.mark.parametrize(("history", "code"), [([DONE], 0), ([FAILED] * 4, errors.ALERT)])
@pytest.mark.parametrize("as_json", [False, True])
def test_status_exits_non_zero_while_an_alert_is_active(db_path, history, code, as_json):
    record(db_path, *history)
    env = {"DATABASE_URL": str(db_path), "SCHEDULER_ENABLED": "false", "ARGENTA_LOW_DISK_MB": "0"}
    result = CliRunner().invoke(cli.main, ["status", *(["--json"] if as_json else [])], env=env)
    assert result.exit_code == code, result.output
    if as_json:
        assert json.loads(result.output)["healthy"] is (code == 0)
    else:
        assert ("consecutive_failures" in result.output) is (code != 0)


def test_every_alert_has_an_english_and_a_spanish_text():
    assert set(ALERT_TEXT) == set(ALERTAS)


def test_a_stopped_or_silent_daemon_reads_in_local_time_and_es_ar_numbers(quiet, db_path):
    record(db_path, DONE)
    enabled = dataclasses.replace(quiet, scheduler_enabled=True)
    write_heartbeat(db_path, beat("stopped"))
    [stopped] = health(enabled, NOW).alerts
    assert describe(stopped) == "the daemon (pid 4242) stopped at 2026-03-10 11:59:55 UTC"
    buenos_aires = "America/Argentina/Buenos_Aires"
    assert (
        mensaje(stopped, buenos_aires)
        == "El planificador (pid 4242) se detuvo el 10/03/2026 08:59."
    )
    write_heartbeat(db_path, beat(seconds_ago=3 * 3600 + 125))
    [silent] = health(enabled, NOW).alerts
    assert (
        mensaje(silent, buenos_aires) == "El planificador (pid 4242) no da señales hace 3 h 02 min."
    )


# --- the checks that a source still delivers: stale data, volume, a slow run ---------------

BA = ZoneInfo("America/Argentina/Buenos_Aires")


def ba(day: str, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=BA)


@pytest.mark.parametrize(
    ("now", "env", "behind"),
    [
        (ba("2024-03-11", 6, 30), {}, None),  # Monday before 07:00: Friday's is the latest due
        (ba("2024-03-11", 7, 30), {}, None),  # Monday's run stored Friday's session
        (ba("2024-03-12", 7, 30), {}, 1),  # Tuesday's run should have stored Monday's
        (ba("2024-03-12", 7, 30), {"ARGENTA_STALE_SESSIONS": "2"}, None),
        (ba("2024-03-13", 7, 30), {"ARGENTA_STALE_SESSIONS": "2"}, 2),
        (ba("2024-03-20", 7, 30), {"ARGENTA_STALE_SESSIONS": "0"}, None),  # turned off
        (ba("2024-03-12", 6, 30), {"JOB_TIMEOUT_MINUTES": "20"}, 1),  # due at 06:20
    ],
    ids=["before-run", "after-run", "one-behind", "threshold-2", "two-behind", "off", "timeout"],
)
def test_data_behind_the_expected_run_by_the_exchange_calendar_alerts(small_db, now, env, behind):
    base = {"DATABASE_URL": str(small_db), "SCHEDULER_ENABLED": "false", "ARGENTA_LOW_DISK_MB": "0"}
    report = health(Settings.from_env(base | env, env_file=None), now)
    stale = [a for a in report.alerts if a.code == "stale_data"]
    assert report.latest_sessions == {"NYSE": dt.date(2024, 3, 8)}  # small_db: ADRs only
    assert len(stale) == (behind is not None)
    if behind:
        [alert] = stale
        assert alert.severity == "critical" and alert.params["sessions"] == behind
        assert alert.params["latest"] == dt.date(2024, 3, 8)
        assert describe(alert).startswith(f"NYSE data is behind (sessions missing: {behind})")
        assert "latest analysed session is 2024-03-08" in describe(alert)
        assert mensaje(alert, "America/Argentina/Buenos_Aires").startswith(
            f"Los datos de NYSE están atrasados {behind} rueda{'s' * (behind > 1)}: la última "
            "rueda analizada es la "
            "del vie 08/03/2024"
        )


def test_a_weekend_waits_for_mondays_run_unless_the_schedule_runs_every_day(db_path):
    thursday = dt.date(2024, 3, 7)
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [thursday], [partition(thursday, ["GGAL", "YPF"])])
    base = {"DATABASE_URL": str(db_path), "SCHEDULER_ENABLED": "false", "ARGENTA_LOW_DISK_MB": "0"}
    saturday = ba("2024-03-09", 12)
    weekdays = Settings.from_env(base, env_file=None)  # Friday's session is Monday's run
    every_day = Settings.from_env(base | {"ARGENTA_WEEKDAYS_ONLY": "false"}, env_file=None)
    assert "stale_data" not in codes(weekdays, saturday)
    assert "stale_data" in codes(every_day, saturday)
    assert "stale_data" in codes(weekdays, ba("2024-03-11", 9))  # Monday, after the run


def runs_processing(db_path: Path, *tickers: int, job: str = "daily_analysis") -> None:
    """Completed runs of `job` that processed these numbers of tickers, oldest first."""
    with open_writer(db_path) as con:
        for n in tickers:
            writes.finish_job(con, writes.start_job(con, job), n, 0, {})


@pytest.mark.parametrize(
    ("history", "variant"),
    [
        ([30, 31, 29, 30, 24], None),  # 24 is 80 % of the usual 30
        ([30, 31, 29, 30, 23], "share"),
        ([30, 31, 29, 30, 0], "none"),
        ([0], "none"),  # no ticker is an alert even with no history
        ([30, 31, 30], None),
    ],
)
def test_a_run_that_processed_too_few_tickers_alerts(quiet, db_path, history, variant):
    runs_processing(db_path, *history)
    runs_processing(db_path, 1, job="backfill")  # other jobs (a partial backfill) do not count
    alerts = [a for a in health(quiet, NOW).alerts if a.code == "low_volume"]
    assert [a.variant for a in alerts] == ([variant] if variant else [])
    if variant == "share":
        assert alerts[0].severity == "warning"
        assert describe(alerts[0]).endswith("processed 23 tickers, under 80 % of the usual 30")
        assert mensaje(alerts[0], "UTC").endswith(
            "procesó 23 tickers, menos del 80 % de los 30 habituales."
        )
    if variant == "none":
        assert alerts[0].severity == "critical" and "no ticker" in describe(alerts[0])


def test_the_volume_share_is_a_setting(quiet, db_path):
    runs_processing(db_path, 30, 30, 30, 20)
    assert "low_volume" in codes(quiet)
    assert "low_volume" not in codes(dataclasses.replace(quiet, volume_share=0.5))


@pytest.mark.parametrize(("minutes", "alerted"), [(15, False), (25, True), (61, False)])
def test_a_run_taking_over_twice_its_usual_time_is_an_early_warning(
    quiet, db_path, minutes, alerted
):
    record(db_path, DONE, DONE, DONE, minutes=10)
    since = NOW - dt.timedelta(minutes=minutes)
    write_heartbeat(db_path, Heartbeat(1, since, NOW, "running", since, job="daily_analysis"))
    alerts = [a for a in health(quiet, NOW).alerts if a.code in ("slow_run", "long_run")]
    if minutes > 60:  # past an hour the long-run alert takes over
        assert [a.code for a in alerts] == ["long_run"]
        return
    assert [a.code for a in alerts] == (["slow_run"] if alerted else [])
    if alerted:
        assert alerts[0].severity == "warning"
        assert describe(alerts[0]) == (
            "the daily_analysis run in progress has been running for 25 minutes, over 2 times "
            "its usual 10.0"
        )
        assert mensaje(alerts[0], "UTC") == (
            "La corrida diaria en curso lleva 25 minutos, más de 2 veces lo habitual "
            "(10,0 minutos): puede terminar tarde."
        )


def test_status_shows_stale_data_in_text_and_json_and_exits_4(db_path):
    """With the real clock: data dated 10 sessions before today is stale whatever the day."""
    sessions = calendar.trading_days(
        "XNYS", dt.date.today() - dt.timedelta(days=40), dt.date.today()
    )
    old = sessions[-11]
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [old], [partition(old, ["GGAL", "YPF"])])
        writes.finish_job(con, writes.start_job(con, "daily_analysis"), 2, 0, {})
    env = {"DATABASE_URL": str(db_path), "SCHEDULER_ENABLED": "false", "ARGENTA_LOW_DISK_MB": "0"}
    text = CliRunner().invoke(cli.main, ["status"], env=env)
    assert text.exit_code == errors.ALERT, text.output
    assert f"data      NYSE {old:%Y-%m-%d}" in text.output
    assert "CRITICAL  stale_data: NYSE data is" in text.output
    as_json = CliRunner().invoke(cli.main, ["status", "--json"], env=env)
    data = json.loads(as_json.output)
    [alert] = data["alerts"]
    assert alert["code"] == "stale_data" and alert["params"]["latest"] == old.isoformat()
    assert alert["params"]["sessions"] >= 5 and data["latest_sessions"] == {"NYSE": old.isoformat()}
