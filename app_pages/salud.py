"""Salud de los procesos: recent runs, success rate, alerts, the daemon and the disk."""

from __future__ import annotations

from typing import Any, NoReturn

import polars as pl
import streamlit as st

from pipeline.ops import latency, monitoring
from store import reads
from ui import alerts, charts, data, params, plotly_bundle, tables
from ui import format as fmt


def errors_by_type(errors: dict[str, int]) -> None:
    """The latest completed run's errors per analysis type, most first (es-AR counts)."""
    if not any(errors.values()):  # the failed tickers' notice below says so
        return
    counts = sorted(((n, kind) for kind, n in errors.items() if n), reverse=True)
    table = pl.DataFrame(
        {
            "Tipo de análisis": [fmt.ERROR_TYPES.get(kind, kind) for _, kind in counts],
            "Errores": [fmt.number(n, 0) for n, _ in counts],
        }
    )
    st.caption("Errores por tipo de análisis de la última corrida completada:")
    st.dataframe(table, hide_index=True, width="content")


def run_usage(report: monitoring.Health) -> dict[str, float]:
    """Peak memory (MB) and CPU seconds of the latest completed run, from its record."""
    done = report.runs.filter(pl.col("status") == "completed")
    if done.is_empty():
        return {}
    record = report.records[done.item(0, "id")]
    usage = {"peak_rss_mb": record.peak_rss_mb, "cpu_seconds": record.cpu_seconds}
    return {k: v for k, v in usage.items() if v is not None}


def read_latency_table(summary: dict[str, dict[str, Any]]) -> pl.DataFrame:
    """The dashboard's read latencies as a Spanish table (es-AR numbers): as the pages waited
    for them (cached or not), and the database reads alone."""
    columns: dict[str, list[Any]] = {"Lectura": [fmt.READS.get(name, name) for name in summary]}
    for kind, label in (("page", ""), ("database", " en la base")):
        figures = [r[kind] or {} for r in summary.values()]
        columns[f"Lecturas{label}"] = [fmt.number(f.get("reads", 0), 0) for f in figures]
        columns[f"Mediana{label} (ms)"] = [fmt.number(f.get("p50_ms"), 1) for f in figures]
        columns[f"p95{label} (ms)"] = [fmt.number(f.get("p95_ms"), 1) for f in figures]
    return pl.DataFrame(columns)


def daemon_state(report: monitoring.Health, tz: str) -> tuple[str, str]:
    """The scheduler's state in Spanish, and when it last reported and runs next."""
    beat = report.heartbeat
    if beat is None:
        return "sin señal", "El planificador (`argenta daemon`) no dejó ninguna señal."
    ago = (report.checked_at - beat.last_tick).total_seconds()
    when = f"Última señal del planificador hace {fmt.duration(ago)}"
    if beat.next_run:
        when += f"; próxima corrida el {fmt.timestamp(fmt.local(beat.next_run, tz))}"
    return fmt.DAEMON_STATE.get(beat.state, beat.state), when + "."


def stop_without_database(cfg: Any, tz: str) -> NoReturn:
    """No database file: the critical alert `argenta status` reports (database_error), in
    Spanish with how to build it, and the other alerts that can be checked without it."""
    report = monitoring.health(cfg)
    st.title("Salud de los procesos")
    st.caption(f"Revisado el {fmt.timestamp(fmt.local(report.checked_at, tz))}")
    st.error(
        f"Todavía no existe la base de datos `{report.database}`: es una alerta crítica "
        "(`argenta status` informa la misma, database_error) y no hay corridas ni datos que "
        f"revisar. {data.BUILD_HINT}",
        icon=":material/notifications_active:",
    )
    for alert in report.alerts:
        if alert.code != "database_error":
            show = st.error if alert.severity == "critical" else st.warning
            show(alerts.mensaje(alert, tz), icon=":material/notifications_active:")
    st.stop()


cfg = data.settings()
if not cfg.database_path.exists():  # as `argenta status`: critical, not a note
    stop_without_database(cfg, cfg.daily_analysis_timezone)
db = data.database(cfg, require_data=False)  # a missing or unreadable file stops here, with a hint
report = monitoring.health(
    cfg, runs=db.read(reads.job_runs, monitoring.RECENT_RUNS), last_dates=db.read(reads.last_dates)
)
tz = cfg.daily_analysis_timezone

st.title("Salud de los procesos")
st.caption(
    f"Base `{report.database}` · revisado el {fmt.timestamp(fmt.local(report.checked_at, tz))}"
)
if report.healthy:
    st.success("Sin alertas activas: el análisis diario funciona con normalidad.", icon="✅")
for alert in report.alerts:
    show = st.error if alert.severity == "critical" else st.warning
    worded = alerts.con_motivo(alert, report.runs, report.records)  # its reason's code
    show(alerts.mensaje(worded, tz), icon=":material/notifications_active:")

state, when = daemon_state(report, tz)
rate, streak, daemon, size, disk = st.columns(5)
rate.metric(
    "Tasa de éxito",
    "—" if report.success_rate is None else f"{fmt.number(report.success_rate * 100, 0)} %",
    help="Corridas completadas entre las recientes ya terminadas.",
    border=True,
)
streak.metric("Fallas seguidas", report.consecutive_failures, border=True)
daemon.metric("Planificador", state, border=True)
size.metric("Tamaño de la base", fmt.size(report.db_size_bytes), border=True)
disk.metric("Disco libre", fmt.size(report.free_disk_bytes), border=True)
st.caption(when)

if report.runs.is_empty():
    st.info("Todavía no hay corridas registradas.", icon=":material/info:")
    st.stop()

still_running = pl.col("end_time").fill_null(fmt.utc_naive(report.checked_at))
reason = pl.Series(  # a known code in Spanish, from the run's record when it has one
    "failure_reason",
    [
        alerts.motivo_de_corrida(report.records[run_id], why)
        for run_id, why in report.runs.select("id", "failure_reason").iter_rows()
    ],
    pl.String,
)
runs = fmt.local_times(
    report.runs.with_columns(still_running, reason), tz, "start_time", "end_time"
)
failed_column, inactive_column = st.columns([3, 2])
with failed_column:
    st.subheader("Tickers con errores en la última corrida")
    errors_by_type(report.errors_by_type)
    failed = tables.failed_tickers(report.runs, report.records)
    if failed is None:
        st.success("Ningún ticker falló en la última corrida terminada.", icon="✅")
with inactive_column:  # apart from the errors: the source no longer has them
    st.subheader("Sin datos recientes")
    st.metric(
        "Sin datos recientes",
        fmt.number(report.inactive_count, 0),
        help="Tickers de la última corrida completada que la fuente ya no tiene: "
        "no se cuentan como errores.",
        border=True,
    )
    if tables.inactive_tickers(report.inactive_tickers, report.inactive_count) is None:
        st.success("Todos los tickers tienen datos recientes.", icon="✅")

st.subheader("Antigüedad de los datos por ticker")
if report.latest_sessions:
    st.caption(
        "Última rueda analizada: "
        + " · ".join(f"{x} {fmt.date(day)}" for x, day in sorted(report.latest_sessions.items()))
        + ". La alerta de datos atrasados compara cada mercado con la rueda que la corrida "
        "diaria ya debería haber guardado, según su calendario."
    )
if not db.read(reads.analysis_dates):
    st.info("Todavía no hay análisis guardados.", icon=":material/info:")
else:
    tables.data_age(db.read(reads.latest_recommendations), data.today(cfg))

st.subheader("Corridas recientes")
# The table first and the timeline in a lazy tab: a page without a chart to draw arrives without
# running plotly.js (a 4.7 MB bundle, 0.3-0.8 s of the browser's main thread in every new tab).
listed, timeline = st.tabs(["Tabla", "Cronología"], key=params.VIEW, bind="query-params")
if listed.open:
    with listed:
        tables.runs(runs, report.records)
if timeline.open:
    with timeline:
        plotly_bundle.wanted()
        st.plotly_chart(charts.runs_timeline(runs))

st.subheader("Recursos y tiempos de lectura")
usage = run_usage(report)
memory, cpu = st.columns(2)
memory.metric(
    "Memoria máxima de la última corrida",
    f"{fmt.number(usage['peak_rss_mb'], 0)} MB" if "peak_rss_mb" in usage else "—",
    border=True,
)
cpu.metric(
    "CPU de la última corrida",
    fmt.duration(usage["cpu_seconds"]) if "cpu_seconds" in usage else "—",
    border=True,
)
reads_seen = latency.summary(report.database)
if reads_seen:
    st.caption(
        "Tiempos de lectura del tablero, últimas 200 de cada una: lo que esperó cada página "
        "(con o sin caché) y, aparte, solo las lecturas que fueron a la base."
    )
    st.dataframe(read_latency_table(reads_seen), hide_index=True)
