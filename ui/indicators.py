"""The indicators of an analysis in Spanish: name, unit and a sensible number of decimals.

Keys the table does not know (a newer model's) are shown with their own name and two
decimals, never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import polars as pl

from ui import format as fmt

# How a value is written, and the unit named beside it.
_KINDS: dict[str, tuple[Callable[[float], str], str]] = {
    "price": (fmt.number, "moneda de cotización"),
    "fraction": (lambda v: fmt.percent(v, 1, signed=True), "%"),
    "share": (lambda v: fmt.percent(v, 1), "%"),
    "score": (lambda v: fmt.number(v, 1), "puntos (0-100)"),
    "rating": (lambda v: fmt.number(v, 2), "de -1 a 1"),
    "index": (lambda v: fmt.number(v, 1), "índice (0-100)"),
    "ratio": (lambda v: fmt.number(v, 2), "veces"),
    "pp": (lambda v: fmt.number(v, 2), "puntos porcentuales"),
    "count": (lambda v: fmt.number(v, 0), "cantidad"),
    "volume": (lambda v: fmt.number(v, 0), "acciones"),
    "vote": (lambda v: {1: "a favor", 0: "neutral", -1: "en contra"}.get(int(v), str(v)), "voto"),
}
NAMES: dict[str, tuple[str, str]] = {
    "sma_20": ("Media móvil simple 20 ruedas", "price"),
    "sma_50": ("Media móvil simple 50 ruedas", "price"),
    "sma_200": ("Media móvil simple 200 ruedas", "price"),
    "ema_12": ("Media móvil exponencial 12 ruedas", "price"),
    "ema_26": ("Media móvil exponencial 26 ruedas", "price"),
    "macd": ("MACD (12, 26)", "price"),
    "macd_signal": ("Señal del MACD (9)", "price"),
    "macd_hist": ("Histograma del MACD", "price"),
    "rsi_14": ("RSI 14 ruedas", "index"),
    "bb_upper": ("Banda de Bollinger superior (20, 2)", "price"),
    "bb_middle": ("Banda de Bollinger media (20)", "price"),
    "bb_lower": ("Banda de Bollinger inferior (20, 2)", "price"),
    "atr_14": ("Rango verdadero medio (ATR 14)", "price"),
    "log_return": ("Retorno logarítmico del día", "fraction"),
    "return_20d": ("Retorno 20 ruedas", "fraction"),
    "return_60d": ("Retorno 60 ruedas", "fraction"),
    "return_252d": ("Retorno 252 ruedas (un año)", "fraction"),
    "volatility_20": ("Volatilidad anualizada 20 ruedas", "share"),
    "volume_sma_20": ("Volumen promedio 20 ruedas", "volume"),
    "high_252": ("Máximo de 52 semanas", "price"),
    "drawdown_252": ("Caída desde el máximo de 52 semanas", "fraction"),
    "pe": ("Precio / ganancias", "ratio"),
    "pb": ("Precio / valor libro", "ratio"),
    "roe": ("Rentabilidad sobre patrimonio (ROE)", "fraction"),
    "net_margin": ("Margen neto", "fraction"),
    "debt_to_equity": ("Deuda / patrimonio", "ratio"),
    "revenue_growth": ("Crecimiento de ventas", "fraction"),
    "dividend_yield": ("Rendimiento por dividendo", "share"),
    "gap": ("Brecha cambiaria (CCL vs. oficial)", "fraction"),
    "gap_change": ("Cambio de la brecha", "fraction"),
    "embi_change": ("Cambio del riesgo país (EMBI)", "fraction"),
    "real_rate_monthly_pp": ("Tasa real mensual", "pp"),
    "merval_vs_sma200": ("Merval vs. su media de 200 ruedas", "fraction"),
    "merval_usd_vs_sma200": ("Merval en dólares vs. su media de 200 ruedas", "fraction"),
    "positive_hits": ("Palabras positivas en titulares", "count"),
    "negative_hits": ("Palabras negativas en titulares", "count"),
    "matched_words": ("Palabras del léxico encontradas", "count"),
    "vote_score": ("Puntaje de los votos técnicos (informativo)", "score"),
    "ewma_volatility": ("Volatilidad esperada EWMA anualizada", "share"),
    "level": ("Puntaje propio, antes de compararlo con su grupo", "score"),
}
# Nested groups: their Spanish title and the kind of every value inside.
GROUPS: dict[str, tuple[str, str]] = {
    "ratings": ("Calificación", "rating"),
    "votes": ("Voto", "vote"),
    "sub_scores": ("Subpuntaje", "score"),
    "factors": ("Factor", "fraction"),
    "factor_ranks": ("Puesto en su grupo", "score"),
    "range_63": ("Retorno logarítmico de 63 ruedas", "fraction"),
    "call": ("Llamado", ""),
}
_PARTS = {
    "trend": "tendencia",
    "momentum": "momento",
    "volatility": "volatilidad",
    "volume": "volumen",
    "valuation": "valuación",
    "profitability": "rentabilidad",
    "leverage": "endeudamiento",
    "growth": "crecimiento",
    "dividends": "dividendos",
    "close_vs_sma_20": "cierre vs. media de 20 ruedas",
    "close_vs_sma_50": "cierre vs. media de 50 ruedas",
    "close_vs_sma_200": "cierre vs. media de 200 ruedas",
    "sma_50_vs_sma_200": "media de 50 vs. media de 200",
    "rsi_14": "RSI 14",
    "macd_vs_signal": "MACD vs. señal",
    "return_20d": "retorno 20 ruedas",
    "bollinger": "bandas de Bollinger",
    "volatility_20": "volatilidad 20 ruedas",
    "volume_spike": "pico de volumen",
    "volume_confirms_trend": "volumen confirma la tendencia",
    "gap_level": "nivel de la brecha",
    "embi_level": "nivel del riesgo país",
    "embi_change": "cambio del riesgo país",
    "inflation": "inflación",
    "real_rate": "tasa real",
    "merval_ars": "Merval en pesos",
    "merval_usd": "Merval en dólares",
    "momentum_12_1": "momento de 12 meses",
    "reversal_1m": "reversión de 1 mes",
    "low_volatility": "baja volatilidad",
    "high_52w": "cercanía al máximo de 52 semanas",
    "q_low": "percentil 10",
    "q_mid": "mediana",
    "q_high": "percentil 90",
    "group": "grupo",
    "formed_on": "fijado el",
    "daily_total": "puntaje total del día",
    "decided_by": "decidido en",
    "history_bars": "ruedas de historia",
}


def table(details: pl.DataFrame, currency: str) -> pl.DataFrame:
    """One row per indicator of each analysis: Análisis, Indicador, Valor (es-AR), Unidad."""
    rows = [
        (fmt.ANALYSES.get(kind, kind), *_row(name, group, value, currency))
        for kind, text in details.select("analysis_type", "indicators").rows()
        for name, group, value in _flatten(json.loads(text or "{}"))
    ]
    schema = ["Análisis", "Indicador", "Valor", "Unidad"]
    return pl.DataFrame(rows, schema=schema, orient="row")


def _flatten(values: dict, group: str | None = None) -> Iterator[tuple[str, str | None, object]]:
    for name, value in values.items():
        if isinstance(value, dict):
            yield from _flatten(value, name)
        else:
            yield name, group, value


def _row(name: str, group: str | None, value: object, currency: str) -> tuple[str, str, str]:
    """(Spanish name, value, unit) of one indicator."""
    if group in GROUPS:
        title, kind = GROUPS[group]
        label = f"{title}: {_PARTS.get(name, NAMES.get(name, (name.replace('_', ' '),))[0])}"
    else:
        label, kind = NAMES.get(name, (name if group is None else f"{group} · {name}", ""))
    if value is None:
        return label, "sin datos", ""
    if not isinstance(value, int | float) or isinstance(value, bool) or kind not in _KINDS:
        shown = fmt.number(value, 2) if isinstance(value, float) else str(value)
        return label, shown, ""
    write, unit = _KINDS[kind]
    return label, write(float(value)), currency if kind == "price" else unit
