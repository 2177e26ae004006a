"""Metodología: how a call is made, from the settings and constants the pipeline uses."""

from __future__ import annotations

import polars as pl
import streamlit as st

from ui import data, help_text
from ui import format as fmt


def unlabelled(text: str, label: str) -> str:
    """A tooltip text without its leading "Label: " (the section's heading already says it)."""
    rest = text.removeprefix(f"{label}: ")
    return rest[:1].upper() + rest[1:]


cfg = data.settings()

st.title("Metodología")
st.markdown(
    "Cada mañana el proceso diario analiza cada ticker con los datos al cierre de la rueda "
    "anterior y guarda una recomendación. Esta página se escribe con los mismos parámetros "
    "que usa ese proceso, así que siempre coincide con lo que ves en las otras páginas."
)

st.subheader(f"Los {help_text.count_in_words(len(cfg.weights))} componentes del puntaje total")
total_weight = sum(cfg.weights.values())
weights = pl.DataFrame(
    {
        "Componente": [fmt.ANALYSES[k] for k in cfg.weights],
        "Peso": [fmt.percent(w / total_weight, 0) for w in cfg.weights.values()],
        "Qué mide": [help_text.component(k) for k in cfg.weights],
    }
)
st.table(weights, hide_index=True)  # a static table: «Qué mide» wraps instead of being cut
macro = help_text.component("macro")  # "Puntaje macro de 0 a 100: contexto argentino ..."
st.markdown(f"Aparte, el {macro[:1].lower()}{macro[1:]}")

st.subheader("Puntaje total y recomendación")
st.markdown(help_text.total(cfg))
st.subheader("Confianza")
st.markdown(unlabelled(help_text.CONFIDENCE, "Confianza"))
st.subheader("Precio objetivo y potencial")
st.markdown(help_text.TARGET)
st.subheader("Riesgo")
st.markdown(unlabelled(help_text.RISK, "Riesgo"))
st.subheader("Dólar CCL y ratios en pesos")
st.markdown(help_text.CCL)
st.markdown(help_text.PESO_RATIOS)
st.caption(
    "Las recomendaciones son un análisis automático y no constituyen asesoramiento financiero."
)
