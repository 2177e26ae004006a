"""Tooltips and the methodology text, written from the constants and settings the pipeline uses.

Nothing here is a copy of a number: thresholds and weights come from `Settings`, windows
and limits from `pipeline.analysis.scoring.combine`, so the explanations follow any change.
"""

from __future__ import annotations

from pipeline.analysis import ccl, forecast
from pipeline.settings import Settings
from ui import format as fmt

_COMPONENT_MEANING = {
    "technical": "puesto de la acción en su grupo según cuatro factores de precio (momento de "
    "12 meses, reversión de 1 mes, baja volatilidad, cercanía al máximo de 52 semanas)",
    "fundamental": "balances presentados hasta esa fecha (rentabilidad, endeudamiento, valuación)",
    "macro": "contexto argentino del día (tipo de cambio, riesgo país, tasa, inflación, "
    "Merval); es el mismo para todas las acciones y no forma parte del total",
    "sentiment": "tono de los titulares de noticias recientes del ticker",
}


def _pct(fraction: float) -> str:
    return fmt.percent(fraction, 0)


def _threshold(value: float) -> str:
    return fmt.number(value, 2).rstrip("0").rstrip(",")  # 60, 35,5, 40,25


def call(cfg: Settings) -> str:
    """What COMPRAR / MANTENER / VENDER mean, with the configured shares."""
    return (
        f"el primer día hábil de cada mes, el {_pct(cfg.buy_share)} de puntaje total más alto de "
        f"su grupo (ADR o BYMA) pasa a COMPRAR y el {_pct(cfg.sell_share)} más bajo a VENDER "
        "hasta el mes siguiente; el resto, MANTENER. El ADR y la acción local de una misma "
        "empresa llevan la misma recomendación."
    )


def total(cfg: Settings) -> str:
    """The total score: a weighted mean of the components that have data."""
    weights = ", ".join(
        f"{fmt.ANALYSES[k]} {_pct(w / sum(cfg.weights.values()))}" for k, w in cfg.weights.items()
    )
    return (
        "Puntaje total relativo de 0 a 100 (50 = la acción mediana de su grupo): promedio "
        f"ponderado de los puestos de la acción en los componentes con datos ({weights}; un "
        "componente sin datos no cuenta y los demás se reparten su peso), el del día en que se "
        "fijó la recomendación del mes. Recomendación: " + call(cfg)
    )


_COUNTS = {2: "dos", 3: "tres", 4: "cuatro", 5: "cinco"}


def count_in_words(n: int) -> str:
    """A small count in Spanish words ("tres"), digits beyond five."""
    return _COUNTS.get(n, str(n))


def component(kind: str) -> str:
    """One component score's meaning."""
    return f"Puntaje {fmt.ANALYSES[kind].lower()} de 0 a 100: {_COMPONENT_MEANING[kind]}. "


COMPONENTS = {f"{kind}_score": component(kind) for kind in fmt.ANALYSES}
CONFIDENCE = (
    "Confianza: el modelo actual no la estima, porque una cifra de confianza por acción no "
    "tendría respaldo; lo que sí se mide es cuántas veces acertó cada tipo de recomendación, "
    "en el Historial de aciertos."
)
CURRENCY = (
    "Moneda de cotización: $ (pesos) en BYMA (.BA), US$ (dólares) para los ADR en Nueva York."
)
PRICE = "Precio de cierre del día analizado, en la moneda de cotización."
TARGET = (
    f"Precio objetivo a {forecast.TARGET_HORIZON_SESSIONS} ruedas (unos tres meses): la mediana "
    "del rango objetivo, el cierre movido por los percentiles 10, 50 y 90 de los retornos de "
    f"{forecast.TARGET_HORIZON_SESSIONS} ruedas de la propia acción en sus últimas "
    f"{forecast.RANGE_LOOKBACK_SESSIONS} ruedas (tres años). El rango debería contener 8 de "
    "cada 10 resultados. No es una predicción del precio."
)
UPSIDE = f"Potencial: distancia del objetivo al precio actual, en %. {TARGET}"
RISK = (
    "Riesgo: tercio de la volatilidad esperada (EWMA de RiskMetrics, decaimiento "
    f"{fmt.number(forecast.EWMA_DECAY, 2)}) dentro de su grupo ese día: BAJO el tercio menos "
    "volátil, ALTO el más volátil, MEDIO el del medio."
)
CCL = (
    "Dólar contado con liquidación (CCL): en cada rueda en que cotizan al menos "
    f"{ccl.MIN_PAIRS} pares de ADR y acción local, es la mediana del CCL que implica cada par "
    "(precio de la acción local × acciones por ADR ÷ precio del ADR); la mediana no se mueve "
    "por un par con una cotización atrasada o un dato erróneo. Con menos pares se usa el CCL "
    f"que trae la fuente de datos, salvo en los {ccl.CARRY_DAYS} días siguientes a un CCL "
    "implícito (un feriado de una de las dos bolsas), en que sigue valiendo el último. Con ese "
    "CCL se calculan la brecha cambiaria, el Merval en dólares y el índice de referencia de "
    "los ADR, y el detalle de cada día guarda cuál se usó."
)
PESO_RATIOS = (
    "Los ratios en pesos de un ADR (precio/valor libro, precio/ganancias, rendimiento por "
    "dividendo) usan el precio de la acción local ese día o, si no cotizó, el del ADR al CCL "
    "dividido por las acciones que representa; nunca el ADR al dólar oficial, que con cepo "
    "subvalúa a la empresa."
)
