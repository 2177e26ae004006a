"""Start loading Streamlit's Plotly bundle with a page's first messages (no plotly import here).

The bundle (4.7 MB, plotly.js inside) is fetched and evaluated by the browser only when the
first chart of a page arrives, after the page's script has run; evaluating it takes the
browser 0.3-0.8 s. Imported as soon as the page knows it will draw a chart, it overlaps the
script's reads and figure building instead of following them. The URL is the one Streamlit's
own lazy import resolves to, so the module loads once. Nothing happens if this Streamlit has
no such bundle (a later release may name or split it differently).

Two parts, because the entry point cannot know whether the open view of a page has a chart
(Historial opens on a table, its charts are in other tabs): `preload`, called by dashboard.py
with a chart page's first messages, waits for `wanted`, called by the page once it knows. A
view without a chart then never evaluates the bundle: on the main thread for 0.3-0.8 s, it
held up the page's own last messages (Historial's calls table, warm, 2.5-2.9 s without it
against 3.5-4.2 s with it at load 11-14).

Earlier still, for a page whose every view draws a chart (`EVERY_VIEW`: Evolución), in a
browser that has loaded the bundle before: `early_script` goes in the page's HTML (served by
`serve.py`), so the import starts as soon as Streamlit's own bundle has run, while the page's
script is still being asked for, instead of once its first messages are drawn. The preload
records the bundle's address in `localStorage` once imported; a browser without that record
(a first visit, most likely without the bundle in its cache) waits for the page's mark as
before, so the 4.7 MB download does not compete with Streamlit's own bundles.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

_INDEX = Path(st.__file__).parent / "static" / "index.html"  # every page's HTML
_STATIC_JS = _INDEX.parent / "static" / "js"  # Streamlit's frontend
_BUNDLE = next(iter(sorted(_STATIC_JS.glob("PlotlyChart.*.js"))), None)


def url(base_url_path: str) -> str | None:
    """The bundle's address on this server (under `server.baseUrlPath`), or None."""
    if _BUNDLE is None:
        return None
    parts = (base_url_path.strip("/"), "static", "js", _BUNDLE.name)
    return "/" + "/".join(part for part in parts if part)


KEY = "plotly_preload"  # its container, hidden by ui/style.css (else it adds a 16 px gap)
WANTED = "plotly_wanted"  # the page's mark that it draws a chart, hidden the same way
WAIT_MS = 30_000  # after that, a chart arriving imports the bundle itself, as without preload

LOADED = "argenta.plotly_bundle"  # localStorage: the address of the bundle this browser loaded
EVERY_VIEW = ("evolucion",)  # URL paths of the pages whose every view draws a chart

# Import the bundle once the page's mark is in the document (checked every 25 ms), and
# remember that this browser has it.
_WHEN_WANTED = """const started = Date.now();
const poll = setInterval(() => {
  if (document.querySelector(".st-key-%s")) {
    clearInterval(poll);
    import(%s).then(() => { try { localStorage.setItem(%s, %s); } catch (e) {} });
  } else if (Date.now() - started > %d) { clearInterval(poll); }
}, 25);"""
# In the page's HTML, after Streamlit's bundle: import at once if this browser loaded it before.
_IF_LOADED_BEFORE = """<script type="module">
try { if (localStorage.getItem(%s) === %s) { import(%s); } } catch (e) {}
</script>"""


def preload(base_url_path: str) -> None:
    """Have the browser import the Plotly bundle as soon as the page calls `wanted`."""
    if (address := url(base_url_path)) is not None:
        quoted = json.dumps(address)
        script = _WHEN_WANTED % (WANTED, quoted, json.dumps(LOADED), quoted, WAIT_MS)
        with st.container(key=KEY):
            st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def early_script(base_url_path: str) -> str | None:
    """The `<script>` for a page's HTML that imports the bundle if this browser has it."""
    if (address := url(base_url_path)) is None:
        return None
    quoted = json.dumps(address)
    return _IF_LOADED_BEFORE % (json.dumps(LOADED), quoted, quoted)


def wanted() -> None:
    """Say that this run of the page draws a Plotly chart: the preload imports the bundle now."""
    with st.container(key=WANTED):
        st.html("<span></span>")


def page_html(base_url_path: str, index: Path = _INDEX) -> str | None:
    """Streamlit's page HTML with `early_script` at the end of its head, or None."""
    html = index.read_text(encoding="utf-8")
    script = early_script(base_url_path)
    if script is None or "</head>" not in html:
        return None
    return html.replace("</head>", f"{script}</head>", 1)


def routes(base_url_path: str) -> list[Route]:
    """The HTML of the `EVERY_VIEW` pages, served as Streamlit serves it (no caching)."""
    if (html := page_html(base_url_path)) is None:
        return []

    async def page(_request: Request) -> HTMLResponse:
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    base = base_url_path.strip("/")
    return [Route("/" + "/".join(p for p in (base, path) if p), page) for path in EVERY_VIEW]
