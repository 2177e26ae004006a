"""Comparisons for the evolution page: performance rebased to 100, an ADR against its share."""

from __future__ import annotations

import polars as pl

from pipeline.analysis.calls import ADR_PAIRS


def rebased(closes: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """analysis_date, ticker, base_100: each close over the ticker's first close, times 100."""
    parts = [
        frame.select("analysis_date", "close")
        .drop_nulls("close")
        .with_columns(
            pl.lit(ticker).alias("ticker"),
            (pl.col("close") / pl.col("close").first() * 100).alias("base_100"),
        )
        for ticker, frame in closes.items()
    ]
    parts = [p for p in parts if not p.is_empty()]
    if not parts:
        return pl.DataFrame(
            schema={"analysis_date": pl.Date, "ticker": pl.String, "base_100": pl.Float64}
        )
    return pl.concat(parts).select("analysis_date", "ticker", "base_100")


def pairs(tickers: list[str]) -> dict[str, tuple[str, str, float]]:
    """Label → (local share, ADR, shares per ADR) of the pairs whose two tickers are stored."""
    stored = set(tickers)
    return {
        f"{adr} / {local}": (local, adr, shares)
        for local, (adr, shares) in ADR_PAIRS.items()
        if local in stored and adr in stored
    }


def first_pair(pairs: dict[str, tuple[str, str, float]], chosen: list[str]) -> str | None:
    """The label of the pair of the first chosen ticker that has one (as ADR or local share)."""
    for ticker in chosen:
        for label, (local, adr, _) in pairs.items():
            if ticker in (local, adr):
                return label
    return None


def implied_ccl(local: pl.DataFrame, adr: pl.DataFrame, shares: float) -> pl.DataFrame:
    """Per common date: the CCL the pair implies (local x shares / ADR), the day's CCL, the gap."""
    joined = local.select("analysis_date", pl.col("close").alias("local"), "usdars_ccl").join(
        adr.select("analysis_date", pl.col("close").alias("adr")), on="analysis_date"
    )
    implied = pl.col("local") * shares / pl.col("adr")
    return (
        joined.with_columns(implied.alias("implied_ccl"))
        .with_columns((pl.col("implied_ccl") / pl.col("usdars_ccl") - 1).alias("gap"))
        .drop_nulls("implied_ccl")
        .sort("analysis_date")
    )
