"""Every Spanish word of the stored `summary` column: its sentences and its drivers.

The summary is part of the stored data (two to four Spanish sentences per call), so the
analysis writes it; this module is the one place its vocabulary lives. Everything else the
dashboard shows in Spanish (reasons, labels) belongs to `ui/`.
"""

from __future__ import annotations

import math

# Component names in "Sin datos: ...".
COMPONENT_NAMES = {
    "technical": "técnico",
    "fundamental": "fundamental",
    "macro": "macro",
    "sentiment": "sentimiento",
}
# The sentences: the call, the drivers for and against, the components without data.
HEADLINE = "{}: {} con puntaje {}/100 (confianza {}/100)."  # the first model's (until migration 6)
# The relative model's: the call and since when, the total's rank and the group it ranks in.
RELATIVE_HEADLINE = "{}: {} desde el {}, puntaje relativo {}/100 entre {}."
COMPANY_CALL = "Es el llamado de {}, la cotización de la empresa con más historia."
PRICE_FACTORS_ONLY = "Se basa solo en los factores de precio (sin fundamentos ni noticias)."
RANKED_DRIVER = "{} ({}/100)"  # a driver with the stock's rank in its group
# Decimals in the summary, as the dashboard shows the same numbers: the total as stored (two
# decimals, the recommendations table's "Puntaje"), a rank with one ("Puesto en su grupo").
TOTAL_DECIMALS = 2
RANK_DECIMALS = 1
GROUP_NAMES = {"ADR": "los ADR", "BYMA": "las acciones en BYMA"}
GROUP_FALLBACK = "su grupo"
# Each ranked input of the relative total.
RANKED_NAMES = {
    "momentum_12_1_score": "momento de 12 meses",
    "reversal_1m_score": "reversión de 1 mes",
    "low_volatility_score": "baja volatilidad",
    "high_52w_score": "cercanía al máximo de 52 semanas",
    "fundamental_score": "fundamentos",
    "sentiment_score": "noticias",
}
FOR_AND_AGAINST = "A favor: {}; en contra: {}."
FOR_ONLY = "A favor: {}."
AGAINST_ONLY = "En contra: {}."
NO_DRIVERS = "Sin factores destacados."
NO_DATA = "Sin datos: {}."
AND = " y "
# Driver (a technical vote, a fundamental or macro sub-score, the headlines' tone) ->
# (phrase when it pushes the score up, phrase when it pushes it down).
DRIVERS = {
    # technical votes
    "close_vs_sma_20": ("el precio sobre la SMA 20", "el precio bajo la SMA 20"),
    "close_vs_sma_50": ("el precio sobre la SMA 50", "el precio bajo la SMA 50"),
    "close_vs_sma_200": (
        "la tendencia alcista (precio sobre la SMA 200)",
        "la tendencia bajista (precio bajo la SMA 200)",
    ),
    "sma_50_vs_sma_200": (
        "el cruce dorado (SMA 50 sobre SMA 200)",
        "el cruce bajista (SMA 50 bajo SMA 200)",
    ),
    "rsi_14": ("el RSI en sobreventa (bajo 30)", "el RSI en sobrecompra (sobre 70)"),
    "macd_vs_signal": ("el MACD positivo (sobre su señal)", "el MACD negativo (bajo su señal)"),
    "return_20d": ("la suba de las últimas 20 ruedas", "la baja de las últimas 20 ruedas"),
    "bollinger": (
        "el precio bajo la banda inferior de Bollinger",
        "el precio sobre la banda superior de Bollinger",
    ),
    "volatility_20": ("la volatilidad baja", "la volatilidad alta"),
    "volume_spike": (
        "el volumen alto en una rueda alcista",
        "el volumen alto en una rueda bajista",
    ),
    "volume_confirms_trend": ("el volumen que acompaña la suba", "el volumen que acompaña la baja"),
    # fundamental sub-scores
    "fundamental_valuation": ("la valuación atractiva", "la valuación exigente"),
    "fundamental_profitability": ("la rentabilidad sólida", "la rentabilidad débil"),
    "fundamental_leverage": ("el endeudamiento bajo", "el endeudamiento alto"),
    "fundamental_growth": ("el crecimiento de las ventas", "la caída de las ventas"),
    "fundamental_dividends": ("los dividendos", "los dividendos escasos"),
    # macro sub-scores
    "macro_gap_level": ("la brecha cambiaria baja", "la brecha cambiaria alta"),
    "macro_gap_change": ("la baja de la brecha cambiaria", "la suba de la brecha cambiaria"),
    "macro_embi_level": ("el riesgo país bajo", "el riesgo país alto"),
    "macro_embi_change": ("la baja del riesgo país", "la suba del riesgo país"),
    "macro_inflation": ("la inflación mensual moderada", "la inflación mensual alta"),
    "macro_real_rate": ("la tasa de política real positiva", "la tasa de política real negativa"),
    "macro_merval_ars": ("el Merval en alza en pesos", "el Merval en baja en pesos"),
    "macro_merval_usd": ("el Merval en alza en dólares", "el Merval en baja en dólares"),
    # sentiment
    "sentiment_tone": ("los titulares positivos", "los titulares negativos"),
}


def number_es(value: float | None, decimals: int = 2) -> str | None:
    """A number the Argentine way (1.234,56), or None when missing (NaN included)."""
    if value is None or math.isnan(value):
        return None
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
