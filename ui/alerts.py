"""The health alerts in Spanish: one template per alert key, filled with es-AR numbers and dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import polars as pl

from pipeline.ops.jobs import STALE_REASON
from pipeline.ops.monitoring import Alert
from pipeline.ops.runlog import RunRecord
from ui import format as fmt

# One per `Alert.key` that pipeline.ops.monitoring emits (a test checks both lists agree).
ALERTAS = {
    "database_error": "No se puede leer la base de datos {database}: {detail}",
    "consecutive_failures": "La {job} falló {count} veces seguidas (último motivo: {reason}).",
    "long_run.running": "{run} en curso lleva {minutes} minutos (más de {limit_minutes}).",
    "long_run.finished": "{run} tardó {minutes} minutos (más de {limit_minutes}).",
    "low_disk": "Quedan solo {free_mb} MB libres junto a la base de datos "
    "(umbral: {threshold_mb} MB).",
    "daemon_down.no_heartbeat": "No hay señal del planificador: "
    "el análisis diario no está corriendo.",
    "daemon_down.stopped": "El planificador (pid {pid}) se detuvo el {at}.",
    "daemon_down.silent": "El planificador (pid {pid}) no da señales hace {silent}.",
    "stale_data": "Los datos de {exchange} están atrasados {sessions}: la última rueda "
    "analizada es la del {latest} y la corrida diaria ya debería haber guardado la del {expected}.",
    "low_volume.none": "{run}, la última completada, no procesó ningún ticker.",
    "low_volume.share": "{run}, la última completada, procesó {processed}, "
    "menos del {share_pct} % de los {usual} habituales.",
    "slow_run": "{run} en curso lleva {minutes} minutos, más de {factor} veces "
    "lo habitual ({usual_minutes} minutos): puede terminar tarde.",
}

# Failure reasons the pipeline records as codes or fixed texts (others are the error's own
# one line, shown as recorded).
MOTIVOS: dict[str | None, str] = {
    **fmt.FAILURES,
    STALE_REASON: "el proceso terminó sin cerrarla (se la encontró en curso al iniciar otra)",
    # a run record's failure_code (its failure_params fill it: see motivo_de_corrida)
    "no_prices": "la fuente «{source}» no tiene precios de {tickers}{when}",
    "unknown": "desconocido",  # the failure-streak alert's reason when none was recorded
    None: "desconocido",
}

CODIGOS = {code: text for code, text in MOTIVOS.items() if code is not None}


def motivo(reason: str | None) -> str:
    """A failed run's recorded reason in Spanish when it is a known code, else as recorded."""
    return MOTIVOS.get(reason, str(reason))


def motivo_de_corrida(record: RunRecord, reason: str | None) -> str | None:
    """A run's failure reason in Spanish: from its record's failure code and parameters when
    it has a known one (dates dd/mm/aaaa), else `reason` as `motivo` words it (None: the run
    did not fail)."""
    params = record.failure_params or {}
    if record.failure_code == "no_prices" and "source" in params:
        tickers = [str(t) for t in params.get("tickers") or []]
        first, last = _dia(params.get("first")), _dia(params.get("last"))
        when = (
            "" if first is None else f" el {first}" if first == last else f" del {first} al {last}"
        )
        return CODIGOS["no_prices"].format(
            source=params["source"],
            tickers=", ".join(tickers) if tickers else "ningún ticker",
            when=when,
        )
    return None if reason is None else motivo(reason)


def con_motivo(alert: Alert, runs: pl.DataFrame, records: Mapping[int, RunRecord]) -> Alert:
    """The failure-streak alert with its latest reason worded from that run's record (a
    known failure code in Spanish); any other alert as it is."""
    if alert.code != "consecutive_failures":
        return alert
    failed = runs.filter(
        (pl.col("job_name") == alert.params.get("job")) & (pl.col("status") == "failed")
    )
    if failed.is_empty():
        return alert
    run_id, reason = failed.item(0, "id"), failed.item(0, "failure_reason")
    worded = motivo_de_corrida(records[run_id], reason)
    return replace(alert, params={**alert.params, "reason": worded or "unknown"})


def _dia(value: Any) -> str | None:
    """An ISO date as dd/mm/aaaa (None when it is not one)."""
    try:
        return f"{dt.date.fromisoformat(str(value)):%d/%m/%Y}" if value else None
    except ValueError:
        return None


def mensaje(alert: Alert, tz: str) -> str:
    """The alert as one Spanish sentence (times in `tz`)."""
    text = ALERTAS[alert.key].format(**{k: _valor(k, v, tz) for k, v in alert.params.items()})
    return text[:1].upper() + text[1:]


def corrida(run: str) -> str:
    """A run as monitoring names it ("daily_analysis #24", or a job name alone for the run in
    progress) in Spanish: "la corrida diaria n.º 24", "la carga histórica"."""
    job_name, _, number = run.partition(" #")
    known = job_name in fmt.JOB_NAMES  # both feminine: la corrida diaria, la carga histórica
    name = f"la {fmt.job(job_name).lower()}" if known else f"el proceso {job_name}"
    return f"{name} n.º {number}" if number else name


def _valor(name: str, value: Any, tz: str) -> str:
    """One parameter in es-AR: decimal comma, thousands dot, dd/mm/aaaa, durations."""
    if name == "reason":
        return motivo(value)
    if name == "job":  # "La corrida diaria falló…"
        return fmt.job(str(value)).lower()
    if name == "run":  # "La corrida diaria n.º 24 tardó…"
        return corrida(str(value))
    if name == "silent":  # seconds
        return fmt.duration(value)
    if isinstance(value, dt.datetime):
        return fmt.timestamp(fmt.local(value, tz))
    if isinstance(value, dt.date):
        return fmt.date(value)
    if name == "processed":
        return fmt.count(value, "ticker")
    if name == "sessions":
        return fmt.count(value, "rueda")
    if name == "usual_minutes":
        return fmt.number(value, 1)
    if isinstance(value, int | float) and name != "pid":
        return fmt.number(value, 0)
    return str(value)
