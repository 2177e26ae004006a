"""Detalle del ticker: one ticker on one date, with the four analyses behind the call."""

from __future__ import annotations

import json

import streamlit as st

from pipeline.analysis import forecast
from pipeline.ops import jobs, ondemand
from pipeline.textsafe import escape_markdown
from store import reads
from ui import calls as today
from ui import data, guide, help_text, params, tables
from ui import format as fmt
from ui import track_record_verdict as verdict

JSON_FIELDS = {"raw_data": "Datos de entrada", "indicators": "Indicadores", "metadata": "Metadatos"}

cfg = data.settings()
db = data.database(cfg)
dates = db.read(reads.analysis_dates)

latest = db.read(reads.latest_recommendations, dates[-1])
current, _ = today.split(latest, dates[-1])  # today's calls, as the recommendations page has them

st.title("Detalle del ticker")
pick, when = st.columns([3, 1])
ticker = params.ticker_select(
    pick, "Ticker", db.read(reads.tickers), default=tables.first_listed(current)
)
day = params.date_select(when, "Fecha", dates)
rec, details = db.read(reads.ticker_analysis, ticker, day)
shown = escape_markdown(ticker)  # a stored ticker is data, never markup
if rec.is_empty():
    st.info(f"{shown} no tiene análisis hasta el {fmt.date(day)}: elegí una fecha posterior.")
    st.stop()
call = rec.row(0, named=True)
if call["analysis_date"] != day:
    st.info(
        f"No hay análisis de {shown} el {fmt.date(day)}; se muestra el anterior, "
        f"del {fmt.date(call['analysis_date'])}.",
        icon=":material/history:",
    )

with st.container(border=True):
    st.markdown(
        f"## {shown} · {fmt.date(call['analysis_date'])} {fmt.badge(call['recommendation'])}"
    )
    st.markdown(call["summary"] or "")
    total, confidence, price, target, risk = st.columns(5)
    total.metric(
        "Puntaje total", f"{fmt.number(call['total_score'])}/100", help=help_text.total(cfg)
    )
    confidence.metric("Confianza", fmt.confidence(call["confidence"]), help=help_text.CONFIDENCE)
    price.metric("Precio", fmt.price(call["current_price"], ticker), help=help_text.PRICE)
    upside = tables.with_upside(rec)["upside_pct"][0]
    target.metric(
        "Precio objetivo",
        fmt.price(call["target_price"], ticker),
        delta=None if upside is None else fmt.percent(upside / 100, 1, signed=True),
        delta_color="off",  # the target is not the call's direction: never a buy's green
        help=help_text.UPSIDE,
    )
    risk.metric("Riesgo", call["risk_level"] or "—", help=help_text.RISK)
    if call["target_low"] is not None and call["target_high"] is not None:
        st.markdown(
            f"**Rango objetivo a {forecast.TARGET_HORIZON_SESSIONS} ruedas** "
            f"({fmt.percent(forecast.RANGE_COVERAGE, 0)} de los resultados): de "
            f"{fmt.price(call['target_low'], ticker)} a {fmt.price(call['target_high'], ticker)}",
            help=f"{guide.TARGET_LOW} {guide.TARGET_HIGH}",
        )
    st.caption(guide.TARGET_NOT_CALL)
track_line = st.container()  # filled last: the call shows before the track record is read


def analyze_now(stored: dict) -> None:
    """The "Analizar ahora" button: the same pipeline now, beside the stored call, not saved."""
    source = cfg.source
    if not st.button(
        "Analizar ahora",
        icon=":material/bolt:",
        help=f"Corre el mismo análisis ahora con los últimos datos de la fuente ({source}); "
        f"espera como máximo {fmt.duration(ondemand.DEFAULT_TIMEOUT_SECONDS)}. "
        "El resultado no se guarda.",
    ):
        return
    options = jobs.SourceOptions(source, cfg.data_dir, cfg.tickers)
    with st.spinner(f"Analizando {shown} con la fuente {source}…"):
        try:
            fresh = ondemand.analyze(cfg, options, ticker, ondemand.DEFAULT_TIMEOUT_SECONDS)
        except ondemand.SourceUnreachable:
            st.error(
                f"La fuente de datos ({source}) no respondió en "
                f"{fmt.duration(ondemand.DEFAULT_TIMEOUT_SECONDS)}. Se muestra el análisis "
                "guardado; probá de nuevo en unos minutos.",
                icon=":material/cloud_off:",
            )
            return
        except ondemand.NotAnalysed as exc:
            st.warning(f"No se pudo analizar {shown} ahora: {exc}.", icon=":material/block:")
            return
    tables.compare_calls(stored, fresh, cfg.daily_analysis_timezone)


analyze_now(call)

st.subheader("Los cuatro análisis")
for detail in details.iter_rows(named=True):
    label = fmt.ANALYSES[detail["analysis_type"]]
    title = f"**{label}** · {fmt.score(detail['score'])}"
    with st.expander(title, expanded=detail["analysis_type"] == "technical"):
        metadata = json.loads(detail["metadata"] or "{}")
        if detail["score"] is None and metadata.get("reason"):
            st.caption(f"Sin puntaje: {fmt.reason(metadata)}")
        for column, (field, heading) in zip(st.columns(3), JSON_FIELDS.items(), strict=True):
            column.markdown(f"**{heading}**")
            column.json(json.loads(detail[field] or "{}"), expanded=1)

st.subheader("Indicadores")
tables.indicators(details, ticker)
st.page_link(
    params.EVOLUTION_PAGE,
    label=f"Ver la evolución de {ticker}",
    icon=":material/show_chart:",
    query_params={params.TICKER: ticker},
)
with track_line:
    verdict.track_caption(db)
