"""The public tables' columns, pinned in one place: a change here is a change of the interface.

The columns are written out rather than read from the code on purpose, so that a column renamed or
dropped in the code fails the tests that use this pin.
"""

from __future__ import annotations

from pipeline.analysis.outcomes import OUTCOME_COLUMNS

PUBLIC_COLUMNS = {
    "daily_recommendations": [
        "id",
        "analysis_date",
        "ticker",
        "recommendation",
        "total_score",
        "confidence",
        "technical_score",
        "fundamental_score",
        "macro_score",
        "sentiment_score",
        "current_price",
        "target_price",
        "risk_level",
        "summary",
        "created_at",
        "job_run_id",
        "target_low",
        "target_high",
    ],
    "analysis_details": [
        "id",
        "recommendation_id",
        "analysis_type",
        "raw_data",
        "indicators",
        "score",
        "metadata",
        "created_at",
    ],
    "job_runs": [
        "id",
        "job_name",
        "start_time",
        "end_time",
        "status",
        "tickers_processed",
        "errors_count",
        "log_data",
        "created_at",
    ],
    # The columns the outcome writer fills, then the run and the time.
    "call_outcomes": [*OUTCOME_COLUMNS, "job_run_id", "created_at"],
    # The market view the writer stores per date, then the run and the time.
    "market_view": [
        "analysis_date",
        "macro_score",
        "market_call",
        "macro_completeness",
        "macro_gap_level",
        "macro_gap_change",
        "macro_embi_level",
        "macro_embi_change",
        "macro_inflation",
        "macro_real_rate",
        "macro_merval_ars",
        "macro_merval_usd",
        "usdars_ccl",
        "usdars_official",
        "exchange_gap",
        "merval",
        "merval_usd",
        "merval_vs_sma200",
        "merval_usd_vs_sma200",
        "embi_spread_pct",
        "cpi_mom_pct",
        "policy_rate_pct",
        "fx_family",
        "macro_reason",
        "job_run_id",
        "created_at",
    ],
    # migration 13: the calls and the chart's values in ticker order
    "technical_series": [
        "ticker",
        "analysis_date",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "usdars_ccl",
        "sma_20",
        "sma_50",
        "sma_200",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "rsi_14",
        "macd",
        "macd_signal",
        "macd_hist",
    ],
}
PUBLIC_COLUMNS["ticker_calls"] = PUBLIC_COLUMNS["daily_recommendations"]  # the same columns
