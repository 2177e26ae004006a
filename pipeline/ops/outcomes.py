"""Fill the call outcomes that matured, from the prices a run already loaded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

import duckdb
import polars as pl

from pipeline.analysis import outcomes
from pipeline.analysis.frames import MarketData
from store import reads, writes


def fill_outcomes(
    con: duckdb.DuckDBPyConnection,
    data: MarketData,
    replaced: Sequence[dt.date] = (),
    job_run_id: int | None = None,
) -> int:
    """Write the outcomes that matured (or changed) since stored; returns rows written.

    The dates considered are those inside the loaded price window with a call that lacks
    an outcome its ticker's bars can settle (a ticker that stopped trading is due only the
    rows that exited by its last bar), plus the dates just replaced. Only calls of tickers
    present in the prices are touched, and every value comes from bars up to each row's
    exit session (a daily run for day T settles the calls of T-5, T-20 and T-60 sessions).
    Of the recomputed rows, only those new or different from the stored ones are written.
    """
    if data.prices.is_empty():
        return 0
    tickers = data.prices.get_column("ticker").unique().sort().to_list()
    dates = data.prices.get_column("date")
    first, last = cast(dt.date, dates.min()), cast(dt.date, dates.max())
    counts = reads.outcome_counts(con, first, last, tickers)
    last_bars = data.prices.group_by("ticker").agg(pl.col("date").max().alias("last_bar"))
    gaps = counts.filter(pl.col("outcomes") < outcomes.matured_rows(counts, last_bars))
    pending = sorted(set(gaps["analysis_date"]) | {d for d in replaced if first <= d <= last})
    if not pending:
        return 0
    stored = reads.outcome_calls(con, pending, tickers)
    calls = stored.with_columns(
        outcomes.stated_volatility(
            pl.col("volatility_20"), pl.col("atr_14"), pl.col("close")
        ).alias("stated_volatility")
    )
    frame = outcomes.compute_outcomes(calls, data.prices, data.macro)
    frame = outcomes.changed_outcomes(frame, reads.stored_outcomes(con, pending, tickers))
    return writes.replace_outcomes(con, calls, frame, job_run_id) if frame.height else 0
