"""Fill the call outcomes that matured, from the prices a run already loaded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import cast

import duckdb
import polars as pl

from pipeline.analysis import outcomes
from pipeline.analysis.frames import MarketData
from store import reads, writes

# Calls whose outcomes are computed together: at 500 tickers x 2520 dates one pass over
# every call peaked at 6.8 GB (7.5 M outcome rows and their joins); 200,000 calls (1.2 M
# rows) keep a group near 1 GB.
GROUP_CALLS = 200_000
# The price columns the outcomes read (a backfill reads back only these from its spill).
PRICE_COLUMNS = ["ticker", "date", "close", "adj_close"]


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
    data = replace(data, prices=data.prices.select(PRICE_COLUMNS))
    tickers = data.prices.get_column("ticker").unique().sort().to_list()
    dates = data.prices.get_column("date")
    first, last = cast(dt.date, dates.min()), cast(dt.date, dates.max())
    counts = reads.outcome_counts(con, first, last, tickers)
    prepared = outcomes.PriceBars(data.prices, data.macro)  # computed once, if needed
    last_bars = prepared.last_bars().select("ticker", last_bar="_last_bar")
    gaps = counts.filter(pl.col("outcomes") < outcomes.matured_rows(counts, last_bars))
    due = set(gaps["analysis_date"].unique())
    pending = sorted(due | {d for d in replaced if first <= d <= last})
    if not pending:
        return 0
    per_date = counts.group_by("analysis_date").len()
    written = 0
    for group in _date_groups(pending, per_date):
        stored = reads.outcome_calls(con, group, tickers)
        calls = stored.with_columns(
            outcomes.stated_volatility(
                pl.col("volatility_20"), pl.col("atr_14"), pl.col("close")
            ).alias("stated_volatility")
        )
        frame = outcomes.compute_outcomes(calls, data.prices, data.macro, prepared=prepared)
        frame = outcomes.changed_outcomes(frame, reads.stored_outcomes(con, group, tickers))
        if frame.height:
            written += writes.replace_outcomes(con, calls, frame, job_run_id)
        del stored, calls, frame  # free this group's rows before the next one's
    return written


def _date_groups(dates: list[dt.date], per_date: pl.DataFrame) -> Iterator[list[dt.date]]:
    """`dates` (sorted) in runs of about GROUP_CALLS calls (`per_date`: analysis_date, len).

    A date's outcomes depend on its own calls only (the universe mean is per date), so the
    groups give the same rows as one pass; a backfill's memory stays bounded by a group's.
    """
    calls = dict(per_date.iter_rows())
    group: list[dt.date] = []
    size = 0
    for day in dates:
        if group and size + calls.get(day, 0) > GROUP_CALLS:
            yield group
            group, size = [], 0
        group.append(day)
        size += calls.get(day, 0)
    if group:
        yield group
