"""The Metodología page: written from the settings and constants the pipeline uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.analysis.scoring import combine
from tests.pages_support import assert_no_failure, open_page
from ui import params


def page_text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_page_follows_the_configured_thresholds_and_weights(
    small_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    monkeypatch.setenv("ARGENTA_BUY_THRESHOLD", "65")
    monkeypatch.setenv("ARGENTA_SELL_THRESHOLD", "35.5")
    monkeypatch.setenv("ARGENTA_WEIGHTS", "technical=3,macro=1")
    at = open_page(params.METHOD_PAGE)
    assert_no_failure(at)
    text = page_text(at)
    assert "COMPRAR con puntaje total desde 65; VENDER con 35,5 o menos" in text
    weights = at.dataframe[0].value.set_index("Componente")["Peso"].to_dict()
    assert weights == {
        "Técnico": "75 %",
        "Fundamental": "0 %",
        "Macro": "25 %",
        "Sentimiento": "0 %",
    }
    assert f"a {combine.TARGET_HORIZON_DAYS} ruedas" in text
    assert "ARGENTA_" not in text  # no setting names for analysts
