"""The served dashboard in headless chromium: every page, and the table's ticker link.

Starts `streamlit run serve.py` (dashboard.py after the start-up warm-up) on a free port
against the sample database and drives Debian's chromium with Playwright (no browser
download). Screenshots of every page are kept in test-artifacts/screenshots/.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import polars as pl
import pytest
from PIL import Image
from playwright.sync_api import Browser, FloatRect, Page, sync_playwright

from benchmarks.bench_pages import CHROMIUM, CHROMIUM_ARGS, SETTLED, served
from store import reads, writes
from store.connection import open_reader, open_writer
from tests.factories import partition
from ui import calls as today
from ui import params, tables

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def app_url(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard served on a free local port against the sample database."""
    with served(sample_db, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


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
        ("evolucion", "/evolucion", "Evolución de puntajes", "stPlotlyChart", 1),
        ("detalle", "/detalle", "Detalle del ticker", "stExpander", 4),
        ("salud", "/salud", "Salud de los procesos", "stDataFrame", 1),
        ("historial", "/historial", "Historial de aciertos", "stDataFrame", 1),
        ("metodologia", "/metodologia", "Metodología", "stTable", 1),
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


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page (390x844) with touch."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="es-AR"
    )
    yield context.new_page()
    context.close()


def test_a_tap_on_a_phone_opens_the_detail(app_url: str, phone: Page, sample_db: Path) -> None:
    phone.goto(app_url)
    settle(phone)
    phone.touchscreen.tap(*row_centre(phone, 2))
    assert opened_detail(phone) == todays_order(sample_db)[2]


def test_the_table_is_in_a_phones_first_screen(app_url: str, phone: Page) -> None:
    """At 390x844 the calls table's header and first rows show without scrolling."""
    phone.goto(app_url)
    settle(phone)
    box = phone.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box is not None
    assert box["y"] + 35 + 2 * 35 <= 844, box  # the header row and two calls
    tops = [k.bounding_box() for k in phone.locator('[data-testid="stMetric"]').all()]
    assert len({round(t["y"]) for t in tops if t}) == 1 and len(tops) == 3  # one compact row
    cut = "e => [e, ...e.querySelectorAll('div')].some(x => x.scrollWidth > x.clientWidth)"
    for label in phone.locator('[data-testid="stMetricLabel"]').all():  # whole words, no "…"
        assert not label.evaluate(cut), label.inner_text()
    phone.screenshot(path=SCREENSHOTS / "recomendaciones-telefono.png")


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


def test_a_close_only_ticker_gets_a_price_line(browser: Browser, tmp_path: Path) -> None:
    """A .BA ticker stored with closes only (most of the sample's) is drawn as a line."""
    database, days = (
        tmp_path / "argenta_ia.duckdb",
        [dt.date(2024, 3, 4) + dt.timedelta(i) for i in range(5)],
    )
    with open_writer(database) as con:
        for i, day in enumerate(days):
            calls, details = partition(day, ["GGAL.BA"])
            close = 200.0 + 10 * (i % 2)  # a zigzag: plotly would merge collinear points
            details = details.with_columns(raw_data=pl.lit(json.dumps({"close": close})))
            writes.replace_partitions(con, [day], [(calls, details)])
    with served(database, tmp_path / "server.log") as url:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="es-AR")
        page = context.new_page()
        page.goto(f"{url}/evolucion?{params.TICKER}=GGAL.BA&vista=Precio")
        settle(page)
        price = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="GGAL.BA (cierre)")
        price.scroll_into_view_if_needed()
        candles = price.locator(".candlestick").count()
        lines = [p.get_attribute("d") or "" for p in price.locator("path.js-line").all()]
        context.close()
    assert candles == 0
    assert any(line.count("L") >= len(days) - 1 for line in lines), lines  # a line through 5 closes
    xs = [float(x) for line in lines for x in re.findall(r"[ML]([\d.]+),", line)]
    assert max(xs) - min(xs) > 500, lines  # across the chart, not squeezed into one spot


def test_an_unknown_ticker_gets_a_notice(app_url: str, page: Page) -> None:
    page.goto(f"{app_url}/detalle?{params.TICKER}=NOPE")
    settle(page)
    notice = page.locator('[data-testid="stAlertContentWarning"]').first.inner_text()
    shown = page.locator("h2").first.inner_text().split()[0]
    assert f"No hay ningún ticker «NOPE» en la base; se muestra {shown}" in notice


def test_an_unknown_address_is_answered_in_spanish_on_the_main_page(
    app_url: str, page: Page
) -> None:
    page.goto(f"{app_url}/nonexistent?{params.TICKER}=GGAL")
    settle(page)
    dialog = page.locator('[role="dialog"]')
    page.wait_for_function(
        "() => document.querySelector('[role=\"dialog\"] h2')?.textContent === "
        "'Página no encontrada'",
        timeout=15_000,
    )
    text = dialog.inner_text()
    assert "«/nonexistent» no corresponde a ninguna página" in text
    assert "Se muestra «Recomendaciones»" in text
    assert "Page not found" not in text and "requested" not in text
    assert dialog.locator('button[aria-label="Cerrar"]').count() == 1
    page.wait_for_function("() => location.pathname === '/'")  # the address names what is shown
    assert page.evaluate("location.search") == f"?{params.TICKER}=GGAL"
    assert page.locator("h1").first.inner_text() == "Recomendaciones"


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


# WCAG 2.1 relative luminance and contrast of every visible text node of the main area against
# what is painted under it (elementsFromPoint, alpha layers composited; opacity counted).
# Disabled controls are exempt (WCAG 1.4.3); charts (SVG) and the table's canvas are not DOM text.
LOW_CONTRAST_TEXTS = """() => {
  const rgba = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3]));
  const lum = c => { const f = v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const opacity = el => { let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity); return o; };
  const backdrop = (x, y) => { const layers = [];
    for (const e of document.elementsFromPoint(x, y)) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push([c[0], c[1], c[2], c[3] * opacity(e)]);
        if (layers.at(-1)[3] >= 1) break; } }
    let bg = [255, 255, 255]; for (const l of layers.reverse()) bg = over(l, bg); return bg; };
  const low = [];
  const main = document.querySelector('[data-testid="stMain"]');
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement; const text = n.textContent.trim();
    if (!text || el.closest('svg, [aria-disabled="true"], label:has(input:disabled)')) continue;
    const r = el.getBoundingClientRect(); const style = getComputedStyle(el);
    if (!r.width || !r.height || style.visibility === 'hidden' || !opacity(el)) continue;
    const x = r.left + Math.min(r.width, 8) / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    const bg = backdrop(x, y); const c = rgba(style.color);
    const fg = over([c[0], c[1], c[2], c[3] * opacity(el)], bg);
    const ratio = (Math.max(lum(fg), lum(bg)) + 0.05) / (Math.min(lum(fg), lum(bg)) + 0.05);
    if (ratio < 4.5) low.push(`${text.slice(0, 40)}: ${ratio.toFixed(2)}:1, ${style.color}`);
  }
  return low;
}"""


@pytest.mark.parametrize("path", PAGES)
def test_every_text_has_aa_contrast(app_url: str, page: Page, path: str) -> None:
    """Captions, labels, JSON values...: 4.5:1 or more against their background (WCAG AA)."""
    page.goto(app_url + path)
    settle(page)
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(900, height)})  # every text on screen
    page.wait_for_function(SETTLED)
    assert page.evaluate(LOW_CONTRAST_TEXTS) == []


# The focused element, or the visible part of a visually hidden input (clipped to 1 px, as the
# slider's thumbs and the toggle's switch are), with its box on screen.
FOCUSED_BOX = """() => {
  document.activeElement.scrollIntoView({block: 'center'});
  let e = document.activeElement;
  for (let a = e; a; a = a.parentElement)
    if (getComputedStyle(a).clipPath.startsWith('inset(50%')) e = a.parentElement;
  const r = e.getBoundingClientRect();
  const name = document.activeElement.getAttribute('aria-label') || e.innerText || e.tagName;
  return {name: name.slice(0, 40), x: r.x, y: r.y, width: r.width, height: r.height};
}"""


def _pixels(page: Page, clip: FloatRect) -> np.ndarray:
    image = Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB")
    return np.asarray(image, dtype=int)


def _focus_ring_pixels(page: Page) -> tuple[str, int, float]:
    """(name, pixels that change when the focused element loses its focus, its perimeter)."""
    box = page.evaluate(FOCUSED_BOX)
    pad = 6  # room for a ring drawn outside the element
    x, y = max(0.0, box["x"] - pad), max(0.0, box["y"] - pad)
    width, height = box["width"] + 2 * pad, box["height"] + 2 * pad
    clip = FloatRect(x=x, y=y, width=min(width, 1440 - x), height=min(height, 900 - y))
    page.wait_for_timeout(100)  # let focus transitions end
    focused = _pixels(page, clip)
    page.evaluate("window.__focused = document.activeElement; document.activeElement.blur()")
    page.wait_for_timeout(100)
    plain = _pixels(page, clip)
    page.evaluate("window.__focused.focus({focusVisible: true})")
    changed = int((np.abs(focused - plain).sum(axis=2) > 60).sum())
    return box["name"], changed, 2 * (box["width"] + box["height"])


def test_tab_shows_a_visible_focus_ring_on_every_stop(app_url: str, page: Page) -> None:
    """From the top of the page to the ticker picker, each Tab stop draws a ring one can see."""
    page.goto(app_url)
    settle(page)
    target = page.get_by_role("combobox", name="Ver el análisis de")
    faint = []
    for _ in range(60):
        page.keyboard.press("Tab")
        name, changed, perimeter = _focus_ring_pixels(page)
        if changed < perimeter:  # less than a 1-px line around the element
            faint.append(f"{name}: {changed} px changed, perimeter {perimeter:.0f}")
        if target.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the ticker picker is not reachable with Tab")
    assert not faint, faint


def test_run_timeline_ticks_are_distinct_when_runs_start_within_a_second(
    browser: Browser, tmp_path: Path
) -> None:
    """Six runs written in a few milliseconds: every tick label differs, every bar shows."""
    database = tmp_path / "argenta_ia.duckdb"
    with open_writer(database) as con:
        for _ in range(6):
            writes.finish_job(con, writes.start_job(con, "daily_analysis"), 17, 0, {})
    with served(database, tmp_path / "server.log") as url:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="es-AR")
        page = context.new_page()
        page.goto(url + "/salud?vista=Cronología")
        settle(page)
        timeline = page.locator('[data-testid="stPlotlyChart"]').first
        ticks = [t.text_content() for t in timeline.locator(".xtick text").all()]
        widths = [
            box["width"] for b in timeline.locator(".point path").all() if (box := b.bounding_box())
        ]
        context.close()
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), ticks
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d(,\d{1,3})?", t or "") for t in ticks), ticks
    assert len(widths) == 6 and min(widths) >= 2, widths  # no run drawn zero wide


OVERLAP = """chart => {
  const legend = chart.querySelector('.legend'), bar = chart.querySelector('.modebar');
  if (!legend || !bar || !bar.getClientRects().length) return null;
  const a = legend.getBoundingClientRect(), b = bar.getBoundingClientRect();
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}"""


TABS = {  # each page's tabs and the titles of the charts each one draws
    "/evolucion": {
        "Puntaje total": ["Puntaje total y recomendación vigente"],
        "Componentes": ["Componentes del puntaje"],
        "Rendimiento comparado": ["Rendimiento comparado (base 100)"],
        "Precio": ["Precio de "],
        "ADR y acción local": ["CCL implícito"],
    },
    "/historial": {
        "Por recomendación": [],
        "Poder predictivo": ["IC en el tiempo", "Retorno por quintil"],
        "Rango objetivo y riesgo": ["Dónde terminó el precio", "Volatilidad por nivel de riesgo"],
        "Rotación y cobertura": [],
        "Visión de mercado": [],
    },
    "/salud": {"Tabla": [], "Cronología": ["Ejecuciones recientes"]},
}
# The titles of the charts drawn, once they are those expected (`titles`, substrings).
CHARTS_DRAWN = """titles => {
    const drawn = [...document.querySelectorAll('.gtitle')].map(e => e.textContent);
    return drawn.length === titles.length && titles.every((t, i) => drawn[i].includes(t));
}"""


@pytest.mark.parametrize("path", list(TABS))
def test_each_tab_draws_its_charts_when_picked(app_url: str, page: Page, path: str) -> None:
    """Only the open tab is drawn; a click draws the next one and puts it in the address."""
    page.goto(app_url + path)
    settle(page)
    for n, (label, titles) in enumerate(TABS[path].items()):
        page.get_by_role("tab", name=label).click()
        page.wait_for_function(CHARTS_DRAWN, arg=titles, timeout=30_000)
        settle(page)
        assert page.evaluate(CHARTS_DRAWN, titles), label
        query = parse_qs(urlsplit(page.url).query)
        assert query.get("vista") == (None if n == 0 else [label]), page.url


PLOTLY_LOADED = """() => performance.getEntriesByType('resource')
    .some(r => r.name.includes('/static/js/PlotlyChart.'))"""


@pytest.mark.parametrize(
    ("path", "loaded"),
    [
        ("/evolucion", True),
        ("/historial?vista=Poder predictivo", True),
        ("/historial", False),  # the calls table: no chart, so no 4.7 MB of plotly.js to run
        ("/salud", False),
        ("/salud?vista=Cronología", True),
        ("/", False),
    ],
)
def test_only_a_view_with_a_chart_loads_plotly(
    app_url: str, page: Page, path: str, loaded: bool
) -> None:
    page.goto(app_url + path)
    settle(page)
    page.wait_for_timeout(500)  # time for the preload to ask for the bundle, had it to
    assert page.evaluate(PLOTLY_LOADED) == loaded


# When the tab asked for Streamlit's chunk of a script (name prefix), in ms after navigation.
ASKED_AT = """prefix => performance.getEntriesByType('resource')
    .find(r => r.name.includes('/static/js/' + prefix + '.'))?.startTime ?? null"""


def test_a_returning_browser_imports_plotly_from_evolucions_html(app_url: str, page: Page) -> None:
    """Once a browser has the bundle, Evolución asks for it before the page's first element."""
    page.goto(app_url + "/evolucion")
    settle(page)
    first_html_element = page.evaluate(ASKED_AT, "Html")  # the preload's st.html
    assert page.evaluate(ASKED_AT, "PlotlyChart") > first_html_element  # first visit: the mark
    remembered = page.evaluate("localStorage.getItem('argenta.plotly_bundle')")
    assert remembered is not None and remembered.startswith("/static/js/PlotlyChart.")
    again = page.context.new_page()
    again.goto(app_url + "/evolucion")
    settle(again)
    assert again.evaluate(ASKED_AT, "PlotlyChart") < again.evaluate(ASKED_AT, "Html")
    assert again.locator('[data-testid="stPlotlyChart"] .main-svg').count() > 0


CHART_VIEWS = [f"{path}?vista={tab}" for path, tabs in TABS.items() for tab, t in tabs.items() if t]


@pytest.mark.parametrize("path", CHART_VIEWS)
def test_chart_toolbars_do_not_cover_legends(app_url: str, page: Page, path: str) -> None:
    """Hovering a chart shows Plotly's toolbar; it must leave the legend readable."""
    page.goto(app_url + path)
    settle(page)
    covered, checked = [], 0
    for chart in page.locator('[data-testid="stPlotlyChart"]').all():
        chart.scroll_into_view_if_needed()
        chart.hover()
        page.wait_for_timeout(300)  # the toolbar fades in
        overlap = chart.evaluate(OVERLAP)
        checked += overlap is not None
        if overlap:
            covered.append(chart.locator(".gtitle").first.text_content())
    assert checked and not covered, covered
