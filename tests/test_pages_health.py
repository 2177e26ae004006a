"""The Salud de los procesos page: runs, failures, alerts and the daemon's heartbeat."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit import dataframe_util

from pipeline.analysis import calendar, calls, stages
from pipeline.ops import jobs, monitoring
from pipeline.settings import Settings
from store import writes
from store.connection import open_reader, open_writer
from tests.factories import partition
from tests.pages_support import assert_no_failure, figures, messages, numbers, open_page
from ui import format as fmt
from ui import params
from ui.alerts import ALERTAS

PAGE = params.HEALTH_PAGE
ROOT = Path(__file__).resolve().parents[1]
REASON = "RuntimeError: source 'files' returned no prices"
VIEW, TIMELINE = "vista", "Cronología"  # the runs' tab with their timeline, in the URL


def runs_table(at) -> pd.DataFrame:
    """The page's table of recent runs (the one with a status column)."""
    return next(d.value for d in at.dataframe if "status" in d.value.columns)


@pytest.fixture
def runs_db(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One completed run (with errors by type) followed by four failed ones."""
    with open_writer(db_path) as con:
        job = writes.start_job(con, "daily_analysis")
        log = {"errors_by_type": {"technical": 2, "source": 1}}
        writes.finish_job(con, job, 30, 3, log)
        for _ in range(4):
            writes.fail_job(con, writes.start_job(con, "daily_analysis"), REASON)
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    monkeypatch.setenv("SCHEDULER_ENABLED", "true")  # so a missing heartbeat is an alert
    return db_path


def test_failed_runs_and_their_alert_are_shown(runs_db: Path) -> None:
    at = open_page(PAGE)
    assert_no_failure(at)
    assert "falló 4 veces seguidas" in "\n".join(e.value for e in at.error)
    runs = runs_table(at)
    assert list(runs["status"]) == ["Fallido"] * 4 + ["Completado"]
    assert set(runs.loc[runs["status"] == "Fallido", "failure_reason"]) == {REASON}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tasa de éxito"] == "20 %"
    assert metrics["Fallas seguidas"] == "4"


def test_timeline_shows_every_run_by_status(runs_db: Path) -> None:
    (timeline,) = figures(open_page(PAGE, **{VIEW: TIMELINE}))
    bars = {trace["name"]: len(numbers(trace["x"])) for trace in timeline["data"]}
    assert bars == {"Fallido": 4, "Completado": 1}


def test_the_runs_table_comes_first_and_the_timeline_is_a_tab(runs_db: Path) -> None:
    at = open_page(PAGE)
    assert_no_failure(at)
    assert [tab.label for tab in at.tabs] == ["Tabla", TIMELINE]
    assert not figures(at) and len(runs_table(at)) == 5  # no chart to draw on arrival
    at.session_state[VIEW] = TIMELINE  # what a click on the tab sends
    at.run()
    assert len(figures(at)) == 1 and not any("status" in d.value.columns for d in at.dataframe)


def test_errors_by_analysis_type_of_the_last_completed_run(runs_db: Path) -> None:
    at = open_page(PAGE)
    table = next(d.value for d in at.dataframe if "Tipo de análisis" in d.value.columns)
    assert table.to_dict("list") == {
        "Tipo de análisis": ["Técnico", "Fuente de datos"],  # most errors first
        "Errores": ["2", "1"],
    }


def test_a_missing_database_is_the_critical_alert_argenta_status_reports(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    monkeypatch.setenv("SCHEDULER_ENABLED", "false")
    cli = monitoring.health(Settings.from_env(env_file=None))
    assert [(a.severity, a.code) for a in cli.alerts] == [("critical", "database_error")]
    at = open_page(PAGE)
    assert_no_failure(at)
    assert not at.info and not at.success  # not a blue note, not "healthy"
    [error] = [e.value for e in at.error]
    assert error.startswith(
        f"Todavía no existe la base de datos `{db_path}`: es una alerta crítica"
    )
    assert "make demo" in error
    assert not db_path.exists()  # looking did not create it


def test_a_live_daemon_heartbeat_is_shown_without_alert(runs_db: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    beat = monitoring.Heartbeat(os.getpid(), now, now, "idle", next_run=now + dt.timedelta(hours=2))
    monitoring.write_heartbeat(runs_db, beat)
    at = open_page(PAGE)
    assert {m.label: m.value for m in at.metric}["Planificador"] == "en espera"
    assert "No hay señal del planificador" not in messages(at)
    assert "próxima corrida" in "\n".join(c.value for c in at.caption)


def test_a_missing_heartbeat_raises_the_daemon_alert(runs_db: Path) -> None:
    at = open_page(PAGE)
    assert "No hay señal del planificador" in messages(at)
    assert {m.label: m.value for m in at.metric}["Planificador"] == "sin señal"


def test_the_daemon_has_one_name_on_the_page_and_in_its_alerts() -> None:
    """«Planificador» on the page's metric and in every daemon alert; never «programador»."""
    daemon_alerts = [text for key, text in ALERTAS.items() if key.startswith("daemon_down")]
    assert daemon_alerts and all("planificador" in text for text in daemon_alerts)
    spanish = [*ALERTAS.values(), *(p.read_text() for p in ROOT.glob("app_pages/*.py"))]
    assert not [text for text in spanish if "programador" in text.lower()]


@pytest.mark.parametrize(
    "log_data",
    ['{"dates": 3, "errors_by_type": ["technical"], "metrics": 5}', "null", "[]"],
    ids=["odd-types", "null", "not-object"],
)
def test_runs_with_logs_of_any_shape_still_show(db_path: Path, monkeypatch, log_data) -> None:
    """Rows written by earlier versions (or by hand) display with what can be read."""
    with open_writer(db_path) as con:
        job = writes.start_job(con, "daily_analysis")
        writes.finish_job(con, job, 30, 0, {})
        con.execute("UPDATE job_runs SET log_data = ? WHERE id = ?", [log_data, job])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    assert_no_failure(at)
    runs = runs_table(at)
    assert list(runs["status"]) == ["Completado"] and list(runs["errors_by_type"]) == [""]


def test_failed_tickers_and_each_tickers_data_age_are_listed(small_db: Path, monkeypatch) -> None:
    with open_writer(small_db) as con:
        errors = [
            {"ticker": "PAM", "analysis_type": "source", "message": "no prices from yfinance"}
        ]
        job = writes.start_job(con, "daily_analysis")
        writes.finish_job(con, job, 2, 1, {"errors": errors, "errors_by_type": {"source": 1}})
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    at = open_page(PAGE)
    assert_no_failure(at)
    failed = next(d.value for d in at.dataframe if "Motivo" in d.value.columns)
    ages = next(d.value for d in at.dataframe if "age" in d.value.columns)
    assert failed.to_dict("records") == [
        {"Ticker": "PAM", "Análisis": "Fuente de datos", "Motivo": "no prices from yfinance"}
    ]
    today = dt.datetime.now(Settings().tz).date()
    by_ticker = dict(zip(ages["ticker"], ages["age"], strict=True))
    assert ages["ticker"].iloc[0] == "PAM"  # the oldest data first
    assert by_ticker["GGAL"] == (today - dt.date(2024, 3, 8)).days
    assert by_ticker["PAM"] == (today - dt.date(2024, 3, 7)).days


def test_stale_data_and_a_low_volume_run_are_shown_in_spanish(db_path: Path, monkeypatch) -> None:
    """With the real clock: the latest session is 10 sessions old and the latest run processed
    1 ticker against a usual 30."""
    today = dt.date.today()
    old = calendar.trading_days("XNYS", today - dt.timedelta(days=40), today)[-11]
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [old], [partition(old, ["GGAL", "YPF"])])
        for tickers in (30, 30, 30, 1):
            last = writes.start_job(con, "daily_analysis")
            writes.finish_job(con, last, tickers, 0, {})
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    assert_no_failure(at)
    errors = "\n".join(e.value for e in at.error)
    assert "Los datos de NYSE están atrasados" in errors
    assert f"la última rueda analizada es la del {fmt.date(old)}" in errors
    warnings = "\n".join(w.value for w in at.warning)
    assert (
        f"La corrida diaria n.º {last}, la última completada, procesó 1 ticker, menos del 80 % "
        "de los 30 habituales." in warnings
    )
    assert "daily_analysis" not in messages(at)  # the process named in Spanish
    assert f"Última rueda analizada: NYSE {fmt.date(old)}" in "\n".join(c.value for c in at.caption)


def _styled_cells(table) -> pd.DataFrame:
    """A styled table's cells as the page writes them (the Styler's display values)."""
    raw = table.proto.arrow_data.styler.display_values
    return dataframe_util.convert_arrow_bytes_to_pandas_df(raw)


def test_run_errors_processes_and_numbers_are_written_in_spanish(sample_db, monkeypatch) -> None:
    """The sample's backfill: one real error worded from its code; the tickers whose prices
    ended years before the period are inactive (run record), not listed as errors."""
    with open_reader(sample_db) as con:
        job_id, log = con.sql("SELECT id, log_data FROM job_runs ORDER BY id DESC").fetchall()[0]
    record = json.loads(log)
    errors, inactive = record["errors"], record["inactive_tickers"]
    assert errors and inactive and record["inactive_count"] == len(inactive)
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    at = open_page(PAGE)
    assert_no_failure(at)
    captions = "\n".join(c.value for c in at.caption)
    assert (
        f"Corrida n.º {job_id} (Carga histórica), {fmt.count(len(errors), 'error', 'errores')}."
        in captions
    )
    failed = next(d.value for d in at.dataframe if "Motivo" in d.value.columns)
    reasons = dict(zip(failed["Ticker"], failed["Motivo"], strict=True))
    assert set(reasons) == {e["ticker"] for e in errors} and not set(reasons) & set(inactive)
    assert not [r for r in reasons.values() if re.search(r"\d{4}-\d{2}-\d{2}|price|bar ", r)]
    runs = next(d for d in at.dataframe if "status" in d.value.columns)
    assert set(runs.value["job_name"]) == {"Carga histórica"}
    duration = _styled_cells(runs)["duration_s"].iloc[0]
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*,\d", duration), duration  # 1,8 not 1.8
    latency = next(d.value for d in at.dataframe if "Lectura" in d.value.columns)
    assert "Recomendaciones del día" in set(latency["Lectura"])
    assert not [name for name in latency["Lectura"] if "_" in name]  # no function names


def test_data_age_has_a_thousands_dot(db_path: Path, monkeypatch) -> None:
    old = dt.date(2020, 1, 3)  # more than 999 days ago
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [old], [partition(old, ["GGAL"])])
        writes.finish_job(con, writes.start_job(con, "daily_analysis"), 1, 0, {})
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    ages = next(d for d in at.dataframe if "age" in d.value.columns)
    days = (dt.datetime.now(Settings().tz).date() - old).days
    assert _styled_cells(ages)["age"].iloc[0] == fmt.number(days, 0)
    assert "." in fmt.number(days, 0)


def test_every_read_of_the_pages_has_a_spanish_label() -> None:
    used = set()
    for source in (*ROOT.glob("app_pages/*.py"), *ROOT.glob("ui/*.py")):
        used |= set(re.findall(r"reads\.([a-z_]+)", source.read_text()))
    assert used and used <= set(fmt.READS), used - set(fmt.READS)


def test_every_run_error_code_is_worded_in_spanish_with_its_dates() -> None:
    codes = {
        calls.REASON_NO_BAR,
        calls.REASON_NOT_FORMED,
        calls.REASON_TOO_FEW_PEERS,
        stages.ERROR_NO_BAR_IN_RANGE,
        stages.ERROR_NOT_A_STOCK,
    }
    assert codes == set(fmt.RUN_ERRORS_ES)
    params = {"dates": 3, "first": "2023-10-02", "last": "2023-10-04", "needed": 5}
    for code in codes - {stages.ERROR_NO_BAR_IN_RANGE}:
        text = fmt.run_error({"message": "English", "code": code, "params": params})
        assert text.endswith("3 fechas, del 02/10/2023 al 04/10/2023"), text
    unknown = {"message": "English text", "code": "from_a_later_version", "params": {}}
    assert fmt.run_error(unknown) == "English text"  # never dropped


def test_a_timed_out_run_and_the_process_names_are_in_spanish(db_path: Path, monkeypatch) -> None:
    with open_writer(db_path) as con:
        writes.fail_job(con, writes.start_job(con, "daily_analysis"), "timeout")
        writes.fail_job(con, writes.start_job(con, "backfill"), REASON)
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    assert_no_failure(at)
    runs = runs_table(at)
    assert list(runs["job_name"]) == ["Carga histórica", "Corrida diaria"]
    assert list(runs["failure_reason"]) == [REASON, "tiempo agotado"]  # an error line as is
    (timeline,) = figures(open_page(PAGE, **{VIEW: TIMELINE}))
    names = {str(y) for trace in timeline["data"] for y in trace["y"]}
    assert names == {"Carga histórica", "Corrida diaria"}


def test_a_run_closed_by_the_next_start_and_a_long_run_are_worded_in_spanish(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_writer(db_path) as con:
        died = writes.start_job(con, "daily_analysis")
        writes.fail_job(con, died, jobs.STALE_REASON)
        slow = writes.start_job(con, "backfill")
        writes.finish_job(con, slow, 30, 0, {})
        earlier = "UPDATE job_runs SET start_time = start_time - INTERVAL (?) HOUR WHERE id = ?"
        con.execute(earlier, [24, died])
        con.execute(earlier, [2, slow])  # the latest run, two hours long
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    assert_no_failure(at)
    runs = runs_table(at)
    reasons = dict(zip(runs["job_name"], runs["failure_reason"], strict=True))
    assert reasons["Corrida diaria"] == (
        "el proceso terminó sin cerrarla (se la encontró en curso al iniciar otra)"
    )
    assert f"La carga histórica n.º {slow} tardó 120 minutos (más de 60)." in messages(at)


@pytest.fixture
def daily_sample_db(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A short backfill of the sample, then the daily run of 2024-03-08 (`argenta run
    --source sample --date 2024-03-08`): the BYMA tickers whose prices ended years before are
    inactive in it."""
    settings = Settings.from_env({"DATABASE_URL": f"duckdb:///{db_path}"}, env_file=None)
    sample = jobs.SourceOptions("sample")
    jobs.backfill(settings, sample, dt.date(2024, 3, 4), dt.date(2024, 3, 7))
    jobs.run_daily(settings, sample, dt.date(2024, 3, 8))
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    return db_path


def test_tickers_without_recent_data_are_counted_and_listed_apart_from_errors(
    daily_sample_db: Path,
) -> None:
    with open_reader(daily_sample_db) as con:
        logs = con.sql("SELECT log_data FROM job_runs ORDER BY id DESC").fetchall()
    inactive = json.loads(logs[0][0])["inactive_tickers"]
    assert len(inactive) > 10 and inactive["BMA.BA"] == "2017-08-03"
    at = open_page(PAGE)
    assert_no_failure(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Sin datos recientes"] == str(len(inactive))
    listed = next(d.value for d in at.dataframe if "Última rueda" in d.value.columns)
    assert dict(zip(listed["Ticker"], listed["Última rueda"], strict=True)) == {
        t: f"{dt.date.fromisoformat(day):%d/%m/%Y}" for t, day in inactive.items()
    }
    assert f"{len(inactive)} tickers sin barra" in "\n".join(c.value for c in at.caption)
    failed = [d.value for d in at.dataframe if "Motivo" in d.value.columns]
    assert not failed or not set(failed[0]["Ticker"]) & set(inactive)  # not errors
    runs = runs_table(at)  # newest first: the daily run, then the backfill
    assert list(runs["job_name"]) == ["Corrida diaria", "Carga histórica"]
    assert runs["inactive_count"].iloc[0] == len(inactive)


def test_a_day_the_source_has_no_prices_for_is_a_failure_worded_in_spanish(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample ends on 08/03/2024: a run for 03/06/2024 fails with the no_prices code,
    four times in a row (the alert's latest reason)."""
    settings = Settings.from_env({"DATABASE_URL": f"duckdb:///{db_path}"}, env_file=None)
    for _ in range(4):
        with pytest.raises(jobs.JobFailed, match="no price bar for any ticker on 2024-06-03"):
            jobs.run_daily(settings, jobs.SourceOptions("sample"), dt.date(2024, 6, 3))
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    assert_no_failure(at)
    spanish = "la fuente «sample» no tiene precios de ningún ticker el 03/06/2024"
    assert list(runs_table(at)["failure_reason"]) == [spanish] * 4
    assert f"(último motivo: {spanish})" in "\n".join(e.value for e in at.error)
    assert "no price bar" not in messages(at)
