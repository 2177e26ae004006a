"""The served dashboard in headless chromium: every page, and the table's ticker link.

Starts `streamlit run dashboard.py` on a free port against the sample database and
drives Debian's chromium with Playwright (no browser download). Screenshots of every
page are kept in test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from store import reads
from store.connection import open_reader
from ui import params

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_SECONDS = 30
# The page is done when the script has finished, the status widget is gone, no element
# is still a loading skeleton and every Plotly chart has drawn its SVG.
SETTLED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
    return app !== null && app.dataset.testScriptState === "notRunning"
        && !document.querySelector('[data-testid="stStatusWidget"]')
        && !document.querySelector('[data-testid="stSkeleton"]')
        && charts.every(chart => chart.querySelector(".main-svg"));
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"streamlit exited:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no answer on /_stcore/health in {START_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def app_url(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard served on a free local port against the sample database."""
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    command = [sys.executable, "-m", "streamlit", "run", "dashboard.py"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    env = {**os.environ, "DATABASE_URL": f"duckdb:///{sample_db}"}
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless chromium, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `make system-deps`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="es-AR")
    yield context.new_page()
    context.close()


def settle(page: Page) -> None:
    """Wait until the app has finished running and drawing; then check it shows no error."""
    page.wait_for_function(SETTLED, timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "Traceback" not in text and "Ocurrió un error inesperado" not in text


def screenshot(page: Page, name: str) -> None:
    """Save the whole page (the app scrolls inside its main element, so grow the viewport)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(900, height)})
    page.wait_for_function(SETTLED)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.mark.parametrize(
    ("name", "path", "heading", "element", "count"),
    [
        ("recomendaciones", "/", "Recomendaciones", "stDataFrame", 1),
        ("evolucion", "/evolucion", "Evolución de puntajes", "stPlotlyChart", 3),
        ("detalle", "/detalle", "Detalle del ticker", "stExpander", 4),
        ("salud", "/salud", "Salud de los procesos", "stPlotlyChart", 1),
        ("historial", "/historial", "Historial de aciertos", "stPlotlyChart", 4),
    ],
)
def test_every_page_renders_its_content(
    app_url: str, page: Page, name: str, path: str, heading: str, element: str, count: int
) -> None:
    page.goto(app_url + path)
    settle(page)
    assert page.locator("h1").first.inner_text() == heading
    assert page.locator(f'[data-testid="{element}"]').count() >= count
    screenshot(page, name)


def test_ticker_link_in_the_table_opens_its_detail_page(
    app_url: str, page: Page, sample_db: Path
) -> None:
    page.goto(app_url)
    settle(page)
    table = page.locator('[data-testid="stDataFrame"]')
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    first_ticker = (box["x"] + 20, box["y"] + 35 + 17)  # first body row of the Ticker column
    page.mouse.click(*first_ticker)  # selects the cell; clicking a selected link opens it
    with page.context.expect_page() as opened:
        page.mouse.click(*first_ticker)
    detail = opened.value
    detail.wait_for_load_state()
    settle(detail)
    query = parse_qs(urlsplit(detail.url).query)
    assert urlsplit(detail.url).path == f"/{params.DETAIL_URL_PATH}"
    ticker = query[params.TICKER][0]
    with open_reader(sample_db) as con:
        rec, _ = reads.ticker_analysis(con, ticker)
    assert query[params.DATE] == [rec["analysis_date"][0].isoformat()]
    assert detail.locator("h2").first.inner_text().startswith(ticker)
    assert detail.locator('[data-testid="stExpander"]').count() == 4
    screenshot(detail, "detalle-desde-tabla")
