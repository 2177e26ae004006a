"""The pages that draw charts have the browser load Streamlit's Plotly bundle at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from tests.pages_support import open_page
from ui import params, plotly_bundle

STATIC = Path(st.__file__).parent / "static"  # what the server serves under /static/


def preload_scripts(page: str) -> list[str]:
    """The page's HTML elements that import the Plotly bundle."""
    at = open_page(page)
    bodies = [element.proto.body for element in at.get("html")]
    return [body for body in bodies if "import(" in body and "PlotlyChart" in body]


def test_the_address_is_the_bundle_streamlit_serves() -> None:
    address = plotly_bundle.url("")
    assert address is not None and address.startswith("/static/js/PlotlyChart.")
    assert (STATIC / address.removeprefix("/")).is_file()
    assert plotly_bundle.url("/argenta/") == "/argenta" + address  # under server.baseUrlPath


@pytest.mark.parametrize(
    ("page", "preloads"),
    [
        (params.EVOLUTION_PAGE, True),
        (params.TRACK_PAGE, True),
        (params.HEALTH_PAGE, True),
        (params.RECOMMENDATIONS_PAGE, False),  # no chart: the bundle would only cost time
        (params.METHOD_PAGE, False),
    ],
)
def test_only_pages_with_charts_preload_plotly(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, page: str, preloads: bool
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    scripts = preload_scripts(page)
    assert len(scripts) == (1 if preloads else 0)
    if preloads:
        assert f'import("{plotly_bundle.url("")}")' in scripts[0]
