"""Plotly figures of the dashboard, built from the store's polars frames."""

from __future__ import annotations

import datetime as dt

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st
from plotly.subplots import make_subplots

from ui import format as fmt

# Each figure is built once per distinct input and shared by every session: building one with
# Plotly's validation takes 0.1-0.3 s, reading it from this cache microseconds. Nothing mutates a
# returned figure (st.plotly_chart serialises a copy). Inputs are hashed by value (polars frames
# row by row), so a new published file, another ticker or period builds a new figure.
_figure_cache = st.cache_resource(show_spinner=False, max_entries=128)

# Plotly Express switches a line chart to WebGL (scattergl) above 1,000 points: a WebGL context
# per chart, software-rendered in a browser without a GPU, cost 0.2-0.3 s of drawing on
# Evolución. A few thousand SVG points draw faster than that, so every line chart stays SVG.
_SVG = "svg"

# Ticker lines in blues, purples and greys, apart from the calls' green, amber and red.
_TICKER_HEX = ("#1f6feb", "#8250df", "#57606a", "#bf3989", "#0a3069", "#6e7781", "#3e1f79")
_MOVING_AVERAGES = {"sma_20": "SMA 20", "sma_50": "SMA 50", "sma_200": "SMA 200"}
_BOLLINGER_LINE = "rgba(31, 111, 235, 0.35)"
_BOLLINGER_FILL = "rgba(31, 111, 235, 0.08)"
# Time axis labels by zoom: thousandths, then hundredths of a second when ticks are less than a
# second apart (runs of a demo or a test start within one second), seconds, minutes, then days.
_TIME_TICKS = [
    {"dtickrange": [None, 10], "value": "%H:%M:%S,%3f"},
    {"dtickrange": [10, 1_000], "value": "%H:%M:%S,%2f"},
    {"dtickrange": [1_000, 60_000], "value": "%H:%M:%S"},
    {"dtickrange": [60_000, 86_400_000], "value": "%d/%m %H:%M"},
    {"dtickrange": [86_400_000, None], "value": "%d/%m/%Y"},
]
# Margins (px) that already hold the axis labels and titles as drawn: Plotly's automargin (on
# in Streamlit's theme) grows a margin that is too small and then draws the whole figure
# again, which was nearly half of Evolución's drawing. Wider labels still grow it.
_MARGIN = {"l": 90, "r": 20, "t": 70, "b": 70}  # numbers on y, an x-axis title
_PANELS_MARGIN = {**_MARGIN, "b": 40}  # stacked panels, no x-axis title
_PRICE_MARGIN = {**_PANELS_MARGIN, "l": 105}  # volumes in millions on y
_NAMES_MARGIN = {**_MARGIN, "l": 135, "r": 30}  # names on the y axis (processes, listings, errors)
_DATE_TICKS = "%d/%m/%Y"  # numeric: plotly.js month names would be English
_DAY_MS = 86_400_000
_DAILY_TICKS = 14  # up to this many days between the first and last date, a tick per day
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


@_figure_cache
def score_history(history: pl.DataFrame) -> go.Figure:
    """Total score over time, one line per ticker, each day's point coloured by its call then.

    No fixed score bands: a call is set by quantile within the listing group on the month's first
    session and held all month, so the same score can be COMPRAR one month and MANTENER the next.
    """
    fig = px.line(
        history,
        x="analysis_date",
        y="total_score",
        color="ticker",
        color_discrete_sequence=_TICKER_HEX,
        labels={"analysis_date": "Fecha", "total_score": "Puntaje total", "ticker": "Ticker"},
        render_mode=_SVG,
    )
    fig.update_yaxes(range=[0, 100])
    fig = _dates(fig, days=history["analysis_date"])
    for call in fmt.RECOMMENDATIONS:
        held = history.filter(pl.col("recommendation") == call)
        if held.is_empty():
            continue
        fig.add_scatter(
            x=held["analysis_date"],
            y=held["total_score"],
            mode="markers",
            name=call,
            marker={"color": fmt.CALL_HEX[call], "size": 6},
            customdata=held["ticker"],
            hovertemplate=f"%{{customdata}}: {call}<extra></extra>",
        )
    return _style(fig, "Puntaje total y recomendación vigente", height=420)


@_figure_cache
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
        render_mode=_SVG,
    )
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    _mark_empty_panels(fig, history)
    fig.update_yaxes(range=[0, 100])
    return _style(_dates(fig, days=history["analysis_date"]), "Componentes del puntaje", 560)


@_figure_cache
def prices(technical: pl.DataFrame, ticker: str, in_dollars: bool = False) -> go.Figure:
    """Price (candles with OHLC, else a close line), SMAs and Bollinger, then volume, RSI, MACD."""
    frame = _to_dollars(technical) if in_dollars else technical
    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=[0.55, 0.13, 0.16, 0.16],
    )
    _price_panel(fig, frame, ticker)
    _volume_panel(fig, frame)
    _rsi_panel(fig, frame)
    _macd_panel(fig, frame)
    currency = "US$ (CCL)" if in_dollars else fmt.currency(ticker)
    fig.update_layout(xaxis_rangeslider_visible=False)
    if not frame.is_empty():  # an empty panel (no volume) would stretch the axes back to 1970
        fig.update_xaxes(range=[frame["analysis_date"].min(), frame["analysis_date"].max()])
    fig.update_yaxes(title_text=f"Precio ({currency})", row=1, col=1)
    fig.update_yaxes(title_text="Volumen", row=2, col=1)
    fig.update_yaxes(title_text="RSI 14", range=[0, 100], row=3, col=1)
    fig.update_yaxes(title_text=f"MACD ({fmt.currency(ticker)})", row=4, col=1)
    return _style(
        _dates(fig, days=frame["analysis_date"]), f"Precio de {ticker}", 780, margin=_PRICE_MARGIN
    )


def has_candles(technical: pl.DataFrame) -> bool:
    """Whether every day with a close also has open, high and low (else the chart draws a line)."""
    closes = technical.filter(pl.col("close").is_not_null())
    complete = pl.all_horizontal(pl.col("open", "high", "low").is_not_null())
    return closes.height > 0 and bool(closes.select(complete.all()).item())


def _price_panel(fig: go.Figure, frame: pl.DataFrame, ticker: str) -> None:
    x = frame["analysis_date"]
    band = {"color": _BOLLINGER_LINE, "width": 1}
    fig.add_scatter(x=x, y=frame["bb_upper"], name="Bollinger sup.", line=band, showlegend=False)
    fig.add_scatter(
        x=x,
        y=frame["bb_lower"],
        name="Bandas de Bollinger (20, 2)",
        line=band,
        fill="tonexty",  # shade between the lower and the upper band
        fillcolor=_BOLLINGER_FILL,
    )
    if has_candles(frame):
        text = [_ohlc_text(*row) for row in frame.select("open", "high", "low", "close").rows()]
        fig.add_candlestick(
            x=x,
            open=frame["open"],
            high=frame["high"],
            low=frame["low"],
            close=frame["close"],
            name=ticker,
            text=text,
            hoverinfo="text",
            increasing_line_color=fmt.CALL_HEX["COMPRAR"],
            decreasing_line_color=fmt.CALL_HEX["VENDER"],
        )
    else:
        fig.add_scatter(x=x, y=frame["close"], name=f"{ticker} (cierre)", line={"width": 2})
    for column, label in _MOVING_AVERAGES.items():
        fig.add_scatter(x=x, y=frame[column], name=label, line={"width": 1.4})


def _ohlc_text(
    open_: float | None, high: float | None, low: float | None, close: float | None
) -> str:
    """The hover text of one candle, in Spanish with es-AR numbers."""
    parts = zip(("Apertura", "Máximo", "Mínimo", "Cierre"), (open_, high, low, close), strict=True)
    return "<br>".join(f"{label}: {fmt.number(value)}" for label, value in parts)


def _volume_panel(fig: go.Figure, frame: pl.DataFrame) -> None:
    if frame["volume"].is_null().all():
        fig.add_annotation(
            text="sin datos de volumen",
            xref="x domain",
            yref="y domain",
            x=0.5,
            y=0.5,
            showarrow=False,
            font={"color": "#57606a"},
            row=2,
            col=1,
        )
        return
    _panel_bar(fig, frame, "volume", "Volumen", row=2)


def _panel_line(
    fig: go.Figure, frame: pl.DataFrame, column: str, name: str, color: str, row: int
) -> None:
    """One indicator line, without a legend entry, in a lower panel of the price chart."""
    fig.add_scatter(
        x=frame["analysis_date"],
        y=frame[column],
        name=name,
        line={"color": color},
        showlegend=False,
        row=row,
        col=1,
    )


def _panel_bar(fig: go.Figure, frame: pl.DataFrame, column: str, name: str, row: int) -> None:
    """Grey bars, without a legend entry, in a lower panel of the price chart."""
    fig.add_bar(
        x=frame["analysis_date"],
        y=frame[column],
        name=name,
        marker_color="#8c959f",
        showlegend=False,
        row=row,
        col=1,
    )


def _rsi_panel(fig: go.Figure, frame: pl.DataFrame) -> None:
    _panel_line(fig, frame, "rsi_14", "RSI 14", "#8250df", row=3)
    for level in (30, 70):
        fig.add_hline(y=level, line={"color": "#6e7781", "width": 1, "dash": "dot"}, row=3, col=1)


def _macd_panel(fig: go.Figure, frame: pl.DataFrame) -> None:
    _panel_bar(fig, frame, "macd_hist", "Histograma MACD", row=4)
    _panel_line(fig, frame, "macd", "MACD (12, 26)", "#1f6feb", row=4)
    _panel_line(fig, frame, "macd_signal", "Señal (9)", "#bf3989", row=4)


@_figure_cache
def performance(rebased: pl.DataFrame) -> go.Figure:
    """Each ticker's close rebased to 100 on its first day of the period, in its own currency."""
    fig = px.line(rebased, x="analysis_date", y="base_100", color="ticker", render_mode=_SVG)
    fig.add_hline(y=100, line_color="#6e7781", line_width=1)
    fig.update_yaxes(title_text="Base 100")
    fig.update_xaxes(title_text="")
    fig = _dates(fig, days=rebased["analysis_date"])
    return _style(fig, "Rendimiento comparado (base 100)", height=420)


@_figure_cache
def adr_gap(frame: pl.DataFrame, label: str) -> go.Figure:
    """The CCL implied by an ADR and its local share against the day's CCL, and the gap in %."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35])
    x = frame["analysis_date"]
    fig.add_scatter(x=x, y=frame["implied_ccl"], name=f"CCL implícito {label}", row=1, col=1)
    fig.add_scatter(x=x, y=frame["usdars_ccl"], name="CCL del día", row=1, col=1)
    fig.add_bar(x=x, y=frame["gap"] * 100, name="Diferencia", showlegend=False, row=2, col=1)
    fig.update_yaxes(title_text="$ por US$", row=1, col=1)
    fig.update_yaxes(title_text="Diferencia (%)", ticksuffix=" %", row=2, col=1)
    fig = _dates(fig, days=x)
    fig.data[-1].hovertemplate = "Diferencia: %{y:+,.2f} %<extra></extra>"
    title = f"{label}: CCL implícito y diferencia con el CCL del día"
    return _style(fig, title, height=520, margin=_PANELS_MARGIN)


def _to_dollars(technical: pl.DataFrame) -> pl.DataFrame:
    """Peso prices and indicators divided by the day's CCL rate (null where it is missing)."""
    return technical.with_columns(pl.col(_PRICE_COLUMNS) / pl.col("usdars_ccl"))


@_figure_cache
def runs_timeline(runs: pl.DataFrame) -> go.Figure:
    """Each run as a bar from its start to its end (local time), coloured by status."""
    frame = runs.with_columns(
        pl.col("status").replace_strict(fmt.JOB_STATUS).alias("estado"),
        pl.col("job_name").replace(fmt.JOB_NAMES),  # «Corrida diaria», not daily_analysis
        _drawn_end(runs),
        pl.col("end_time").dt.strftime("%d/%m/%Y %H:%M:%S").alias("fin"),  # the real end
    )
    fig = px.timeline(
        frame,
        x_start="start_time",
        x_end="drawn_end",
        y="job_name",
        color="estado",
        color_discrete_map={fmt.JOB_STATUS[k]: v for k, v in fmt.STATUS_HEX.items()},
        hover_data={"id": True, "tickers_processed": True, "errors_count": True, "fin": True},
        labels={
            "job_name": "Proceso",
            "estado": "Estado",
            "tickers_processed": "Tickers",
            "errors_count": "Errores",
        },
    )
    fig.update_traces(
        hovertemplate="<b>%{y}</b> n.º %{customdata[0]}<br>"
        "Inicio: %{base|%d/%m/%Y %H:%M:%S}<br>Fin: %{customdata[3]}<br>"
        "Tickers: %{customdata[1]:,} · Errores: %{customdata[2]:,}<extra>%{fullData.name}</extra>"
    )
    fig.update_xaxes(tickformatstops=_TIME_TICKS, nticks=6, tickangle=0, title_text="")
    fig.update_yaxes(title_text="")
    return _style(fig, "Ejecuciones recientes", 280, "closest", _NAMES_MARGIN)


def _drawn_end(runs: pl.DataFrame) -> pl.Expr:
    """Each run's end, or later so the bar is at least 0,5 % of the time shown (else invisible)."""
    span = (pl.col("end_time").max() - pl.col("start_time").min()).dt.total_microseconds()
    least = pl.duration(microseconds=span.clip(lower_bound=1_000_000) // 200)
    return pl.max_horizontal("end_time", pl.col("start_time") + least).alias("drawn_end")


@_figure_cache
def ic_over_time(ic_daily: pl.DataFrame, summary: pl.DataFrame) -> go.Figure:
    """Each score's daily IC as a 12-month rolling mean; the title states the total's mean and t."""
    measured = ic_daily.filter(pl.col("ic").is_not_null())["score"].unique()
    rolling = (  # only scores with an IC: a legend entry without a line says nothing
        ic_daily.filter(pl.col("score").is_in(measured.implode()))
        .sort("analysis_date")
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
        render_mode=_SVG,
    )
    fig.for_each_trace(lambda t: t.update(line_width=3 if t.name == "Total" else 1.3))
    fig.add_hline(y=0, line_color="#6e7781", line_width=1)
    fig.update_traces(hovertemplate="%{x|%d/%m/%Y}: %{y:.3f}")
    fig.update_xaxes(tickformat=_DATE_TICKS)
    fig.update_yaxes(tickformat=".2f")
    return _style(fig, f"IC en el tiempo · {fmt.ic_statement(summary, 'total')}", height=420)


@_figure_cache
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


@_figure_cache
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
    title = "Dónde terminó el precio respecto del rango objetivo"
    return _style(fig, title, 240, "closest", _NAMES_MARGIN)


@_figure_cache
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


def _dates(fig: go.Figure, value: str = ",.2f", days: pl.Series | None = None) -> go.Figure:
    """Numeric date ticks and hovers (dd/mm/aaaa) and Spanish 2-decimal hover lines.

    Over a short period of `days` the ticks are one day apart: Plotly would put them every
    few hours, each labelled with its (repeated) date.
    """
    fig.update_xaxes(tickformat=_DATE_TICKS, hoverformat=_DATE_TICKS)
    if (first := _short_period(days)) is not None:
        fig.update_xaxes(dtick=_DAY_MS, tick0=first)
    for trace in fig.data:
        if trace.type in ("scatter", "bar") and trace.name:
            trace.hovertemplate = f"{trace.name}: %{{y:{value}}}<extra></extra>"
    return fig


def _short_period(days: pl.Series | None) -> dt.date | None:
    """The first of `days` when they span at most _DAILY_TICKS days, else None."""
    if days is None:
        return None
    first, last = days.min(), days.max()
    if isinstance(first, dt.date) and isinstance(last, dt.date):
        return first if (last - first).days <= _DAILY_TICKS else None
    return None


def _style(
    fig: go.Figure,
    title: str,
    height: int,
    hovermode: str = "x unified",
    margin: dict[str, int] = _MARGIN,
) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 16}},
        height=height,
        margin=margin,
        # One row just above the plot, untitled, below the band where the modebar shows on hover.
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1,
            "x": 1,
            "xanchor": "right",
            "title": {"text": ""},
        },
        hovermode=hovermode,
        separators=",.",  # decimal comma, thousands dot
    )
    return _plain_numbers(fig)


def _plain_numbers(fig: go.Figure) -> go.Figure:
    """Every axis in full es-AR numbers: 14.000 and 0,5, never SI suffixes (14k, 0.5M)."""
    fig.update_xaxes(exponentformat="none", separatethousands=True)
    fig.update_yaxes(exponentformat="none", separatethousands=True)
    return fig
