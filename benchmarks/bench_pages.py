"""Dashboard pages in chromium on the demo database: time to main content, cold and warm.

    python -m benchmarks.bench_pages            # every page, 3 warm visits each
    python -m benchmarks.bench_pages --warm 5
    python -m benchmarks.bench_pages --pages /evolucion /salud

`streamlit run serve.py` (as `make demo` and the systemd unit start it: `dashboard.py` served
after the start-up warm-up of `ui/warmup.py`) serves the demo database (`make demo`'s date
range) on a free local port and Debian's chromium (Playwright, no browser download) opens
each page, timing from navigation to settled: the script finished, no status widget, no
loading skeleton, every Plotly chart drawn (`SETTLED`, which the browser test also waits
on). Three visits:

- cold: each page's first visit after the server started (answered its health check; its
  caches empty), in a fresh browser (no HTTP cache: every script bundle downloaded and
  compiled);
- warm: a returning analyst, the median of later visits in a new tab of one browser that has
  opened the dashboard before (its HTTP cache kept: Streamlit serves its hashed bundles as
  `immutable`), against the warm server;
- warm, script finished: the same visits until the page's script had finished and its
  elements had reached the browser (the rest is the browser drawing, Plotly's charts above all);
- warm, fresh browser: the median of later visits each in a new browser context (no HTTP
  cache), for comparison: the cost of downloading and compiling the bundles again, Plotly's
  4.7 MB chunk above all.

One more row: the seconds from starting the server until it answers its health check (the
warm-up runs before it accepts connections, so it is in this figure, not in the cold visit).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_concurrent_reads import demo_database
from benchmarks.common import Row, below, median, table

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("/", "/evolucion", "/detalle", "/historial", "/metodologia", "/salud")
WARM_TARGET_S, COLD_TARGET_S = 1.5, 3.0  # issue 15
START_SECONDS = 60
CHROMIUM = "/usr/bin/chromium"
SERVER = "serve.py"  # what `make demo` and deploy/argenta-dashboard.service run
START_MEASURE = "server start, until it answers its health check"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
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


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    """Return when the server answers /_stcore/health; raise if it exits or never answers."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer on /_stcore/health in {START_SECONDS} s:\n{log.read_text()}")


@contextmanager
def served(database: Path, log: Path) -> Iterator[str]:
    """The dashboard served on a free local port against `database`; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", SERVER]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    env = {**os.environ, "DATABASE_URL": f"duckdb:///{database}"}
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a script still running: stop it for good
            server.kill()
            server.wait()


def new_context(browser):
    """A browser context at the desktop size the dashboard is designed for, in es-AR."""
    return browser.new_context(viewport={"width": 1440, "height": 900}, locale="es-AR")


# The page's script has run on the server and its elements have reached the browser
# (charts may still be drawing).
SCRIPT_DONE = """() => document.querySelector('[data-testid="stApp"]')
    ?.dataset.testScriptState === 'notRunning'"""


def tab_seconds(context, url: str, script: list[float] | None = None) -> float:
    """Seconds from navigating a new tab of `context` to `url` until the page has settled;
    the seconds until its script had finished are appended to `script`."""
    page = context.new_page()
    try:
        start = time.monotonic()
        page.goto(url)
        page.wait_for_function(SCRIPT_DONE, timeout=60_000, polling=20)
        if script is not None:
            script.append(time.monotonic() - start)
        page.wait_for_function(SETTLED, timeout=60_000)
        return time.monotonic() - start
    finally:
        page.close()


def visit_seconds(browser, url: str) -> float:
    """Seconds from navigating to `url` in a fresh context (no HTTP cache) until settled."""
    context = new_context(browser)
    try:
        return tab_seconds(context, url)
    finally:
        context.close()


@dataclass(frozen=True)
class PageTimes:
    """One page's visits, in seconds."""

    cold: float  # first visit after the server started, fresh browser
    warm: list[float]  # later visits, new tabs of a browser that has opened the dashboard
    warm_script: list[float]  # the same visits, until the page's script had finished
    warm_fresh: list[float]  # later visits, each in a fresh browser


def page_times(url: str, warm_visits: int, pages: tuple[str, ...] = PAGES) -> dict[str, PageTimes]:
    """Per page: its first visit after the server started, then the later visits."""
    from playwright.sync_api import sync_playwright

    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        returning = new_context(browser)
        try:
            for n, path in enumerate(pages):
                cold = visit_seconds(browser, url + path)
                if n == 0:  # the returning browser opens the dashboard once, untimed
                    tab_seconds(returning, url + path)
                script: list[float] = []
                warm = [tab_seconds(returning, url + path, script) for _ in range(warm_visits)]
                fresh = [visit_seconds(browser, url + path) for _ in range(warm_visits)]
                found[path] = PageTimes(cold, warm, script, fresh)
        finally:
            returning.close()
            browser.close()
    return found


def run(warm_visits: int, folder: Path, pages: tuple[str, ...] = PAGES) -> list[Row]:
    """Build the demo database in `folder`, serve it, and time the pages cold and warm."""
    database = demo_database(folder)
    started = time.monotonic()
    with served(database, folder / "streamlit.log") as url:
        start_seconds = time.monotonic() - started
        found = page_times(url, warm_visits, pages)
    label = "dashboard pages in chromium, demo database"
    rows = []
    for path, times in found.items():
        n = len(times.warm)
        rows += [
            below(label, f"{path} cold (first visit)", times.cold, "s", COLD_TARGET_S),
            below(label, f"{path} warm (median of {n})", median(times.warm), "s", WARM_TARGET_S),
            Row(
                label,
                f"{path} warm, script finished (median of {n})",
                median(times.warm_script),
                "s",
            ),
            Row(
                label, f"{path} warm, fresh browser (median of {n})", median(times.warm_fresh), "s"
            ),
        ]
    return [*rows, Row(label, START_MEASURE, start_seconds, "s")]


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=3, help="warm visits per page")
    parser.add_argument(
        "--pages", nargs="+", choices=PAGES, default=PAGES, help="the pages to time (all)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="argenta-bench-") as folder:
        print(table(run(args.warm, Path(folder), tuple(args.pages))))


if __name__ == "__main__":
    main()
