"""Start loading Streamlit's Plotly bundle with a page's first messages (no plotly import here).

The bundle (4.7 MB, plotly.js inside) is fetched and evaluated by the browser only when the
first chart of a page arrives, after the page's script has run; evaluating it takes the
browser 0.3-0.8 s. Imported at once on the pages that draw charts, it overlaps the script's
reads and figure building instead of following them. The URL is the one Streamlit's own lazy
import resolves to, so the module loads once. Nothing happens if this Streamlit has no such
bundle (a later release may name or split it differently).
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


def preload(base_url_path: str) -> None:
    """Have the browser import the Plotly bundle now (a script element in a hidden container)."""
    if (address := url(base_url_path)) is not None:
        with st.container(key=KEY):
            st.html(
                f"<script>import({json.dumps(address)});</script>", unsafe_allow_javascript=True
            )
