"""The pages that draw charts have the browser load Streamlit's Plotly bundle at once."""

from __future__ import annotations

import json
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


def test_the_preload_remembers_that_this_browser_has_the_bundle(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    (script,) = preload_scripts(params.EVOLUTION_PAGE)
    address = json.dumps(plotly_bundle.url(""))
    assert f"localStorage.setItem({json.dumps(plotly_bundle.LOADED)}, {address})" in script


def test_evolucions_html_imports_the_bundle_at_once_in_a_browser_that_has_it() -> None:
    early = plotly_bundle.early_script("")
    assert early is not None
    address, remembered = json.dumps(plotly_bundle.url("")), json.dumps(plotly_bundle.LOADED)
    assert f"localStorage.getItem({remembered}) === {address}" in early
    assert f"import({address})" in early
    html = plotly_bundle.page_html("")
    assert html is not None and html.count(early) == 1
    assert html.index(early) < html.index("</head>")
    assert html.replace(early, "") == (STATIC / "index.html").read_text(encoding="utf-8")


def test_the_html_route_is_under_the_base_url_path() -> None:
    assert [r.path for r in plotly_bundle.routes("")] == ["/evolucion"]
    assert [r.path for r in plotly_bundle.routes("/argenta/")] == ["/argenta/evolucion"]
    address = plotly_bundle.url("/argenta/")
    assert address is not None
    assert f"import({json.dumps(address)})" in (plotly_bundle.page_html("/argenta") or "")


def test_no_route_when_streamlits_html_has_no_head(tmp_path: Path) -> None:
    index = tmp_path / "index.html"
    index.write_text("<html><body></body></html>")
    assert plotly_bundle.page_html("", index) is None
