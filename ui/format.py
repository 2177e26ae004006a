"""Spanish labels, badge colours and number formats shared by the pages."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from pipeline.analysis import calendar
from pipeline.analysis.scoring.summary_es import number_es

RECOMMENDATIONS = ("COMPRAR", "MANTENER", "VENDER")
RISK_LEVELS = ("BAJO", "MEDIO", "ALTO")
# Badge colours (st.badge names) and the matching hex colours for tables and charts.
BADGE_COLORS = {"COMPRAR": "green", "MANTENER": "orange", "VENDER": "red"}
CALL_HEX = {"COMPRAR": "#1a7f37", "MANTENER": "#b7791f", "VENDER": "#cf222e"}
RISK_HEX = {"BAJO": "#1a7f37", "MEDIO": "#b7791f", "ALTO": "#cf222e"}
# Order of calls from most bearish to most bullish: a move up this scale is an upgrade.
CALL_RANK = {"VENDER": 0, "MANTENER": 1, "COMPRAR": 2}
ANALYSES = {
    "technical": "Técnico",
    "fundamental": "Fundamental",
    "macro": "Macro",
    "sentiment": "Sentimiento",
}
ERROR_TYPES = {**ANALYSES, "source": "Fuente de datos", "unknown": "Otros"}
COMPONENT_COLUMNS = {f"{kind}_score": label for kind, label in ANALYSES.items()}
JOB_STATUS = {"completed": "Completado", "failed": "Fallido", "running": "En curso"}
# The processes recorded in job_runs (`job_name`); an unknown one is shown as it is.
JOB_NAMES = {"daily_analysis": "Corrida diaria", "backfill": "Carga histórica"}
# A failed run's reason when recorded as a code (pipeline/ops/jobs.py `_failure`); any other
# reason is the error's own line, shown as recorded.
FAILURES: dict[str | None, str] = {"timeout": "tiempo agotado", "interrupted": "interrumpida"}
STATUS_HEX = {"completed": "#1a7f37", "failed": "#cf222e", "running": "#1f6feb"}
DAEMON_STATE = {
    "starting": "iniciando",
    "idle": "en espera",
    "running": "ejecutando",
    "retrying": "reintentando",
    "stopping": "deteniéndose",
    "stopped": "detenido",
}
CURRENCIES = {calendar.BUENOS_AIRES: "$", calendar.NEW_YORK: "US$"}
# The track record's scores, origins and entry prices, in Spanish.
SCORES = {"total": "Total", **ANALYSES}
ORIGINS = {
    "publicado": "Publicado",
    "simulado": "Simulado",
    "todos": "Todos",
}
# Not the calls' colours (Publicado in COMPRAR's green read as a buy).
ORIGIN_HEX = {"Publicado": "#8250df", "Simulado": "#6e7781", "Todos": "#1f6feb"}
ENTRIES = {"close": "cierre del día", "next_close": "cierre siguiente"}
# The dashboard's database reads (store.reads functions, as the read-latency log names them).
READS = {
    "analysis_dates": "Fechas con análisis",
    "job_runs": "Corridas recientes",
    "last_dates": "Última fecha de cada ticker",
    "latest_date": "Último día con análisis",
    "latest_market_view": "Visión de mercado del día",
    "latest_recommendations": "Recomendaciones del día",
    "market_track_record": "Historial de la visión de mercado",
    "market_view": "Visión de mercado",
    "recommendation_changes": "Cambios de recomendación",
    "recommendation_history": "Historia de puntajes",
    "technical_history": "Precios e indicadores",
    "ticker_analysis": "Análisis de un ticker",
    "tickers": "Lista de tickers",
    "track_record": "Historial de aciertos",
}
# Listing groups of the track record (benchmark and universe); unknown ones are shown as they are.
LISTINGS = {"todos": "Todos", "ADR": "ADR (Nueva York, US$)", "BYMA": "BYMA (.BA, $)"}
# The track record's IC t-statistic methods (codes) in Spanish; unknown codes are shown as is.
MARKET_CALLS = {"FAVORABLE": "Favorable", "NEUTRAL": "Neutral", "DESFAVORABLE": "Desfavorable"}
MARKET_CALL_HEX = {"Favorable": "#1a7f37", "Neutral": "#b7791f", "Desfavorable": "#cf222e"}
MARKET_CURRENCIES = {"ARS": "En pesos", "USD": "En dólares (CCL)"}
IC_METHODS = {
    "newey_west": "Newey-West (núcleo de Bartlett) con {lags} rezagos, igual al horizonte",
}
_BYTE_UNITS = ("B", "KB", "MB", "GB")
_WEEKDAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")


def date(day: dt.date | None) -> str:
    """A date as dd/mm/aaaa with its Spanish weekday, or a dash."""
    return "—" if day is None else f"{_WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"


def timestamp(moment: dt.datetime | None) -> str:
    """A timestamp as dd/mm/aaaa hh:mm, or a dash."""
    return "—" if moment is None else f"{moment:%d/%m/%Y %H:%M}"


MINUS = "\u2212"  # the minus sign of the charts' axes, not a hyphen


def number(value: float | None, decimals: int = 2) -> str:
    """A number the Argentine way (1.234,56; −0,08 with a minus sign), or a dash when missing.

    A value that rounds to zero has no sign ("0,00", never "−0,00").
    """
    text = number_es(value, decimals)
    if text is None:
        return "—"
    if text.startswith("-"):
        return text[1:] if not text.strip("-0,.") else MINUS + text[1:]
    return text


def percent(value: float | None, decimals: int = 1, signed: bool = False) -> str:
    """A fraction as an Argentine percentage (0.1234 → "12,3 %"; signed: "+12,3 %"), or a dash."""
    if value is None or math.isnan(value):
        return "—"
    text = number(abs(value) * 100, decimals)
    if not text.strip("0,."):  # rounds to zero: no sign
        return f"{text} %"
    sign = MINUS if value < 0 else "+" if signed else ""
    return f"{sign}{text} %"


def confidence(value: float | None) -> str:
    """A stored confidence as "70 %", or "no estimada" (NULL: the model no longer estimates it)."""
    return "no estimada" if value is None else f"{number(value, 0)} %"


def origin_counts(by_call: pl.DataFrame) -> dict[str, int]:
    """Calls per origin ("publicado", "simulado") in a track record's by-call frame."""
    pooled = by_call.filter(pl.col("listing") == "todos")  # every listing, counted once
    sums = pooled.group_by("origin").agg(pl.col("calls").sum())
    found = dict(sums.rows())
    return {origin: int(found.get(origin) or 0) for origin in ("publicado", "simulado")}


def ic_method(code: str, lags: int | None) -> str:
    """A track record's t-statistic method (`method` code and `lags`), in Spanish."""
    text = IC_METHODS.get(code, code)
    return text.format(lags="—" if lags is None else lags)


def ic_of(summary: pl.DataFrame, score: str) -> tuple[float | None, float | None]:
    """A score's mean IC and its t-statistic from a track record's IC summary."""
    row = summary.filter(pl.col("score") == score)
    return (row["mean_ic"][0], row["t_stat"][0]) if row.height else (None, None)


def ic_statement(summary: pl.DataFrame, score: str) -> str:
    """A score's mean IC and t-statistic as one phrase: "IC medio 0,012 (t = 1,23)"."""
    mean_ic, t_stat = ic_of(summary, score)
    if mean_ic is None:
        return "IC medio sin datos"
    return f"IC medio {number(mean_ic, 3)} (t = {number(t_stat, 2)})"


def in_pesos(ticker: str) -> bool:
    """Whether the ticker is listed in pesos (on BYMA, a .BA symbol)."""
    return calendar.exchange_for(ticker) == calendar.BUENOS_AIRES


def count(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun: "1 ticker", "3 tickers"; `plural` when not noun + "s" ("errores")."""
    return f"{number(n, 0)} {noun}" if n == 1 else f"{number(n, 0)} {plural or noun + 's'}"


def job(name: str) -> str:
    """A process of job_runs in Spanish ("daily_analysis" → "Corrida diaria")."""
    return JOB_NAMES.get(name, name)


def currency(ticker: str) -> str:
    """The listing currency symbol: pesos on BYMA (.BA symbols), dollars for ADRs in New York."""
    return CURRENCIES[calendar.exchange_for(ticker)]


def currency_expr(ticker: str = "ticker") -> pl.Expr:
    """`currency` as a polars expression over a ticker column."""
    return calendar.exchange_expr(ticker).replace_strict(CURRENCIES)


def price(value: float | None, ticker: str) -> str:
    """A price in the ticker's listing currency."""
    return "—" if value is None else f"{currency(ticker)} {number(value)}"


def score(value: float | None) -> str:
    """A 0-100 score with one decimal, or "sin datos"."""
    return "sin datos" if value is None else f"{number(value, 1)}/100"


def size(num_bytes: float | None) -> str:
    """A byte count in B, KB, MB or GB."""
    if num_bytes is None:
        return "—"
    power = min(int(math.log(max(num_bytes, 1), 1024)), len(_BYTE_UNITS) - 1)
    return f"{number(num_bytes / 1024**power, 1 if power else 0)} {_BYTE_UNITS[power]}"


def duration(seconds: float | None) -> str:
    """A duration as "12,3 s", "4 min 05 s" or "1 h 02 min"."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{number(seconds, 1)} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def badge(call: str) -> str:
    """The call as a coloured badge, in Streamlit markdown."""
    return f":{BADGE_COLORS[call]}-badge[{call}]"


def call_markdown(text: str, call: str) -> str:
    """`text` coloured like the call's badge, in Streamlit markdown."""
    return f":{BADGE_COLORS[call]}[{text}]"


def change_line(change: dict) -> str:
    """One call change as a markdown list item: ticker, old → new call, old → new score."""
    calls = f"{change['previous']} → {call_markdown(change['current'], change['current'])}"
    # As stored (2 decimals), like the table: never rounded across a threshold.
    scores = f"{number(change['previous_score'])} → {number(change['current_score'])}"
    return f"- **{change['ticker']}**: {calls} ({scores})"


def changes(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split call changes (store.reads.recommendation_changes) into upgrades and downgrades."""
    if frame.is_empty():
        return frame, frame
    step = pl.col("current").replace_strict(CALL_RANK) - pl.col("previous").replace_strict(
        CALL_RANK
    )
    moved = frame.with_columns(step.alias("step"))
    return moved.filter(pl.col("step") > 0), moved.filter(pl.col("step") < 0)


def local(moment: dt.datetime, tz: str) -> dt.datetime:
    """An aware datetime as naive local time in `tz`."""
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def utc_naive(moment: dt.datetime) -> dt.datetime:
    """An aware datetime as naive UTC, the convention of the database's timestamps."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def local_times(frame: pl.DataFrame, tz: str, *columns: str) -> pl.DataFrame:
    """Naive UTC timestamp columns converted to naive local times in `tz`."""
    return frame.with_columns(
        pl.col(columns)
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(tz)
        .dt.replace_time_zone(None)
    )


# Why a component has no score, by the code the analysis stores next to its English text
# (metadata `reason_code`, `reason_params`: pipeline/analysis/scoring/*.py). A row written
# before the codes existed, or with a code this table does not know, shows the English text.
REASONS_ES = {
    "short_history": "historia de precios insuficiente: {bars} ruedas; el puntaje técnico "
    "necesita {needed}",
    "no_fundamentals": "la fuente no tiene balances presentados a esa fecha",
    "filing_too_old": "el último balance ({filed}) tiene {age_days} días, más que el límite "
    "de {limit_days}",
    "no_usable_metric": "ninguna métrica utilizable (convertir el precio requiere un tipo de "
    "cambio oficial reciente)",
    "no_fresh_macro": "ninguna serie macro actualizada a esa fecha",
    "no_news_for_ticker": "la fuente no trajo titulares hasta esa fecha",
    "no_news_in_window": "no hay titulares en los últimos {days} días",
    "no_lexicon_words": "ningún titular de la ventana tiene palabras del léxico",
    # The relative model's (pipeline/analysis/stages.py RELATIVE_REASONS).
    "no_factor_history": "sin valor ese día: historia de precios limpia insuficiente",
    "too_few_peers": "menos de {needed} acciones de su grupo tienen un valor ese día",
    "not_a_stock": "es un índice o un tipo de cambio: no se compara con acciones",
}


# A run's ticker errors by their code (pipeline/analysis/stages.py: `calls.REASON_*` and
# `ERROR_*`), in Spanish; the calls' reasons end with the dates they cover.
_CALL_FORMED = "(la recomendación se fija ese día y se mantiene todo el mes)"
RUN_ERRORS_ES = {
    "no_bar_in_range": "sin precio en las fechas analizadas (último precio del {last})",
    "no_bar_on_formation_session": f"sin precio en la primera rueda del mes {_CALL_FORMED}",
    "no_total_on_formation_session": "sin puntaje total en la primera rueda del mes "
    f"{_CALL_FORMED}: historia de precios limpia insuficiente",
    "too_few_peers_on_formation_session": "menos de {needed} acciones de su grupo tenían "
    f"puntaje total en la primera rueda del mes {_CALL_FORMED}",
    "not_a_stock": "es un índice o un tipo de cambio: no lleva recomendación",
}


def reason(metadata: Mapping[str, Any]) -> str:
    """A component's reason for having no score (a detail's metadata), in Spanish."""
    english = str(metadata.get("reason") or "")
    template = REASONS_ES.get(str(metadata.get("reason_code")))
    return _filled(template, metadata.get("reason_params") or {}, english)


def run_error(error: Mapping[str, Any]) -> str:
    """A ticker error of a run's record in Spanish (from its code), else its English text."""
    english = str(error.get("message") or "")
    params = error.get("params") or {}
    text = _filled(RUN_ERRORS_ES.get(str(error.get("code"))), params, english)
    if text == english or not isinstance(params, Mapping) or "dates" not in params:
        return text
    first, last = _reason_param(params.get("first")), _reason_param(params.get("last"))
    span = f"el {first}" if first == last else f"del {first} al {last}"
    return f"{text}; {count(int(params['dates']), 'fecha')}, {span}"


# Why a source failed on a ticker: the sources record English text only (pipeline/sources/
# validate.py `_missing`, yahoo.py `download_bars`); the known forms, in Spanish.
_SOURCE_FAILURES = (
    (re.compile(r"^not in (?P<file>.+)$"), "no figura en {file}"),
    (
        re.compile(r"^no valid rows in the requested dates in (?P<file>.+)$"),
        "sin filas válidas en las fechas pedidas en {file}",
    ),
    (
        re.compile(
            r"^no prices from Yahoo \(delisted, misspelled or offline\) after (?P<n>\d+) "
            r"attempts$"
        ),
        "Yahoo no devolvió precios tras {n} intentos (dado de baja, mal escrito o sin conexión)",
    ),
    (
        re.compile(r"^download failed: (?P<why>.*) after (?P<n>\d+) attempts$"),
        "falló la descarga tras {n} intentos (detalle técnico: {why})",
    ),
)


def source_failure(text: str) -> str:
    """A source's reason for failing on a ticker, in Spanish when its form is known."""
    for pattern, template in _SOURCE_FAILURES:
        if found := pattern.match(text):
            return template.format(**found.groupdict())
    return text


# A setting's error by its code (pipeline/settings.py ConfigError.code) and params: what the
# variable accepts, in Spanish. Values are written as they go in the environment (0.25).
SETTING_ERRORS_ES = {
    "flag": "usá true o false (también 1/0, yes/no, on/off, en mayúsculas o minúsculas)",
    "integer": "usá un número entero entre {lo} y {hi}",
    "number": "usá un número entre {lo} y {hi}, escrito con punto decimal (p. ej. 0.25)",
    "choice": "usá uno de estos valores: {choices}",
    "time_zone": "usá una zona horaria IANA, como America/Argentina/Buenos_Aires",
    "database_url": "usá duckdb:///RUTA (p. ej. duckdb:///./argenta_ia.duckdb) o la ruta de "
    "un archivo: la base es siempre un archivo DuckDB",
    "database_url_file": "tiene que nombrar un archivo, p. ej. duckdb:///./argenta_ia.duckdb",
    "database_path": "`{path}` no sirve como archivo de la base: tiene que ser un archivo (puede "
    "no existir todavía) dentro de una carpeta",
    "cache_path": "`{path}` no sirve: tiene que ser una carpeta (se crea si falta)",
    "web_url": "usá una dirección http:// o https://",
    "command": "usá una línea de comando, con comillas como en una terminal",
    "tickers": "usá tickers como los escribe Yahoo, separados por comas (GGAL,YPF,TGSU2.BA)",
    "weights": "usá pares componente=peso, p. ej. technical=0.5,fundamental=0.5 (componentes: "
    "{components}; cada peso entre 0 y 100 y la suma mayor que 0; el que falta pesa 0)",
    "macro_weight": "macro es una visión de mercado y no forma parte del total: sacalo",
    "env_file": "no es un archivo de texto UTF-8 con líneas NOMBRE=valor: corregilo o borralo",
    "retired": "ya no se usa (las recomendaciones son ahora proporciones fijas): usá {use}",
}


def setting_error(variable: str, value: str, code: str, params: Mapping[str, Any]) -> str:
    """What is wrong with a setting and what it accepts, in Spanish (from its code)."""
    template = SETTING_ERRORS_ES.get(code)
    written = {k: f"{v:g}" if isinstance(v, float) else str(v) for k, v in params.items()}
    how = _filled(template, written, "") if template else ""
    if code == "env_file":
        return f"el archivo de configuración `{variable}` {how}"
    what = f"la variable `{variable}` vale `{value}`, que no sirve"
    return f"{what}: {how}" if how else f"{what} (los valores aceptados están en el README)"


def _filled(template: str | None, params: Any, english: str) -> str:
    """`template` filled with `params` written the Argentine way; `english` when it cannot be."""
    if template is None or not isinstance(params, Mapping):
        return english
    try:
        return template.format(**{name: _reason_param(v) for name, v in params.items()})
    except (KeyError, IndexError, ValueError):  # parameters of another version of the code
        return english


def _reason_param(value: Any) -> str:
    """A reason parameter as shown: dates dd/mm/aaaa, numbers with es-AR separators."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return number(value, 0 if float(value).is_integer() else 2)
    try:
        return f"{dt.date.fromisoformat(str(value)):%d/%m/%Y}"
    except ValueError:
        return str(value)
