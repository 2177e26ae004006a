"""Tooltips and the methodology text, written from the constants and settings the pipeline uses.

Nothing here is a copy of a number: thresholds and weights come from `Settings`, windows
and limits from `pipeline.analysis.scoring.combine`, so the explanations follow any change.
"""

from __future__ import annotations

from pipeline.analysis.scoring import combine
from pipeline.settings import Settings
from ui import format as fmt

_COMPONENT_MEANING = {
    "technical": "tendencia, momento y volatilidad del precio (medias móviles, RSI, MACD, "
    "bandas de Bollinger)",
    "fundamental": "balances presentados hasta esa fecha (rentabilidad, endeudamiento, valuación)",
    "macro": "contexto argentino del día (tipo de cambio, riesgo país, tasa, inflación, Merval)",
    "sentiment": "tono de los titulares de noticias recientes del ticker",
}


def _pct(fraction: float) -> str:
    return fmt.percent(fraction, 0)


def _threshold(value: float) -> str:
    return fmt.number(value, 2).rstrip("0").rstrip(",")  # 60, 35,5, 40,25


def call(cfg: Settings) -> str:
    """What COMPRAR / MANTENER / VENDER mean, with the configured thresholds."""
    return (
        f"COMPRAR con puntaje total desde {_threshold(cfg.buy_threshold)}; VENDER con "
        f"{_threshold(cfg.sell_threshold)} o menos; MANTENER en el medio."
    )


def total(cfg: Settings) -> str:
    """The total score: a weighted mean of the components that have data."""
    weights = ", ".join(
        f"{fmt.ANALYSES[k]} {_pct(w / sum(cfg.weights.values()))}" for k, w in cfg.weights.items()
    )
    return (
        "Puntaje total de 0 a 100: promedio ponderado de los componentes con datos "
        f"({weights}; un componente sin datos no cuenta y los demás se reparten su peso). "
        + call(cfg)
    )


def component(kind: str) -> str:
    """One component score's meaning."""
    return f"Puntaje {fmt.ANALYSES[kind].lower()} de 0 a 100: {_COMPONENT_MEANING[kind]}. "


COMPONENTS = {f"{kind}_score": component(kind) for kind in fmt.ANALYSES}
CONFIDENCE = (
    "Confianza de 0 a 100 %: cuántos datos tuvo el análisis (peso de los componentes con "
    "datos y su completitud) por cuánto coinciden entre sí los componentes. Baja cuando "
    "faltan datos o los componentes se contradicen; no es una probabilidad de acierto."
)
CURRENCY = (
    "Moneda de cotización: $ (pesos) en BYMA (.BA), US$ (dólares) para los ADR en Nueva York."
)
PRICE = "Precio de cierre del día analizado, en la moneda de cotización."
TARGET = (
    f"Precio objetivo indicativo a {combine.TARGET_HORIZON_DAYS} ruedas (unos tres meses): "
    "el cierre movido según la distancia del puntaje total a 50, en unidades de la "
    f"volatilidad esperada a ese plazo (puntaje 100 = +1 desvío), con un tope de "
    f"±{_pct(combine.MAX_TARGET_MOVE)}. No es una predicción del precio."
)
UPSIDE = f"Potencial: distancia del objetivo al precio actual, en %. {TARGET}"
RISK = (
    "Riesgo según la volatilidad anualizada de 20 ruedas y la caída desde el máximo de 52 "
    f"semanas: ALTO con volatilidad desde {_pct(combine.HIGH_RISK_VOLATILITY)} o caída de "
    f"{_pct(-combine.HIGH_RISK_DRAWDOWN)} o más; BAJO con volatilidad menor a "
    f"{_pct(combine.LOW_RISK_VOLATILITY)} y caída menor a {_pct(-combine.LOW_RISK_DRAWDOWN)}; "
    "MEDIO en el resto."
)
