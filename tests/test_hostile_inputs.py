"""Hostile input, table-driven: settings, CLI arguments, input files and database files.

Every case runs the real `argenta` command (in this process, through click's runner, in
its own folder with a copy of a published database) and checks what an operator would:
the exit code; on failure one `error:` line on stderr naming the variable, file, row or path
and what to do; no traceback anywhere; and the published file's rows unchanged unless the
run legitimately completed. Faults that need other processes (a lock holder, kill -9, a
full disk) are in tests/test_faults.py.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from pipeline.ops import cli, jobs
from pipeline.ops.locking import lock_path
from pipeline.settings import Settings
from store.connection import table_digests, work_path
from tests.files_support import GGAL_LINE, csv_lines, sample_bars, set_cell

DB = "argenta_ia.duckdb"
RUN = ["run", "--source", "sample", "--tickers", "GGAL,YPF", "--date", "2024-03-08"]
FILES_RUN = ["run", "--source", "files", "--data-dir", "data", "--date", "2023-12-29"]
TODAY = dt.date.today()
Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One hostile input: what to run, how to prepare the folder, and what must come out."""

    id: str
    args: list[str]
    code: int
    says: tuple[str, ...] = ()  # in the one error line (code != 0) or in stderr (code 0)
    env: dict[str, str] = field(default_factory=dict)
    setup: Setup | None = None
    completes: bool = False  # the run legitimately writes: the published rows may change
    hides: tuple[str, ...] = ()  # must appear nowhere in the output


# --- folder preparations -------------------------------------------------------------------


def mkdir(name: str) -> Setup:
    return lambda root: (root / name).mkdir(parents=True, exist_ok=True)


def touch(name: str, content: bytes = b"") -> Setup:
    def setup(root: Path) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)

    return setup


def symlink(name: str, target: str) -> Setup:
    def setup(root: Path) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(target)

    return setup


def both(*setups: Setup) -> Setup:
    def setup(root: Path) -> None:
        for step in setups:
            step(root)

    return setup


def prices_csv(*extra: Callable[[list[str]], str], drop: str | None = None) -> Setup:
    """data/prices.csv of real GGAL and YPF bars, plus rows made from the lines."""

    def setup(root: Path) -> None:
        bars = sample_bars()
        if drop:
            bars = bars.drop(drop)
        lines = csv_lines(bars, [c for c in HEADER if c.lower().replace(" ", "_") != drop])
        lines += [make(lines) for make in extra]
        touch("data/prices.csv", ("\n".join(lines) + "\n").encode())(root)

    return setup


HEADER = ["Date", "Symbol", "Open", "High", "Low", "Close", "Adj Close", "Volume"]


def row(column: str, value: str) -> Callable[[list[str]], str]:
    return lambda lines: set_cell(lines[GGAL_LINE - 1], column, value)


def parquet(frame: pl.DataFrame) -> Setup:
    def setup(root: Path) -> None:
        (root / "data").mkdir(exist_ok=True)
        frame.write_parquet(root / "data" / "prices.parquet")

    return setup


def excel_export(root: Path) -> None:
    bars = sample_bars().filter(pl.col("volume").is_not_null())
    lines = ["Date;Ticker;Open;High;Low;Close;Volume"]
    for r in bars.iter_rows(named=True):
        nums = [f"{r[c]:.2f}".replace(".", ",") for c in ("open", "high", "low", "close")]
        lines.append(";".join([f"{r['date']:%d/%m/%Y}", r["ticker"], *nums, str(r["volume"])]))
    touch("data/prices.csv", ("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))(root)


def close_only(root: Path) -> None:
    (root / "data").mkdir(exist_ok=True)
    sample_bars().select("date", "ticker", "close").write_csv(root / "data" / "prices.csv")


def damage_published(how: str, keep_work: bool = True) -> Setup:
    def setup(root: Path) -> None:
        path = root / DB
        if not keep_work:
            for leftover in root.glob(f".{DB}*"):
                leftover.unlink()
        if how == "truncate":
            os.truncate(path, path.stat().st_size // 2)
        elif how == "head":
            with open(path, "r+b") as fh:
                fh.write(b"\0" * 4096)
        elif how == "text":
            path.write_bytes(b"not a database\n" * 100)
        elif how == "empty":
            path.write_bytes(b"")
        elif how == "foreign":
            path.unlink()
            con = duckdb.connect(str(path))
            con.execute("CREATE TABLE customers AS SELECT 1 AS id, 'Ana' AS name")
            con.close()
        elif how == "future-schema":
            con = duckdb.connect(str(path))
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
            con.close()

    return setup


def remove_published(root: Path) -> None:
    for leftover in [root / DB, *root.glob(f".{DB}*")]:
        leftover.unlink()


# --- the cases -----------------------------------------------------------------------------

SETTINGS = [
    Case("db-url-password", RUN, 2, ("DATABASE_URL", "duckdb:///"),
         env={"DATABASE_URL": "postgresql://argenta:S3cr3t@db/argenta"}, hides=("S3cr3t",)),
    Case("db-url-sqlite", RUN, 2, ("DATABASE_URL", "duckdb:///"),
         env={"DATABASE_URL": "sqlite:///argenta.db"}),
    Case("db-url-no-path", RUN, 2, ("DATABASE_URL", "duckdb:///"),
         env={"DATABASE_URL": "duckdb:///"}),
    Case("db-url-memory", RUN, 2, ("DATABASE_URL", "naming a file"),
         env={"DATABASE_URL": ":memory:"}),
    Case("db-url-trailing-slash", RUN, 2, ("DATABASE_URL", "naming a file"),
         env={"DATABASE_URL": "somewhere/"}),
    Case("db-url-a-folder", RUN, 2, ("DATABASE_URL", "is a folder", "dbdir/argenta_ia.duckdb"),
         env={"DATABASE_URL": "dbdir"}, setup=mkdir("dbdir")),
    Case("db-url-under-a-file", RUN, 2, ("DATABASE_URL", "plain is a file, not a folder"),
         env={"DATABASE_URL": "plain/x.duckdb"}, setup=touch("plain")),
    Case("db-url-symlink-loop", RUN, 2, ("DATABASE_URL", "symbolic link loop"),
         env={"DATABASE_URL": "loop.duckdb"}, setup=symlink("loop.duckdb", "loop.duckdb")),
    Case("hour-24", RUN, 2, ("DAILY_ANALYSIS_HOUR", "'24'"), env={"DAILY_ANALYSIS_HOUR": "24"}),
    Case("hour-text", RUN, 2, ("DAILY_ANALYSIS_HOUR",), env={"DAILY_ANALYSIS_HOUR": "six"}),
    Case("minute-60", RUN, 2, ("DAILY_ANALYSIS_MINUTE",), env={"DAILY_ANALYSIS_MINUTE": "60"}),
    Case("minute-negative", RUN, 2, ("DAILY_ANALYSIS_MINUTE",),
         env={"DAILY_ANALYSIS_MINUTE": "-1"}),
    Case("zone-unknown", RUN, 2, ("DAILY_ANALYSIS_TIMEZONE", "IANA"),
         env={"DAILY_ANALYSIS_TIMEZONE": "Mars/Olympus"}),
    Case("zone-path", RUN, 2, ("DAILY_ANALYSIS_TIMEZONE", "IANA"),
         env={"DAILY_ANALYSIS_TIMEZONE": "../../etc/passwd"}),
    Case("timeout-zero", RUN, 2, ("JOB_TIMEOUT_MINUTES",), env={"JOB_TIMEOUT_MINUTES": "0"}),
    Case("timeout-negative", RUN, 2, ("JOB_TIMEOUT_MINUTES",), env={"JOB_TIMEOUT_MINUTES": "-5"}),
    Case("timeout-text", RUN, 2, ("JOB_TIMEOUT_MINUTES",), env={"JOB_TIMEOUT_MINUTES": "soon"}),
    Case("retries-negative", RUN, 2, ("MAX_RETRIES",), env={"MAX_RETRIES": "-1"}),
    Case("retries-fraction", RUN, 2, ("MAX_RETRIES",), env={"MAX_RETRIES": "1.5"}),
    Case("retries-huge", RUN, 2, ("MAX_RETRIES",), env={"MAX_RETRIES": "1000"}),
    Case("backoff-negative", RUN, 2, ("ARGENTA_RETRY_BACKOFF_SECONDS",),
         env={"ARGENTA_RETRY_BACKOFF_SECONDS": "-1"}),
    Case("scheduler-maybe", RUN, 2, ("SCHEDULER_ENABLED", "true or false"),
         env={"SCHEDULER_ENABLED": "maybe"}),
    Case("source-unknown", RUN[:1], 2, ("ARGENTA_SOURCE", "sample"), env={"ARGENTA_SOURCE": "csv"}),
    Case("tickers-sql", ["run", "--source", "sample"], 2, ("ARGENTA_TICKERS", "1-10 characters"),
         env={"ARGENTA_TICKERS": "GGAL';DROP TABLE x;--"}),
    Case("tickers-too-long", ["run", "--source", "sample"], 2, ("ARGENTA_TICKERS",),
         env={"ARGENTA_TICKERS": "ABCDEFGHIJK"}),
    Case("tickers-zero-width", ["run", "--source", "sample"], 2, ("ARGENTA_TICKERS",),
         env={"ARGENTA_TICKERS": "GG\u200bAL"}),
    Case("weekdays-2", RUN, 2, ("ARGENTA_WEEKDAYS_ONLY",), env={"ARGENTA_WEEKDAYS_ONLY": "2"}),
    Case("catchup-negative", RUN, 2, ("ARGENTA_CATCHUP_DAYS",), env={"ARGENTA_CATCHUP_DAYS": "-3"}),
    Case("retention-negative", RUN, 2, ("ARGENTA_RETENTION_DAYS",),
         env={"ARGENTA_RETENTION_DAYS": "-1"}),
    Case("low-disk-text", RUN, 2, ("ARGENTA_LOW_DISK_MB",), env={"ARGENTA_LOW_DISK_MB": "lots"}),
    Case("stale-negative", RUN, 2, ("ARGENTA_STALE_SESSIONS",),
         env={"ARGENTA_STALE_SESSIONS": "-1"}),
    Case("volume-share-over-1", RUN, 2, ("ARGENTA_VOLUME_SHARE",),
         env={"ARGENTA_VOLUME_SHARE": "80"}),
    Case("weights-unknown", RUN, 2, ("ARGENTA_WEIGHTS",), env={"ARGENTA_WEIGHTS": "bogus=1"}),
    Case("weights-negative", RUN, 2, ("ARGENTA_WEIGHTS",), env={"ARGENTA_WEIGHTS": "technical=-1"}),
    Case("weights-all-zero", RUN, 2, ("ARGENTA_WEIGHTS",),
         env={"ARGENTA_WEIGHTS": "technical=0,fundamental=0,macro=0,sentiment=0"}),
    Case("weights-garbage", RUN, 2, ("ARGENTA_WEIGHTS",), env={"ARGENTA_WEIGHTS": "%%%"}),
    Case("buy-over-100", RUN, 2, ("ARGENTA_BUY_THRESHOLD",), env={"ARGENTA_BUY_THRESHOLD": "101"}),
    Case("buy-text", RUN, 2, ("ARGENTA_BUY_THRESHOLD",), env={"ARGENTA_BUY_THRESHOLD": "high"}),
    Case("retired-threshold", RUN, 2, ("ARGENTA_SELL_THRESHOLD", "use ARGENTA_SELL_SHARE"),
         env={"ARGENTA_SELL_THRESHOLD": "70"}),
    Case("buy-share-over-half", RUN, 2, ("ARGENTA_BUY_SHARE", "between 0.01 and 0.5"),
         env={"ARGENTA_BUY_SHARE": "0.9"}),
    Case("sell-share-nan", RUN, 2, ("ARGENTA_SELL_SHARE", "'nan'"),
         env={"ARGENTA_SELL_SHARE": "nan"}),
    Case("timeout-nan", RUN, 2, ("JOB_TIMEOUT_MINUTES", "'nan'", "between"),
         env={"JOB_TIMEOUT_MINUTES": "nan"}),
    Case("timeout-inf", RUN, 2, ("JOB_TIMEOUT_MINUTES", "'inf'"),
         env={"JOB_TIMEOUT_MINUTES": "inf"}),
    Case("timeout-1e308", RUN, 2, ("JOB_TIMEOUT_MINUTES",), env={"JOB_TIMEOUT_MINUTES": "1e308"}),
    Case("buy-nan", RUN, 2, ("ARGENTA_BUY_THRESHOLD", "'nan'"),
         env={"ARGENTA_BUY_THRESHOLD": "nan"}),
    Case("backoff-nan", RUN, 2, ("ARGENTA_RETRY_BACKOFF_SECONDS", "'nan'"),
         env={"ARGENTA_RETRY_BACKOFF_SECONDS": "nan"}),
    Case("weights-nan", RUN, 2, ("ARGENTA_WEIGHTS", "technical=nan"),
         env={"ARGENTA_WEIGHTS": "technical=nan"}),
    Case("hour-fullwidth-digit", RUN, 2, ("DAILY_ANALYSIS_HOUR", "whole number"),
         env={"DAILY_ANALYSIS_HOUR": "\uff16"}),
    Case("cache-dir-a-file", ["run", "--source", "yfinance"], 2,
         ("ARGENTA_YF_CACHE_DIR", "is a file, not a folder"),
         env={"ARGENTA_YF_CACHE_DIR": "cachefile"}, setup=touch("cachefile")),
    Case("env-file-binary", RUN, 2, (".env", "UTF-8"),
         setup=touch(".env", b"\x00\xff\xfeGARBAGE\x01\n")),
]  # fmt: skip

ARGUMENTS = [
    Case("date-year-one", ["run", "--source", "sample", "--date", "0001-01-01"], 2,
         ("--date", "0001-01-01", "1900-01-01")),
    Case("date-beyond-pandas", ["run", "--source", "sample", "--date", "2262-06-02"], 2,
         ("--date", "out of range")),
    Case("date-month-13", ["run", "--source", "sample", "--date", "2024-13-01"], 2,
         ("--date", "YYYY-MM-DD")),
    Case("date-word", ["run", "--source", "sample", "--date", "yesterday"], 2,
         ("--date", "YYYY-MM-DD")),
    Case("date-empty", ["run", "--source", "sample", "--date", ""], 2, ("--date", "YYYY-MM-DD")),
    Case("date-saturday", ["run", "--source", "sample", "--date", "2024-03-09"], 2,
         ("2024-03-09", "not a trading day", "previous one is 2024-03-08")),
    Case("backfill-whole-calendar",
         ["backfill", "--source", "sample", "--start", "0001-01-01", "--end", "9999-12-31"], 2,
         ("--start", "out of range")),
    Case("backfill-reversed",
         ["backfill", "--source", "sample", "--start", "2024-03-08", "--end", "2024-03-01"], 2,
         ("--start 2024-03-08 is after --end 2024-03-01", "start <= end")),
    Case("backfill-no-end", ["backfill", "--source", "sample", "--start", "2024-03-01"], 2,
         ("--end", "--help")),
    Case("backfill-no-trading-day",
         ["backfill", "--source", "sample", "--start", "2024-03-09", "--end", "2024-03-10"], 2,
         ("no trading day between 2024-03-09 and 2024-03-10",)),
    Case("tickers-empty", [*RUN[:3], "--tickers", "", "--date", "2024-03-08"], 2,
         ("--tickers", "is empty")),
    Case("tickers-sql", [*RUN[:3], "--tickers", "GGAL;DROP TABLE x", "--date", "2024-03-08"], 2,
         ("--tickers", "1-10 characters")),
    Case("tickers-too-long", [*RUN[:3], "--tickers", "ABCDEFGHIJK"], 2, ("--tickers",)),
    Case("source-unknown", ["run", "--source", "nope"], 2, ("--source", "'nope'", "--help")),
    Case("option-unknown", ["run", "--bogus"], 2, ("--bogus", "--help")),
    Case("command-unknown", ["frobnicate"], 2, ("frobnicate", "--help")),
    Case("files-without-folder", ["run", "--source", "files"], 2, ("--data-dir",)),
    Case("query-ticker-without-name", ["query", "ticker"], 2, ("query ticker needs a TICKER",)),
    Case("query-unknown-ticker", ["query", "ticker", "NOPE"], 2, ("no analysis stored", "'NOPE'")),
    Case("query-what-unknown", ["query", "nonsense"], 2, ("nonsense", "--help")),
    Case("query-format-xml", ["query", "latest", "--format", "xml"], 2, ("--format", "xml")),
    Case("query-feb-30", ["query", "history", "--start", "2024-02-30"], 2,
         ("--start", "YYYY-MM-DD")),
    Case("daemon-at-25h", ["daemon", "--source", "sample", "--at", "25:00"], 2,
         ("--at", "HH:MM")),
]  # fmt: skip

FILES = [
    Case("folder-missing", FILES_RUN, 2, ("data folder data does not exist", "ARGENTA_DATA_DIR")),
    Case("folder-a-file", FILES_RUN, 2, ("--data-dir", "'data' is a file"),
         setup=touch("data")),
    Case("folder-symlink-loop", FILES_RUN, 2, ("data folder data", "symbolic link loop"),
         setup=symlink("data", "data")),
    Case("no-prices-file", FILES_RUN, 2, ("no prices file in data", "prices.csv"),
         setup=mkdir("data")),
    Case("prices-symlink-loop", FILES_RUN, 2, ("prices.csv", "symbolic link loop", "fix or remove"),
         setup=symlink("data/prices.csv", "prices.csv")),
    Case("prices-dangling-link", FILES_RUN, 2, ("prices.csv", "missing path"),
         setup=symlink("data/prices.csv", "nowhere.csv")),
    Case("prices-a-folder", FILES_RUN, 2, ("prices.csv", "folder"), setup=mkdir("data/prices.csv")),
    Case("prices-empty-file", FILES_RUN, 2, ("prices.csv",), setup=touch("data/prices.csv")),
    Case("prices-binary", FILES_RUN, 2, ("prices.csv",),
         setup=touch("data/prices.csv", bytes(range(256)) * 40)),
    Case("prices-no-close", FILES_RUN, 2, ("prices.csv is missing column(s) close", "accepted"),
         setup=prices_csv(drop="close")),
    Case("prices-header-only", FILES_RUN, 1, ("has no price bar", "data"),
         setup=touch("data/prices.csv", b"date,ticker,close\n")),
    Case("parquet-list-column", FILES_RUN, 2, ("prices.parquet column close", "one value per cell"),
         setup=parquet(pl.DataFrame({"date": ["2023-12-29"], "ticker": ["GGAL"],
                                     "close": [[1.0, 2.0]]}))),
    Case("parquet-garbage", FILES_RUN, 2, ("prices.parquet could not be read", "check the file"),
         setup=touch("data/prices.parquet", b"PAR1 not really" * 10)),
    Case("only-hostile-tickers", FILES_RUN, 1, ("has no price bar",),
         setup=touch("data/prices.csv", b"date,ticker,close\n2023-12-29,=1+1,10\n")),
    Case("row-sql-ticker", FILES_RUN, 0, ("row=", "is not a symbol"), completes=True,
         setup=prices_csv(row("Symbol", "GGAL'; DROP TABLE daily_recommendations;--"))),
    Case("row-far-future", FILES_RUN, 0, ("2924-03-08 is after today",), completes=True,
         setup=prices_csv(row("Date", "2924-03-08"))),
    Case("row-before-1900", FILES_RUN, 0, ("1899-12-29 is before 1900-01-01",), completes=True,
         setup=prices_csv(row("Date", "1899-12-29"))),
    Case("row-huge-price", FILES_RUN, 0, ("too large to store",), completes=True,
         setup=prices_csv(row("Close", "1e12"))),
    Case("row-nan-price", FILES_RUN, 0, ("close is empty",), completes=True,
         setup=prices_csv(row("Close", "nan"))),
    Case("row-inf-price", FILES_RUN, 0, ("close is not a number: 'inf'",), completes=True,
         setup=prices_csv(row("Close", "inf"))),
    Case("row-text-date", FILES_RUN, 0, ("date is not a date",), completes=True,
         setup=prices_csv(row("Date", "ayer"))),
    Case("excel-export", FILES_RUN, 0, (), completes=True, setup=excel_export),
    Case("close-only", FILES_RUN, 0, (), completes=True, setup=close_only),
    Case("fundamentals-broken", FILES_RUN, 0, ("fundamentals.csv", "file skipped"), completes=True,
         setup=both(prices_csv(), touch("data/fundamentals.csv", b"a,b\n1,2\n"))),
]  # fmt: skip

DATABASES = [
    Case("published-truncated", RUN, 0, (), completes=True, setup=damage_published("truncate")),
    Case("published-head-zeroed", RUN, 0, (), completes=True, setup=damage_published("head")),
    Case("published-truncated-no-work", RUN, 1, ("argenta_ia.duckdb", "restore a backup"),
         setup=damage_published("truncate", keep_work=False), hides=(".work",)),
    Case("published-text-no-work", RUN, 1, ("does not open as a DuckDB", "restore a backup"),
         setup=damage_published("text", keep_work=False), hides=(".work",)),
    Case("published-foreign-no-work", RUN, 1, ("other tables (customers)", "move it away"),
         setup=damage_published("foreign", keep_work=False)),
    Case("published-empty-file", RUN, 1, ("not a valid DuckDB database", "restore a backup"),
         setup=damage_published("empty", keep_work=False)),
    Case("schema-from-the-future", RUN, 1, ("newer than this program", "upgrade argenta-ia"),
         setup=damage_published("future-schema", keep_work=False)),
    Case("query-missing-database", ["query", "latest"], 1, ("does not exist", "argenta backfill"),
         setup=remove_published),
    Case("query-garbage-database", ["query", "latest"], 1, ("argenta_ia.duckdb", "a backup"),
         setup=damage_published("text")),
    Case("run-lock-symlink", RUN, 2, ("run.lock", "symbolic link", "remove it"),
         setup=symlink(f"{DB}.run.lock", "victim.txt")),
]  # fmt: skip

GROUPS = {"env": SETTINGS, "arg": ARGUMENTS, "file": FILES, "db": DATABASES}
CASES = [(f"{group}-{case.id}", case) for group, cases in GROUPS.items() for case in cases]


# --- running them -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published database of GGAL and YPF from 2024-02-01 to 2024-03-07 (built once)."""
    path = tmp_path_factory.mktemp("hostile") / DB
    settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
    jobs.backfill(
        settings,
        jobs.SourceOptions("sample", tickers=("GGAL", "YPF")),
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 7),
    )
    return path


def rows_digest(path: Path) -> str | None:
    """The stored data of a database file: a digest of the rows of every table but job_runs
    (a failed run is recorded there), or of its bytes when it does not open."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = table_digests(con)
        finally:
            con.close()
    except duckdb.Error:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    tables.pop("job_runs", None)
    return repr(sorted(tables.items()))


def run_case(
    case: Case,
    folder: Path,
    published: Path,
    monkeypatch: pytest.MonkeyPatch,
    prepared: Callable[[str | None], None] = lambda digest: None,
) -> tuple[int, str, str]:
    """Run `case` in `folder` on a copy of `published`; `prepared` gets the digest before it."""
    shutil.copyfile(published, folder / DB)
    shutil.copyfile(work_path(published), work_path(folder / DB))  # the writer's own copy
    if case.setup:
        case.setup(folder)
    prepared(rows_digest(folder / DB))
    monkeypatch.chdir(folder)
    ours = ("ARGENTA_", "DATABASE_URL", "SCHEDULER_", "DAILY_ANALYSIS_", "JOB_TIMEOUT", "MAX_RE")
    for name in [n for n in os.environ if n.startswith(ours)]:
        monkeypatch.delenv(name)
    env = {"DATABASE_URL": str(folder / DB), "ARGENTA_YF_CACHE_DIR": str(folder / "yfc")}
    result = CliRunner().invoke(cli.main, case.args, env=env | case.env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the case fails with it
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[name for name, _ in CASES])
def test_hostile_input(case: Case, tmp_path: Path, published: Path, monkeypatch) -> None:
    befores: list[str | None] = []
    code, out, err = run_case(case, tmp_path, published, monkeypatch, befores.append)
    [before] = befores
    assert code == case.code, f"exit {code}, stderr: {err}"
    assert "Traceback" not in out + err
    for secret in case.hides:
        assert secret not in out + err
    problems = [line for line in err.splitlines() if "level=" not in line]
    if case.code:
        assert len(problems) == 1, err  # one line
        assert problems[0].startswith("error: ")
        for words in case.says:
            assert words in problems[0], problems[0]
    else:
        assert all(p.startswith("warning: ") for p in problems), err
        for words in case.says:
            assert words in err, err
    if not case.completes:
        assert rows_digest(tmp_path / DB) == before  # nothing stored was touched


def test_the_suite_is_large_enough():
    assert len(CASES) >= 80 and len({name for name, _ in CASES}) == len(CASES)


def test_a_held_run_lock_is_refused_with_exit_3(tmp_path: Path, published: Path, monkeypatch):
    lock = lock_path(tmp_path / DB, "run")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, b"pid 1: another run\n")
    try:
        case = Case("lock", RUN, 3)
        code, _, err = run_case(case, tmp_path, published, monkeypatch)
    finally:
        os.close(fd)
    assert code == 3
    [line] = [x for x in err.splitlines() if "level=" not in x]
    assert "another run is in progress (pid 1: another run)" in line and "wait for it" in line
    assert rows_digest(tmp_path / DB) == rows_digest(published)
