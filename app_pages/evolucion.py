"""Evolución de puntajes: total and component scores over time, and the price chart."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from store import reads
from ui import charts, compare, data, help_text, params, plotly_bundle
from ui import format as fmt

DEFAULT_TICKERS = 3
DEFAULT_PERIOD = dt.timedelta(days=182)
VIEWS = ("Puntaje total", "Componentes", "Rendimiento comparado", "Precio", "ADR y acción local")


def own_last_date(db: data.Database, tickers: list[str]) -> dt.date | None:
    """The latest analysis date among the chosen tickers (their own data, not the market's)."""
    lasts = [db.read(reads.ticker_analysis, t)[0] for t in tickers]
    days = [rec["analysis_date"][0] for rec in lasts if not rec.is_empty()]
    return max(days) if days else None


def price_view(db: data.Database, shown: list[str], start: dt.date, end: dt.date) -> str:
    """The price chart of a shown ticker (in dollars at the CCL on request); returns the ticker."""
    ticker_col, dollars_col = st.columns([2, 3], vertical_alignment="bottom")
    ticker = ticker_col.selectbox("Ticker del gráfico de precio", shown)
    prices = db.read(reads.technical_history, ticker, start, end)
    has_ccl = fmt.in_pesos(ticker) and prices["usdars_ccl"].is_not_null().any()
    in_dollars = dollars_col.toggle(
        "Ver en dólares al tipo de cambio CCL",
        disabled=not has_ccl,
        help="Sólo para acciones en pesos (.BA) cuando los datos traen el dólar CCL del día.",
    )
    if not charts.has_candles(prices):
        st.caption(
            f"{ticker} sólo tiene precios de cierre en este período: se dibuja una línea "
            "(las velas necesitan apertura, máximo y mínimo)."
        )
    st.plotly_chart(charts.prices(prices, ticker, in_dollars and has_ccl))
    return ticker


def pair_view(db: data.Database, chosen: list[str]) -> None:
    """An ADR against its local share: the implied CCL and its gap with the day's CCL."""
    pairs = compare.pairs(db.read(reads.tickers))
    if not pairs:
        st.info("No hay ningún par de ADR y acción local con los dos tickers en la base.")
        return
    labels = list(pairs)
    mine = compare.first_pair(pairs, chosen)  # a pair of the chosen tickers, if any
    pair = st.selectbox("Par", labels, index=labels.index(mine) if mine else 0)
    local, adr, shares = pairs[pair]
    gap = compare.implied_ccl(
        db.read(reads.technical_history, local), db.read(reads.technical_history, adr), shares
    )
    if gap.is_empty():
        st.info(f"{local} y {adr} no tienen cierres en fechas comunes.", icon=":material/info:")
        return
    st.plotly_chart(charts.adr_gap(gap, pair))
    st.caption(
        f"CCL implícito = cierre de {local} × {fmt.number(shares, 0)} acciones por ADR ÷ "
        f"cierre de {adr}; la diferencia se mide contra el CCL del día de los datos. "
        "Toda la historia común de los dos."
    )


plotly_bundle.wanted()  # every tab draws a chart
cfg = data.settings()
db = data.database(cfg)
dates = db.read(reads.analysis_dates)
latest = db.read(reads.latest_recommendations, dates[-1])
leaders = latest.filter(pl.col("analysis_date") == dates[-1])["ticker"].head(DEFAULT_TICKERS)

st.title("Evolución de puntajes")
pick, period = st.columns([3, 2])
chosen = params.tickers_select(
    pick,
    "Tickers",
    db.read(reads.tickers),
    default=leaders.to_list(),
    max_selections=10,
    placeholder="Elegí uno o más tickers",
)
own_end = own_last_date(db, chosen) or dates[-1]
span = params.period_select(
    period, "Período", (dates[0], dates[-1]), (max(dates[0], own_end - DEFAULT_PERIOD), own_end)
)
if not chosen or span is None:
    st.info("Elegí al menos un ticker y un período completo (desde y hasta).")
    st.stop()

start, end = span
history = db.read(reads.recommendation_history, start, end, chosen)
shown = history["ticker"].unique(maintain_order=True).to_list()
if missing := [t for t in chosen if t not in shown]:
    st.info(f"Sin análisis entre el {fmt.date(start)} y el {fmt.date(end)}: {', '.join(missing)}.")
if not shown:
    st.stop()
# One view at a time, the others not even run (lazy tabs): each Plotly chart costs the browser
# 0.1-0.3 s to draw, and five of them stacked were 2,700 px of page. The open tab lives in the
# URL (`?vista=Precio`), so a view can be shared as a link.
score_tab, parts_tab, compared_tab, price_tab, pair_tab = st.tabs(
    list(VIEWS), key=params.VIEW, bind="query-params"
)
if score_tab.open:
    with score_tab:
        st.plotly_chart(charts.score_history(history))
        st.caption(
            "Cada punto tiene el color de la recomendación vigente ese día. No hay un puntaje "
            f"fijo para comprar o vender: {help_text.call(cfg)}"
        )
if parts_tab.open:
    with parts_tab:
        st.plotly_chart(charts.components(history))
if compared_tab.open:
    with compared_tab:
        closes = {t: db.read(reads.technical_history, t, start, end) for t in shown}
        st.plotly_chart(charts.performance(compare.rebased(closes)))
        st.caption(
            "Cada ticker vale 100 en su primer cierre del período, en su moneda de cotización "
            "($ para .BA, US$ para los ADR)."
        )
ticker = shown[0]  # the detail link's ticker: the price chart's, when it is open
if price_tab.open:
    with price_tab:
        ticker = price_view(db, shown, start, end)
if pair_tab.open:
    with pair_tab:
        pair_view(db, chosen)

st.page_link(
    params.DETAIL_PAGE,
    label=f"Ver el análisis completo de {ticker}",
    icon=":material/query_stats:",
    query_params=params.detail_query(ticker, end),
)
