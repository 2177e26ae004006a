"""How to read the track record: the Spanish explanations of the Historial de aciertos page."""

from __future__ import annotations

from pipeline.analysis import forecast, market_view
from ui.format import number

# The stated range in whole percent: 10th to 90th percentile, 80 % of outcomes inside.
_PERCENTILE_LOW = round(forecast.RANGE_QUANTILES["target_low"] * 100)
_PERCENTILE_HIGH = round(forecast.RANGE_QUANTILES["target_high"] * 100)
_COVERAGE = round(forecast.RANGE_COVERAGE * 100)
_TAIL = _PERCENTILE_LOW

INTRO = (
    "Cómo les fue a las recomendaciones. Para cada una se mide el retorno del precio "
    "(ajustado por dividendos y splits) desde la entrada hasta {horizon} ruedas después, en la "
    "bolsa del ticker, y se lo compara con el índice de referencia (el Merval en pesos para las "
    "acciones .BA, el Merval en dólares CCL para los ADR) y con el promedio del universo del mismo "
    "grupo. Las recomendaciones se publican a la mañana siguiente de la rueda analizada: la "
    "entrada «cierre siguiente» mide desde el cierre de la rueda posterior, el primer precio al "
    "que se podía operar después de leerlas; «cierre del día» mide desde el cierre analizado."
)
ORIGIN = (
    "**Publicado**: la recomendación la escribió el proceso diario en su momento, antes de "
    "conocerse el resultado. **Simulado**: se calculó después de los hechos, al reconstruir la "
    "historia (backfill), con los datos disponibles hasta esa fecha: es lo que el modelo habría "
    "dicho, no lo que vio un analista. **Todos** reúne ambos. El resto de las medidas de la "
    "página usa todas las recomendaciones."
)
BY_CALL = (
    "**Exceso** es el retorno del ticker menos el del índice (o menos el promedio del universo) "
    "en el mismo período, en media y en mediana. **Aciertos**: la proporción de COMPRAR que le "
    "ganaron al índice, y de VENDER que quedaron por debajo; MANTENER no indica una dirección y "
    "no tiene aciertos. **Tasa base**: la misma proporción para todas las recomendaciones del "
    "grupo y origen, cualquiera haya sido (cuántas le ganaron al índice, para COMPRAR; cuántas "
    "quedaron por debajo, para VENDER): lo que se habría acertado sin mirar el puntaje. Una "
    "recomendación aporta información sólo si sus aciertos superan la tasa base. El "
    "**intervalo de 95 %** (de Wilson) es el rango de aciertos compatible con lo observado: "
    "si contiene la tasa base, la diferencia cabe en el azar. Supone recomendaciones "
    "independientes y no lo son (una recomendación se repite todo el mes y los resultados de "
    "fechas vecinas se superponen), así que el rango real es más ancho: con pocas "
    "recomendaciones, ni siquiera un intervalo que deja afuera la tasa base es concluyente."
)
VERDICT = (
    "Calculado con los números de esta página, con todas las recomendaciones (ambos grupos y "
    "orígenes): el IC frente a cero con la regla |t| ≥ 2, y los aciertos frente a la tasa base "
    "con el intervalo de 95 % de Wilson. Las reglas están fijadas de antemano, no ajustadas a "
    "los datos. El intervalo supone recomendaciones independientes y no lo son (una "
    "recomendación se repite todo el mes): el real es más ancho, así que un acierto por encima "
    "o por debajo de la tasa base es una señal más débil de lo que parece."
)
IC = (
    "El **IC** (coeficiente de información) es, en cada fecha, la correlación de Spearman entre "
    "el puntaje y el retorno posterior de todos los tickers, medido contra el promedio de su "
    "grupo (ADR o BYMA): 1 sería acertar el orden "
    "completo, 0 no tener poder predictivo y un valor negativo, un orden al revés. Un IC medio "
    "chico (de 0,02 a 0,05) puede servir en acciones, pero sólo si es estable: tiene que "
    "distinguirse de cero y repetirse año tras año, no aparecer en un período. Por eso no "
    "alcanza con mirar el IC medio: el **estadístico t** dice si se distingue de cero (con |t| "
    "menor que 2, la regla habitual de una prueba a dos colas al 5 %, no se puede descartar que "
    "sea azar) y la tabla por año muestra si se sostiene. El gráfico muestra la media "
    "móvil de 12 meses (la de los primeros meses usa los datos que hay). Como los resultados "
    "de fechas vecinas se superponen, el t lo tiene en cuenta (método: {method})."
)
QUINTILES = (
    "En cada fecha se ordenan los tickers por puntaje total y se los reparte en cinco grupos "
    "iguales (quintiles): Q1 los de menor puntaje, Q5 los de mayor. Cada barra es el exceso "
    "medio sobre el promedio del universo. Si el puntaje sirve, las barras suben de Q1 a Q5 y "
    "Q5 − Q1 es positivo."
)
TARGET_RANGE = (
    "Cada recomendación declara un rango para el precio a "
    f"{forecast.TARGET_HORIZON_SESSIONS} ruedas: del percentil "
    f"{_PERCENTILE_LOW} al percentil {_PERCENTILE_HIGH} de los retornos de "
    f"{forecast.TARGET_HORIZON_SESSIONS} ruedas de la propia acción en el pasado, así que debería "
    f"contener el {_COVERAGE} % de los resultados. Para otro horizonte, el rango se lleva a ese "
    "plazo: la mediana en proporción al tiempo y la distancia a cada extremo con la raíz del "
    "tiempo. El gráfico muestra en qué proporción de los casos el precio al final del horizonte "
    f"quedó dentro, por encima o por debajo del rango. Bien calibrado, cerca del {_COVERAGE} % "
    f"cae adentro y cerca del {_TAIL} % de cada lado; mucho menos indica un rango demasiado "
    "estrecho, mucho más uno demasiado amplio, y si se inclina hacia un lado, el objetivo está "
    "sesgado. (Las recomendaciones del primer modelo declaraban el objetivo ± un desvío "
    "estándar, cerca del 68 %.)"
)
RISK = (
    "La volatilidad realizada es el desvío estándar anualizado de los retornos diarios entre la "
    "entrada y el final del horizonte, promediado por nivel de riesgo declarado. Si el nivel "
    "informa algo, ALTO muestra más volatilidad que MEDIO y MEDIO más que BAJO. El orden "
    "correcto compara pares de tickers de la misma fecha y el mismo grupo con distinto nivel "
    "(los empates cuentan medio): el azar daría cerca de 50 %."
)
TURNOVER = (
    "Cuántas veces por año (252 ruedas) cambia la recomendación de un mismo ticker, y cuántas "
    "ruedas dura una recomendación, en mediana, antes de cambiar. Cuenta todas las "
    "recomendaciones del período, maduras o no. Más rotación implica más operaciones y más "
    "costos para seguirlas."
)
COVERAGE = (
    "Proporción de las recomendaciones del período (maduras o no) en las que cada componente "
    "no tuvo datos y por eso no "
    "entró en el puntaje total. Un componente con poca cobertura pesa poco en las medidas de "
    "arriba."
)
EMPTY = (
    "Todavía no hay resultados maduros para un horizonte de {horizon} ruedas: una "
    "recomendación se evalúa recién cuando pasaron {horizon} ruedas desde su fecha. Probá con "
    "un horizonte más corto o volvé después de las próximas corridas."
)
_FAVOURABLE = number(market_view.FAVOURABLE_AT_LEAST)
_UNFAVOURABLE = number(market_view.UNFAVOURABLE_AT_MOST)
MARKET_VIEW = (
    "La **visión de mercado** es el puntaje macro del día (brecha cambiaria, riesgo país, "
    "inflación, tasa real y tendencia del Merval en pesos y en dólares): es el mismo para todas "
    "las acciones y no entra en el puntaje total de ninguna. Se la llama **favorable** con "
    f"{_FAVOURABLE} puntos o más, **desfavorable** con {_UNFAVOURABLE} o menos y **neutral** "
    "en el medio: los tercios de la escala de 0 a 100, fijados de antemano, no ajustados a los "
    "datos. Acá se mide si anticipa el retorno del Merval (un índice de precios, sin "
    "dividendos) en las {horizon} ruedas de BYMA siguientes, en pesos y en dólares CCL. El "
    "**IC** es la correlación de Spearman entre el puntaje y ese retorno a lo largo de las "
    "fechas; como hay una sola observación por fecha y las de fechas vecinas se superponen, "
    "cuenta mucho menos de lo que parece: el t lo tiene en cuenta (método: {method}). "
    "**Aciertos**: la proporción de fechas favorables en las que el Merval subió, y de "
    "desfavorables en las que bajó, junto a la **tasa base** de todas las fechas."
)
MARKET_VIEW_EMPTY = (
    "Todavía no hay fechas con la visión de mercado y el Merval {horizon} ruedas después."
)
MARKET_CONTEXT = (
    "El puntaje macro (de 0 a 100: brecha, riesgo país, inflación, tasa real y tendencia del "
    "Merval) es el mismo para todas las acciones y no entra en el puntaje total de ninguna: es "
    "el contexto del día. Su historial frente al Merval está en «Historial de aciertos»."
)
SCORE_COLUMNS = (
    "**Puntaje** es el total del día en que se fijó la recomendación del mes (la primera rueda "
    "del mes, dentro de su grupo: ADR o BYMA), y se mantiene todo el mes con ella; las barras "
    "**Técnico**, **Fundamental** y **Sentimiento** son las de hoy, así que pueden no "
    "coincidir con él. El puntaje macro es del mercado, no de cada acción: está en «Contexto "
    "del mercado»."
)
_RANGE_HORIZON = forecast.TARGET_HORIZON_SESSIONS
TARGET_LOW = (
    f"Objetivo mínimo: el extremo bajo del rango objetivo a {_RANGE_HORIZON} ruedas, el cierre "
    f"movido por el percentil {_PERCENTILE_LOW} de los retornos de {_RANGE_HORIZON} ruedas de "
    f"la propia acción. Entre el mínimo y el máximo debería caer el {_COVERAGE} % de los "
    "resultados; cómo le fue a ese rango está en el Historial de aciertos."
)
TARGET_HIGH = (
    f"Objetivo máximo: el extremo alto del rango objetivo a {_RANGE_HORIZON} ruedas, el cierre "
    f"movido por el percentil {_PERCENTILE_HIGH} de los retornos de {_RANGE_HORIZON} ruedas de "
    f"la propia acción. Entre el mínimo y el máximo debería caer el {_COVERAGE} % de los "
    "resultados; cómo le fue a ese rango está en el Historial de aciertos."
)
TARGET_NOT_CALL = (
    f"El rango sale de la historia de precios de la propia acción (percentiles {_PERCENTILE_LOW} "
    f"a {_PERCENTILE_HIGH} de sus retornos de {_RANGE_HORIZON} ruedas), no de la recomendación: "
    "por eso una VENDER puede tener un objetivo por encima del precio. No es una predicción."
)
