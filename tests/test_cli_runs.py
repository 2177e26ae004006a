"""`argenta run` / `status` on the sample: what a daily run reports and how it is recorded."""

from __future__ import annotations

import datetime as dt
import json

from pipeline.analysis import calendar
from pipeline.ops import jobs
from pipeline.settings import Settings
from tests.cli_support import run_argenta

DAY = dt.date(2024, 3, 8)  # the sample's last session: its BYMA data ended before it


def argenta(tmp_path, *args, env=None):
    """`argenta ARGS` in a bare environment, the database in tmp_path."""
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SCHEDULER_ENABLED": "false"}
    return run_argenta(
        tmp_path / "a.duckdb", *args, cwd=tmp_path, env=bare | (env or {}), inherit=False
    )


def run_on(tmp_path, day, **env):
    settings = Settings.from_env({"DATABASE_URL": str(tmp_path / "a.duckdb"), **env}, env_file=None)
    return jobs.run_daily(settings, jobs.SourceOptions("sample"), day).record


def test_tickers_the_source_no_longer_has_are_inactive_not_errors(tmp_path):
    """The sample's BYMA tickers ended in 2017-2023: a run on 2024-03-08 reports them apart,
    and `status` shows no error for a healthy run."""
    proc = argenta(tmp_path, "run", "--source", "sample", "--date", str(DAY))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].endswith(
        f"completed: {DAY}, 17 tickers, 0 errors, 18 inactive (no recent data)"
    )
    status = argenta(tmp_path, "status", "--json", env={"ARGENTA_STALE_SESSIONS": "0"})
    health = json.loads(status.stdout)
    assert health["last_run"]["errors_count"] == 0 and health["last_run"]["inactive_count"] == 18
    assert health["inactive_count"] == 18 and health["inactive_tickers"]["BMA.BA"] == "2017-08-03"
    assert not any(health["errors_by_type"].values())
    assert health["recent_runs"][0]["inactive_count"] == 18
    assert health["healthy"], health["alerts"]  # inactive tickers raise no alert
    text = argenta(tmp_path, "status", env={"ARGENTA_STALE_SESSIONS": "0"}).stdout
    assert "errors    " not in text
    assert "inactive  18 tickers without recent data (latest completed run; not errors): " in text
    assert "BMA.BA last bar 2017-08-03" in text and "0 errors, 18 inactive" in text


def test_inactive_follows_the_stale_sessions_setting(tmp_path):
    """ALUA.BA's last bar is one BYMA session before 2023-10-27: stale with the default (1),
    an error when 3 sessions are allowed; 0 turns the staleness check off (all errors)."""
    day = dt.date(2023, 10, 27)
    default = run_on(tmp_path, day)
    assert default.inactive_tickers["ALUA.BA"] == dt.date(2023, 10, 26)
    assert default.inactive_count == 17 and not default.errors
    allowing = run_on(tmp_path, day, ARGENTA_STALE_SESSIONS="3")
    assert [e["ticker"] for e in allowing.errors] == ["ALUA.BA"]
    assert allowing.errors[0]["code"] == "no_bar_in_range" and allowing.inactive_count == 16
    off = run_on(tmp_path, day, ARGENTA_STALE_SESSIONS="0")
    assert off.inactive_count == 0 and off.errors_by_type == {"technical": 17, "source": 0}


def test_a_holiday_of_the_tickers_exchange_is_neither_error_nor_inactive(tmp_path):
    """2023-10-13: NYSE traded, BYMA was closed: YPFD.BA's bar of the 12th is current."""
    record = run_on(tmp_path, dt.date(2023, 10, 13))
    assert "YPFD.BA" not in record.inactive_tickers
    assert "YPFD.BA" not in {e["ticker"] for e in record.errors}
    assert record.inactive_tickers["BMA.BA"] == dt.date(2017, 8, 3)


def _nothing_created(tmp_path) -> bool:
    return not [p for p in tmp_path.iterdir() if "a.duckdb" in p.name]


def test_days_after_today_or_before_the_data_are_refused_before_anything_is_recorded(tmp_path):
    today = jobs.today(Settings.from_env({"DATABASE_URL": str(tmp_path / "x")}, env_file=None))
    tomorrow = today + dt.timedelta(days=1)
    cases = [
        (
            ["run", "--date", str(tomorrow)],
            f"--date {tomorrow} is out of range: it is after today ({today} in ",
        ),
        (["run", "--date", "2030-01-02"], f"give a date up to {today}"),
        (
            ["backfill", "--start", "2024-03-01", "--end", str(tomorrow)],
            f"--end {tomorrow} is out of range",
        ),
        (["run", "--date", "1999-01-04"], "before the first price bar of 'sample' (2010-01-04"),
    ]
    for args, message in cases:
        proc = argenta(tmp_path, *args, "--source", "sample")
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
        assert proc.stdout == "" and _nothing_created(tmp_path)


def test_unknown_tickers_are_refused_and_never_count_as_failed_runs(tmp_path):
    for _ in range(4):  # four typos would have raised consecutive_failures
        proc = argenta(tmp_path, "run", "--source", "sample", "--tickers", "FOO")
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert proc.stderr.count("\n") == 1 and "no ticker of --tickers FOO" in proc.stderr
    assert _nothing_created(tmp_path)


def test_unknown_tickers_found_only_by_the_load_leave_no_run_behind(tmp_path, monkeypatch):
    """A source that must be asked (yfinance): the refusal comes after the run started; its
    row is forgotten, not recorded as a failed run."""
    from store import reads
    from store.connection import open_reader

    settings = Settings.from_env({"DATABASE_URL": str(tmp_path / "a.duckdb")}, env_file=None)
    jobs.run_daily(settings, jobs.SourceOptions("sample", tickers=("YPF",)), DAY)
    monkeypatch.setattr(jobs, "_check_files", lambda options, days: None)
    try:
        jobs.run_daily(settings, jobs.SourceOptions("sample", tickers=("FOO",)), DAY)
    except jobs.UnknownTickers as exc:
        assert "FOO" in exc.message
    else:
        raise AssertionError("FOO was not refused")
    with open_reader(settings.database_path) as con:
        assert reads.job_runs(con)["status"].to_list() == ["completed"]


def test_a_prices_file_missing_a_column_creates_no_database(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "prices.csv").write_text(
        "Date,Ticker,Open,High,Low,Volume\n2024-03-08,GGAL,10,11,9,100\n", encoding="utf-8"
    )
    proc = argenta(tmp_path, "run", "--source", "files", "--data-dir", str(folder))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "prices.csv is missing column(s) close" in proc.stderr
    assert _nothing_created(tmp_path)


def test_a_run_where_no_ticker_got_a_call_is_not_a_plain_success(tmp_path):
    """BMA.BA's data ended in 2017: the run completes (exit 0, recorded) but says so."""
    proc = argenta(tmp_path, "run", "--source", "sample", "--tickers", "BMA.BA", "--date", str(DAY))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].endswith(
        f"completed with no calls: {DAY}, 0 tickers, 0 errors, 1 inactive (no recent data)"
    )
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"warning: no ticker got a call on {DAY} (0 errors, 1 inactive without")
    status = argenta(tmp_path, "status", "--json", env={"ARGENTA_STALE_SESSIONS": "0"})
    assert status.returncode == 4  # the low_volume alert
    assert [a["code"] for a in json.loads(status.stdout)["alerts"]] == ["low_volume"]


def test_a_rerun_with_no_call_keeps_the_days_stored_calls(tmp_path):
    """The sample's calls of DAY are stored; a re-run of DAY from a files source of three
    tickers (too few to rank: no call at all) completes with no calls and replaces nothing."""
    from store.connection import open_reader

    def stored() -> list[tuple]:
        with open_reader(tmp_path / "a.duckdb") as con:
            calls = "SELECT * FROM daily_recommendations ORDER BY analysis_date, ticker"
            return con.sql(calls).fetchall()

    assert argenta(tmp_path, "run", "--source", "sample", "--date", str(DAY)).returncode == 0
    before = stored()
    assert len(before) == 17
    folder = tmp_path / "data"
    folder.mkdir()
    sessions = calendar.trading_days("XNYS", dt.date(2023, 11, 1), DAY)[-60:]
    rows = [
        f"{d},{ticker},10,11,9,{10 + i / 100:.2f},{10 + i / 100:.2f},1000"
        for ticker in ("GGAL", "YPF", "PAM")
        for i, d in enumerate(sessions)
    ]
    header = "Date,Ticker,Open,High,Low,Close,Adj Close,Volume\n"
    (folder / "prices.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    proc = argenta(
        tmp_path, "run", "--source", "files", "--data-dir", str(folder), "--date", str(DAY)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].endswith(
        f"completed with no calls: {DAY}, 0 tickers, 3 errors; kept the 17 stored calls of that "
        "day (nothing replaced)"
    )
    assert stored() == before
    with open_reader(tmp_path / "a.duckdb") as con:
        log = con.sql("SELECT log_data FROM job_runs ORDER BY id DESC").fetchall()[0][0]
    assert json.loads(log)["calls_kept"] == 17 and json.loads(log)["recommendations_written"] == 0
