-- The market view (issue 11): the macro score is the day's context, not part of any stock's
-- total, so it is stored once per analysis_date with its call, sub-scores and inputs. The
-- writer replaces a date's row in the same transaction as the date's calls.
CREATE TABLE market_view (
    analysis_date DATE NOT NULL PRIMARY KEY,
    macro_score DOUBLE,
    market_call VARCHAR(12) CHECK (market_call IN ('FAVORABLE', 'NEUTRAL', 'DESFAVORABLE')),
    macro_completeness DOUBLE,
    macro_gap_level DOUBLE,
    macro_gap_change DOUBLE,
    macro_embi_level DOUBLE,
    macro_embi_change DOUBLE,
    macro_inflation DOUBLE,
    macro_real_rate DOUBLE,
    macro_merval_ars DOUBLE,
    macro_merval_usd DOUBLE,
    usdars_ccl DOUBLE,
    usdars_official DOUBLE,
    exchange_gap DOUBLE,
    merval DOUBLE,
    merval_usd DOUBLE,
    merval_vs_sma200 DOUBLE,
    merval_usd_vs_sma200 DOUBLE,
    embi_spread_pct DOUBLE,
    cpi_mom_pct DOUBLE,
    policy_rate_pct DOUBLE,
    fx_family VARCHAR(10),
    macro_reason VARCHAR,
    job_run_id BIGINT,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

COMMENT ON TABLE market_view IS 'The market view: one row per analysis_date with the macro score (the same for every stock, not part of any total), its call, sub-scores and inputs';
COMMENT ON COLUMN market_view.analysis_date IS 'The session analysed (the same dates as daily_recommendations)';
COMMENT ON COLUMN market_view.macro_score IS '0-100: mean of the available sub-scores (daily_recommendations.macro_score); NULL when no macro series was fresh';
COMMENT ON COLUMN market_view.market_call IS 'FAVORABLE (macro_score >= 66.67), DESFAVORABLE (<= 33.33) or NEUTRAL: thirds of the 0-100 scale, fixed, not fitted; NULL without a score';
COMMENT ON COLUMN market_view.macro_completeness IS 'Share (0-1) of the 8 sub-scores that had fresh inputs';
COMMENT ON COLUMN market_view.macro_gap_level IS 'Sub-score 0-100 of the exchange gap: 0 at a 100 % gap, 100 at 5 %, linear between';
COMMENT ON COLUMN market_view.macro_gap_change IS 'Sub-score 0-100 of the gap''s 30-day change: 0 at +10 points, 100 at -10 points';
COMMENT ON COLUMN market_view.macro_embi_level IS 'Sub-score 0-100 of the EMBI spread: 0 at 25 %, 100 at 4 %';
COMMENT ON COLUMN market_view.macro_embi_change IS 'Sub-score 0-100 of the EMBI spread''s 30-day relative change: 0 at +15 %, 100 at -15 %';
COMMENT ON COLUMN market_view.macro_inflation IS 'Sub-score 0-100 of monthly CPI inflation: 0 at 10 %, 100 at 1 %';
COMMENT ON COLUMN market_view.macro_real_rate IS 'Sub-score 0-100 of the monthly real policy rate (policy rate / 12 - CPI): 0 at -4 points, 100 at +1';
COMMENT ON COLUMN market_view.macro_merval_ars IS 'Sub-score 0-100 of the Merval against its 200-observation average: 0 at -20 %, 100 at +20 %';
COMMENT ON COLUMN market_view.macro_merval_usd IS 'Sub-score 0-100 of the Merval in USD (through the CCL) against its 200-observation average: 0 at -20 %, 100 at +20 %';
COMMENT ON COLUMN market_view.usdars_ccl IS 'CCL rate (ARS per USD) the macro score used: latest value at most 10 days old, of the FX family chosen on the date';
COMMENT ON COLUMN market_view.usdars_official IS 'Official USD/ARS rate: latest value at most 10 days old, whatever the CCL''s freshness';
COMMENT ON COLUMN market_view.exchange_gap IS 'Exchange gap (brecha): CCL / official rate - 1, within one FX family (0.5 = 50 %)';
COMMENT ON COLUMN market_view.merval IS 'Merval index close in pesos: latest close at most 10 days old';
COMMENT ON COLUMN market_view.merval_usd IS 'Merval in USD: merval / usdars_ccl';
COMMENT ON COLUMN market_view.merval_vs_sma200 IS 'Merval over its 200-observation moving average, minus one';
COMMENT ON COLUMN market_view.merval_usd_vs_sma200 IS 'Merval in USD over its 200-observation moving average, minus one';
COMMENT ON COLUMN market_view.embi_spread_pct IS 'EMBI spread of Argentina, percentage points';
COMMENT ON COLUMN market_view.cpi_mom_pct IS 'Monthly CPI inflation, percent, counted from 15 days after the month it measures (publication lag)';
COMMENT ON COLUMN market_view.policy_rate_pct IS 'BCRA policy rate, annual percent';
COMMENT ON COLUMN market_view.fx_family IS 'Family of the CCL and gap series used: base (unsuffixed) or rava';
COMMENT ON COLUMN market_view.macro_reason IS 'Why macro_score is NULL (no fresh macro series); NULL when there is a score';
COMMENT ON COLUMN market_view.job_run_id IS 'job_runs.id of the run that wrote the row (backfill: simulado; daily_analysis: publicado)';
COMMENT ON COLUMN market_view.created_at IS 'When the row was written, UTC';
