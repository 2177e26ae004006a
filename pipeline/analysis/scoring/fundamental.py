"""Fundamental score: valuation, profitability, leverage, growth and dividends.

Figures are used from their `filed` date on (as-of join, no look-ahead), and only while
the latest filing is at most MAX_FILING_AGE_DAYS old. Two kinds of input are accepted:
statement figures (SEC facts: revenue, eps, equity, ...), from which the ratios are
computed with the day's price, and ratios a source already computed (Yahoo's
trailing_pe, return_on_equity, ...), used where no statement figure gives the ratio.
"""

from __future__ import annotations

import polars as pl

from pipeline.analysis.calls import pairs_frame
from pipeline.analysis.scoring import (
    Factor,
    Reason,
    json_object,
    linear_score,
    metadata_json,
    reason_columns,
    sub_score_factors,
    warnings_list,
)
from pipeline.analysis.scoring.macro import FAMILIES
from pipeline.analysis.scoring.summary_es import DRIVERS

MAX_FILING_AGE_DAYS = 550  # an annual report plus ~6 months of slack
FX_MAX_AGE_DAYS = 10  # the official rate used to convert must be this fresh
FAMILY_ORDER = {family: rank for rank, family in enumerate(FAMILIES)}
STATEMENT_METRICS = (
    "revenue",
    "net_income",
    "net_income_attributable_to_parent",
    "eps_basic_diluted",
    "equity_attributable_to_parent",
    "total_equity",
    "total_borrowings",
    "dividends_paid",
    "shares_outstanding",
)
RATIO_METRICS = (
    "trailing_pe",
    "price_to_book",
    "return_on_equity",
    "profit_margin",
    "debt_to_equity",
    "revenue_growth",
    "dividend_yield",
)
METRICS = STATEMENT_METRICS + RATIO_METRICS
# sub-score -> [(ratio column, worst, best)]; the sub-score is the mean of its parts.
SUB_SCORES = {
    "fundamental_valuation": [("pe", 25.0, 5.0), ("pb", 3.0, 0.5)],
    "fundamental_profitability": [("roe", -0.05, 0.20), ("net_margin", -0.05, 0.15)],
    "fundamental_leverage": [("debt_to_equity", 2.0, 0.2)],
    "fundamental_growth": [("revenue_growth", -0.10, 0.20)],
    "fundamental_dividends": [("dividend_yield", 0.0, 0.06)],
}


# Why there is no score. "None filed yet" and "none at all" read the same: the data up to
# the date cannot tell them apart, and a backfill must say what the daily run would have said.
NO_FUNDAMENTALS = Reason(
    "no_fundamentals", "the source has no fundamentals filed on or before this date"
)
FILING_AGE_DAYS = (pl.col("date") - pl.col("filed")).dt.total_days()
FILING_TOO_OLD = Reason(
    "filing_too_old",
    "latest filing ({}) is {} days old, over the {}-day limit",
    (
        ("filed", pl.col("filed")),
        ("age_days", FILING_AGE_DAYS),
        ("limit_days", pl.lit(MAX_FILING_AGE_DAYS)),
    ),
)
NO_USABLE_METRIC = Reason(
    "no_usable_metric", "no usable metric (a price conversion needs the local share or the CCL)"
)


def listing_currency(ticker: pl.Expr) -> pl.Expr:
    """ARS for BYMA symbols (".BA") and indices, USD otherwise (NYSE/Nasdaq ADRs)."""
    return (
        pl.when(ticker.str.ends_with(".BA") | ticker.str.starts_with("^"))
        .then(pl.lit("ARS"))
        .otherwise(pl.lit("USD"))
    )


def _latest_facts(fundamentals: pl.LazyFrame) -> pl.LazyFrame:
    """Per (ticker, filing date, metric): the latest period known then and the one before."""
    facts = fundamentals.filter(pl.col("metric").is_in(METRICS)).drop_nulls(["filed", "value"])
    filings = facts.select("ticker", "filed").unique()

    def by_period(name: str) -> pl.Expr:
        return pl.col(name).sort_by("period_end")

    return (
        filings.join(facts, on="ticker", suffix="_fact")
        .filter(pl.col("filed_fact") <= pl.col("filed"))
        .group_by("ticker", "filed", "metric")
        .agg(
            by_period("value").last(),
            by_period("period_end").last(),
            by_period("unit").last(),
            prev_value=by_period("value").tail(2).first(),
            prev_end=by_period("period_end").tail(2).first(),
            n=pl.len(),
        )
    )


def _revenue_growth(revenue: pl.LazyFrame, official: pl.LazyFrame) -> pl.LazyFrame:
    """Year-on-year revenue growth; ARS figures are compared in USD at the official rate.

    Both years are converted with the same family of official-rate series (the first of
    FAMILIES that has a fresh rate at both period ends), never one of each.
    """
    yearly = revenue.filter(
        (pl.col("n") > 1)
        & (pl.col("period_end") - pl.col("prev_end")).dt.total_days().is_between(330, 400)
    )
    is_ars = pl.col("unit").str.starts_with("ARS")
    nominal = yearly.filter(~is_ars).select(
        "ticker", "filed", revenue_growth_calc=pl.col("value") / pl.col("prev_value") - 1.0
    )
    rates = official.select("family", rate_date="date", rate="value").sort("rate_date")

    def rate_at(frame: pl.LazyFrame, end: str, name: str) -> pl.LazyFrame:
        fresh = (pl.col(end) - pl.col("rate_date")).dt.total_days() <= FX_MAX_AGE_DAYS
        return (
            frame.sort(end)
            .join_asof(
                rates, left_on=end, right_on="rate_date", by="family", check_sortedness=False
            )
            .with_columns(pl.when(fresh).then("rate").alias(name))
            .drop("rate", "rate_date")
        )

    per_family = yearly.filter(is_ars).join(rates.select("family").unique(), how="cross")
    in_usd = (
        rate_at(rate_at(per_family, "period_end", "rate_now"), "prev_end", "rate_prev")
        .with_columns(
            revenue_growth_calc=pl.col("value")
            / pl.col("rate_now")
            / (pl.col("prev_value") / pl.col("rate_prev"))
            - 1.0
        )
        .drop_nulls("revenue_growth_calc")
        .group_by("ticker", "filed")
        .agg(
            pl.col("revenue_growth_calc")
            .sort_by(pl.col("family").replace_strict(FAMILY_ORDER))
            .first()
        )
    )
    return pl.concat([nominal, in_usd])


def fundamental_snapshots(fundamentals: pl.LazyFrame, official: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (ticker, filing date): every metric as known on that date, wide.

    Statement figures are taken from the latest period only: a metric missing from the
    latest report (e.g. no dividends that year) is missing, not carried from an older one.
    """
    latest = _latest_facts(fundamentals)
    metric, end = pl.col("metric"), pl.col("period_end")
    is_statement = metric.is_in(STATEMENT_METRICS)
    statement_end = end.filter(is_statement).max()
    current = ~is_statement | (end == statement_end)
    currency = pl.col("unit").str.split("/").list.first()  # "ARS/shares" -> "ARS"
    wide = latest.group_by("ticker", "filed").agg(
        *[pl.col("value").filter((metric == m) & current).first().alias(m) for m in METRICS],
        revenue_prev=pl.col("prev_value").filter((metric == "revenue") & current).first(),
        statement_currency=currency.filter(is_statement & (currency != "shares")).first(),
        period_end=statement_end,
    )
    growth = _revenue_growth(latest.filter(metric == "revenue"), official)
    return (
        wide.join(growth, on=["ticker", "filed"], how="left")
        .with_columns(pl.when(pl.col("revenue").is_not_null()).then("revenue_growth_calc"))
        .sort("filed")
    )


def with_local_share(panel: pl.LazyFrame) -> pl.LazyFrame:
    """Add `shares_per_adr` (1 off ADR_PAIRS) and `local_close`: an ADR's local share that day.

    `local_close` is the raw close of the BYMA share of the ADR's company (`calls.ADR_PAIRS`)
    on the same date, when the panel has it; NULL for other rows.
    """
    pairs = pairs_frame().lazy()
    adrs = pairs.select(
        pl.col("adr").alias("ticker"), pl.col("local").alias("_local"), "shares_per_adr"
    )
    locals_ = panel.select(
        pl.col("ticker").alias("_local"), "date", pl.col("close_raw").alias("local_close")
    ).unique(["_local", "date"], keep="last")
    return (
        panel.join(adrs, on="ticker", how="left", maintain_order="left")
        .join(locals_, on=["_local", "date"], how="left", maintain_order="left")
        .with_columns(pl.col("shares_per_adr").fill_null(1.0))
        .drop("_local")
    )


def _price_cases() -> list[tuple[pl.Expr, pl.Expr, str]]:
    """(condition, price per share in the statements' currency, basis), first match wins.

    Bases: `listing` (own close, same currency), `adr_per_share` (ADR close / shares per ADR,
    dollar statements), `local_share` (the local share's close that day, peso statements),
    `adr_ccl` (ADR close x CCL / shares per ADR, when the local share has no close that day),
    `local_ccl` (a BYMA share with dollar statements: its close / CCL).
    """
    listing, statement = listing_currency(pl.col("ticker")), pl.col("statement_currency")
    close, shares, ccl = pl.col("close_raw"), pl.col("shares_per_adr"), pl.col("usdars_ccl")
    usd, ars = listing == "USD", listing == "ARS"
    return [
        (ars & (statement == "ARS"), close, "listing"),
        (usd & (statement == "USD"), close / shares, "adr_per_share"),
        (
            usd & (statement == "ARS") & pl.col("local_close").is_not_null(),
            pl.col("local_close"),
            "local_share",
        ),
        (usd & (statement == "ARS") & ccl.is_not_null(), close * ccl / shares, "adr_ccl"),
        (ars & (statement == "USD") & ccl.is_not_null(), close / ccl, "local_ccl"),
    ]


def _price_in_statement_currency() -> tuple[pl.Expr, pl.Expr]:
    """The price of one share in the statements' currency, and its `price_basis`.

    Peso figures take a peso price: the local share's close, or the ADR's dollar close at the
    CCL (the rate at which the ADR and the local share trade), never at the official rate,
    which is 1.6-1.9x off under capital controls. Per-share figures are per ordinary share, so
    an ADR's price is divided by the shares it represents. NULL when no case applies.
    """
    price: pl.Expr = pl.lit(None, dtype=pl.Float64)
    basis: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, value, name in reversed(_price_cases()):
        price = pl.when(condition).then(value).otherwise(price)
        basis = pl.when(condition).then(pl.lit(name)).otherwise(basis)
    return price, basis


def _ratios() -> list[pl.Expr]:
    """Ratios from statement figures and the day's price; a source's own ratio otherwise."""
    c, price = pl.col, pl.col("price_stmt")
    book = c("equity_attributable_to_parent").fill_null(c("total_equity"))
    parent_income = c("net_income_attributable_to_parent").fill_null(c("net_income"))

    def positive_or_worst(ratio: pl.Expr, denominator: pl.Expr) -> pl.Expr:
        # A loss or a negative book makes P/E or P/B meaningless: it scores as the worst.
        return pl.when(denominator <= 0).then(float("inf")).otherwise(ratio)

    return [
        positive_or_worst(price / c("eps_basic_diluted"), c("eps_basic_diluted"))
        .fill_null(c("trailing_pe"))
        .alias("pe"),
        positive_or_worst(price * c("shares_outstanding") / book, book)
        .fill_null(c("price_to_book"))
        .alias("pb"),
        (parent_income / book).fill_null(c("return_on_equity")).alias("roe"),
        (c("net_income") / c("revenue")).fill_null(c("profit_margin")).alias("net_margin"),
        (c("total_borrowings") / c("total_equity"))
        .fill_null(c("debt_to_equity"))
        .alias("debt_to_equity"),
        c("revenue_growth_calc").fill_null(c("revenue_growth")).alias("revenue_growth"),
        (c("dividends_paid").abs() / c("shares_outstanding") / price)
        .fill_null(c("dividend_yield"))
        .alias("dividend_yield"),
    ]


def score_fundamental(
    panel: pl.LazyFrame, fundamentals: pl.LazyFrame, official: pl.LazyFrame
) -> pl.LazyFrame:
    """As-of join the filings onto the panel; add ratios, sub-scores and `fundamental_score`.

    `panel` needs ticker, date, close_raw, usdars_official and usdars_ccl (the day's rates;
    prices convert at the CCL, see `_price_in_statement_currency`); `official` is the long
    (date, family, value) official-rate history for growth in USD. The result has one row per
    panel row, in the panel's order.
    """
    snapshots = fundamental_snapshots(fundamentals, official)
    price, basis = _price_in_statement_currency()
    joined = (
        with_local_share(panel)
        .with_row_index("_row")
        .sort("date")
        .join_asof(snapshots, left_on="date", right_on="filed", by="ticker", check_sortedness=False)
        .sort("_row")
        .drop("_row")
        .with_columns(stale=FILING_AGE_DAYS > MAX_FILING_AGE_DAYS)
        .with_columns(
            pl.when(~pl.col("stale")).then(price).alias("price_stmt"),
            pl.when(~pl.col("stale")).then(basis).alias("price_basis"),
        )
        .with_columns(
            pl.when(~pl.col("stale")).then(r).alias(r.meta.output_name()) for r in _ratios()
        )
    )
    return joined.with_columns(_sub_scores()).with_columns(_total())


def _sub_scores() -> list[pl.Expr]:
    return [
        pl.mean_horizontal(linear_score(pl.col(x), lo, hi) for x, lo, hi in parts).alias(name)
        for name, parts in SUB_SCORES.items()
    ]


def _total() -> list[pl.Expr]:
    subs = list(SUB_SCORES)
    n = pl.sum_horizontal(pl.col(s).is_not_null() for s in subs)
    return [
        pl.mean_horizontal(subs).round(2).alias("fundamental_score"),
        (n * (1.0 / len(subs))).alias("fundamental_completeness"),
        *reason_columns(
            "fundamental",
            [
                (pl.col("filed").is_null(), NO_FUNDAMENTALS),
                (pl.col("stale"), FILING_TOO_OLD),
                (n == 0, NO_USABLE_METRIC),
            ],
        ),
    ]


def factors() -> list[Factor]:
    """Each fundamental sub-score's share of (fundamental score - 50), with its phrases."""
    return sub_score_factors(list(SUB_SCORES), DRIVERS)


def detail(source: str) -> dict[str, pl.Expr]:
    """The JSON columns of the fundamental detail row."""
    c = pl.col
    ratios = ("pe", "pb", "roe", "net_margin", "debt_to_equity", "revenue_growth", "dividend_yield")
    return {
        "raw_data": json_object(
            currency=c("statement_currency"),
            price=c("close_raw").round(2),
            usdars_official=c("usdars_official").round(2),
            # The price per share the ratios used, in the statements' currency, and how.
            price_in_statement_currency=c("price_stmt").round(4),
            price_basis=c("price_basis"),
            **{m: c(m) for m in METRICS},
            revenue_prev=c("revenue_prev"),
        ),
        "indicators": json_object(
            level=c("fundamental_level"),  # the 0-100 score before ranking among peers
            **{r: c(r).replace(float("inf"), None).round(4) for r in ratios},
            sub_scores=pl.struct(
                c(s).round(2).alias(s.removeprefix("fundamental_")) for s in SUB_SCORES
            ),
        ),
        "metadata": metadata_json(
            source,
            "fundamental",
            pl.struct(filed=c("filed"), period_end=c("period_end")),
            warnings_list(
                (c("pe").is_infinite(), "loss-making: P/E counted as the worst"),
                (
                    (c("statement_currency") == "ARS") & c("revenue_growth_calc").is_not_null(),
                    "ARS revenue growth measured in USD at the official rate",
                ),
                (
                    ~c("stale") & c("statement_currency").is_not_null() & c("price_stmt").is_null(),
                    "no local share price and no CCL: price-based ratios skipped",
                ),
            ),
        ),
    }
