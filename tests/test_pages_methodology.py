"""The Metodología page: written from the settings and constants the pipeline uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.analysis import ccl, forecast
from tests.pages_support import assert_no_failure, open_page
from ui import params


def page_text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_page_follows_the_configured_shares_and_weights(
    small_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    monkeypatch.setenv("ARGENTA_BUY_SHARE", "0.25")
    monkeypatch.setenv("ARGENTA_SELL_SHARE", "0.1")
    monkeypatch.setenv("ARGENTA_WEIGHTS", "technical=3,sentiment=1")
    at = open_page(params.METHOD_PAGE)
    assert_no_failure(at)
    text = page_text(at)
    assert "el 25 % de puntaje total más alto de su grupo (ADR o BYMA) pasa a COMPRAR" in text
    assert "el 10 % más bajo a VENDER" in text
    weights = at.table[0].value.set_index("Componente")["Peso"].to_dict()
    assert weights == {"Técnico": "75 %", "Fundamental": "0 %", "Sentimiento": "25 %"}
    assert f"a {forecast.TARGET_HORIZON_SESSIONS} ruedas" in text
    assert "ARGENTA_" not in text  # no setting names for analysts


def test_the_page_states_the_ccl_rule_and_the_peso_ratios(
    small_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    text = page_text(open_page(params.METHOD_PAGE))
    assert f"al menos {ccl.MIN_PAIRS} pares de ADR y acción local, es la mediana" in text
    assert f"salvo en los {ccl.CARRY_DAYS} días siguientes" in text
    assert "nunca el ADR al dólar oficial" in text


def test_the_components_heading_counts_the_components_listed(small_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    at = open_page(params.METHOD_PAGE)
    listed = at.table[0].value["Componente"].tolist()
    assert listed == ["Técnico", "Fundamental", "Sentimiento"]  # macro is not in the total
    heading = next(h.value for h in at.subheader if "componentes" in h.value)
    assert heading == "Los tres componentes del puntaje total"
    assert "Aparte, el puntaje macro" in page_text(at)


def test_what_each_component_measures_is_a_table_that_wraps_and_no_label_is_repeated(
    small_db: Path, monkeypatch
) -> None:
    """A static table (not a data grid, which cuts long cells at 1440 px), and each section's
    text starts with what it says, not with its heading again."""
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    at = open_page(params.METHOD_PAGE)
    assert not at.dataframe
    measures = at.table[0].value.set_index("Componente")["Qué mide"]
    assert measures["Técnico"].startswith("Puntaje técnico de 0 a 100: puesto de la acción")
    text = page_text(at)
    assert "Aparte, el puntaje macro de 0 a 100: contexto argentino del día" in text
    for heading in (h.value for h in at.subheader):
        repeated = [m.value for m in at.markdown if m.value.startswith(f"{heading}:")]
        assert not repeated, heading
    assert "Tercio de la volatilidad esperada" in text and "Riesgo:" not in text
    assert "El modelo actual no la estima" in text and "Confianza:" not in text
    assert "contexto macro: Puntaje" not in text
