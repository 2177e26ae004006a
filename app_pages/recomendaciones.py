"""Recomendaciones: the latest call for every ticker, on the latest or any past day."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import polars as pl
import streamlit as st

from pipeline.settings import Settings
from store import reads
from ui import data, params, tables
from ui import format as fmt


def freshness(db: data.Database, cfg: Settings, shown: dt.date, latest: dt.date) -> None:
    """Say which day is shown, and warn when the data is older than the last session."""
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


def lagging(calls: pl.DataFrame, shown: dt.date) -> None:
    """Say how many tickers have no data on the day shown (the table dims their rows)."""
    old = calls.filter(pl.col("analysis_date") < shown)["ticker"].sort().to_list()
    if old:
        st.caption(
            f"{fmt.count(len(old), 'ticker')} sin datos el {fmt.date(shown)} "
            f"({', '.join(old)}): la tabla los muestra en gris, con la fecha de su último análisis."
        )


def overview(calls: pl.DataFrame) -> None:
    """How many tickers get each call, and the average score."""
    counts = dict(calls.group_by("recommendation").len().rows())
    columns = st.columns(len(fmt.RECOMMENDATIONS) + 1)
    for column, call in zip(columns, fmt.RECOMMENDATIONS, strict=False):
        column.metric(fmt.call_markdown(call.capitalize(), call), counts.get(call, 0), border=True)
    columns[-1].metric(
        "Puntaje promedio",
        fmt.number(cast(float | None, calls["total_score"].mean()), 1),
        border=True,
    )


def changes(db: data.Database, day: dt.date) -> None:
    """Upgrades and downgrades since the previous trading day."""
    moved = db.read(reads.recommendation_changes, day)
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


cfg = data.settings()
db = data.database(cfg)
dates = db.read(reads.analysis_dates)

title, picker = st.columns([3, 1], vertical_alignment="bottom")
title.title("Recomendaciones")
day = params.date_select(picker, "Fecha del análisis", dates)
shown = db.read(reads.latest_date, day) or dates[0]  # never None: day >= dates[0]
calls = db.read(reads.latest_recommendations, day)
freshness(db, cfg, shown, dates[-1])
lagging(calls, shown)
overview(calls)
changes(db, day)

st.subheader("Todas las recomendaciones")
chosen = filters()
search_col, sort_col, order_col = st.columns([2, 2, 3], vertical_alignment="bottom")
search = search_col.text_input("Buscar ticker", placeholder="p. ej. GGAL")
sort_by = sort_col.selectbox("Ordenar por", list(tables.SORTS))
descending = order_col.toggle("De mayor a menor", value=True)

table = db.read(reads.latest_recommendations, day, search=search, **chosen)
table = tables.sort(tables.with_upside(table), sort_by, descending, shown)
st.caption(f"{fmt.count(table.height, 'ticker')} · tocá uno para ver su análisis completo.")
tables.recommendations(table, shown)
st.download_button(
    "Descargar CSV",
    tables.csv(table),
    file_name=f"recomendaciones_{shown.isoformat()}.csv",
    mime="text/csv",
    icon=":material/download:",
)
