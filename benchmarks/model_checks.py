"""The relative model's stated properties, measured on the bundled sample (the README quotes it).

    python -m benchmarks.model_checks

Runs `pipeline.analysis.model.evaluate` on the whole sample (pure, no database) and prints,
per listing group: the median length of a run of equal calls (sessions), call changes per
ticker-year, the share of shared dates on which an ADR and its local share carry different
calls, the realised coverage of the 63-session target range (the share of outcomes 63
sessions later inside [target_low, target_high], stated 80 %), above and below it, and the
one-day moves flagged as implausible. Outcomes are read on the ticker's own session grid
(63 sessions of its exchange, from adjusted closes, raw close x adjusted growth).
"""

from __future__ import annotations

import polars as pl

from pipeline.analysis import calls, factors, forecast, model
from pipeline.analysis.indicators import adjust_prices
from pipeline.settings import Settings
from pipeline.sources import sample


def evaluated() -> pl.DataFrame:
    """The model's rows for every (ticker, date) of the sample."""
    prices = adjust_prices(sample.load().prices.lazy()).collect()
    return model.evaluate(prices, Settings().weights)


def durations(rows: pl.DataFrame) -> pl.DataFrame:
    """Per group: median run of equal calls (sessions with a call) and changes per ticker-year."""
    made = rows.filter(pl.col("recommendation").is_not_null()).sort("ticker", "date")
    changed = pl.col("recommendation") != pl.col("recommendation").shift(1).over("ticker")
    runs = made.with_columns(changed.fill_null(True).cum_sum().over("ticker").alias("run"))
    lengths = runs.group_by("group", "ticker", "run").agg(pl.len().alias("sessions"))
    per_ticker = runs.group_by("group", "ticker").agg(
        (pl.col("run").max() - 1).alias("changes"), pl.len().alias("calls")
    )
    return (
        lengths.group_by("group")
        .agg(pl.col("sessions").median().alias("median_call_sessions"))
        .join(
            per_ticker.group_by("group").agg(
                (pl.col("changes").sum() / pl.col("calls").sum() * 252).alias("changes_per_year")
            ),
            on="group",
        )
    )


def disagreement(rows: pl.DataFrame) -> float:
    """Share of dates both listings of a company have a call on which the calls differ."""
    made = rows.filter(pl.col("recommendation").is_not_null()).select(
        "date", "ticker", "recommendation"
    )
    pairs = calls.pairs_frame().join(made, left_on="local", right_on="ticker")
    both = pairs.join(made, left_on=["adr", "date"], right_on=["ticker", "date"], suffix="_adr")
    differ = (both["recommendation"] != both["recommendation_adr"]).cast(pl.Float64)
    return float(differ.sum()) / max(1, differ.len())


def coverage(rows: pl.DataFrame) -> pl.DataFrame:
    """Per group: share of outcomes 63 sessions later inside, above and below the range."""
    grid = factors.session_grid(rows.select("date", "ticker", "close", "close_raw"))
    ahead = forecast.TARGET_HORIZON_SESSIONS
    later = pl.col("log_index").shift(-ahead).over("ticker") - pl.col("log_index")
    outcome = grid.with_columns(later.alias("_growth")).filter(pl.col("observed"))
    joined = rows.join(outcome.select("date", "ticker", "_growth"), on=["date", "ticker"])
    realised = pl.col("close_raw") * pl.col("_growth").exp()
    checked = joined.filter(pl.col("target_low").is_not_null() & pl.col("_growth").is_not_null())
    return checked.group_by("group").agg(
        (realised.is_between(pl.col("target_low"), pl.col("target_high"))).mean().alias("inside"),
        (realised > pl.col("target_high")).mean().alias("above"),
        (realised < pl.col("target_low")).mean().alias("below"),
        pl.len().alias("outcomes"),
    )


def main() -> None:
    """Print the measures as markdown tables."""
    rows = evaluated().filter(pl.col("group").is_not_null())
    table = durations(rows).join(coverage(rows), on="group").sort("group")
    print(
        "| group | median call (sessions) | changes / ticker-year | range: inside | above |"
        " below | outcomes |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in table.iter_rows(named=True):
        print(
            f"| {r['group']} | {r['median_call_sessions']:.0f} | {r['changes_per_year']:.1f} |"
            f" {100 * r['inside']:.1f} % | {100 * r['above']:.1f} % | {100 * r['below']:.1f} % |"
            f" {r['outcomes']} |"
        )
    differ = 100 * disagreement(rows)
    print(f"\nADR and local share with different calls on shared dates: {differ:.2f} %")
    flagged = rows.filter(pl.col("implausible_move")).select("ticker", "date").rows()
    print(f"Implausible one-day moves kept out: {', '.join(f'{t} {d}' for t, d in flagged)}")


if __name__ == "__main__":
    main()
