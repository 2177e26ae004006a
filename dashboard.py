"""Argenta IA dashboard: `streamlit run dashboard.py`; the database comes from DATABASE_URL."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from ui import data, params

log = logging.getLogger("argenta.dashboard")

st.set_page_config(page_title="Argenta IA", page_icon="📈", layout="wide")
PAGES = [
    st.Page(
        params.RECOMMENDATIONS_PAGE,
        title="Recomendaciones",
        icon=":material/recommend:",
        default=True,  # served at the root URL
    ),
    st.Page(
        params.EVOLUTION_PAGE,
        title="Evolución de puntajes",
        icon=":material/show_chart:",
        url_path="evolucion",
    ),
    st.Page(
        params.DETAIL_PAGE,
        title="Detalle del ticker",
        icon=":material/query_stats:",
        url_path=params.DETAIL_URL_PATH,
    ),
    st.Page(
        params.TRACK_PAGE,
        title="Historial de aciertos",
        icon=":material/fact_check:",
        url_path="historial",
    ),
    st.Page(
        params.METHOD_PAGE,
        title="Metodología",
        icon=":material/menu_book:",
        url_path="metodologia",
    ),
    st.Page(
        params.HEALTH_PAGE,
        title="Salud de los procesos",
        icon=":material/monitor_heart:",
        url_path="salud",
    ),
]

LOGO = str(Path(__file__).with_name("ui") / "logo.svg")

st.logo(LOGO, size="large")
page = st.navigation(PAGES, position="top")
data.settings()  # a wrong setting stops every page with one clear message
try:
    page.run()
except Exception:  # the last guard: analysts never see a traceback
    log.exception("page %s failed", page.title)
    st.error(
        "Ocurrió un error inesperado al mostrar esta página. Recargala; si se repite, "
        "avisá al equipo de datos (el detalle quedó en el registro del servidor).",
        icon=":material/error:",
    )
