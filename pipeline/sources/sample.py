"""The bundled sample: real Argentine prices, macro series and YPF filings, offline.

sample_data holds prices.parquet (35 tickers and ^MERV; the ADRs end 2024-03-08), macro.parquet
(series named as in sample_data/SOURCES.md), and fundamentals.csv (YPF's SEC filings, values in
ARS, dated by `filed`). There is no news. `build_sample.py` rebuilds the folder from the shared
data, dropping the rows the checks reject (listed in sample_data/dropped_rows.csv).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from pipeline.analysis.frames import MarketData
from pipeline.sources import files

SAMPLE_DIR = Path(__file__).with_name("sample_data")


def load(
    tickers: Sequence[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    warmup_bars: int = 0,
) -> MarketData:
    """Load the bundled sample through the same checks as the files source."""
    return files.load(SAMPLE_DIR, tickers, start, end, source="sample", warmup_bars=warmup_bars)
