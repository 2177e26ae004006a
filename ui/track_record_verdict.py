"""Plain verdicts on the track record in Spanish, from its measured numbers (never typed),
by the textbook rules of `pipeline.analysis.verdict`."""

from __future__ import annotations

import polars as pl
import streamlit as st

from pipeline.analysis.track_record import ALL, TrackRecord
from pipeline.analysis.verdict import ABOVE, BELOW, INSIDE, with_intervals
from pipeline.analysis.verdict import edge as ic_edge
from store import reads
from ui import format as fmt
from ui.data import Database
from ui.params import TRACK_PAGE

# The track record the dashboard quotes by default (the Historial page's defaults).
DEFAULT_HORIZON = 20
DEFAULT_ENTRY = "close"
DIRECTIONAL = ("COMPRAR", "VENDER")  # MANTENER states no direction: it has no hit rate
VERSUS_ES = {
    ABOVE: "por encima",
    BELOW: "por debajo",
    INSIDE: "no se distingue",
}


def edge(record: TrackRecord) -> str | None:
    """ "positive", "negative" or "none": whether the total's mean IC is told apart from zero.

    None when there is no IC to judge (no date with enough names).
    """
    return ic_edge(*fmt.ic_of(record.ic_summary, "total"))


def _ic_figures(record: TrackRecord) -> str:
    mean_ic, t_stat = fmt.ic_of(record.ic_summary, "total")
    return f"IC medio {fmt.number(mean_ic, 3)}, t {fmt.number(t_stat, 2)}"


def ic_sentence(record: TrackRecord) -> str:
    """One sentence on the total score's mean IC against zero, with the rule used."""
    found = edge(record)
    dates = _dates(record)
    if found is None:
        return "Todavía no hay fechas con suficientes tickers para medir el IC del puntaje total."
    figures = f"{_ic_figures(record)}, {fmt.count(dates, 'fecha')}"
    rule = "|t| de 2 o más, la regla habitual de una prueba a dos colas al 5 %"
    if found == "none":
        return (
            f"**El IC medio del puntaje total no se distingue de cero** ({figures}): para "
            f"descartar el azar hace falta {rule}. Con estos datos, no se puede afirmar que el "
            "orden del puntaje anticipe los retornos."
        )
    direction = (
        "el puntaje ordenó los retornos mejor que el azar"
        if found == "positive"
        else "el puntaje ordenó los retornos al revés: los de mayor puntaje rindieron menos"
    )
    return (
        f"**El IC medio del puntaje total se distingue de cero** ({figures}; {rule}): "
        f"{direction}. Mirá su estabilidad año por año en la tabla de abajo antes de confiar "
        "en él."
    )


def hit_sentences(record: TrackRecord) -> list[str]:
    """One sentence per directional call (every listing and origin pooled) against its base."""
    pooled = with_intervals(
        record.by_call.filter((pl.col("listing") == ALL) & (pl.col("origin") == ALL))
    )
    lines = []
    for call in DIRECTIONAL:
        rows = pooled.filter(pl.col("recommendation") == call)
        if rows.is_empty() or rows["hit_rate"][0] is None:
            continue
        row = rows.row(0, named=True)
        interval = f"{fmt.percent(row['ci_low'])} a {fmt.percent(row['ci_high'])}"
        figures = (
            f"{call} acertó el {fmt.percent(row['hit_rate'])} de "
            f"{fmt.count(row['calls'], 'recomendación', 'recomendaciones')}, con una tasa base "
            f"de {fmt.percent(row['base_rate'])} (intervalo de 95 %: {interval})"
        )
        judged = {
            ABOVE: "supera la tasa base",
            BELOW: "queda por debajo de la tasa base",
            INSIDE: "no se distingue de la tasa base (la diferencia cabe en el azar)",
        }[row["versus"]]
        lines.append(f"{figures}: {judged}.")
    return lines


def verdict(record: TrackRecord) -> str:
    """The Historial page's verdict: the IC against zero and each call against its base rate."""
    hits = "\n".join(f"- {line}" for line in hit_sentences(record))
    return f"{ic_sentence(record)}\n\n{hits}" if hits else ic_sentence(record)


def small_cells(by_call: pl.DataFrame, listing: str) -> list[str]:
    """The by-call cells of `listing` whose hit rate cannot be told from the base rate."""
    shown = with_intervals(by_call.filter(pl.col("listing") == listing))
    inside = shown.filter(pl.col("versus") == INSIDE)
    return [
        f"{row['recommendation']} {fmt.ORIGINS.get(row['origin'], row['origin']).lower()} "
        f"({fmt.count(row['calls'], 'recomendación', 'recomendaciones')}: "
        f"{fmt.percent(row['ci_low'])} a {fmt.percent(row['ci_high'])})"
        for row in inside.iter_rows(named=True)
    ]


def caption(record: TrackRecord) -> str:
    """One short line for the pages that show calls: what the track record measured."""
    horizon = record.horizon
    if record.matured_calls == 0:
        return (
            "Historial: todavía no hay recomendaciones con resultado a "
            f"{horizon} ruedas, así que no se sabe si aciertan."
        )
    found = edge(record)
    figures = f"({_ic_figures(record)}, a {horizon} ruedas, {_span(record)})"
    if found is None:
        return f"Historial: todavía no alcanzan los datos para medir si aciertan {figures}."
    said = {
        "none": "estas recomendaciones no muestran una ventaja medible",
        "positive": "el puntaje ordenó los retornos mejor que el azar",
        "negative": "el puntaje ordenó los retornos al revés de lo esperado",
    }[found]
    return f"Historial: {said} {figures}."


def track_caption(db: Database) -> None:
    """The caption of the pages that show calls: the default track record's verdict, linked.

    The same cached read as the Historial page at its defaults (computed once per published
    file).
    """
    record = db.read(reads.track_record, horizon=DEFAULT_HORIZON, entry=DEFAULT_ENTRY)
    st.caption(caption(record))
    st.page_link(TRACK_PAGE, label="Ver el Historial de aciertos", icon=":material/insights:")


def _dates(record: TrackRecord) -> int:
    row = record.ic_summary.filter(pl.col("score") == "total")
    return int(row["dates"][0] or 0) if row.height else 0


def _span(record: TrackRecord) -> str:
    return (
        f"{fmt.count(record.matured_calls, 'recomendación', 'recomendaciones')} del "
        f"{record.first_date:%d/%m/%Y} al {record.last_date:%d/%m/%Y}"
    )
