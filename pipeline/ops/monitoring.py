"""Health of the pipeline: run metrics, the daemon's heartbeat and the active alerts.

One `health(settings)` call gathers everything; `argenta status` prints it and the
dashboard's job page shows it, so both always agree on what is wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline.analysis import calendar
from pipeline.ops import checks
from pipeline.ops.runlog import RunRecord
from pipeline.settings import Settings
from store import reads, safefile
from store.connection import DatabaseError, file_size, open_reader

RECENT_RUNS = 50
FAILURE_STREAK_LIMIT = 3  # alert when a job failed more than this many times in a row
LONG_RUN_SECONDS = 3600.0  # alert when a run takes more than an hour
# The daemon rewrites its heartbeat every few seconds (daemon.HEARTBEAT_SECONDS); two
# minutes of silence means it is dead or hung.
HEARTBEAT_STALE_SECONDS = 120.0
READ_RETRY_SECONDS = 1.0
DAILY_JOB = "daily_analysis"  # the job that keeps the data current (daemon.JOB_NAME)
EXCHANGE_NAMES = {calendar.BUENOS_AIRES: "BYMA", calendar.NEW_YORK: "NYSE"}
MB = 1024 * 1024

RUNS_SCHEMA = pl.Schema(
    {
        "id": pl.Int64(),
        "job_name": pl.String(),
        "start_time": pl.Datetime("us"),
        "end_time": pl.Datetime("us"),
        "status": pl.String(),
        "tickers_processed": pl.Int32(),
        "errors_count": pl.Int32(),
        "inactive_count": pl.Int32(),  # from the run record (0 for records before it existed)
        "duration_s": pl.Float64(),
        "failure_reason": pl.String(),
        "db_size_bytes": pl.Int64(),
    }
)


@dataclass(frozen=True)
class Alert:
    """An active problem: a stable code, `warning` or `critical`, and the facts behind it.

    The words are the reader's: `describe` gives English (logs, `argenta status`) from
    ALERT_TEXT, and `ui.alerts` gives Spanish (the dashboard) from its own templates,
    both keyed by `key`.
    """

    code: str
    severity: str
    params: Mapping[str, Any] = field(default_factory=dict)
    variant: str = ""  # which situation of `code` (daemon_down: no_heartbeat, stopped, silent)

    @property
    def key(self) -> str:
        """The template key: `code`, or `code.variant`."""
        return f"{self.code}.{self.variant}" if self.variant else self.code

    def to_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready values, with its English message."""
        return {
            "code": self.code,
            "severity": self.severity,
            "variant": self.variant or None,
            "params": _jsonable(dict(self.params)),
            "message": describe(self),
        }


# One English template per alert key (`argenta status`, logs); ui/alerts.py has the Spanish.
ALERT_TEXT = {
    "database_error": "cannot read the database {database}: {detail}",
    "consecutive_failures": "{job} failed {count} times in a row (latest reason: {reason})",
    "long_run.running": "the {run} run in progress has been running for {minutes:.0f} minutes "
    "(over {limit_minutes:.0f})",
    "long_run.finished": "run {run} took {minutes:.0f} minutes (over {limit_minutes:.0f})",
    "low_disk": "only {free_mb:.0f} MB free next to the database (threshold {threshold_mb} MB)",
    "daemon_down.no_heartbeat": "no daemon heartbeat: the scheduler has not run against this "
    "database (start it: systemctl start argenta-pipeline)",
    "daemon_down.stopped": "the daemon (pid {pid}) stopped at {at:%Y-%m-%d %H:%M:%S %Z}",
    "daemon_down.silent": "the daemon (pid {pid}) has been silent for {silent:.0f} s: dead or hung",
    "stale_data": "{exchange} data is behind (sessions missing: {sessions}): the latest analysed "
    "session is {latest:%Y-%m-%d}, the daily run should have stored {expected:%Y-%m-%d} by now",
    "low_volume.none": "the latest completed run {run} processed no ticker",
    "low_volume.share": "the latest completed run {run} processed {processed} tickers, under "
    "{share_pct:.0f} % of the usual {usual:.0f}",
    "slow_run": "the {run} run in progress has been running for {minutes:.0f} minutes, over "
    "{factor:g} times its usual {usual_minutes:.1f}",
}


def describe(alert: Alert) -> str:
    """The alert as one English line."""
    return ALERT_TEXT[alert.key].format(**alert.params)


@dataclass(frozen=True)
class Heartbeat:
    """What the daemon last said about itself (times are aware UTC datetimes)."""

    pid: int
    started: dt.datetime
    last_tick: dt.datetime
    state: str  # starting, idle, running, retrying, stopping, stopped
    since: dt.datetime | None = None  # when the daemon entered `state`
    next_run: dt.datetime | None = None
    job: str | None = None
    job_pid: int | None = None
    attempt: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The heartbeat as JSON-ready values (ISO 8601 times)."""
        return {k: _jsonable(v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Heartbeat:
        """Parse what `to_dict` wrote."""
        times = {"started", "last_tick", "since", "next_run"}
        parsed: dict[str, Any] = {
            k: dt.datetime.fromisoformat(v) if k in times and v else v for k, v in data.items()
        }
        return cls(**parsed)


def heartbeat_path(database: Path) -> Path:
    """Where the daemon of `database` keeps its heartbeat: `<database>.heartbeat.json`."""
    database = Path(database)
    return database.with_name(f"{database.name}.heartbeat.json")


def write_heartbeat(database: Path, beat: Heartbeat) -> None:
    """Replace the heartbeat file atomically, so a reader never sees half of it."""
    safefile.write_atomic(heartbeat_path(database), json.dumps(beat.to_dict()))


def read_heartbeat(database: Path) -> Heartbeat | None:
    """The daemon's last heartbeat, or None when there is none (or it cannot be read)."""
    try:
        return Heartbeat.from_dict(json.loads(safefile.read_text(heartbeat_path(database)) or ""))
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Health:
    """The health summary: recent runs and their metrics, the daemon, the disk, the alerts."""

    checked_at: dt.datetime
    database: Path
    runs: pl.DataFrame  # recent runs, newest first (RUNS_SCHEMA)
    records: dict[int, RunRecord]  # each recent run's log, by run id
    success_rate: float | None  # completed / finished among the recent runs
    consecutive_failures: int  # the longest current streak of failures of one job
    last_run: dict[str, Any] | None  # the latest finished run
    errors_by_type: dict[str, int]  # of the latest completed run
    # tickers without recent data in the latest completed run (not errors): ticker -> last bar
    inactive_tickers: dict[str, dt.date]
    inactive_count: int  # all of them (inactive_tickers keeps the first 500)
    heartbeat: Heartbeat | None
    db_size_bytes: int | None
    free_disk_bytes: int | None
    alerts: tuple[Alert, ...]
    latest_sessions: dict[str, dt.date] = field(default_factory=dict)  # by exchange name

    @property
    def healthy(self) -> bool:
        """True when no alert is active."""
        return not self.alerts

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready values (`argenta status --json`)."""
        return {
            "healthy": self.healthy,
            "checked_at": _jsonable(self.checked_at),
            "database": str(self.database),
            "db_size_bytes": self.db_size_bytes,
            "free_disk_bytes": self.free_disk_bytes,
            "success_rate": self.success_rate,
            "consecutive_failures": self.consecutive_failures,
            "last_run": _jsonable(self.last_run),
            "errors_by_type": self.errors_by_type,
            "inactive_count": self.inactive_count,
            "inactive_tickers": _jsonable(self.inactive_tickers),
            "heartbeat": self.heartbeat.to_dict() if self.heartbeat else None,
            "alerts": [a.to_dict() for a in self.alerts],
            "latest_sessions": _jsonable(self.latest_sessions),
            "recent_runs": [
                _jsonable(run | {"errors_by_type": self.records[run["id"]].errors_by_type})
                for run in self.runs.to_dicts()
            ],
        }


def health(
    settings: Settings,
    now: dt.datetime | None = None,
    limit: int = RECENT_RUNS,
    runs: pl.DataFrame | None = None,
    last_dates: pl.DataFrame | None = None,
) -> Health:
    """Gather the health of the database, its runs, the daemon and the disk at `now`.

    `runs` and `last_dates` (`store.reads.job_runs` and `.last_dates` frames) spare opening
    the database when the caller already has both, as the dashboard does through its
    shared reader; with either missing, both are read from the file.
    """
    now = now or dt.datetime.now(dt.UTC)
    db = settings.database_path
    if runs is None or last_dates is None:
        runs, last_dates, db_alert = read_state(db, limit)
    else:
        db_alert = None
    records = {i: RunRecord.from_json(text) for i, text in runs.select("id", "log_data").rows()}
    runs = run_metrics(runs, records)
    beat = read_heartbeat(db)
    free = _free_disk(db)
    finished = runs.filter(pl.col("status") != "running")
    streak, streak_job, streak_reason = _failure_streak(finished)
    latest = _latest_completed(runs, records)
    alerts = (
        db_alert,
        _failure_alert(streak, streak_job, streak_reason),
        _long_run_alert(finished, beat, now),
        _disk_alert(free, settings.low_disk_threshold_mb),
        _daemon_alert(beat, now) if settings.scheduler_enabled else None,
        stale_alert(settings, last_dates, now),
        volume_alert(finished, settings.volume_share),
        slow_run_alert(finished, beat, now),
    )
    return Health(
        checked_at=now,
        database=db,
        runs=runs,
        records=records,
        success_rate=_success_rate(finished),
        consecutive_failures=streak,
        last_run=finished.row(0, named=True) if finished.height else None,
        errors_by_type=latest.errors_by_type,
        inactive_tickers=latest.inactive_tickers,
        inactive_count=latest.inactive_count,
        heartbeat=beat,
        db_size_bytes=file_size(db),
        free_disk_bytes=free,
        alerts=tuple(a for a in alerts if a is not None),
        latest_sessions={
            EXCHANGE_NAMES.get(x, x): day for x, day in latest_by_exchange(last_dates).items()
        },
    )


def read_state(
    database: Path, limit: int = RECENT_RUNS
) -> tuple[pl.DataFrame, pl.DataFrame, Alert | None]:
    """The latest runs and each ticker's latest date (`store.reads.job_runs`, `.last_dates`),
    or none of either and an alert if the file is unusable."""
    try:
        with open_reader(database, retry_seconds=READ_RETRY_SECONDS) as con:
            return reads.job_runs(con, limit), reads.last_dates(con), None
    except (DatabaseError, duckdb.Error) as exc:
        empty = pl.DataFrame(schema={**RUNS_SCHEMA, "log_data": pl.String})
        no_dates = pl.DataFrame(schema={"ticker": pl.String, "last_date": pl.Date})
        return empty, no_dates, _database_alert(database, exc)


def latest_by_exchange(last_dates: pl.DataFrame) -> dict[str, dt.date]:
    """Each exchange's latest analysed session, from each ticker's latest date."""
    latest = last_dates.group_by(calendar.exchange_expr().alias("exchange")).agg(
        pl.col("last_date").max()
    )
    return dict(latest.drop_nulls().iter_rows())


def stale_alert(settings: Settings, last_dates: pl.DataFrame, now: dt.datetime) -> Alert | None:
    """An exchange whose data is ARGENTA_STALE_SESSIONS sessions behind the expected run."""
    latest = latest_by_exchange(last_dates)
    if not latest or settings.stale_sessions <= 0:
        return None
    run_at = dt.time(settings.daily_analysis_hour, settings.daily_analysis_minute)
    grace = dt.timedelta(minutes=settings.job_timeout_minutes)
    expected = {
        x: checks.expected_session(x, now, run_at, settings.tz, grace, settings.weekdays_only)
        for x in latest
    }
    finding = checks.stale_data(latest, expected, settings.stale_sessions)
    if finding is None:
        return None
    behind = finding.params["exchanges"]
    worst = max(behind, key=lambda x: behind[x]["sessions"])
    params = {"exchange": EXCHANGE_NAMES.get(worst, worst), **behind[worst]}
    return Alert(finding.code, finding.severity, params)


def volume_alert(finished: pl.DataFrame, share: float) -> Alert | None:
    """The latest completed daily run processed no ticker, or under `share` of the usual."""
    done = finished.filter((pl.col("status") == "completed") & (pl.col("job_name") == DAILY_JOB))
    finding = checks.low_volume(done.get_column("tickers_processed").fill_null(0).to_list(), share)
    if finding is None:
        return None
    run = f"{DAILY_JOB} #{done.item(0, 'id')}"
    if finding.params["processed"] == 0:
        return Alert(finding.code, finding.severity, {"run": run}, "none")
    params = {**finding.params, "run": run, "share_pct": share * 100}
    return Alert(finding.code, finding.severity, params, "share")


def slow_run_alert(
    finished: pl.DataFrame, beat: Heartbeat | None, now: dt.datetime
) -> Alert | None:
    """Early warning: the run in progress has taken over twice its usual time (the median
    of the recent completed runs of its job), before the long-run alert."""
    if beat is None or beat.state != "running" or beat.since is None or beat.job is None:
        return None
    seconds = (now - beat.since).total_seconds()
    if seconds > LONG_RUN_SECONDS:
        return None  # the long-run alert has taken over
    done = finished.filter((pl.col("status") == "completed") & (pl.col("job_name") == beat.job))
    durations = done.get_column("duration_s").drop_nulls().to_list()
    finding = checks.slow_run(seconds, durations)
    if finding is None:
        return None
    params = {
        "run": beat.job,
        "minutes": seconds / 60,
        "usual_minutes": finding.params["usual"] / 60,
        "factor": checks.SLOW_RUN_FACTOR,
    }
    return Alert(finding.code, finding.severity, params)


def run_metrics(runs: pl.DataFrame, records: dict[int, RunRecord]) -> pl.DataFrame:
    """Runs with the metrics of their records (failure reason, database size, inactive
    tickers), in RUNS_SCHEMA."""
    ids = runs.get_column("id").to_list()
    return runs.with_columns(
        pl.Series("inactive_count", [records[i].inactive_count for i in ids], pl.Int32),
        pl.Series("failure_reason", [records[i].failure_reason for i in ids], pl.String),
        pl.Series("db_size_bytes", [records[i].db_size_bytes for i in ids], pl.Int64),
    ).select(list(RUNS_SCHEMA))


def _failure_streak(finished: pl.DataFrame) -> tuple[int, str | None, str | None]:
    """The longest run of latest failures of one job: (count, job name, latest reason)."""
    streaks = finished.group_by("job_name", maintain_order=True).agg(
        streak=(pl.col("status").eq("completed").cum_sum() == 0).sum(),
        reason=pl.col("failure_reason").first(),
    )
    if streaks.is_empty():
        return 0, None, None
    top = streaks.sort("streak", descending=True, maintain_order=True).row(0, named=True)
    return top["streak"], top["job_name"], top["reason"]


def _success_rate(finished: pl.DataFrame) -> float | None:
    if finished.is_empty():
        return None
    return float(finished.get_column("status").eq("completed").sum()) / finished.height


def _latest_completed(runs: pl.DataFrame, records: dict[int, RunRecord]) -> RunRecord:
    """The record of the latest completed run (an empty one when none completed)."""
    completed = runs.filter(pl.col("status") == "completed")
    return records[completed.item(0, "id")] if completed.height else RunRecord()


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 error`, `2 errors` (`words`: an irregular plural)."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def _database_alert(database: Path, exc: Exception) -> Alert:
    detail = str(exc).splitlines()[0]
    return Alert("database_error", "critical", {"database": str(database), "detail": detail})


def _failure_alert(streak: int, job: str | None, reason: str | None) -> Alert | None:
    if streak <= FAILURE_STREAK_LIMIT:
        return None
    params = {"job": job, "count": streak, "reason": reason or "unknown"}
    return Alert("consecutive_failures", "critical", params)


def _long_run_alert(
    finished: pl.DataFrame, beat: Heartbeat | None, now: dt.datetime
) -> Alert | None:
    """The run in progress (known from the heartbeat: the published database only holds
    finished runs), else the latest finished run, when it lasted more than an hour."""
    if beat is not None and beat.state == "running" and beat.since is not None:
        variant, name, seconds = "running", beat.job, (now - beat.since).total_seconds()
    elif finished.height:
        run = finished.row(0, named=True)
        variant, name, seconds = "finished", f"{run['job_name']} #{run['id']}", run["duration_s"]
    else:
        return None
    if (seconds or 0.0) <= LONG_RUN_SECONDS:
        return None
    params = {"run": name, "minutes": seconds / 60, "limit_minutes": LONG_RUN_SECONDS / 60}
    return Alert("long_run", "warning", params, variant)


def _disk_alert(free_bytes: int | None, threshold_mb: int) -> Alert | None:
    if free_bytes is None or threshold_mb <= 0 or free_bytes >= threshold_mb * MB:
        return None
    return Alert("low_disk", "warning", {"free_mb": free_bytes / MB, "threshold_mb": threshold_mb})


def _daemon_alert(beat: Heartbeat | None, now: dt.datetime) -> Alert | None:
    if beat is None:
        return Alert("daemon_down", "critical", {}, "no_heartbeat")
    if beat.state == "stopped":
        return Alert("daemon_down", "critical", {"pid": beat.pid, "at": beat.last_tick}, "stopped")
    silent = (now - beat.last_tick).total_seconds()
    if silent <= HEARTBEAT_STALE_SECONDS:
        return None
    return Alert("daemon_down", "critical", {"pid": beat.pid, "silent": silent}, "silent")


def render_text(health: Health) -> str:
    """The health summary as a few aligned lines for a terminal (`argenta status`)."""
    count = len(health.alerts)
    state = "healthy" if health.healthy else f"{count} alert{'s' * (count > 1)}"
    lines = [
        f"Argenta IA at {health.checked_at:%Y-%m-%d %H:%M:%S %Z}: {state}",
        f"database  {health.database} ({_size_text(health.db_size_bytes)}, "
        f"{_size_text(health.free_disk_bytes)} free)",
        f"daemon    {_describe_heartbeat(health.heartbeat, health.checked_at)}",
        f"last run  {_describe_run(health.last_run)}",
    ]
    if health.latest_sessions:
        latest = sorted(health.latest_sessions.items())
        lines.append("data      " + ", ".join(f"{x} {day:%Y-%m-%d}" for x, day in latest))
    errors = ", ".join(f"{k}={v}" for k, v in sorted(health.errors_by_type.items()) if v)
    if errors:
        lines.append(f"errors    {errors} (latest completed run)")
    if health.inactive_count:
        lines.append(f"inactive  {_describe_inactive(health)}")
    if health.success_rate is not None:
        lines.append(
            f"recent    {health.success_rate:.0%} of the recent runs completed; "
            f"{health.consecutive_failures} consecutive failures"
        )
    lines += [f"{a.severity.upper():9} {a.code}: {describe(a)}" for a in health.alerts]
    return "\n".join(lines)


def _describe_inactive(health: Health) -> str:
    """`18 tickers without recent data (...): ALUA.BA last bar 2023-10-26, ...` (the first 3)."""
    shown = [f"{t} last bar {day:%Y-%m-%d}" for t, day in list(health.inactive_tickers.items())[:3]]
    more = health.inactive_count - len(shown)
    listed = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    count = plural(health.inactive_count, "ticker")
    return f"{count} without recent data (latest completed run; not errors): {listed}"


def _describe_heartbeat(beat: Heartbeat | None, now: dt.datetime) -> str:
    if beat is None:
        return "no heartbeat"
    ago = (now - beat.last_tick).total_seconds()
    text = f"{beat.state}, pid {beat.pid}, last heartbeat {ago:.0f} s ago"
    if beat.job:
        text += f", job {beat.job} (attempt {beat.attempt}, pid {beat.job_pid})"
    if beat.next_run:
        text += f", next run {beat.next_run.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    return text


def _describe_run(run: dict[str, Any] | None) -> str:
    if run is None:
        return "none"
    text = (
        f"#{run['id']} {run['job_name']} {run['status']} at {run['end_time']:%Y-%m-%d %H:%M:%S}"
        f" UTC after {run['duration_s'] or 0:.1f} s"
    )
    if run["status"] == "completed":
        tickers, errors = run["tickers_processed"] or 0, run["errors_count"] or 0
        inactive = f", {run['inactive_count']} inactive" if run.get("inactive_count") else ""
        return text + f": {plural(tickers, 'ticker')}, {plural(errors, 'error')}{inactive}"
    return text + f": {run['failure_reason']}"


def _size_text(size: int | None) -> str:
    if size is None:
        return "size unknown"
    return f"{size / MB:.1f} MB" if size < 1024 * MB else f"{size / MB / 1024:.1f} GB"


def _free_disk(database: Path) -> int | None:
    """Free bytes on the file system that holds (or will hold) the database."""
    folder = Path(database).resolve().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _jsonable(value: Any) -> Any:
    """JSON-ready values; a naive datetime is UTC (the store's convention) and says so."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
