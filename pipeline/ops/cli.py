"""`argenta`: thin commands over the pipeline and the store.

Exit codes (`pipeline.errors`): 0 success, 1 the run or the environment failed (retry
later), 2 bad usage, configuration or input, 3 refused because another run or daemon
holds the lock, 4 (`status`) an alert is active. `OneLineErrors.main` is the one place
where errors become exits.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

import click
import polars as pl

from pipeline import errors
from pipeline.analysis import calendar, market_record, track_record
from pipeline.errors import ArgentaError, BadInput, EnvironmentFault, Refused, RunFailed
from pipeline.ops import alert_push, jobs, latency, logfmt, monitoring, ondemand, terminal
from pipeline.ops import daemon as scheduler
from pipeline.ops.locking import exclusive
from pipeline.ops.publish_hook import publish_hook, run_publish_command
from pipeline.settings import SOURCES, ConfigError, Settings, parse_tickers
from pipeline.sources.validate import FIRST_DATE
from pipeline.textsafe import neutralise_formulas
from store import reads
from store.backup import backup as backup_file
from store.backup import restore as restore_file
from store.connection import open_reader, open_writer
from store.export import FORMATS, export
from store.migrate import current_version

MAX_PROBLEMS_SHOWN = 10  # input problems printed after a run; all are in job_runs


def configure_logging(level: int = logging.INFO) -> None:
    """One logfmt line per event on stdout (journald reads it, with the line's priority)."""
    logfmt.configure(level)


def exit_with(error: ArgentaError) -> NoReturn:
    """Print the error's one line to stderr and exit with its code.

    A refusal (exit 3) is also logged as `event=refused` when stdout is the journal (a
    command run by systemd); in a terminal, a pipe or cron it is the one `error:` line.
    """
    if isinstance(error, Refused) and logfmt.stdout_is_journal():
        _log_refused(error)
    click.echo(f"error: {error.message}", err=True)
    sys.exit(error.exit_code)


def _log_refused(error: Refused) -> None:
    logging.getLogger("argenta.cli").warning("event=refused reason=%r", error.message)


def load_settings(ctx: click.Context) -> Settings:
    """The settings read once at the entry point (cached on the click context)."""
    root = ctx.find_root()
    settings = root.obj
    if not isinstance(settings, Settings):
        settings = root.obj = Settings.from_env()
    return settings


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    return None if value is None else _parse_date(value)


def _run_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    """A day for run/backfill: its range (not after today in DAILY_ANALYSIS_TIMEZONE) is
    checked by `jobs.check_day`, before anything is recorded."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None


def _parse_date(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None
    last = dt.date.today() + dt.timedelta(days=1)  # a day of slack for the exchanges' zones
    if not FIRST_DATE <= day <= last:
        raise click.BadParameter(f"{value} is out of range: use a date from {FIRST_DATE} to {last}")
    return day


def _tickers(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    try:
        tickers = parse_tickers(",".join(value), "--tickers")
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None
    if value and not tickers:
        raise click.BadParameter("is empty: give tickers (e.g. GGAL,YPF) or leave it out for all")
    return tickers


def source_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The --source, --data-dir and --tickers options shared by run, backfill and daemon."""
    func = click.option(
        "--tickers",
        multiple=True,
        callback=_tickers,
        help="Tickers to analyse, comma separated or repeated (default: ARGENTA_TICKERS, "
        "else every ticker the source has).",
    )(func)
    func = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder with prices.csv|parquet etc. (for --source files; ARGENTA_DATA_DIR).",
    )(func)
    return click.option(
        "--source",
        type=click.Choice(SOURCES),
        help="Data source (default: ARGENTA_SOURCE, else yfinance).",
    )(func)


# The --format option of the commands that print rows (analyze, query).
print_format = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table: the main columns, rounded, fitted to the terminal; csv or json: every column.",
)


def resolve_source(
    settings: Settings, source: str | None, data_dir: Path | None, tickers: tuple[str, ...]
) -> jobs.SourceOptions:
    """Command-line options over the settings."""
    name = source or settings.source
    folder = data_dir or settings.data_dir
    if name == "files" and folder is None:
        raise BadInput("--source files needs --data-dir DIR (or ARGENTA_DATA_DIR)")
    return jobs.SourceOptions(name, folder, tickers or settings.tickers)


class OneLineErrors(click.Group):
    """The `argenta` group: every error ends the command here, as one line and its exit code.

    An ArgentaError carries both; click's usage errors are bad input (exit 2); any other
    OSError is the environment failing (disk full, a file removed: exit 1, retry later).
    """

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        """Run the command; an error becomes one `error:` line and its exit code."""
        extra["standalone_mode"] = False
        try:
            return super().main(args, prog_name, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "argenta"
            error: ArgentaError = BadInput(f"{exc.format_message()} (see `{where} --help`)")
        except click.ClickException as exc:
            error = BadInput(exc.format_message())
        except click.Abort:
            error = RunFailed("aborted")
        except ArgentaError as exc:
            error = exc
        except OSError as exc:  # disk full, a file removed, a permission: retry later (exit 1)
            error = EnvironmentFault.from_os_error(exc)
        exit_with(error)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug events too.")
def main(verbose: bool) -> None:
    """Argenta IA: daily analysis of Argentine equities into a DuckDB file.

    Settings come from the environment or a .env file (see README). Example:

        argenta backfill --source sample --start 2022-03-01 --end 2024-03-08
    """
    configure_logging(logging.DEBUG if verbose else logging.INFO)


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the database schema up to date (idempotent).

    Example: argenta migrate
    """
    settings = load_settings(ctx)
    db = settings.database_path
    hook = publish_hook(settings.publish_command)
    with exclusive(db, "run", "migrate"), open_writer(db, on_publish=hook) as con:
        version = current_version(con)
    click.echo(f"database {settings.database_path} is at schema version {version}")


@main.command()
@click.option("--date", "day", callback=_run_date, help="Trading day YYYY-MM-DD (default: latest).")
@source_options
@click.pass_context
def run(ctx, day, source, data_dir, tickers) -> None:
    """Run the daily analysis for one trading day and store its partition.

    Example: argenta run --source sample --date 2024-03-08
    """
    settings = load_settings(ctx)
    options = resolve_source(settings, source, data_dir, tickers)
    result = jobs.run_daily(settings, options, day)
    _report(result)
    _warn_unknown(tickers, result)
    _warn_without_calls(result)


def _warn_unknown(tickers: tuple[str, ...], result: jobs.RunResult) -> None:
    """A `warning:` line naming the requested tickers the source had no prices for."""
    failed = result.record.failed_tickers
    if unknown := [t for t in tickers if t in failed]:
        reasons = "; ".join(f"{t}: {failed[t]}" for t in unknown[:5])
        click.echo(
            f"warning: no prices for --tickers {','.join(unknown)} ({reasons}); "
            "the others ran: check the spelling (Yahoo's, e.g. GGAL or GGAL.BA)",
            err=True,
        )


@main.command()
@click.argument("ticker")
@click.option("--source", type=click.Choice(SOURCES), help="Data source (default: ARGENTA_SOURCE).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for --source files (ARGENTA_DATA_DIR).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(1, 600),
    default=ondemand.DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds to wait for the source.",
)
@print_format
@click.pass_context
def analyze(ctx, ticker, source, data_dir, timeout, fmt) -> None:
    """Analyse one TICKER now from the source with the daily pipeline; nothing is stored.

    Example: argenta analyze GGAL --source sample --format json
    """
    settings = load_settings(ctx)
    options = resolve_source(settings, source, data_dir, ())
    result = ondemand.analyze(settings, options, ticker, timeout)  # its errors carry exit codes
    frame = result.recommendation.with_columns(
        pl.lit(result.computed_at.replace(tzinfo=None)).alias("computed_at_utc"),
        pl.lit(round(result.seconds, 3)).alias("seconds"),
        pl.lit(result.source).alias("source"),
        pl.lit(False).alias("stored"),
    )
    if fmt != "table":
        return _print(frame, fmt)
    lines = _call_card(frame.row(0, named=True), terminal.terminal_width())
    lines.insert(2, f"computed {result.seconds:.1f} s from source {result.source}, not stored")
    click.echo("\n".join(lines))


@main.command()
@click.option("--start", required=True, callback=_run_date, help="First day, YYYY-MM-DD.")
@click.option("--end", required=True, callback=_run_date, help="Last day, YYYY-MM-DD.")
@source_options
@click.pass_context
def backfill(ctx, start, end, source, data_dir, tickers) -> None:
    """Analyse every trading day in a range in one pass and store the partitions.

    Example: argenta backfill --source sample --start 2022-03-01 --end 2024-03-08
    """
    settings = load_settings(ctx)
    options = resolve_source(settings, source, data_dir, tickers)
    result = jobs.backfill(settings, options, start, end, progress=_progress_bar())
    _report(result)
    _warn_unknown(tickers, result)
    _warn_without_calls(result)


def _warn_without_calls(result: jobs.RunResult) -> None:
    """A `warning:` line when the run had prices but no ticker got a call. The run is
    completed (exit 0: retrying cannot help when, e.g., the universe is too small to rank
    or every ticker is inactive); the summary line says `completed with no calls` and the
    low_volume alert makes `argenta status` exit 4."""
    if not result.dates or result.tickers_processed:
        return
    counts = monitoring.plural(result.errors_count, "error")
    if result.record.inactive_count:
        counts += f", {result.record.inactive_count} inactive without recent data"
    span = str(result.dates[0])
    if len(result.dates) > 1:
        span += f"..{result.dates[-1]}"
    click.echo(
        f"warning: no ticker got a call on {span} ({counts}): see job_runs #{result.job_id} "
        "log_data (`argenta query jobs --format json`)",
        err=True,
    )


def _kept(result: jobs.RunResult) -> str:
    """The summary's note that a run with no call kept the stored calls of its days."""
    calls = monitoring.plural(result.record.calls_kept or 0, "stored call")
    days = "that day" if len(result.dates) == 1 else "those days"
    return f"; kept the {calls} of {days} (nothing replaced)"


def _progress_bar() -> Callable[[str, int, int], None] | None:
    """A one-line progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        end = "\n" if done >= total else ""
        sys.stderr.write(
            f"\r{stage:8} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}"
        )
        sys.stderr.flush()

    return show


def _report(result: jobs.RunResult) -> None:
    """The run's summary line on stdout and its input problems on stderr."""
    if result.dates:
        first, last = result.dates[0], result.dates[-1]
        span = str(first) if first == last else f"{first}..{last} ({len(result.dates)} days)"
    else:
        span = "no day had prices yet (nothing written)"
    inactive = result.record.inactive_count
    status = result.status
    if result.dates and not result.tickers_processed:
        status += " with no calls"
    click.echo(
        f"{result.job_name} #{result.job_id} {status}: {span}, "
        f"{monitoring.plural(result.tickers_processed, 'ticker')}, "
        f"{monitoring.plural(result.errors_count, 'error')}"
        + (f", {inactive} inactive (no recent data)" if inactive else "")
        + (_kept(result) if result.record.calls_kept else "")
    )
    problems, total = result.record.data_problems, result.record.data_problems_count
    for line in problems[:MAX_PROBLEMS_SHOWN]:
        click.echo(f"warning: {line}", err=True)
    if total > MAX_PROBLEMS_SHOWN:
        click.echo(
            f"warning: ... {total - MAX_PROBLEMS_SHOWN} more input problems "
            f"(all in job_runs #{result.job_id} log_data.data_problems)",
            err=True,
        )


@main.command()
@click.argument("what", type=click.Choice(["latest", "history", "ticker", "jobs", "track-record"]))
@click.argument("ticker", required=False)
@click.option("--date", "day", callback=_date, help="latest/ticker: as of this date.")
@click.option("--start", callback=_date, help="history: first date.")
@click.option("--end", callback=_date, help="history: last date.")
@click.option("--tickers", multiple=True, callback=_tickers, help="history: only these tickers.")
@click.option(
    "--horizon",
    type=click.Choice(["5", "20", "60"]),
    default="20",
    show_default=True,
    help="track-record: sessions after the call.",
)
@click.option("--since", callback=_date, help="track-record: calls on or after this date.")
@click.option(
    "--entry",
    type=click.Choice(["close", "next_close"]),
    default="close",
    show_default=True,
    help="track-record: bought at the call's close or the next one.",
)
@print_format
@click.pass_context
def query(ctx, what, ticker, day, start, end, tickers, horizon, since, entry, fmt) -> None:
    """Print a read of the database: latest, history, ticker TICKER, jobs, or track-record.

    track-record prints the calls' track record at --horizon, then the market view's against
    the Merval (market_view_ic, market_view_by_call) at every horizon.

    Examples: argenta query latest --format csv;  argenta query ticker GGAL;
    argenta query track-record --horizon 20 --since 2020-01-01 --format csv
    """
    settings = load_settings(ctx)
    if what == "ticker" and not ticker:
        raise BadInput("query ticker needs a TICKER, e.g. `argenta query ticker GGAL`")
    if start and end and start > end:
        raise BadInput(f"--start {start} is after --end {end}")
    with open_reader(settings.database_path) as con:
        if what == "latest":
            frame = _latest(reads.latest_recommendations(con, as_of=day))
            _note_other_date(frame, day, "no analysis stored on")
            if fmt == "table":
                return click.echo(_latest_table(frame), nl=False)
        elif what == "history":
            _check_known(tickers, reads.tickers(con))
            frame = reads.recommendation_history(con, start, end, tickers or None)
            if fmt == "table":
                return click.echo(terminal.table(_with_range(frame), HISTORY_COLUMNS), nl=False)
        elif what == "ticker":
            frame = _ticker_frame(con, ticker.upper(), day)
            _note_other_date(frame, day, f"no analysis of {ticker.upper()} stored on")
            if fmt == "table":
                return click.echo(_ticker_card(frame), nl=False)
        elif what == "jobs":
            frame = reads.job_runs(con)
            if fmt == "table":
                return click.echo(terminal.table(_jobs_view(frame), JOB_COLUMNS), nl=False)
        else:
            record = reads.track_record(con, int(horizon), since, entry)
            market = reads.market_track_record(con, since, entry)  # every horizon
            return _print_tables(track_record.tables(record) | market_record.tables(market), fmt)
    _print(frame, fmt)


def _check_known(asked: tuple[str, ...], known: list[str]) -> None:
    """Unknown --tickers: exit 2 when none is known, a warning naming them when some are."""
    unknown = [t for t in asked if t not in set(known)]
    if not unknown:
        return
    names = ", ".join(unknown)
    if len(unknown) == len(asked):
        raise BadInput(
            f"no analysis stored for --tickers {names} (`argenta query latest` lists them)"
        )
    click.echo(f"warning: no analysis stored for {names}; showing the others", err=True)


def _note_other_date(frame: pl.DataFrame, day: dt.date | None, what: str) -> None:
    """One stderr line when --date asked for a day with no call and an earlier one is shown."""
    if day is None or frame.is_empty():
        return
    shown = cast(dt.date, frame.get_column("analysis_date").max())
    if shown != day:
        click.echo(
            f"note: {what} {day} ({day:%A}); showing {shown}, the latest before it", err=True
        )


def _ticker_frame(con, ticker: str, day: dt.date | None) -> pl.DataFrame:
    """The ticker's call with its four analyses, one row per analysis."""
    rec, details = reads.ticker_analysis(con, ticker, day)
    if rec.is_empty() and day is not None and ticker in reads.tickers(con):
        raise BadInput(f"no analysis of {ticker} stored on or before {day}")
    if rec.is_empty():
        raise BadInput(f"no analysis stored for ticker {ticker!r}")
    return (
        rec.drop("created_at")
        .rename({"id": "recommendation_id"})
        .join(details.drop("created_at").rename({"id": "detail_id"}), on="recommendation_id")
    )


# The order of the calls in `query latest`: buy, hold, sell, then anything else.
CALL_ORDER = {"COMPRAR": 0, "MANTENER": 1, "VENDER": 2}


def _latest(frame: pl.DataFrame) -> pl.DataFrame:
    """With exchange, is_current and days_since_latest after the ticker (calendar.freshness),
    current calls first, each group by the call then the score (highest first)."""
    if frame.is_empty():
        return frame
    day = cast(dt.date, frame.get_column("analysis_date").max())
    flagged = frame.with_columns(calendar.freshness(day))
    first = ["analysis_date", "ticker", "exchange", "is_current", "days_since_latest"]
    order = pl.col("recommendation").replace_strict(CALL_ORDER, default=len(CALL_ORDER))
    return flagged.select(first + [c for c in frame.columns if c not in first]).sort(
        [pl.col("is_current").not_(), order, pl.col("total_score"), pl.col("ticker")],
        descending=[False, False, True, False],
        nulls_last=True,
    )


Col = terminal.Column
CALL_COLUMNS = [
    Col("current_price", "price"),
    Col("target_price", "target"),
    Col("target_range", "80% range"),
    Col("risk_level", "risk"),
    Col("summary", text=True),
]
LATEST_COLUMNS = [
    Col("ticker", keep=True),
    Col("recommendation", "call", keep=True),
    Col("total_score", "score", keep=True),
    Col("status", keep=True),
    Col("analysis_date", "date"),
    *CALL_COLUMNS,
]
HISTORY_COLUMNS = [
    Col("analysis_date", "date", keep=True),
    Col("ticker", keep=True),
    Col("recommendation", "call", keep=True),
    Col("total_score", "score", keep=True),
    Col("technical_score", "technical"),
    Col("fundamental_score", "fundamental"),
    Col("sentiment_score", "sentiment"),
    *CALL_COLUMNS,
]
JOB_COLUMNS = [
    Col("id", keep=True),
    Col("job_name", "job", keep=True),
    Col("start_time", "started (UTC)"),
    Col("status", keep=True),
    Col("duration_s", "seconds", digits=1),
    Col("tickers_processed", "tickers"),
    Col("errors_count", "errors"),
    Col("dates"),
    Col("failure_reason", "reason", text=True, shortest=20),
]
DETAIL_COLUMNS = [
    Col("analysis_type", "analysis", keep=True),
    Col("score", keep=True),
    Col("completeness", "data", digits=0, percent=True, keep=True),
    Col("note", text=True, keep=True),
]


def _with_range(frame: pl.DataFrame) -> pl.DataFrame:
    """`target_range`: the stated 80 % range of the target as one text cell, `low to high`."""
    if not {"target_low", "target_high"} <= set(frame.columns):
        return frame
    ranges = [
        None if low is None or high is None else f"{low:,.2f} to {high:,.2f}"
        for low, high in frame.select("target_low", "target_high").iter_rows()
    ]
    return frame.with_columns(target_range=pl.Series(ranges, dtype=pl.String))


def _latest_table(frame: pl.DataFrame) -> str:
    """Current calls, then the stale ones after a blank line, marked, and a line saying so."""
    if frame.is_empty():
        return terminal.table(frame)
    days = pl.col("days_since_latest").cast(pl.String)
    view = _with_range(frame).with_columns(
        status=pl.when("is_current")
        .then(pl.lit("current"))
        .otherwise(pl.concat_str(pl.lit("STALE "), days, pl.lit(" d")))
    )
    current = int(frame.get_column("is_current").sum())
    text = terminal.table(view, LATEST_COLUMNS, gap_before=[current])
    day = cast(dt.date, frame.get_column("analysis_date").max())
    sessions = ", ".join(
        f"{monitoring.EXCHANGE_NAMES[x]} {calendar.latest_trading_day(x, day)}"
        for x in calendar.EXCHANGES
    )
    note = f"{current} current calls, made on their exchange's latest session ({sessions})"
    if stale := frame.height - current:
        note += f"; {stale} STALE after them, made before it (d: calendar days behind)"
    wrapped = textwrap.wrap(note + ".", width=terminal.terminal_width(), break_long_words=False)
    return text + "\n" + "\n".join(wrapped) + "\n"


def _jobs_view(frame: pl.DataFrame) -> pl.DataFrame:
    """Job runs with the dates they covered and the failure reason, from their log."""
    log = pl.col("log_data")
    first, last = (log.str.json_path_match(f"$.dates.{k}") for k in ("first", "last"))
    return frame.with_columns(
        dates=pl.when(last.is_null() | (first == last))
        .then(first)
        .otherwise(pl.concat_str(first, pl.lit(".."), last)),
        failure_reason=log.str.json_path_match("$.failure_reason"),
    )


def _call_card(row: dict[str, Any], width: int) -> list[str]:
    """A call in a few lines: ticker, call, score and date; price and target; the summary."""

    def num(value: float | None) -> str:
        return terminal.NULL if value is None else f"{value:,.2f}"

    lines = [
        f"{row['ticker']}  {row['recommendation']}  score {num(row['total_score'])}"
        f"  on {row['analysis_date']}",
        f"price {num(row['current_price'])}  target {num(row['target_price'])}"
        f" (80% range {num(row.get('target_low'))} to {num(row.get('target_high'))})"
        f"  risk {row['risk_level'] or terminal.NULL}",
    ]
    if row.get("summary"):
        lines += ["", *textwrap.wrap(row["summary"], width=width, break_long_words=False)]
    return lines


def _ticker_card(frame: pl.DataFrame) -> str:
    """`query ticker` for a reader: the call, its summary, then one line per analysis."""
    width = terminal.terminal_width()
    lines = _call_card(frame.row(0, named=True), width)
    meta = pl.col("metadata")
    warnings = meta.str.json_path_match("$.warnings").str.json_decode(pl.List(pl.String))
    details = frame.with_columns(
        completeness=meta.str.json_path_match("$.completeness").cast(pl.Float64),
        note=pl.coalesce(
            meta.str.json_path_match("$.reason"),
            pl.when(warnings.list.len() > 0).then(warnings.list.join("; ")),
        ),
    )
    return "\n".join(lines) + "\n\n" + terminal.table(details, DETAIL_COLUMNS, width)


def _print(frame: pl.DataFrame, fmt: str) -> None:
    if fmt == "csv":  # cells a spreadsheet would run as formulas are quoted
        click.echo(neutralise_formulas(frame).write_csv(), nl=False)
    elif fmt == "json":
        click.echo(_json(frame))
    else:
        click.echo(terminal.table(frame), nl=False)


# Columns that hold a JSON document as text: printed as the object itself in --format json.
JSON_TEXT_COLUMNS = ("log_data",)


def _json(frame: pl.DataFrame) -> str:
    """JSON rows: stored UTC timestamps in ISO 8601 with their offset, JSON text as objects."""
    naive = [
        c for c, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone is None
    ]
    frame = frame.with_columns(pl.col(naive).dt.replace_time_zone("UTC"))
    nested = [c for c in JSON_TEXT_COLUMNS if frame.schema.get(c) == pl.String]
    if not nested:
        return frame.write_json()
    rows = json.loads(frame.write_json())
    for row in rows:
        for column in nested:
            row[column] = json.loads(row[column]) if row[column] is not None else None
    return json.dumps(rows, ensure_ascii=False)


def _print_tables(tables: dict[str, pl.DataFrame], fmt: str) -> None:
    """Several tables: one JSON object of row lists, or each table under a `# name` line."""
    if fmt == "json":
        click.echo(json.dumps({k: v.to_dicts() for k, v in tables.items()}, default=str))
        return
    for name, frame in tables.items():
        click.echo(f"# {name}")
        if fmt == "table":
            click.echo(
                terminal.table(frame, terminal.generic_columns(frame, _rates_first(frame))),
                nl=False,
            )
        else:
            _print(frame, fmt)
        click.echo()


def _rates_first(frame: pl.DataFrame) -> list[str]:
    """The columns with the hit rates right after the labels and counts, before the means (the
    rightmost columns are the ones left out on a narrow terminal)."""
    rates = [c for c in frame.columns if c.endswith("_rate")]
    others = [c for c in frame.columns if c not in rates]
    labels = [i for i, c in enumerate(others) if not frame.schema[c].is_float()]
    cut = labels[-1] + 1 if labels else 0
    return others[:cut] + rates + others[cut:]


def _dates(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[dt.date]:
    return [_parse_date(v) for v in values]


def _time_of_day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.time.fromisoformat(value).strftime("%H:%M:%S")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time of day: use HH:MM or HH:MM:SS") from None


@main.command()
@source_options
@click.option(
    "--at",
    callback=_time_of_day,
    help="Run the daily job at HH:MM[:SS] in DAILY_ANALYSIS_TIMEZONE instead of "
    "DAILY_ANALYSIS_HOUR:DAILY_ANALYSIS_MINUTE.",
)
@click.option(
    "--catch-up/--no-catch-up",
    default=True,
    show_default=True,
    help="Fill the missing trading days at start, before waiting for the schedule.",
)
@click.option(
    "--once",
    is_flag=True,
    help="Fill the missing trading days once and exit (also with SCHEDULER_ENABLED=false, "
    "e.g. from cron).",
)
@click.option(
    "--pretend-date",
    callback=_date,
    hidden=True,
    help="Replays and tests: act as if today were YYYY-MM-DD (the schedule keeps real time).",
)
@click.pass_context
def daemon(ctx, source, data_dir, tickers, at, catch_up, once, pretend_date) -> None:
    """Run the daily analysis on schedule: catch-up, retries, heartbeat; stop with SIGTERM.

    Exits 0 when stopped by a signal or when SCHEDULER_ENABLED=false, 3 when another
    daemon serves this database, and 1 when the job gave up after its retries (with
    --once: when it did not complete), so systemd sees the failure. Example:

        argenta daemon --source yfinance
    """
    settings = load_settings(ctx)
    options = resolve_source(settings, source, data_dir, tickers)
    clock = scheduler.utc_clock
    if pretend_date:
        clock = scheduler.clock_on(pretend_date, settings.tz)
    verbose = ctx.find_root().params["verbose"]
    run = scheduler.DaemonOptions(at=at, catch_up_on_start=catch_up, once=once, verbose=verbose)
    daemon = scheduler.Daemon(settings, options, run, clock=clock)
    try:
        served = daemon.serve()
    except Refused as exc:  # the daemon's log (the journal) says it was refused
        if not logfmt.stdout_is_journal():  # else exit_with logs it
            _log_refused(exc)
        raise
    if served:
        return
    if daemon.gave_up and not once:
        raise RunFailed(
            f"{scheduler.JOB_NAME} gave up after {settings.max_retries + 1} attempts: the daemon "
            "exits so systemd records the failure and restarts it; the event= lines above say why"
        )
    raise RunFailed(f"{scheduler.JOB_NAME} did not complete; the event= lines above say why")


@main.command("run-days", hidden=True)
@click.argument("days", nargs=-1, required=True, callback=_dates)
@click.option("--job", "job_name", required=True, help="The job_name recorded in job_runs.")
@source_options
@click.pass_context
def run_days(ctx, days, job_name, source, data_dir, tickers) -> None:
    """Internal (the daemon's child process): analyse DAYS in one run recorded as JOB.

    Example: argenta run-days --job daily_analysis --source sample 2024-03-07 2024-03-08
    """
    settings = load_settings(ctx)
    options = resolve_source(settings, source, data_dir, tickers)
    _report(jobs.run_dates(settings, options, days, job_name, skip_days_without_data=True))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the health summary as JSON.")
@click.option(
    "--notify",
    is_flag=True,
    help="Also push alerts that started or cleared since the last push "
    "(ARGENTA_ALERT_WEBHOOK, ARGENTA_ALERT_COMMAND).",
)
@click.pass_context
def status(ctx, as_json, notify) -> None:
    """Print the health summary and active alerts; exit 4 when an alert is active.

    Checks the recent runs, the database, the free disk and the daemon's heartbeat. For
    a monitoring check: argenta status || notify-someone. Example: argenta status --json
    """
    settings = load_settings(ctx)
    health = monitoring.health(settings)
    if notify:
        targets = alert_push.channels(settings.alert_webhook, settings.alert_command)
        alert_push.push(alert_push.alert_dicts(health.alerts), settings.database_path, targets)
    if as_json:
        summary = health.to_dict() | {"read_latency": latency.summary(settings.database_path)}
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(monitoring.render_text(health))
    if not health.healthy:
        sys.exit(errors.ALERT)


@main.command("export")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="parquet", show_default=True)
@click.option(
    "--since",
    callback=_date,
    help="Only rows dated on or after YYYY-MM-DD (the small catalog tables are exported whole).",
)
@click.pass_context
def export_command(ctx, dest, fmt, since) -> None:
    """Export every table and view to DEST (hive-partitioned) with a data dictionary.

    Reads the published file (never blocks a run). DEST is replaced atomically.
    Example: argenta export ./export --format parquet --since 2024-01-01
    """
    settings = load_settings(ctx)
    with open_reader(settings.database_path) as con:
        result = export(con, dest, fmt, since)
    for name, rows in result.rows.items():
        click.echo(f"{name}: {rows} rows")
    click.echo(f"exported to {result.path} ({result.bytes / 1e6:.1f} MB), see DICTIONARY.md")


@main.command()
@click.argument("dest", type=click.Path())  # a string: a trailing / says "a folder"
@click.pass_context
def backup(ctx, dest) -> None:
    """Copy the published database to DEST: a file, or a folder (an existing one, or any path
    ending with /, created if missing) for a time-stamped argenta_ia-YYYYmmddTHHMMSSZ.duckdb.

    Safe while readers and the daemon run: the copy reads one published file to the end
    (a publish meanwhile does not change it) and is checked before it gets its name.
    Example: argenta backup /var/backups/argenta/
    """
    settings = load_settings(ctx)
    target = backup_file(settings.database_path, dest)
    click.echo(f"backed up {settings.database_path} to {target}")


@main.command()
@click.argument("backup", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def restore(ctx, backup) -> None:
    """Make BACKUP the published database (checked first; the next run adopts it).

    Takes the run lock, so it never lands in the middle of a run. Example:
    argenta restore /var/backups/argenta/argenta_ia-20261130T060000Z.duckdb
    """
    settings = load_settings(ctx)
    db = settings.database_path
    with exclusive(db, "run", "restore"):
        restore_file(backup, db)
        if settings.publish_command:
            run_publish_command(settings.publish_command, db)
    click.echo(f"restored {backup} as {db}; the next run continues from it")


@main.command("notify-failed")
@click.argument("unit")
@click.pass_context
def notify_failed(ctx, unit) -> None:
    """Push a `service_failed` alert for UNIT (systemd's OnFailure=, argenta-alert@.service).

    Example: argenta notify-failed argenta-pipeline.service
    """
    settings = load_settings(ctx)
    targets = alert_push.channels(settings.alert_webhook, settings.alert_command)
    if not targets:
        click.echo("no alert channel configured (ARGENTA_ALERT_WEBHOOK, ARGENTA_ALERT_COMMAND)")
        return
    alert = alert_push.failed_unit_alert(unit)
    alert_push.push([alert], settings.database_path, targets, clear=False)
    click.echo(f"alert service_failed for {unit} pushed")


if __name__ == "__main__":
    sys.exit(main())
