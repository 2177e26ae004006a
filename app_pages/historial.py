"""Historial de aciertos: how the calls turned out, read from the stored outcomes."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from pipeline.analysis.track_record import HORIZONS, TrackRecord
from store import reads
from ui import charts, data, guide, params, plotly_bundle, tables
from ui import format as fmt
from ui import track_record_verdict as verdict

DEFAULT_HORIZON = verdict.DEFAULT_HORIZON


def overview(record: TrackRecord) -> None:
    """The headline figures: calls evaluated, the total's IC and its t-statistic, Q5 − Q1."""
    mean_ic, t_stat = fmt.ic_of(record.ic_summary, "total")
    figures = {
        "Recomendaciones evaluadas": fmt.number(record.matured_calls, 0),
        "IC medio del total": fmt.number(mean_ic, 3),
        "Estadístico t del IC": fmt.number(t_stat, 2),
        "Q5 − Q1": fmt.percent(record.spread, 2, signed=True),
    }
    for column, (label, value) in zip(st.columns(len(figures)), figures.items(), strict=True):
        column.metric(label, value, border=True)


def origins(record: TrackRecord) -> None:
    """The period evaluated, and how many calls the daily job published or a backfill simulated."""
    counts = fmt.origin_counts(record.by_call)
    parts = [f"{fmt.number(n, 0)} {o[:-1]}{'a' if n == 1 else 'as'}" for o, n in counts.items()]
    st.markdown(
        f"Recomendaciones del **{fmt.date(record.first_date)}** al "
        f"**{fmt.date(record.last_date)}** cuyo resultado ya se conoce: {' · '.join(parts)}."
    )
    st.caption(guide.ORIGIN)


def by_call(record: TrackRecord) -> None:
    """Calls, excess returns and hit rates per call for a listing group, flagging thin cells."""
    st.caption(guide.BY_CALL)
    listing = st.radio(
        "Grupo", tables.listings(record.by_call), format_func=fmt.LISTINGS.get, horizontal=True
    )
    tables.track_by_call(record.by_call, listing)
    if unclear := verdict.small_cells(record.by_call, listing):
        st.warning(
            "Aciertos que no se distinguen de la tasa base (el intervalo de 95 % la contiene: con "
            "esa cantidad de recomendaciones, la diferencia cabe en el azar y no se puede decir "
            f"que acierten más ni menos): {'; '.join(unclear)}.",
            icon=":material/warning:",
        )


def predictive_power(record: TrackRecord) -> None:
    """The scores' IC over time with its summary and by year, and the quintiles' returns."""
    plotly_bundle.wanted()
    summary = record.ic_summary
    method = fmt.ic_method(summary["method"][0], summary["lags"][0]) if summary.height else "—"
    st.caption(guide.IC.format(method=method))
    st.plotly_chart(charts.ic_over_time(record.ic_daily, record.ic_summary))
    tables.ic_summary(record.ic_summary, record.ic_by_year)
    st.caption(guide.QUINTILES)
    st.plotly_chart(charts.quintile_returns(record.quintiles, record.spread))


def range_and_risk(record: TrackRecord) -> None:
    """Where prices ended against the stated range, and volatility per stated risk level."""
    plotly_bundle.wanted()
    st.caption(guide.TARGET_RANGE)
    st.plotly_chart(charts.target_range(record.calibration))
    st.caption(guide.RISK)
    st.plotly_chart(charts.risk_volatility(record.risk, record.risk_ordering))


def turnover_and_coverage(record: TrackRecord) -> None:
    """How often calls change, and the share of calls without each component."""
    turnover_col, coverage_col = st.columns(2)
    with turnover_col:
        st.subheader("Rotación")
        st.caption(guide.TURNOVER)
        tables.turnover(record.turnover)
    with coverage_col:
        st.subheader("Cobertura de componentes")
        st.caption(guide.COVERAGE)
        tables.coverage(record.coverage)


def market_view(db: data.Database, horizon: int, entry: str) -> None:
    """The market view's calls against the Merval at the horizon and entry."""
    market = db.read(reads.market_track_record, entry=entry)
    at_horizon = market.ic.filter(horizon=horizon).row(0, named=True)
    method = fmt.ic_method(at_horizon["method"], at_horizon["lags"])
    st.caption(guide.MARKET_VIEW.format(horizon=horizon, method=method))
    if at_horizon["dates"] == 0:
        st.info(guide.MARKET_VIEW_EMPTY.format(horizon=horizon), icon=":material/hourglass_empty:")
    else:
        tables.market_record(market, horizon)


cfg = data.settings()
db = data.database(cfg)

st.title("Historial de aciertos")
horizon_col, entry_col = st.columns([2, 3])
horizon = params.horizon_select(horizon_col, HORIZONS, DEFAULT_HORIZON)
entry = params.entry_select(entry_col, fmt.ENTRIES)
st.caption(guide.INTRO.format(horizon=horizon))
record = db.read(reads.track_record, horizon=horizon, entry=entry)
if record.matured_calls == 0:
    st.info(guide.EMPTY.format(horizon=horizon), icon=":material/hourglass_empty:")
    st.stop()

overview(record)
with st.container(border=True, key="verdict"):
    st.markdown(verdict.verdict(record))
    st.caption(guide.VERDICT)
origins(record)

# One block at a time, the others not even run (lazy tabs): its four charts and six tables were
# one long page, and each Plotly chart costs the browser 0.1-0.3 s to draw. The calls table comes
# first, so the page arrives without a chart. The open tab lives in the URL
# (`?vista=Poder+predictivo`).
views: dict[str, Callable[[], None]] = {
    "Por recomendación": lambda: by_call(record),
    "Poder predictivo": lambda: predictive_power(record),
    "Rango objetivo y riesgo": lambda: range_and_risk(record),
    "Rotación y cobertura": lambda: turnover_and_coverage(record),
    "Visión de mercado": lambda: market_view(db, horizon, entry),
}
tabs = st.tabs(list(views), key=params.VIEW, bind="query-params")
for tab, show in zip(tabs, views.values(), strict=True):
    if tab.open:
        with tab:
            show()
