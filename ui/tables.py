"""Tables of the dashboard: st.dataframe with Spanish headers, score bars and coloured calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial

import polars as pl
import streamlit as st
from pandas.io.formats.style import Styler
from streamlit.elements.lib.column_types import ColumnConfig

from pipeline.analysis import calendar
from pipeline.analysis import verdict as rules
from pipeline.analysis.market_record import MarketRecord
from pipeline.ops import ondemand
from pipeline.ops.runlog import RunRecord
from pipeline.settings import Settings
from pipeline.textsafe import neutralise_formulas
from ui import calls as today
from ui import format as fmt
from ui import guide, help_text
from ui import indicators as indicator_names
from ui import track_record_verdict as verdict

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
    "#8250df": "#fbefff",
    "#6e7781": "#f6f8fa",
}
# Text on those backgrounds: darker shades with at least 4.5:1 contrast (WCAG AA).
_BADGE_TEXT = {
    "#1a7f37": "#116329",
    "#b7791f": "#7d4e00",
    "#cf222e": "#a40e26",
    "#1f6feb": "#0550ae",
    "#8250df": "#6639ba",
    "#6e7781": "#424a53",
}
CURRENCY_CODES = {calendar.BUENOS_AIRES: "ARS", calendar.NEW_YORK: "USD"}
# The components shown per stock: macro is the day's market view, the same for every row and
# outside the total, so it is shown once in the market context, not as a column.
STOCK_COMPONENTS = {c: label for c, label in fmt.COMPONENT_COLUMNS.items() if c != "macro_score"}


def _score_bar(label: str, help: str) -> ColumnConfig:
    """A 0-100 component score drawn as a bar, labelled in whole points (no decimal mark)."""
    return st.column_config.ProgressColumn(
        label, width=100, min_value=0, max_value=100, format="%d", help=help
    )


def with_upside(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `upside_pct`: the target's distance from the current price, in percent."""
    upside = (pl.col("target_price") / pl.col("current_price") - 1) * 100
    return frame.with_columns(upside.round(1).alias("upside_pct"))


def estimated(frame: pl.DataFrame, column: str = "confidence") -> bool:
    """Whether any row has a value in `column` (confidence is NULL since it is not estimated)."""
    return column in frame.columns and frame[column].is_not_null().any()


def sort_labels(frame: pl.DataFrame) -> list[str]:
    """The `SORTS` that order `frame`: a column with no value at all is no sort."""
    return [
        label for label, column in SORTS.items() if column == "ticker" or estimated(frame, column)
    ]


def sort(frame: pl.DataFrame, label: str, descending: bool) -> pl.DataFrame:
    """Sort by one of `SORTS` (missing values last, ticker breaks ties)."""
    keys = [SORTS[label], "ticker"]
    return frame.sort(keys, descending=[descending, False], nulls_last=True)


def first_listed(current: pl.DataFrame) -> str | None:
    """The ticker the recommendations table lists first by default (None: no calls)."""
    if current.is_empty():
        return None
    return str(sort(current, next(iter(SORTS)), descending=True)["ticker"][0])


def csv(frame: pl.DataFrame, day: dt.date) -> bytes:
    """The recommendations as machine CSV: the database's column names (no formula cells).

    With the two columns of the `latest_recommendations` view that say which rows are today's:
    `exchange` (XBUE for .BA symbols, XNYS for ADRs) and `is_current` (false: the ticker's
    latest call, as of `day`, is older than its exchange's latest session).
    """
    flagged = frame.drop("id", "created_at", strict=False).with_columns(
        calendar.exchange_expr("ticker").alias("exchange"),
        today.is_current(day).alias("is_current"),
    )
    return neutralise_formulas(flagged).write_csv().encode()


def csv_excel(frame: pl.DataFrame) -> bytes:
    """The recommendations for Excel in Argentina: `;`, decimal comma, BOM, Spanish headers."""
    numbers = [
        pl.col(name)
        .cast(pl.Float64)
        .map_elements(partial(_decimal_comma, decimals=decimals), return_dtype=pl.String)
        .alias(name)
        for name, (_, decimals) in _EXCEL_COLUMNS.items()
        if decimals is not None
    ]
    currency = calendar.exchange_expr("ticker").replace_strict(CURRENCY_CODES)
    shown = with_upside(frame).with_columns(currency.alias("currency"))
    shown = neutralise_formulas(shown.select(list(_EXCEL_COLUMNS))).with_columns(numbers)
    if not estimated(frame):  # no confidence is estimated any more: no empty column
        shown = shown.drop("confidence")
    shown = shown.rename({k: header for k, (header, _) in _EXCEL_COLUMNS.items() if k in shown})
    text = shown.write_csv(separator=";", date_format="%d/%m/%Y", include_bom=True)
    return text.encode("utf-8")


def _decimal_comma(value: float, decimals: int) -> str:
    """A number with a fixed count of decimals and a decimal comma, no thousands mark."""
    return f"{value:.{decimals}f}".replace(".", ",")


def recommendations(
    frame: pl.DataFrame, cfg: Settings, key: str, height: int | None = None
) -> str | None:
    """The calls, one row per ticker; a selected row returns its ticker (None: no selection).

    The confidence column is left out when no row has one (it is no longer estimated).
    """
    shown = frame.select(
        "ticker",
        "recommendation",
        "total_score",
        *STOCK_COMPONENTS,
        *(["confidence"] if estimated(frame) else []),
        fmt.currency_expr().alias("currency"),
        "current_price",
        "target_price",
        "upside_pct",
        "target_low",
        "target_high",
        "risk_level",
        "analysis_date",
        "summary",
    )
    styled = _badges(shown, {"recommendation": fmt.CALL_HEX, "risk_level": fmt.RISK_HEX})
    styled = styled.format(_RECOMMENDATION_FORMATS, na_rep="—")
    event = st.dataframe(
        styled,
        hide_index=True,
        height=height or min(38 + 35 * shown.height, 720),
        row_height=35,
        placeholder="—",  # a missing score or price, never "None"
        column_config=_recommendation_columns(cfg),
        on_select="rerun",
        selection_mode=["single-row", "single-cell"],
        key=key,
    )
    if event is None:
        return None
    picked = [*event.selection.rows, *(row for row, _ in event.selection.cells)]
    return shown["ticker"][picked[0]] if picked else None


def runs(frame: pl.DataFrame, records: Mapping[int, RunRecord]) -> None:
    """Recent job runs, newest first (times already in local time), with their records."""
    by_type = [_errors_by_type(records[i].errors_by_type) for i in frame["id"]]
    shown = frame.select(
        "id",
        pl.col("job_name").replace(fmt.JOB_NAMES),
        pl.col("status").replace_strict(fmt.JOB_STATUS).alias("status"),
        "start_time",
        "duration_s",
        "tickers_processed",
        "errors_count",
        pl.Series("errors_by_type", by_type, dtype=pl.String),
        "inactive_count",
        pl.col("failure_reason").replace(fmt.FAILURES).fill_null(""),
    )
    styled = _badges(shown, {"status": {v: fmt.STATUS_HEX[k] for k, v in fmt.JOB_STATUS.items()}})
    styled = styled.format(
        {"duration_s": partial(fmt.number, decimals=1), "tickers_processed": _COUNT}
        | {"errors_count": _COUNT, "inactive_count": _COUNT},
        na_rep="—",
    )
    st.dataframe(
        styled,
        hide_index=True,
        placeholder="—",
        column_config={
            "id": st.column_config.NumberColumn("N.º", width="small"),
            "job_name": "Proceso",
            "status": "Estado",
            "start_time": st.column_config.DatetimeColumn("Inicio", format="DD/MM/YYYY HH:mm"),
            "duration_s": st.column_config.NumberColumn("Duración (s)"),
            "tickers_processed": st.column_config.NumberColumn("Tickers"),
            "errors_count": st.column_config.NumberColumn("Errores"),
            "errors_by_type": st.column_config.TextColumn("Errores por tipo", width="medium"),
            "inactive_count": st.column_config.NumberColumn(
                "Sin datos recientes",
                help="Tickers que la fuente ya no tiene (sin barra en las fechas analizadas y "
                "la última, atrasada): no son errores.",
            ),
            "failure_reason": st.column_config.TextColumn("Motivo de la falla", width="large"),
        },
    )


def failed_tickers(runs: pl.DataFrame, records: Mapping[int, RunRecord]) -> pl.DataFrame | None:
    """The tickers with errors in the latest finished run and why (None: there were none)."""
    finished = runs.filter(pl.col("status") != "running")
    if finished.is_empty():
        return None
    run = finished.row(0, named=True)
    record = records[run["id"]]
    rows = [
        (
            str(e.get("ticker") or "—"),
            fmt.ERROR_TYPES.get(str(e.get("analysis_type")), "Otros"),
            fmt.run_error(e),
        )
        for e in record.errors
        if isinstance(e, dict)
    ]
    rows += [
        (t, fmt.ERROR_TYPES["source"], fmt.source_failure(str(why)))
        for t, why in record.failed_tickers.items()
    ]
    if not rows:
        return None
    table = pl.DataFrame(rows, schema=["Ticker", "Análisis", "Motivo"], orient="row")
    errors = fmt.count(table.height, "error", "errores")
    st.caption(f"Corrida n.º {run['id']} ({fmt.job(run['job_name'])}), {errors}.")
    st.dataframe(table, hide_index=True)
    return table


def inactive_tickers(inactive: Mapping[str, dt.date], count: int) -> pl.DataFrame | None:
    """The latest completed run's tickers without recent data (the source no longer has
    them) and each one's last bar as dd/mm/aaaa; None: there were none. `count` is all of
    them (the record keeps the first 500)."""
    if not count:
        return None
    table = pl.DataFrame(
        [(t, f"{day:%d/%m/%Y}") for t, day in sorted(inactive.items())],
        schema=["Ticker", "Última rueda"],
        orient="row",
    )
    shown = "" if table.height == count else f" (se listan los primeros {table.height})"
    st.caption(
        f"{fmt.count(count, 'ticker')} sin barra en las fechas analizadas y con la última "
        f"rueda atrasada{shown}: la fuente ya no los tiene (dados de baja o sin datos). "
        "No se cuentan como errores."
    )
    st.dataframe(table, hide_index=True)
    return table


def data_age(latest: pl.DataFrame, today: dt.date) -> None:
    """Each ticker's last analysis date and its age in days, oldest first."""
    age = (pl.lit(today) - pl.col("analysis_date")).dt.total_days()
    table = latest.select("ticker", "analysis_date", age.alias("age")).sort(
        "analysis_date", "ticker"
    )
    st.dataframe(
        table.to_pandas().style.format({"age": _COUNT}),  # 1.571 días, thousands dot
        hide_index=True,
        column_config={
            "ticker": st.column_config.TextColumn("Ticker"),
            "analysis_date": st.column_config.DateColumn("Último análisis", format="DD/MM/YYYY"),
            "age": st.column_config.NumberColumn("Antigüedad (días)"),
        },
    )


def compare_calls(stored: dict, fresh: ondemand.OnDemand, tz: str) -> None:
    """The stored call beside one computed now (not saved), with its time and latency."""
    now = fresh.recommendation.row(0, named=True)
    at = fmt.local(fresh.computed_at, tz)
    labels = {
        "analysis_date": "Fecha de los datos",
        "recommendation": "Recomendación",
        "total_score": "Puntaje total",
        "confidence": "Confianza",
        "current_price": "Precio",
        "target_price": "Precio objetivo",
        "risk_level": "Riesgo",
    }

    def cell(call: dict, column: str) -> str:
        value = call[column]
        if column == "analysis_date":
            return fmt.date(value)
        if column == "confidence":
            return fmt.confidence(value)
        if column in ("current_price", "target_price"):
            return fmt.price(value, str(stored["ticker"]))
        return fmt.number(value) if isinstance(value, float) else str(value or "—")

    table = pl.DataFrame(
        {
            "Dato": list(labels.values()),
            "Guardado": [cell(stored, c) for c in labels],
            f"Calculado a las {at:%H:%M}, no guardado": [cell(now, c) for c in labels],
        }
    )
    st.dataframe(table, hide_index=True)
    st.caption(
        f"Calculado a las {at:%H:%M}, no guardado · fuente {fresh.source} · tardó "
        f"{fmt.duration(fresh.seconds)}."
    )


def indicators(details: pl.DataFrame, ticker: str) -> None:
    """Every indicator of the four analyses in Spanish, with its unit and es-AR decimals."""
    table = indicator_names.table(details, fmt.currency(ticker))
    st.dataframe(table, hide_index=True, height=min(38 + 35 * table.height, 600))


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
    shown = rules.with_intervals(shown).with_columns(pl.col("versus").replace(verdict.VERSUS_ES))
    colours = {"recommendation": fmt.CALL_HEX, "origin": fmt.ORIGIN_HEX}
    _localized(shown, _BY_CALL_COLUMNS, colours)


def ic_summary(summary: pl.DataFrame, by_year: pl.DataFrame) -> None:
    """Mean IC and its t-statistic per score, then the mean IC of each year per score."""
    labels = pl.col("score").replace_strict(fmt.SCORES, default=pl.col("score"))
    order = {score: i for i, score in enumerate(fmt.SCORES)}
    rank = pl.col("score").replace_strict(order, default=len(order))
    method = pl.struct("method", "lags", "dates").map_elements(  # no IC: no method either
        lambda row: fmt.ic_method(row["method"], row["lags"]) if row["dates"] else None,
        return_dtype=pl.String,
    )
    summary = summary.sort(rank).with_columns(labels, method.alias("method"))
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


def market_record(record: MarketRecord, horizon: int) -> None:
    """The market view's IC against the Merval at `horizon`, then its results by call."""
    currency = pl.col("currency").replace(fmt.MARKET_CURRENCIES)
    _localized(record.ic.filter(horizon=horizon).with_columns(currency), _MARKET_IC_COLUMNS)
    calls = record.by_call.filter(horizon=horizon).with_columns(
        currency, pl.col("market_call").replace(fmt.MARKET_CALLS)
    )
    _localized(calls, _MARKET_CALL_COLUMNS, {"market_call": fmt.MARKET_CALL_HEX})


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


def _badges(frame: pl.DataFrame, colours: dict[str, dict[str, str]]) -> Styler:
    """Colour the cells of the given columns like badges (text colour on a light background)."""

    def badge(value: str, palette: dict[str, str]) -> str:
        colour = palette.get(value)
        if colour is None:
            return ""
        background = _BADGE_BACKGROUND[colour]
        return f"color: {_BADGE_TEXT[colour]}; background-color: {background}; font-weight: 600"

    styler = frame.to_pandas().style
    for column, palette in colours.items():
        styler = styler.map(badge, subset=[column], palette=palette)
    return styler


def _recommendation_columns(cfg: Settings) -> dict[str, ColumnConfig]:
    """The recommendations table's columns, their tooltips written from the settings."""
    return {
        "ticker": st.column_config.TextColumn("Ticker", width=80),
        "recommendation": st.column_config.TextColumn("Recomendación", help=help_text.call(cfg)),
        "total_score": st.column_config.NumberColumn("Puntaje", help=help_text.total(cfg)),
        **{
            column: _score_bar(label, help_text.COMPONENTS[column])
            for column, label in STOCK_COMPONENTS.items()
        },
        "confidence": st.column_config.NumberColumn("Confianza", help=help_text.CONFIDENCE),
        "currency": st.column_config.TextColumn("Moneda", width="small", help=help_text.CURRENCY),
        "current_price": st.column_config.NumberColumn("Precio", width=90, help=help_text.PRICE),
        "target_price": st.column_config.NumberColumn("Objetivo", width=90, help=help_text.TARGET),
        "upside_pct": st.column_config.NumberColumn("Potencial", help=help_text.UPSIDE),
        "target_low": st.column_config.NumberColumn(
            "Objetivo mín.", width=90, help=guide.TARGET_LOW
        ),
        "target_high": st.column_config.NumberColumn(
            "Objetivo máx.", width=90, help=guide.TARGET_HIGH
        ),
        "risk_level": st.column_config.TextColumn("Riesgo", help=help_text.RISK),
        "analysis_date": st.column_config.DateColumn("Fecha", format="DD/MM/YYYY"),
        "summary": st.column_config.TextColumn("Resumen", width="large"),
    }


_RECOMMENDATION_FORMATS = {
    "total_score": fmt.number,  # as stored (2 decimals): never rounded across a threshold
    "confidence": fmt.confidence,
    "current_price": fmt.number,
    "target_price": fmt.number,
    "target_low": fmt.number,
    "target_high": fmt.number,
    "upside_pct": lambda v: fmt.percent(v / 100, 1, signed=True),
}
# The Excel CSV: column → (Spanish header, decimals; None: not a number).
_EXCEL_COLUMNS: dict[str, tuple[str, int | None]] = {
    "ticker": ("Ticker", None),
    "analysis_date": ("Fecha", None),
    "recommendation": ("Recomendación", None),
    "total_score": ("Puntaje total", 2),  # as stored: never rounded across a call
    **{column: (f"Puntaje {label.lower()}", 1) for column, label in STOCK_COMPONENTS.items()},
    "confidence": ("Confianza (%)", 0),
    "currency": ("Moneda", None),
    "current_price": ("Precio", 2),
    "target_price": ("Precio objetivo", 2),
    "upside_pct": ("Potencial (%)", 1),
    "target_low": ("Objetivo mínimo (percentil 10)", 2),
    "target_high": ("Objetivo máximo (percentil 90)", 2),
    "risk_level": ("Riesgo", None),
    "summary": ("Resumen", None),
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
    "ci_low": ("Intervalo 95 % desde", _PERCENT),
    "ci_high": ("Intervalo 95 % hasta", _PERCENT),
    "base_rate": ("Tasa base", _PERCENT),
    "versus": ("Frente a la tasa base", None),
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
_MARKET_IC_COLUMNS: dict[str, Column] = {
    "currency": ("Merval", None),
    "dates": ("Fechas", _COUNT),
    "ic": ("IC", partial(fmt.number, decimals=3)),
    "t_stat": ("Estadístico t", partial(fmt.number, decimals=2)),
    "favourable_minus_unfavourable": ("Favorable − desfavorable", _EXCESS),
}
_MARKET_CALL_COLUMNS: dict[str, Column] = {
    "currency": ("Merval", None),
    "market_call": ("Visión", None),
    "dates": ("Fechas", _COUNT),
    "mean_return": ("Retorno medio del Merval", _EXCESS),
    "hit_rate": ("Aciertos", _PERCENT),
    "base_rate": ("Tasa base", _PERCENT),
}
