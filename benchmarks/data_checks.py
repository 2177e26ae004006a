"""The data fixes of issue 11, measured on the bundled sample (the README quotes it).

    python -m benchmarks.data_checks

Prints, per year: how the bundled `usdars_ccl` compares with the CCL the ADR pairs imply
(`pipeline.analysis.ccl`: dates with an implied rate, the pairs behind it, the median and
5th-95th percentiles of bundled / implied), and, for YPF (the one stock with statements),
which price its peso ratios used and how far it is from the ADR x official rate they used
before (the ratio of the two, median per year).
"""

from __future__ import annotations

import polars as pl

from pipeline.analysis import ccl
from pipeline.analysis.scoring import fundamental, macro
from pipeline.sources import sample

YEAR = pl.col("date").dt.year().alias("year")


def ccl_by_year(data: sample.MarketData) -> pl.DataFrame:
    """Per year: implied dates, median pairs, bundled / implied (median, p5, p95)."""
    implied = ccl.implied_ccl(data.prices)
    bundled = data.macro.filter(pl.col("series") == ccl.CCL_SERIES).select("date", "value")
    ratio = pl.col("value") / pl.col("implied_ccl")
    return (
        implied.join(bundled, on="date", how="left")
        .group_by(YEAR)
        .agg(
            pl.len().alias("implied_dates"),
            pl.col("pairs").median().alias("median_pairs"),
            ratio.median().alias("bundled_over_implied"),
            ratio.quantile(0.05).alias("p5"),
            ratio.quantile(0.95).alias("p95"),
        )
        .sort("year")
    )


def ypf_prices(data: sample.MarketData, ticker: str = "YPF") -> pl.DataFrame:
    """Per year: rows with a P/B, the price basis used, and price used / (ADR x official)."""
    used = ccl.with_implied_ccl(data.macro, data.prices)
    closes = data.prices.select("ticker", "date", pl.col("close").alias("close_raw"))
    rates = macro.score_macro(used.lazy(), closes.select("date").unique().lazy()).collect()
    panel = closes.join(
        rates.select("date", "usdars_ccl", "usdars_official"), on="date", how="left"
    ).sort("ticker", "date")
    official = macro.macro_indicators(used.lazy()).filter(pl.col("indicator") == "official")
    scored = fundamental.score_fundamental(panel.lazy(), data.fundamentals.lazy(), official)
    rows = scored.filter((pl.col("ticker") == ticker) & pl.col("pb").is_not_null()).collect()
    before = pl.col("close_raw") * pl.col("usdars_official")
    return (
        rows.group_by(YEAR)
        .agg(
            pl.len().alias("rows"),
            (pl.col("price_basis") == "local_share").sum().alias("local_share"),
            (pl.col("price_basis") == "adr_ccl").sum().alias("adr_ccl"),
            (pl.col("price_stmt") / before).median().alias("price_over_adr_x_official"),
        )
        .sort("year")
    )


def main() -> None:
    """Print both tables as markdown."""
    data = sample.load()
    with pl.Config(
        tbl_formatting="MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_rows=40,
        float_precision=3,
    ):
        print("CCL: bundled usdars_ccl against the ADR pairs' median")
        print(ccl_by_year(data))
        print("\nYPF's peso ratios: the price used")
        print(ypf_prices(data))


if __name__ == "__main__":
    main()
