-- The relative model (issue 11): target range columns, confidence no longer estimated,
-- and the columns' meanings under the new model. Rows written before keep their values.

-- The relative model's reasons: a score that cannot be ranked, a stock without a factor.
CREATE OR REPLACE MACRO reason_code(reason) AS CASE
    WHEN reason IS NULL THEN NULL
    WHEN starts_with(reason, 'not enough price history') THEN 'short_history'
    WHEN starts_with(reason, 'the source has no fundamentals') THEN 'no_fundamentals'
    WHEN starts_with(reason, 'no fundamentals filed') THEN 'not_filed_yet'
    WHEN starts_with(reason, 'latest filing') THEN 'filing_too_old'
    WHEN starts_with(reason, 'no usable metric') THEN 'no_usable_metric'
    WHEN starts_with(reason, 'no fresh macro series') THEN 'no_fresh_macro'
    WHEN starts_with(reason, 'the source supplied no headlines') THEN 'no_news_for_ticker'
    WHEN starts_with(reason, 'no headlines in the last') THEN 'no_news_in_window'
    WHEN starts_with(reason, 'no headline in the window') THEN 'no_lexicon_words'
    WHEN starts_with(reason, 'fewer than 5 stocks of the listing group') THEN 'too_few_peers'
    WHEN starts_with(reason, 'no value on this date') THEN 'short_history'
    WHEN starts_with(reason, 'an index or an exchange rate') THEN 'not_a_stock'
    ELSE 'other'
END;

ALTER TABLE daily_recommendations ALTER COLUMN confidence DROP NOT NULL;
ALTER TABLE daily_recommendations ADD COLUMN target_low DECIMAL(10, 2);
ALTER TABLE daily_recommendations ADD COLUMN target_high DECIMAL(10, 2);

COMMENT ON COLUMN daily_recommendations.recommendation IS 'COMPRAR, MANTENER or VENDER: top / bottom 20 % of the listing group by total_score on the first session of the month, held all month; the same for the ADR and the local share of one company';
COMMENT ON COLUMN daily_recommendations.total_score IS '0-100 relative: weighted mean of the stock''s component ranks within its listing group (50 = median stock); macro is not part of it';
COMMENT ON COLUMN daily_recommendations.confidence IS 'NULL from migration 6 on: no longer estimated (see README Methodology, Confidence); 0-100 in rows of the first model';
COMMENT ON COLUMN daily_recommendations.technical_score IS '0-100 rank within the listing group of the mean of the four price-factor ranks; NULL with too little clean history or fewer than 5 peers';
COMMENT ON COLUMN daily_recommendations.fundamental_score IS '0-100 rank among the stocks of the listing group that have fundamentals; NULL without them or with fewer than 5 such peers';
COMMENT ON COLUMN daily_recommendations.macro_score IS '0-100 market view of the date (the same for every ticker); not part of total_score';
COMMENT ON COLUMN daily_recommendations.sentiment_score IS '0-100 rank among the stocks of the listing group that have scored headlines; NULL without them or with fewer than 5 such peers';
COMMENT ON COLUMN daily_recommendations.target_price IS 'Median of the range: the close moved by the median of the ticker''s past 63-session returns (3-year look-back), listing currency';
COMMENT ON COLUMN daily_recommendations.risk_level IS 'BAJO, MEDIO or ALTO: tercile of the RiskMetrics EWMA volatility forecast within the listing group on the date';
COMMENT ON COLUMN daily_recommendations.target_low IS '10th percentile of the 63-session range: the close moved by the 10th percentile of the ticker''s past 63-session returns (3-year look-back), listing currency';
COMMENT ON COLUMN daily_recommendations.target_high IS '90th percentile of the 63-session range (see target_low); the range is meant to hold 80 % of outcomes';

-- The view lists the table's columns as they were when it was made: made again.
CREATE OR REPLACE VIEW latest_recommendations AS
WITH latest AS (
    SELECT r.*, exchange_of(r.ticker) AS exchange
    FROM daily_recommendations r
    JOIN known_tickers k ON k.ticker = r.ticker AND k.last_date = r.analysis_date
)
SELECT
    *,
    max(analysis_date) OVER (PARTITION BY exchange) - analysis_date AS days_since_latest,
    analysis_date = max(analysis_date) OVER (PARTITION BY exchange) AS is_current
FROM latest;

COMMENT ON VIEW latest_recommendations IS 'Each ticker at its latest analysis_date, with its exchange and how far that date is behind the latest date of the exchange';
COMMENT ON COLUMN latest_recommendations.id IS 'daily_recommendations.id';
COMMENT ON COLUMN latest_recommendations.analysis_date IS 'The ticker''s latest analysis_date';
COMMENT ON COLUMN latest_recommendations.ticker IS 'Yahoo symbol: BYMA symbols end in .BA, ADRs have no suffix';
COMMENT ON COLUMN latest_recommendations.recommendation IS 'COMPRAR, MANTENER or VENDER: top / bottom 20 % of the listing group by total_score on the first session of the month, held all month; the same for the ADR and the local share of one company';
COMMENT ON COLUMN latest_recommendations.total_score IS '0-100 relative: weighted mean of the stock''s component ranks within its listing group (50 = median stock); macro is not part of it';
COMMENT ON COLUMN latest_recommendations.confidence IS 'NULL from migration 6 on: no longer estimated (see README Methodology, Confidence); 0-100 in rows of the first model';
COMMENT ON COLUMN latest_recommendations.technical_score IS '0-100 rank within the listing group of the mean of the four price-factor ranks; NULL with too little clean history or fewer than 5 peers';
COMMENT ON COLUMN latest_recommendations.fundamental_score IS '0-100 rank among the stocks of the listing group that have fundamentals; NULL without them or with fewer than 5 such peers';
COMMENT ON COLUMN latest_recommendations.macro_score IS '0-100 market view of the date (the same for every ticker); not part of total_score';
COMMENT ON COLUMN latest_recommendations.sentiment_score IS '0-100 rank among the stocks of the listing group that have scored headlines; NULL without them or with fewer than 5 such peers';
COMMENT ON COLUMN latest_recommendations.current_price IS 'Unadjusted close of analysis_date, listing currency (technical_daily.close is the adjusted one)';
COMMENT ON COLUMN latest_recommendations.target_price IS 'Median of the range: the close moved by the median of the ticker''s past 63-session returns (3-year look-back), listing currency';
COMMENT ON COLUMN latest_recommendations.risk_level IS 'BAJO, MEDIO or ALTO: tercile of the RiskMetrics EWMA volatility forecast within the listing group on the date';
COMMENT ON COLUMN latest_recommendations.summary IS 'Two or three Spanish sentences naming the drivers of the call';
COMMENT ON COLUMN latest_recommendations.target_low IS '10th percentile of the 63-session range: the close moved by the 10th percentile of the ticker''s past 63-session returns (3-year look-back), listing currency';
COMMENT ON COLUMN latest_recommendations.target_high IS '90th percentile of the 63-session range (see target_low); the range is meant to hold 80 % of outcomes';
COMMENT ON COLUMN latest_recommendations.job_run_id IS 'job_runs.id of the run that wrote the call (backfill: simulado; daily_analysis: publicado); NULL for calls written before migration 5 (origin unknown, counted as simulado)';
COMMENT ON COLUMN latest_recommendations.created_at IS 'When the row was written, UTC';
COMMENT ON COLUMN latest_recommendations.exchange IS 'XBUE (BYMA: .BA symbols and ^MERV) or XNYS (everything else)';
COMMENT ON COLUMN latest_recommendations.days_since_latest IS 'Calendar days from this call to the latest analysis_date of any ticker on the same exchange (0 = current)';
COMMENT ON COLUMN latest_recommendations.is_current IS 'True when this call is on the latest analysis_date of its exchange';

-- The stated range of a relative-model call (target_low / target_high) at each horizon.
COMMENT ON COLUMN call_outcomes.target_low_return IS 'Lower edge of the range the call stated, as a return at this horizon: relative model exp(ln(target_price/close) x h/63 + ln(target_low/target_price) x sqrt(h/63)) - 1; first model target move x h/63 - annualised volatility x sqrt(h/252)';
COMMENT ON COLUMN call_outcomes.target_high_return IS 'Upper edge of that range: relative model with target_high in place of target_low; first model target move x h/63 + annualised volatility x sqrt(h/252)';
COMMENT ON COLUMN call_outcomes_with_calls.target_low_return IS 'Lower edge of the range the call stated, as a return at this horizon: relative model exp(ln(target_price/close) x h/63 + ln(target_low/target_price) x sqrt(h/63)) - 1; first model target move x h/63 - annualised volatility x sqrt(h/252)';
COMMENT ON COLUMN call_outcomes_with_calls.target_high_return IS 'Upper edge of that range: relative model with target_high in place of target_low; first model target move x h/63 + annualised volatility x sqrt(h/252)';
