"""The served dashboard in headless chromium: every page, and the table's ticker link.

Starts `streamlit run dashboard.py` on a free port against the sample database and
drives Debian's chromium with Playwright (no browser download). Screenshots of every
page are kept in test-artifacts/screenshots/.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from store import reads
from store.connection import open_reader
from ui import calls as today
from ui import params, tables

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
        ("metodologia", "/metodologia", "Metodología", "stDataFrame", 1),
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


def todays_order(sample_db: Path) -> list[tuple[str, str]]:
    """(ticker, date) of today's calls in the table's default order (total score, descending)."""
    with open_reader(sample_db) as con:
        calls = reads.latest_recommendations(con)
        last = reads.latest_date(con)
    assert last is not None
    current, _ = today.split(tables.with_upside(calls), last)
    ordered = tables.sort(current, "Puntaje total", descending=True)
    return [(t, d.isoformat()) for t, d in ordered.select("ticker", "analysis_date").rows()]


def opened_detail(page: Page) -> tuple[str, str]:
    """Wait for the detail page in the same tab; its (ticker, date) from the URL."""
    page.wait_for_function("location.pathname.endsWith('/detalle')", timeout=15_000)
    settle(page)
    assert len(page.context.pages) == 1  # the same tab, no new window
    query = parse_qs(urlsplit(page.url).query)
    ticker = query[params.TICKER][0]
    assert page.locator("h2").first.inner_text().startswith(ticker)
    return ticker, query[params.DATE][0]


def row_centre(page: Page, row: int) -> tuple[float, float]:
    """The centre of the Ticker cell of a body row of the first table (0-based)."""
    table = page.locator('[data-testid="stDataFrame"]').first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    return box["x"] + 60, box["y"] + 35 + 17 + 35 * row


def test_first_click_on_a_row_opens_its_detail(app_url: str, page: Page, sample_db: Path) -> None:
    page.goto(app_url)
    settle(page)
    page.mouse.click(*row_centre(page, 4))  # one click, no hover first
    assert opened_detail(page) == todays_order(sample_db)[4]
    screenshot(page, "detalle-desde-tabla")


def test_a_tap_on_a_phone_opens_the_detail(app_url: str, browser: Browser, sample_db: Path) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="es-AR"
    )
    phone = context.new_page()
    try:
        phone.goto(app_url)
        settle(phone)
        phone.touchscreen.tap(*row_centre(phone, 2))
        assert opened_detail(phone) == todays_order(sample_db)[2]
    finally:
        context.close()


def test_the_keyboard_opens_a_detail(app_url: str, page: Page, sample_db: Path) -> None:
    page.goto(app_url)
    settle(page)
    target = page.get_by_role("combobox", name="Ver el análisis de")
    for _ in range(60):  # Tab from the top of the page until the ticker picker has focus
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the ticker picker is not reachable with Tab")
    ticker, day = todays_order(sample_db)[-1]
    page.keyboard.type(ticker)
    page.keyboard.press("Enter")
    assert opened_detail(page) == (ticker, day)


def test_stale_calls_stay_out_of_the_kpis(app_url: str, page: Page, sample_db: Path) -> None:
    page.goto(app_url)
    settle(page)
    current = dict(todays_order(sample_db))
    with open_reader(sample_db) as con:
        every = reads.latest_recommendations(con)
    today_calls = every.filter(pl.col("ticker").is_in(list(current)))["recommendation"]
    for call in ("Comprar", "Mantener", "Vender"):
        metric = page.locator('[data-testid="stMetric"]').filter(has_text=call)
        value = metric.locator('[data-testid="stMetricValue"]').inner_text()
        assert value == str((today_calls == call.upper()).sum()), call
    aside = page.locator('[data-testid="stExpander"]').filter(has_text="Sin datos recientes")
    stale = every.height - len(current)
    assert stale > 0
    assert f"({stale} {'ticker' if stale == 1 else 'tickers'})" in aside.inner_text()
    assert aside.locator("details").get_attribute("open") is None  # collapsed


def test_the_excel_csv_downloads_for_argentina(app_url: str, page: Page) -> None:
    page.goto(app_url)
    settle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Descargar CSV (Excel)").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    assert text.startswith("Ticker;Fecha;Recomendación;Puntaje total;")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert rows and all(None not in row for row in rows)  # every row has the header's cells
    cells = rows[0]
    assert re.fullmatch(r"\d+,\d\d", cells["Precio"]), cells["Precio"]
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", cells["Fecha"]) and cells["Moneda"] in {"ARS", "USD"}


PAGES = ("/", "/evolucion", "/detalle", "/historial", "/metodologia", "/salud")
TIMINGS = ROOT / "test-artifacts" / "page-timings.json"
WARM_TARGET_S, CEILING_S = 1.5, 10.0  # warm target (README The dashboard, Speed); ceiling enforced


def test_page_timings_are_measured(app_url: str, browser: Browser) -> None:
    """Each page's time to its main content with a warm server (second visit), in chromium."""
    measured = {}
    for path in PAGES:
        times = []
        for _ in range(2):  # the first visit fills the server's caches; the second is warm
            context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="es-AR")
            page = context.new_page()
            start = time.monotonic()
            page.goto(app_url + path)
            settle(page)
            times.append(time.monotonic() - start)
            context.close()
        measured[path] = {"first_s": round(times[0], 2), "warm_s": round(times[1], 2)}
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    report = {"warm_target_s": WARM_TARGET_S, "pages": measured}
    TIMINGS.write_text(json.dumps(report, indent=2))
    slow = {p: t for p, t in measured.items() if t["warm_s"] > CEILING_S}
    assert not slow, slow
