"""Tables of the dashboard: st.dataframe with Spanish headers, score bars and coloured calls."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from functools import partial

import polars as pl
import streamlit as st
from pandas.io.formats.style import Styler
from streamlit.elements.lib.column_types import ColumnConfig

from pipeline.ops.runlog import RunRecord
from pipeline.textsafe import neutralise_formulas
from ui import format as fmt
from ui import params

SORTS = {
    "Puntaje total": "total_score",
    "Confianza": "confidence",
    "Potencial": "upside_pct",
    "Ticker": "ticker",
}
_BADGE_BACKGROUND = {
    "#1a7f37": "#dafbe1",
    "#b7791f": "#fff3c4",
    "#cf222e": "#ffebe9",
    "#1f6feb": "#ddf4ff",
}
_DIMMED = "color: #8c959f; font-style: italic"  # a row whose latest call predates the day shown


def _score_bar(label: str) -> ColumnConfig:
    """A 0-100 score drawn as a bar with one decimal."""
    return st.column_config.ProgressColumn(
        label, width=100, min_value=0, max_value=100, format="%.1f"
    )


def with_upside(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `upside_pct`: the target's distance from the current price, in percent."""
    upside = (pl.col("target_price") / pl.col("current_price") - 1) * 100
    return frame.with_columns(upside.round(1).alias("upside_pct"))


def sort(frame: pl.DataFrame, label: str, descending: bool, day: dt.date) -> pl.DataFrame:
    """Sort by one of `SORTS`, calls older than `day` last (nulls last, ticker breaks ties)."""
    older = pl.col("analysis_date") < day
    keys = [older, SORTS[label], "ticker"]
    return frame.sort(keys, descending=[False, descending, False], nulls_last=True)


def csv(frame: pl.DataFrame) -> bytes:
    """The recommendations as CSV, with the database's column names (no formula cells)."""
    return neutralise_formulas(frame.drop("id", "created_at", strict=False)).write_csv().encode()


def recommendations(frame: pl.DataFrame, day: dt.date) -> None:
    """The calls, one row per ticker linking to its detail page; rows older than `day` dimmed."""
    links = [params.detail_url(t, d) for t, d in frame.select("ticker", "analysis_date").rows()]
    shown = frame.select(
        pl.Series("link", links, dtype=pl.String),
        "recommendation",
        "total_score",
        *fmt.COMPONENT_COLUMNS,
        "confidence",
        fmt.currency_expr().alias("currency"),
        "current_price",
        "target_price",
        "upside_pct",
        "risk_level",
        "analysis_date",
        "summary",
    )
    styled = _badges(shown, {"recommendation": fmt.CALL_HEX, "risk_level": fmt.RISK_HEX})
    older = (shown["analysis_date"] < day).to_list()
    st.dataframe(
        styled.apply(lambda row: [_DIMMED if older[row.name] else ""] * len(row), axis=1),
        hide_index=True,
        height=min(38 + 35 * shown.height, 720),
        row_height=35,
        column_config=_RECOMMENDATION_COLUMNS,
    )


def runs(frame: pl.DataFrame, records: Mapping[int, RunRecord]) -> None:
    """Recent job runs, newest first (times already in local time), with their records."""
    by_type = [_errors_by_type(records[i].errors_by_type) for i in frame["id"]]
    shown = frame.select(
        "id",
        "job_name",
        pl.col("status").replace_strict(fmt.JOB_STATUS).alias("status"),
        "start_time",
        "duration_s",
        "tickers_processed",
        "errors_count",
        pl.Series("errors_by_type", by_type, dtype=pl.String),
        pl.col("failure_reason").fill_null(""),
    )
    styled = _badges(shown, {"status": {v: fmt.STATUS_HEX[k] for k, v in fmt.JOB_STATUS.items()}})
    st.dataframe(
        styled,
        hide_index=True,
        column_config={
            "id": st.column_config.NumberColumn("N.º", width="small"),
            "job_name": "Proceso",
            "status": "Estado",
            "start_time": st.column_config.DatetimeColumn("Inicio", format="DD/MM/YYYY HH:mm"),
            "duration_s": st.column_config.NumberColumn("Duración (s)", format="%.1f"),
            "tickers_processed": st.column_config.NumberColumn("Tickers", format="%d"),
            "errors_count": st.column_config.NumberColumn("Errores", format="%d"),
            "errors_by_type": st.column_config.TextColumn("Errores por tipo", width="medium"),
            "failure_reason": st.column_config.TextColumn("Motivo de la falla", width="large"),
        },
    )


def indicators(details: pl.DataFrame) -> None:
    """Every indicator of the four analyses (from their `indicators` JSON) as one table."""
    rows = [
        (fmt.ANALYSES[kind], name, _scalar(value))
        for kind, text in details.select("analysis_type", "indicators").rows()
        for name, value in _flatten(json.loads(text or "{}"))
    ]
    table = pl.DataFrame(rows, schema=["Análisis", "Indicador", "Valor"], orient="row")
    st.dataframe(table, hide_index=True, column_config={"Valor": st.column_config.TextColumn()})


# A column of a localized table: its Spanish header and how a value is written (None: as is).
Column = tuple[str, Callable[[float], str] | None]
_PERCENT = partial(fmt.percent, decimals=1)
_EXCESS = partial(fmt.percent, decimals=2, signed=True)
_COUNT = partial(fmt.number, decimals=0)
_ORDER = {"todos": 0, "publicado": 1, "simulado": 2}


def listings(by_call: pl.DataFrame) -> list[str]:
    """The listing groups of a by-call frame, pooled ("todos") first."""
    present = set(by_call["listing"])
    return [g for g in fmt.LISTINGS if g in present] + sorted(present - set(fmt.LISTINGS))


def track_by_call(frame: pl.DataFrame, listing: str) -> None:
    """One listing group's track record by call and origin, hit rate next to the base rate."""
    rank = {call: i for i, call in enumerate(fmt.RECOMMENDATIONS)}
    shown = (
        frame.filter(pl.col("listing") == listing)
        .sort(
            pl.col("recommendation").replace_strict(rank, default=len(rank)),
            pl.col("origin").replace_strict(_ORDER, default=len(_ORDER)),
        )
        .with_columns(pl.col("origin").replace(fmt.ORIGINS))
    )
    colours = {"recommendation": fmt.CALL_HEX, "origin": fmt.ORIGIN_HEX}
    _localized(shown, _BY_CALL_COLUMNS, colours)


def ic_summary(summary: pl.DataFrame, by_year: pl.DataFrame) -> None:
    """Mean IC and its t-statistic per score, then the mean IC of each year per score."""
    labels = pl.col("score").replace_strict(fmt.SCORES, default=pl.col("score"))
    order = {score: i for i, score in enumerate(fmt.SCORES)}
    rank = pl.col("score").replace_strict(order, default=len(order))
    summary = summary.sort(rank).with_columns(
        labels, pl.col("method").map_elements(fmt.ic_method, return_dtype=pl.String)
    )
    _localized(summary, _IC_COLUMNS)
    years = (
        by_year.sort(rank, "year")
        .with_columns(labels)
        .pivot("score", index="year", values="mean_ic")
        .sort("year")
    )
    year_columns: dict[str, Column] = {"year": ("Año", None)}
    year_columns |= {s: (s, partial(fmt.number, decimals=3)) for s in years.columns[1:]}
    _localized(years.with_columns(pl.col("year").cast(pl.String)), year_columns)


def turnover(frame: pl.DataFrame) -> None:
    """How often calls change and how long one lasts, per listing group."""
    order = {group: i for i, group in enumerate(fmt.LISTINGS)}
    shown = frame.sort(pl.col("listing").replace_strict(order, default=len(order)))
    _localized(shown.with_columns(pl.col("listing").replace(fmt.LISTINGS)), _TURNOVER_COLUMNS)


def coverage(frame: pl.DataFrame) -> None:
    """The share of calls where each component score was missing."""
    shown = frame.with_columns(pl.col("component").str.replace("_score$", "").replace(fmt.SCORES))
    _localized(shown, _COVERAGE_COLUMNS)


def _localized(
    frame: pl.DataFrame,
    columns: dict[str, Column],
    colours: dict[str, dict[str, str]] | None = None,
) -> None:
    """Show `columns` of `frame` written the Argentine way; the cells keep their numbers."""
    shown = frame.select(list(columns))
    styler = _badges(shown, colours or {})
    formats = {name: f for name, (_, f) in columns.items() if f is not None}
    styler = styler.format(formats, na_rep="—")
    st.dataframe(
        styler,
        hide_index=True,
        placeholder="—",  # a missing value (e.g. MANTENER's hit rate), not "None"
        height=min(38 + 35 * shown.height, 600),
        column_config={name: label for name, (label, _) in columns.items()},
    )


def _errors_by_type(counts: Mapping[str, int]) -> str:
    """A run's errors by analysis type as "Técnico: 2 · Fuente de datos: 1"."""
    return " · ".join(f"{fmt.ERROR_TYPES.get(k, k)}: {n}" for k, n in counts.items() if n)


def _flatten(values: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    """Nested indicator groups (e.g. votes) as "group · name" pairs."""
    for name, value in values.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{name} · ")
        else:
            yield f"{prefix}{name}", value


def _scalar(value: object) -> str:
    if value is None:
        return "sin datos"
    if isinstance(value, float):
        return fmt.number(value, 4)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _badges(frame: pl.DataFrame, colours: dict[str, dict[str, str]]) -> Styler:
    """Colour the cells of the given columns like badges (text colour on a light background)."""

    def badge(value: str, palette: dict[str, str]) -> str:
        colour = palette.get(value)
        if colour is None:
            return ""
        return f"color: {colour}; background-color: {_BADGE_BACKGROUND[colour]}; font-weight: 600"

    styler = frame.to_pandas().style
    for column, palette in colours.items():
        styler = styler.map(badge, subset=[column], palette=palette)
    return styler


_RECOMMENDATION_COLUMNS = {
    "link": st.column_config.LinkColumn(
        "Ticker", display_text=rf"{params.TICKER}=([^&]+)", pinned=True
    ),
    "recommendation": st.column_config.TextColumn("Recomendación"),
    "total_score": _score_bar("Puntaje"),
    **{column: _score_bar(label) for column, label in fmt.COMPONENT_COLUMNS.items()},
    "confidence": st.column_config.NumberColumn("Confianza", format="%.0f%%"),
    "currency": st.column_config.TextColumn("Moneda"),
    "current_price": st.column_config.NumberColumn("Precio", format="%.2f"),
    "target_price": st.column_config.NumberColumn("Objetivo", format="%.2f"),
    "upside_pct": st.column_config.NumberColumn("Potencial", format="%+.1f%%"),
    "risk_level": st.column_config.TextColumn("Riesgo"),
    "analysis_date": st.column_config.DateColumn("Fecha", format="DD/MM/YYYY"),
    "summary": st.column_config.TextColumn("Resumen", width="large"),
}
_BY_CALL_COLUMNS: dict[str, Column] = {
    "recommendation": ("Recomendación", None),
    "origin": ("Origen", None),
    "calls": ("Recomendaciones", _COUNT),
    "mean_excess": ("Exceso medio vs. índice", _EXCESS),
    "median_excess": ("Exceso mediano vs. índice", _EXCESS),
    "mean_universe_excess": ("Exceso medio vs. universo", _EXCESS),
    "median_universe_excess": ("Exceso mediano vs. universo", _EXCESS),
    "hit_rate": ("Aciertos", _PERCENT),
    "base_rate": ("Tasa base", _PERCENT),
}
_IC_COLUMNS: dict[str, Column] = {
    "score": ("Puntaje", None),
    "mean_ic": ("IC medio", partial(fmt.number, decimals=3)),
    "t_stat": ("Estadístico t", partial(fmt.number, decimals=2)),
    "dates": ("Fechas", _COUNT),
    "method": ("Método del t", None),
}
_TURNOVER_COLUMNS: dict[str, Column] = {
    "listing": ("Grupo", None),
    "changes_per_ticker_year": ("Cambios por ticker y año", partial(fmt.number, decimals=1)),
    "median_duration_sessions": ("Duración mediana (ruedas)", partial(fmt.number, decimals=0)),
    "calls": ("Recomendaciones", _COUNT),
}
_COVERAGE_COLUMNS: dict[str, Column] = {
    "component": ("Componente", None),
    "null_share": ("Sin datos", _PERCENT),
    "calls": ("Recomendaciones", _COUNT),
}
