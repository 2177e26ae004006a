"""Recomendaciones: the latest call for every ticker, on the latest or any past day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import streamlit as st

from pipeline.settings import Settings
from store import reads
from ui import calls as today
from ui import data, guide, params, tables
from ui import format as fmt
from ui import track_record_verdict as verdict


def freshness(
    db: data.Database, cfg: Settings, asked: dt.date, shown: dt.date, latest: dt.date
) -> None:
    """Say which day is shown, and warn when the data is older than the last session."""
    if asked != shown:  # a weekend, a holiday or a day the pipeline did not run
        st.info(
            f"No hay análisis del {fmt.date(asked)} (no fue rueda o no se analizó): se "
            f"muestra el anterior, del **{fmt.date(shown)}**.",
            icon=":material/history:",
        )
    if shown < latest:
        st.info(
            f"Análisis histórico del **{fmt.date(shown)}**; el más reciente es del "
            f"{fmt.date(latest)}.",
            icon=":material/history:",
        )
        return
    expected = data.last_session(db.read(reads.tickers), data.today(cfg))
    if shown >= expected:
        st.success(f"Datos al cierre del **{fmt.date(shown)}**, la última rueda.", icon="✅")
        return
    st.warning(
        f"Los datos son del **{fmt.date(shown)}**, pero la última rueda fue el "
        f"{fmt.date(expected)}: el proceso diario no corrió o falló. "
        "Revisá «Salud de los procesos».",
        icon=":material/schedule:",
    )


def set_aside(stale: pl.DataFrame, cfg: Settings) -> str | None:
    """Older calls in a collapsed section, with their dates; returns a selected ticker."""
    if stale.is_empty():
        return None
    label = f"Sin datos recientes ({fmt.count(stale.height, 'ticker')})"
    with st.expander(label, expanded=False, icon=":material/history:"):
        st.caption(
            "Su último análisis es anterior a la última rueda de su mercado: no cuentan en "
            "los totales, el orden, los cambios ni el CSV para Excel."
        )
        return tables.recommendations(stale.sort("analysis_date", "ticker"), cfg, "stale")


def market_context(view: dict[str, Any] | None) -> None:
    """The day's market view: the macro score and its call, the CCL, the gap, the dollar Merval."""
    if view is None:
        return
    with st.container(border=True):
        st.markdown(f"**Contexto del mercado** · {fmt.date(view['analysis_date'])}")
        call = fmt.MARKET_CALLS.get(view["market_call"] or "", "Sin datos")
        figures = {
            "Visión de mercado": f"{call} · {fmt.number(view['macro_score'])}",
            "Dólar CCL": f"$ {fmt.number(view['usdars_ccl'])}",
            "Brecha": fmt.percent(view["exchange_gap"]),
            "Merval en dólares": f"US$ {fmt.number(view['merval_usd'])}",
        }
        # Text, not st.metric: the page's metrics are the KPIs (one compact row on a phone).
        for column, (label, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
            column.markdown(f"{label}  \n**{value.replace('$ —', '—')}**")
        st.caption(guide.MARKET_CONTEXT)


def overview(calls: pl.DataFrame) -> None:
    """How many tickers get each call (no average score: it is about 50 by construction)."""
    counts = dict(calls.group_by("recommendation").len().rows())
    columns = st.container(key="kpis").columns(len(fmt.RECOMMENDATIONS))
    for column, call in zip(columns, fmt.RECOMMENDATIONS, strict=True):
        column.metric(fmt.call_markdown(call.capitalize(), call), counts.get(call, 0), border=True)


def changes(db: data.Database, day: dt.date, current: set[str]) -> None:
    """Upgrades and downgrades of today's calls since the previous trading day."""
    moved = db.read(reads.recommendation_changes, day)
    if not moved.is_empty():
        moved = moved.filter(pl.col("ticker").is_in(current))
    with st.container(border=True):
        if moved.is_empty():
            st.markdown("**Cambios de recomendación**")
            st.caption("Ningún ticker cambió de recomendación respecto de la rueda anterior.")
            return
        st.markdown(f"**Cambios de recomendación desde el {fmt.date(moved['previous_date'][0])}**")
        labels = ("Mejoran", "Empeoran")
        for column, rows, label in zip(st.columns(2), fmt.changes(moved), labels, strict=True):
            lines = [fmt.change_line(row) for row in rows.iter_rows(named=True)]
            column.markdown(f"**{label} ({rows.height})**\n\n" + "\n".join(lines))


def filters() -> dict[str, Any]:
    """The filter widgets, as keyword arguments of `reads.latest_recommendations`."""
    calls, risks, scores = st.columns([2, 2, 3])
    low, high = scores.slider("Puntaje total", 0, 100, (0, 100))
    return {
        "recommendation": calls.multiselect(
            "Recomendación", fmt.RECOMMENDATIONS, placeholder="Todas"
        ),
        "risk_level": risks.multiselect("Riesgo", fmt.RISK_LEVELS, placeholder="Todos"),
        "min_score": low,
        "max_score": high,
    }


def open_detail(ticker: str | None, frame: pl.DataFrame) -> None:
    """Go to the detail page of the selected ticker, on the date of its call."""
    if ticker is None:
        return
    day = frame.filter(pl.col("ticker") == ticker)["analysis_date"][0]
    st.switch_page(params.DETAIL_PAGE, query_params=params.detail_query(ticker, day))


def downloads(current: pl.DataFrame, everything: pl.DataFrame, shown: dt.date) -> None:
    """The Excel CSV of today's calls (default) and the raw machine CSV of every row."""
    buttons = (  # label, contents, file-name suffix, icon, primary, tooltip
        (
            "Descargar CSV (Excel)",
            tables.csv_excel(current),
            "",
            "download",
            True,
            "Separado por punto y coma, con coma decimal: se abre directo en Excel en español.",
        ),
        (
            "CSV de datos (formato máquina)",
            tables.csv(everything, shown),
            "_datos",
            "data_object",
            False,
            "Coma como separador, punto decimal y los nombres de columna de la base; incluye "
            "los tickers sin datos recientes.",
        ),
    )
    for column, (label, body, suffix, icon, primary, tip) in zip(
        st.columns(len(buttons)), buttons, strict=True
    ):
        column.download_button(
            label,
            body,
            file_name=f"recomendaciones_{shown:%Y-%m-%d}{suffix}.csv",
            mime="text/csv",
            icon=f":material/{icon}:",
            type="primary" if primary else "secondary",
            help=tip,
        )


cfg = data.settings()
db = data.database(cfg)
dates = db.read(reads.analysis_dates)

title, picker = st.columns([3, 1], vertical_alignment="bottom")
title.title("Recomendaciones")
day = params.date_select(picker, "Fecha del análisis", dates)
shown = db.read(reads.latest_date, day) or dates[0]  # never None: day >= dates[0]
current_all, _ = today.split(db.read(reads.latest_recommendations, day), shown)
freshness(db, cfg, day, shown, dates[-1])
if notice := today.missing_components(current_all):
    st.info(notice, icon=":material/info:")
overview(current_all)

heading = st.empty()  # written once the filters are known: how many tickers are listed
with st.expander("Filtrar y ordenar", icon=":material/filter_list:"):  # collapsed: the table
    chosen = filters()  # stays in the first screen of a phone
    search_col, sort_col, order_col = st.columns([2, 2, 3], vertical_alignment="bottom")
    search = search_col.text_input("Buscar ticker", placeholder="p. ej. GGAL")
    sorts = tables.sort_labels(tables.with_upside(current_all))
    sort_by = sort_col.selectbox("Ordenar por", sorts)
    descending = order_col.toggle("De mayor a menor", value=True)

table = tables.with_upside(db.read(reads.latest_recommendations, day, search=search, **chosen))
current, stale = today.split(table, shown)
current = tables.sort(current, sort_by, descending)
when = "de la última rueda" if shown == dates[-1] else f"del {fmt.date(shown)}"
heading.subheader(f"Recomendaciones {when} · {fmt.count(current.height, 'ticker')}")
jump = st.columns([2, 3])[0].selectbox(
    "Ver el análisis de",
    table.sort("ticker")["ticker"],
    index=None,
    placeholder="Escribí o elegí un ticker",
)
picked = tables.recommendations(current, cfg, "current")
st.caption(guide.SCORE_COLUMNS)
st.caption("Tocá una fila, o elegí el ticker arriba, para ver su análisis completo.")
# Right under the calls (above it, a phone's first screen would lose the table), filled last:
# the calls show before the track record is read.
track_line = st.container()
downloads(current, pl.concat([current, stale]), shown)
market_context(db.read(reads.latest_market_view, shown))  # under the table: a phone's first
changes(db, day, set(current_all["ticker"]))  # screen keeps the calls
with track_line:
    verdict.track_caption(db)
open_detail(jump or picked or set_aside(stale, cfg), table)
