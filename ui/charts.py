"""Plotly figures of the dashboard, built from the store's polars frames."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from ui import format as fmt

_BAND_OPACITY = 0.09
_MOVING_AVERAGES = {"sma_20": "SMA 20", "sma_50": "SMA 50", "sma_200": "SMA 200"}
_BOLLINGER_LINE = "rgba(31, 111, 235, 0.35)"
_BOLLINGER_FILL = "rgba(31, 111, 235, 0.08)"
# Time axis labels by zoom: seconds for short spans, then minutes, then days.
_TIME_TICKS = [
    {"dtickrange": [None, 60_000], "value": "%H:%M:%S"},
    {"dtickrange": [60_000, 86_400_000], "value": "%d/%m %H:%M"},
    {"dtickrange": [86_400_000, None], "value": "%d/%m/%Y"},
]
_DATE_TICKS = "%d/%m/%Y"  # numeric: plotly.js month names would be English
_ROLLING_IC = "12mo"
_QUINTILE_HEX = ("#cf222e", "#e8827a", "#8c959f", "#7fbf8e", "#1a7f37")
_RANGE_PARTS = {  # column of the calibration frame → label and colour
    "below": ("Por debajo del rango", "#cf222e"),
    "inside": ("Dentro del rango", "#1a7f37"),
    "above": ("Por encima del rango", "#1f6feb"),
}
_PRICE_COLUMNS = (
    "open",
    "high",
    "low",
    "close",
    *_MOVING_AVERAGES,
    "bb_upper",
    "bb_middle",
    "bb_lower",
)


def score_history(history: pl.DataFrame, buy: float, sell: float) -> go.Figure:
    """Total score over time, one line per ticker, over the recommendation bands."""
    fig = px.line(
        history,
        x="analysis_date",
        y="total_score",
        color="ticker",
        labels={"analysis_date": "Fecha", "total_score": "Puntaje total", "ticker": "Ticker"},
    )
    _add_bands(fig, buy, sell)
    fig.update_yaxes(range=[0, 100])
    return _style(fig, "Puntaje total", height=420)


def components(history: pl.DataFrame) -> go.Figure:
    """The four component scores over time, one panel per component, one line per ticker."""
    long = history.select("analysis_date", "ticker", *fmt.COMPONENT_COLUMNS).unpivot(
        index=["analysis_date", "ticker"], variable_name="component", value_name="score"
    )
    long = long.with_columns(pl.col("component").replace_strict(fmt.COMPONENT_COLUMNS))
    fig = px.line(
        long,
        x="analysis_date",
        y="score",
        color="ticker",
        facet_col="component",
        facet_col_wrap=2,
        category_orders={"component": list(fmt.COMPONENT_COLUMNS.values())},
        labels={"analysis_date": "", "score": "", "ticker": "Ticker"},
    )
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    _mark_empty_panels(fig, history)
    fig.update_yaxes(range=[0, 100])
    return _style(fig, "Componentes del puntaje", height=560)


def prices(technical: pl.DataFrame, ticker: str, in_dollars: bool = False) -> go.Figure:
    """Candlesticks with moving averages and Bollinger bands (`store.reads.technical_history`)."""
    frame = _to_dollars(technical) if in_dollars else technical
    x = frame["analysis_date"]
    band = {"color": _BOLLINGER_LINE, "width": 1}
    fig = go.Figure()
    fig.add_scatter(x=x, y=frame["bb_upper"], name="Bollinger sup.", line=band, showlegend=False)
    fig.add_scatter(
        x=x,
        y=frame["bb_lower"],
        name="Bandas de Bollinger (20, 2)",
        line=band,
        fill="tonexty",  # shade between the lower and the upper band
        fillcolor=_BOLLINGER_FILL,
    )
    fig.add_candlestick(
        x=x,
        open=frame["open"],
        high=frame["high"],
        low=frame["low"],
        close=frame["close"],
        name=ticker,
        increasing_line_color=fmt.CALL_HEX["COMPRAR"],
        decreasing_line_color=fmt.CALL_HEX["VENDER"],
    )
    for column, label in _MOVING_AVERAGES.items():
        fig.add_scatter(x=x, y=frame[column], name=label, line={"width": 1.4})
    currency = "US$ (CCL)" if in_dollars else fmt.currency(ticker)
    fig.update_layout(xaxis_rangeslider_visible=False, yaxis_title=f"Precio ({currency})")
    return _style(fig, f"Precio de {ticker}", height=480)


def _to_dollars(technical: pl.DataFrame) -> pl.DataFrame:
    """Peso prices and indicators divided by the day's CCL rate (null where it is missing)."""
    return technical.with_columns(pl.col(_PRICE_COLUMNS) / pl.col("usdars_ccl"))


def runs_timeline(runs: pl.DataFrame) -> go.Figure:
    """Each run as a bar from its start to its end (local time), coloured by status."""
    frame = runs.with_columns(pl.col("status").replace_strict(fmt.JOB_STATUS).alias("estado"))
    fig = px.timeline(
        frame,
        x_start="start_time",
        x_end="end_time",
        y="job_name",
        color="estado",
        color_discrete_map={fmt.JOB_STATUS[k]: v for k, v in fmt.STATUS_HEX.items()},
        hover_data={"id": True, "tickers_processed": True, "errors_count": True},
        labels={
            "job_name": "Proceso",
            "estado": "Estado",
            "tickers_processed": "Tickers",
            "errors_count": "Errores",
        },
    )
    fig.update_xaxes(tickformatstops=_TIME_TICKS)
    return _style(fig, "Ejecuciones recientes", height=260, hovermode="closest")


def errors_by_type(errors: dict[str, int]) -> go.Figure:
    """Errors of a run per analysis type, as horizontal bars."""
    frame = pl.DataFrame(
        {"type": [fmt.ERROR_TYPES.get(k, k) for k in errors], "errors": list(errors.values())}
    )
    fig = px.bar(
        frame,
        x="errors",
        y="type",
        orientation="h",
        labels={"errors": "Errores", "type": ""},
        color_discrete_sequence=[fmt.CALL_HEX["VENDER"]],
    )
    return _style(
        fig, "Errores por tipo (última corrida completada)", height=260, hovermode="closest"
    )


def ic_over_time(ic_daily: pl.DataFrame, summary: pl.DataFrame) -> go.Figure:
    """Each score's daily IC as a 12-month rolling mean; the title states the total's mean and t."""
    rolling = (
        ic_daily.sort("analysis_date")
        .rolling(index_column="analysis_date", period=_ROLLING_IC, group_by="score")
        .agg(pl.col("ic").mean())
        .with_columns(pl.col("score").replace_strict(fmt.SCORES))
    )
    fig = px.line(
        rolling,
        x="analysis_date",
        y="ic",
        color="score",
        category_orders={"score": list(fmt.SCORES.values())},
        labels={"analysis_date": "Fecha", "ic": "IC (media móvil de 12 meses)", "score": ""},
    )
    fig.for_each_trace(lambda t: t.update(line_width=3 if t.name == "Total" else 1.3))
    fig.add_hline(y=0, line_color="#6e7781", line_width=1)
    fig.update_traces(hovertemplate="%{x|%d/%m/%Y}: %{y:.3f}")
    fig.update_xaxes(tickformat=_DATE_TICKS)
    fig.update_yaxes(tickformat=".2f")
    return _style(fig, f"IC en el tiempo · {fmt.ic_statement(summary, 'total')}", height=420)


def quintile_returns(quintiles: pl.DataFrame, spread: float | None) -> go.Figure:
    """Mean excess return over the universe per quintile of the total score, in percent."""
    frame = quintiles.sort("quintile").with_columns(
        pl.format("Q{}", "quintile").alias("label"), (pl.col("mean_universe_excess") * 100)
    )
    fig = go.Figure(
        go.Bar(
            x=frame["label"],
            y=frame["mean_universe_excess"],
            marker_color=list(_QUINTILE_HEX[: frame.height]),
            customdata=frame["calls"],
            texttemplate="%{y:+.2f} %",
            hovertemplate="%{x}: %{y:+.2f} % (%{customdata:,} recomendaciones)<extra></extra>",
        )
    )
    fig.add_hline(y=0, line_color="#6e7781", line_width=1)
    fig.update_xaxes(title="Quintil del puntaje total (Q1 el más bajo, Q5 el más alto)")
    fig.update_yaxes(title="Exceso sobre el universo", ticksuffix=" %")
    title = f"Retorno por quintil · Q5 − Q1 = {fmt.percent(spread, 2, signed=True)}"
    return _style(fig, title, height=380, hovermode="closest")


def target_range(calibration: pl.DataFrame) -> go.Figure:
    """Share of outcomes below, inside and above the stated target range, per listing."""
    frame = calibration.with_columns(pl.col("listing").replace(fmt.LISTINGS))
    fig = go.Figure()
    for column, (label, colour) in _RANGE_PARTS.items():
        fig.add_bar(
            y=frame["listing"],
            x=frame[column] * 100,
            name=label,
            orientation="h",
            marker_color=colour,
            texttemplate="%{x:.1f} %",
            hovertemplate=f"{label}: %{{x:.1f}} %<extra>%{{y}}</extra>",
        )
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_xaxes(range=[0, 100], ticksuffix=" %", title="Resultados")
    return _style(fig, "Dónde terminó el precio respecto del rango objetivo", 240, "closest")


def risk_volatility(risk: pl.DataFrame, ordering: float | None) -> go.Figure:
    """Realised (annualised) volatility after the call per stated risk level, in percent."""
    order = {level: i for i, level in enumerate(fmt.RISK_LEVELS)}
    frame = risk.sort(pl.col("risk_level").replace_strict(order, default=len(order)))
    levels = frame["risk_level"].to_list()
    fig = go.Figure(
        go.Bar(
            x=levels,
            y=frame["realised_vol"] * 100,
            marker_color=[fmt.RISK_HEX.get(level, "#8c959f") for level in levels],
            customdata=frame["calls"],
            texttemplate="%{y:.1f} %",
            hovertemplate="%{x}: %{y:.1f} % (%{customdata:,} recomendaciones)<extra></extra>",
        )
    )
    fig.update_xaxes(title="Nivel de riesgo declarado")
    fig.update_yaxes(title="Volatilidad realizada anualizada", ticksuffix=" %")
    title = (
        f"Volatilidad por nivel de riesgo · orden correcto en {fmt.percent(ordering)} de los pares"
    )
    return _style(fig, title, height=380, hovermode="closest")


def _mark_empty_panels(fig: go.Figure, history: pl.DataFrame) -> None:
    """Bold the panel titles, and note "sin datos" under those of components without data."""
    empty = {
        label for column, label in fmt.COMPONENT_COLUMNS.items() if history[column].is_null().all()
    }
    titles = [(t.text, t.x, t.y) for t in fig.layout.annotations]
    fig.for_each_annotation(lambda a: a.update(text=f"<b>{a.text}</b>"))
    for text, x, y in titles:
        if text in empty:
            fig.add_annotation(
                x=x,
                y=y - 0.2,
                xref="paper",
                yref="paper",
                text="sin datos en el período",
                showarrow=False,
                font={"color": "#6e7781"},
            )


def _add_bands(fig: go.Figure, buy: float, sell: float) -> None:
    """Shade the VENDER, MANTENER and COMPRAR score ranges."""
    for call, low, high in (("VENDER", 0, sell), ("MANTENER", sell, buy), ("COMPRAR", buy, 100)):
        fig.add_hrect(
            y0=low,
            y1=high,
            fillcolor=fmt.CALL_HEX[call],
            opacity=_BAND_OPACITY,
            line_width=0,
            layer="below",
            annotation_text=call,
            annotation_position="top left",
            annotation_font={"color": fmt.CALL_HEX[call], "size": 11},
        )


def _style(fig: go.Figure, title: str, height: int, hovermode: str = "x unified") -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 16}},
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 1, "xanchor": "right"},
        hovermode=hovermode,
        separators=",.",  # decimal comma, thousands dot
    )
    return fig
