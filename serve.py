"""The dashboard's server: `streamlit run serve.py` serves `dashboard.py`, warmed up first.

Streamlit finds the `st.App` below and serves its script, `dashboard.py`, with the same
options (`.streamlit/config.toml` and the command line) as `streamlit run dashboard.py`.
Its start-up hook (`lifespan`) runs `ui.warmup.warm()` before the server accepts
connections, so the first visitor after a start does not pay for the imports, the exchange
calendars and Plotly's first figure (README, "Speed"). Its one route serves Evolución's HTML
with a script that starts importing Plotly's bundle at once in a browser that has it
(`ui.plotly_bundle.routes`). `streamlit run dashboard.py` still works, without either.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import streamlit as st

from ui import plotly_bundle, warmup

log = logging.getLogger("argenta.dashboard")


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    """Warm the process up, then serve."""
    took = warmup.warm()
    log.info("event=warmed_up %s", " ".join(f"{step}={s:.2f}" for step, s in took.items()))
    yield


base_url_path = str(st.get_option("server.baseUrlPath") or "")
app = st.App(warmup.ENTRY.name, lifespan=lifespan, routes=plotly_bundle.routes(base_url_path))
