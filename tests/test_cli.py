"""The `argenta` command line: help everywhere, reads in three formats, one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.ops.cli import main
from tests.cli_support import run_argenta


@pytest.fixture
def runner(monkeypatch, small_db):
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    return CliRunner()


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    assert runner.invoke(main, ["--help"]).exit_code == 0
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and "argenta" in command.help, f"{name} help lacks an example"


@pytest.mark.parametrize("what", [["latest"], ["history"], ["ticker", "GGAL"], ["jobs"]])
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_query_formats(runner, what, fmt):
    result = runner.invoke(main, ["query", *what, "--format", fmt])
    assert result.exit_code == 0, result.output
    if fmt == "json":
        rows = json.loads(result.output)
        assert rows and isinstance(rows, list)
    elif fmt == "csv":
        header = result.output.splitlines()[0]
        assert "," in header
    if what[0] in ("latest", "ticker"):
        assert "GGAL" in result.output


def test_query_latest_csv_lists_each_ticker_once(runner):
    result = runner.invoke(main, ["query", "latest", "--format", "csv"])
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 + 3
    assert "recommendation" in lines[0]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["query", "ticker"], 2, "needs a TICKER"),
        (["query", "ticker", "NOPE"], 2, "no analysis stored for ticker 'NOPE'"),
        (["run", "--date", "2024-02-30"], 2, "is not a date"),
        (
            ["backfill", "--start", "2024-03-08", "--end", "2024-03-01", "--source", "sample"],
            2,
            "is after --end",
        ),
        (["run", "--source", "files"], 2, "needs --data-dir"),
        (["run", "--date", "2024-03-09", "--source", "sample"], 2, "is not a trading day"),
    ],
)
def test_errors_are_one_line_with_exit_code(runner, args, code, message):
    result = runner.invoke(main, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert isinstance(result.exception, SystemExit)  # handled: no traceback


def test_query_on_a_missing_database_is_one_line(tmp_path):
    proc = argenta(tmp_path, "query", "latest", db_name="none.duckdb")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "does not exist" in proc.stderr
    assert "argenta backfill" in proc.stderr


def write_prices(folder, rows):
    folder.mkdir()
    header = "Date,Ticker,Open,High,Low,Close,Adj Close,Volume\n"
    (folder / "prices.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")


def good_rows(ticker, days=60):
    import datetime as dt

    from pipeline.analysis import calendar

    sessions = calendar.trading_days("XNYS", dt.date(2023, 11, 1), dt.date(2024, 3, 8))[-days:]
    return [
        f"{d},{ticker},10,11,9,{10 + i / 100:.2f},{10 + i / 100:.2f},1000"
        for i, d in enumerate(sessions)
    ]


def argenta(tmp_path, *args, db_name="a.duckdb"):
    """`argenta ARGS` in a bare environment (PATH and HOME only), the database in tmp_path."""
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return run_argenta(
        tmp_path / db_name, *args, cwd=tmp_path, env=bare, inherit=False, timeout=120
    )


def test_a_file_missing_a_column_exits_2_with_one_line(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "prices.csv").write_text("Date,Ticker,Open\n2024-03-08,GGAL,10\n", encoding="utf-8")
    proc = argenta(tmp_path, "run", "--source", "files", "--data-dir", str(folder))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "prices.csv is missing column(s)" in proc.stderr


@pytest.mark.slow
def test_bad_rows_are_reported_and_good_tickers_still_analysed(tmp_path):
    bad = [
        "2024-03-08,YPF,10,11,9,abc,10,1000",
        "2024-03-09,YPF,10,11,9,10,10,1000",
        "2024-03-07,PAM,10,11,9,10,10,-500",
    ]
    pam = good_rows("PAM")
    write_prices(tmp_path / "data", good_rows("GGAL") + good_rows("YPF")[:-1] + pam[:-2] + bad)
    proc = argenta(tmp_path, "run", "--source", "files", "--data-dir", str(tmp_path / "data"))
    assert proc.returncode == 0, proc.stderr
    # three tickers are too few to rank: completed, with no calls (and a warning saying so)
    assert "completed with no calls: 2024-03-08" in proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert any("YPF" in w and "'abc'" in w for w in warnings)
    assert any("2024-03-09" in w and "not a trading day" in w for w in warnings)
    assert any("PAM" in w and "volume is negative (-500" in w for w in warnings)


@pytest.mark.slow
def test_a_run_for_unknown_tickers_names_them(tmp_path):
    """None known: exit 2 and one line naming it; some known: those run, the rest warned."""
    proc = argenta(
        tmp_path, "run", "--source", "sample", "--date", "2024-03-08", "--tickers", "FOO"
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "FOO" in errors[0] and "--tickers" in errors[0]
    proc = argenta(
        tmp_path, "run", "--source", "sample", "--date", "2024-03-08", "--tickers", "GGAL,FOO"
    )
    assert proc.returncode == 0, proc.stderr
    assert "completed: 2024-03-08, 1 ticker, 1 error\n" in proc.stdout  # FOO: the source
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "--tickers FOO (FOO: not in prices.parquet)" in warnings[0]


@pytest.mark.parametrize("args", [["migrate"], ["run", "--source", "sample"]])
def test_a_database_url_in_a_missing_folder_is_refused_and_creates_nothing(tmp_path, args):
    proc = argenta(tmp_path, *args, db_name="typo/a.duckdb")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and f"{tmp_path / 'typo'} does not exist" in proc.stderr
    assert "mkdir -p" in proc.stderr
    assert not (tmp_path / "typo").exists()


def test_a_missing_data_dir_is_refused_before_the_database_is_touched(tmp_path):
    proc = argenta(tmp_path, "run", "--source", "files", "--data-dir", str(tmp_path / "nodir"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "nodir does not exist" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database, no failed run


def test_the_store_never_creates_a_missing_database_folder(tmp_path):
    from pipeline.ops.locking import exclusive
    from store.connection import FolderMissing, open_writer

    path = tmp_path / "typo" / "a.duckdb"
    with pytest.raises(FolderMissing, match="mkdir -p"), open_writer(path):
        pass
    with pytest.raises(FolderMissing, match="does not exist"), exclusive(path, "run", "test"):
        pass
    assert not path.parent.exists()


def test_query_latest_shows_staleness_as_the_dashboard_sets_calls_aside(tmp_path):
    """A whole exchange's stopped feed is not current: the dashboard and the CLI agree."""
    import datetime as dt

    from store import reads, writes
    from store.connection import open_reader, open_writer
    from tests.factories import partition
    from ui import calls

    db = tmp_path / "a.duckdb"
    thursday, friday = dt.date(2024, 3, 7), dt.date(2024, 3, 8)  # sessions of both exchanges
    with open_writer(db) as con:
        writes.replace_partitions(con, [thursday], [partition(thursday, ["GGAL.BA", "YPF"])])
        writes.replace_partitions(con, [friday], [partition(friday, ["GGAL", "YPF"])])
    proc = argenta(tmp_path, "query", "latest", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["ticker"]: r for r in json.loads(proc.stdout)}
    fresh = {t: (r["exchange"], r["is_current"], r["days_since_latest"]) for t, r in rows.items()}
    assert fresh == {
        "GGAL": ("XNYS", True, 0),
        "YPF": ("XNYS", True, 0),
        "GGAL.BA": ("XBUE", False, 1),
    }
    with open_reader(db) as con:
        _, stale = calls.split(reads.latest_recommendations(con), friday)
        view = con.sql("SELECT ticker FROM latest_recommendations WHERE NOT is_current").fetchall()
    assert stale["ticker"].to_list() == [t for t, r in rows.items() if not r["is_current"]]
    assert view == [("GGAL.BA",)]  # the view agrees: BYMA had a session on Friday


def test_a_malformed_csv_names_the_file_the_line_and_the_fix(tmp_path):
    folder = tmp_path / "data"
    write_prices(
        folder, ["2024-03-07,GGAL,10,11,9,10,10,1000", '2024-03-08,"GGAL,10,11,9,10,10,1000']
    )
    proc = argenta(tmp_path, "run", "--source", "files", "--data-dir", str(folder))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    line = proc.stderr.strip()
    assert str(folder / "prices.csv") in line and "line 3" in line and "quote" in line
    assert line.count("`") % 2 == 0


@pytest.mark.slow
def test_analyze_exits_when_its_timeout_fires_not_when_the_work_ends(tmp_path):
    """`--timeout 1`: the error line, then the process ends at once (the work is abandoned).

    The source is a files folder of 8.4 M price rows (one CSV, which has to be parsed whole):
    its analysis takes tens of seconds, far beyond the timeout.
    """
    import datetime as dt
    import os
    import subprocess
    import sys
    import time

    import polars as pl

    days = pl.date_range(dt.date(2015, 1, 1), dt.date(2024, 3, 8), "1d", eager=True)
    tickers = pl.DataFrame({"ticker": [f"T{i:04d}" for i in range(2500)]})
    big = tickers.join(pl.DataFrame({"date": days}), how="cross").with_columns(close=10.0)
    (tmp_path / "big").mkdir()
    big.select("date", "ticker", "close").write_csv(tmp_path / "big" / "prices.csv")
    del big
    env = {**os.environ, "DATABASE_URL": f"duckdb:///{tmp_path / 'a.duckdb'}"}
    args = [sys.executable, "-m", "pipeline.ops.cli", "analyze", "T0001", "--source", "files"]
    args += ["--data-dir", str(tmp_path / "big")]
    with subprocess.Popen(
        [*args, "--timeout", "1"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        said = time.monotonic()
        code = proc.wait(timeout=120)
        lingered = time.monotonic() - said
    assert code == 1 and "did not answer within 1 s" in line
    assert lingered < 3.0, f"the process lingered {lingered:.1f} s after its timeout"


def test_query_jobs_json_has_offset_timestamps_and_log_data_as_an_object(runner):
    import datetime as dt

    result = runner.invoke(main, ["query", "jobs", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(isinstance(r["log_data"], dict) for r in rows)
    started = dt.datetime.fromisoformat(rows[0]["start_time"])
    assert started.utcoffset() == dt.timedelta(0)  # UTC, said so
