"""Macro score: Argentina's exchange-rate gap, country risk, inflation, real rate and Merval.

The macro score depends on the date only: every ticker analysed on a date gets the
same macro score. A series counts on a date only when its latest observation is fresh
(`MAX_AGE_DAYS`). The exchange rates and CPI come in families of series with different
definitions (the unsuffixed "base" family and the "_rava" family); every ratio is
computed inside one family, and on each date the family with the freshest observation
is used for the whole group (ties go to the base family).
"""

from __future__ import annotations

import polars as pl

from pipeline.analysis import ccl as implied
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
from pipeline.analysis.scoring.summary_es import DRIVERS

FAMILIES = {"base": "", "rava": "_rava"}  # family -> series-name suffix, in tie-break order
CHANGE_DAYS = 30  # "change" compares with the value as of this many calendar days earlier
TREND_WINDOW = 200  # observations in the Merval moving average
CPI_PUBLICATION_LAG_DAYS = 15  # monthly CPI is dated at month end and published mid-month
# indicator -> (group whose family is chosen together, max age of the latest observation)
INDICATORS = {
    "gap": ("fx", 10),  # the group's first indicator decides its family
    "ccl": ("fx", 10),
    # Its own group: the official rate counts whenever it is fresh, whatever the CCL's
    # freshness (it converts prices for the fundamentals; no ratio mixes it across families).
    "official": ("official", 10),
    "merval_usd_trend": ("fx", 10),
    "cpi": ("cpi", 70),
    "embi": ("embi", 10),
    "policy_rate": ("policy_rate", 10),
    "merval_trend": ("merval", 10),
}
# sub-score -> (value expression, worst, best): 0 points at worst, 100 at best, linear between.
SUB_SCORES = {
    "macro_gap_level": (pl.col("gap"), 1.00, 0.05),
    "macro_gap_change": (pl.col("gap") - pl.col("gap_prev"), 0.10, -0.10),
    "macro_embi_level": (pl.col("embi"), 25.0, 4.0),
    "macro_embi_change": (pl.col("embi") / pl.col("embi_prev") - 1.0, 0.15, -0.15),
    "macro_inflation": (pl.col("cpi"), 10.0, 1.0),
    "macro_real_rate": (pl.col("policy_rate") * (1.0 / 12.0) - pl.col("cpi"), -4.0, 1.0),
    "macro_merval_ars": (pl.col("merval_trend"), -0.20, 0.20),
    "macro_merval_usd": (pl.col("merval_usd_trend"), -0.20, 0.20),
}
# What the total and the summary need from the per-date macro frame.
SCORE_COLUMNS = [*SUB_SCORES, "macro_score", "macro_completeness", "macro_reason"]
NO_FRESH_SERIES = Reason(
    "no_fresh_macro", "no fresh macro series on this date (see warnings for stale ones)"
)


def _series(macro: pl.LazyFrame, name: str) -> pl.LazyFrame:
    return macro.filter(pl.col("series") == name).select("date", "value").drop_nulls()


def _ratio(num: pl.LazyFrame, den: pl.LazyFrame) -> pl.LazyFrame:
    """num / den on the dates both have."""
    return num.join(den, on="date", suffix="_den").select(
        "date", value=pl.col("value") / pl.col("value_den")
    )


def _trend(series: pl.LazyFrame) -> pl.LazyFrame:
    """Value over its moving average of TREND_WINDOW observations, minus one."""
    return series.sort("date").select(
        "date", value=pl.col("value") / pl.col("value").rolling_mean(TREND_WINDOW) - 1.0
    )


def _tagged(series: pl.LazyFrame, indicator: str, family: str = "base") -> pl.LazyFrame:
    return series.select(
        "date", indicator=pl.lit(indicator), family=pl.lit(family), value="value"
    ).drop_nulls()


def macro_indicators(macro: pl.LazyFrame) -> pl.LazyFrame:
    """Long frame (date, indicator, family, value) of the raw and derived macro indicators."""
    merval = _series(macro, "merval")
    parts = [
        _tagged(_series(macro, "embi_spread_argentina_pct"), "embi"),
        _tagged(_series(macro, "bcra_policy_rate_pct"), "policy_rate"),
        _tagged(_trend(merval), "merval_trend"),
    ]
    for family, suffix in FAMILIES.items():
        ccl = _series(macro, "usdars_ccl" + suffix)
        official = _series(macro, "usdars_official" + suffix)
        cpi = _series(macro, "cpi_mom_pct" + suffix).with_columns(
            pl.col("date") + pl.duration(days=CPI_PUBLICATION_LAG_DAYS)
        )
        parts += [
            _tagged(ccl, "ccl", family),
            _tagged(official, "official", family),
            _tagged(_ratio(ccl, official).with_columns(pl.col("value") - 1.0), "gap", family),
            _tagged(_trend(_ratio(merval, ccl)), "merval_usd_trend", family),
            _tagged(cpi, "cpi", family),
        ]
    return pl.concat(parts)


def _as_of(indicators: pl.LazyFrame, dates: pl.LazyFrame) -> pl.LazyFrame:
    """Per (date, indicator, family): the latest value, its date, and the value CHANGE_DAYS back."""
    spec = pl.LazyFrame(
        {
            "indicator": list(INDICATORS),
            "group": [g for g, _ in INDICATORS.values()],
            "max_age": [a for _, a in INDICATORS.values()],
        }
    )
    families = pl.LazyFrame({"family": list(FAMILIES), "priority": range(len(FAMILIES))})
    obs = indicators.select("indicator", "family", obs_date="date", value="value").sort("obs_date")
    grid = (
        dates.join(spec.join(families, how="cross"), how="cross")
        .with_columns(prev_date=pl.col("date") - pl.duration(days=CHANGE_DAYS))
        .sort("date")
    )
    by = ["indicator", "family"]
    now = grid.join_asof(obs, left_on="date", right_on="obs_date", by=by, check_sortedness=False)
    prev = obs.rename({"obs_date": "prev_obs", "value": "value_prev"})
    both = now.join_asof(
        prev, left_on="prev_date", right_on="prev_obs", by=by, check_sortedness=False
    )
    age = (pl.col("date") - pl.col("obs_date")).dt.total_days()
    prev_age = (pl.col("prev_date") - pl.col("prev_obs")).dt.total_days()
    return both.with_columns(
        fresh=(age <= pl.col("max_age")).fill_null(False),
        value_prev=pl.when(prev_age <= pl.col("max_age")).then("value_prev"),
    )


def _choose_families(rows: pl.LazyFrame) -> pl.LazyFrame:
    """Keep, per (date, group), the family whose key indicator is freshest."""
    keys = [ind for ind, (group, _) in INDICATORS.items() if ind == _first_of(group)]
    chosen = (
        rows.filter(pl.col("indicator").is_in(keys) & pl.col("fresh"))
        .sort("date", "group", "obs_date", "priority", descending=[False, False, True, False])
        .group_by("date", "group")
        .agg(pl.col("family").first())
    )
    return rows.join(chosen, on=["date", "group", "family"], how="semi")


def _first_of(group: str) -> str:
    return next(ind for ind, (g, _) in INDICATORS.items() if g == group)


def _wide(rows: pl.LazyFrame) -> pl.LazyFrame:
    """One row per date: each indicator's value (NULL when stale), previous value and dates."""

    def of(name: str, column: str) -> pl.Expr:
        return pl.col(column).filter(pl.col("indicator") == name).first()

    groups = sorted({g for g, _ in INDICATORS.values()})
    return rows.group_by("date").agg(
        *[of(i, "value").alias(i) for i in INDICATORS],
        *[of(i, "value_prev").alias(f"{i}_prev") for i in INDICATORS],
        *[of(i, "obs_date").alias(f"{i}_asof") for i in INDICATORS],
        *[
            pl.col("family").filter(pl.col("group") == g).first().alias(f"{g}_family")
            for g in groups
        ],
    )


def score_macro(macro: pl.LazyFrame, dates: pl.LazyFrame) -> pl.LazyFrame:
    """Per date of `dates`: the macro indicators, sub-scores and `macro_score`."""
    rows = _as_of(macro_indicators(macro), dates.select("date").unique())
    fresh = _choose_families(rows).with_columns(
        pl.when("fresh").then(pl.col(c)).alias(c) for c in ("value", "value_prev")
    )
    last_seen = rows.group_by("date", "indicator").agg(pl.col("obs_date").max())
    stale = (
        last_seen.join(fresh.filter("fresh"), on=["date", "indicator"], how="anti")
        .group_by("date")
        .agg(
            pl.format("stale, ignored: {} (last {})", "indicator", "obs_date")
            .drop_nulls()
            .sort()
            .alias("macro_stale")
        )
    )
    subs = list(SUB_SCORES)
    n_available = pl.sum_horizontal(pl.col(s).is_not_null() for s in subs)
    return (
        dates.select("date")
        .unique()
        .join(_wide(fresh), on="date", how="left")
        .join(stale, on="date", how="left")
        .join(implied.ccl_used(macro), left_on="ccl_asof", right_on="date", how="left")
        .with_columns(linear_score(x, lo, hi).alias(s) for s, (x, lo, hi) in SUB_SCORES.items())
        .with_columns(
            *reason_columns("macro", [(n_available == 0, NO_FRESH_SERIES)]),
            macro_score=pl.mean_horizontal(subs).round(2),
            macro_completeness=n_available * (1.0 / len(subs)),
            usdars_ccl=pl.col("ccl"),
            usdars_official=pl.col("official"),
            ccl_source=implied.source_expr(pl.col("fx_family"), pl.col("ccl_pairs"), pl.col("ccl")),
        )
    )


def factors() -> list[Factor]:
    """Each macro sub-score's share of (macro score - 50), with its phrases for the summary."""
    return sub_score_factors(list(SUB_SCORES), DRIVERS)


def detail(source: str) -> dict[str, pl.Expr]:
    """The JSON columns of the macro detail row."""
    c = pl.col
    return {
        "raw_data": json_object(
            usdars_ccl=c("ccl").round(2),
            # Which CCL that is: the median of the ADR pairs (and how many), or the source's.
            ccl_source=c("ccl_source"),
            ccl_pairs=pl.when(c("ccl_source") == implied.FROM_PAIRS).then(c("ccl_pairs")),
            usdars_ccl_source=c("ccl_source_value").round(2),  # the source's CCL, same date
            usdars_official=c("official").round(2),
            embi_spread_pct=c("embi").round(2),
            cpi_mom_pct=c("cpi").round(2),
            policy_rate_pct=c("policy_rate").round(2),
            fx_family=c("fx_family"),
            cpi_family=c("cpi_family"),
        ),
        "indicators": json_object(
            gap=c("gap").round(4),
            gap_change=(c("gap") - c("gap_prev")).round(4),
            embi_change=(c("embi") / c("embi_prev") - 1.0).round(4),
            real_rate_monthly_pp=(c("policy_rate") * (1.0 / 12.0) - c("cpi")).round(2),
            merval_vs_sma200=c("merval_trend").round(4),
            merval_usd_vs_sma200=c("merval_usd_trend").round(4),
            sub_scores=pl.struct(c(s).round(2).alias(s.removeprefix("macro_")) for s in SUB_SCORES),
        ),
        "metadata": metadata_json(
            source,
            "macro",
            pl.struct(
                c(f"{i}_asof").alias(i)
                for i in ("gap", "embi", "cpi", "policy_rate", "merval_trend")
            ),
            pl.concat_list(
                warnings_list((c("fx_family") == "rava", "FX from the Rava family")),
                c("macro_stale").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            ),
        ),
    }
