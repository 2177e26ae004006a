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
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

_STATIC_JS = Path(st.__file__).parent / "static" / "static" / "js"  # Streamlit's frontend
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

# Import the bundle once the page's mark is in the document (checked every 25 ms).
_WHEN_WANTED = """const started = Date.now();
const poll = setInterval(() => {
  if (document.querySelector(".st-key-%s")) { clearInterval(poll); import(%s); }
  else if (Date.now() - started > %d) { clearInterval(poll); }
}, 25);"""


def preload(base_url_path: str) -> None:
    """Have the browser import the Plotly bundle as soon as the page calls `wanted`."""
    if (address := url(base_url_path)) is not None:
        script = _WHEN_WANTED % (WANTED, json.dumps(address), WAIT_MS)
        with st.container(key=KEY):
            st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def wanted() -> None:
    """Say that this run of the page draws a Plotly chart: the preload imports the bundle now."""
    with st.container(key=WANTED):
        st.html("<span></span>")
