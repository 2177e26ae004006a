"""Argenta IA dashboard: `streamlit run dashboard.py`; the database comes from DATABASE_URL."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from ui import data, notfound, params, plotly_bundle, warmup

log = logging.getLogger("argenta.dashboard")

warmup.page_config()
# (file, title, icon, URL path): the first page is served at the root URL.
PAGE_TABLE = (
    (params.RECOMMENDATIONS_PAGE, "Recomendaciones", "recommend", ""),
    (params.EVOLUTION_PAGE, "Evolución de puntajes", "show_chart", "evolucion"),
    (params.DETAIL_PAGE, "Detalle del ticker", "query_stats", params.DETAIL_URL_PATH),
    (params.TRACK_PAGE, "Historial de aciertos", "fact_check", "historial"),
    (params.METHOD_PAGE, "Metodología", "menu_book", "metodologia"),
    (params.HEALTH_PAGE, "Salud de los procesos", "monitor_heart", "salud"),
)
CHART_PAGES = {"evolucion", "historial", "salud"}  # URL paths of the pages drawing Plotly charts
PAGES = [
    st.Page(
        path,
        title=title,
        icon=f":material/{icon}:",
        url_path=url or None,
        default=not url,
    )
    for path, title, icon, url in PAGE_TABLE
]

LOGO = str(Path(__file__).with_name("ui") / "logo.svg")
STYLE = Path(__file__).with_name("ui") / "style.css"  # contrast and focus (WCAG AA)

st.logo(LOGO, size="large")
st.html(STYLE)
page = st.navigation(PAGES, position="top")
base = str(st.get_option("server.baseUrlPath") or "")
if page.url_path in CHART_PAGES:
    plotly_bundle.preload(base)
if missing := notfound.unknown_path(st.context.url, base, [url for *_, url in PAGE_TABLE]):
    asked, root = missing  # Streamlit runs the main page: say so in Spanish
    notfound.translate_modal(asked, page.title, root)
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
