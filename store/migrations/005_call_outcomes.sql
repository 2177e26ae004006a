-- What happened after each call (its forward returns at 5, 20 and 60 sessions), and which run
-- wrote each call (a backfill's calls are simulated after the fact, the daily job's published).
CREATE TABLE call_outcomes (
    analysis_date DATE NOT NULL,
    ticker VARCHAR(10) NOT NULL,
    horizon_sessions INTEGER NOT NULL CHECK (horizon_sessions > 0),
    entry VARCHAR(10) NOT NULL CHECK (entry IN ('close', 'next_close')),
    listing VARCHAR(4) NOT NULL CHECK (listing IN ('ADR', 'BYMA')),
    entry_date DATE NOT NULL,
    entry_price DOUBLE NOT NULL,
    exit_date DATE NOT NULL,
    exit_price DOUBLE NOT NULL,
    forward_return DOUBLE NOT NULL,
    benchmark_return DOUBLE,
    excess_return DOUBLE,
    universe_return DOUBLE NOT NULL,
    universe_excess_return DOUBLE NOT NULL,
    realised_volatility DOUBLE,
    target_low_return DOUBLE,
    target_high_return DOUBLE,
    job_run_id BIGINT,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    UNIQUE (analysis_date, ticker, horizon_sessions, entry)
);

ALTER TABLE daily_recommendations ADD COLUMN job_run_id BIGINT;

-- latest_recommendations (migration 4) selects r.*: rebuilt with the same columns as
-- before, so the new column does not shift its catalog entry (a view keeps the column
-- list it was created with).
CREATE OR REPLACE VIEW latest_recommendations AS
WITH latest AS (
    SELECT r.* EXCLUDE (job_run_id), exchange_of(r.ticker) AS exchange
    FROM daily_recommendations r
    JOIN known_tickers k ON k.ticker = r.ticker AND k.last_date = r.analysis_date
)
SELECT
    *,
    max(analysis_date) OVER (PARTITION BY exchange) - analysis_date AS days_since_latest,
    analysis_date = max(analysis_date) OVER (PARTITION BY exchange) AS is_current
FROM latest;

-- The calls with their outcomes, the origin of each call spelled out.
CREATE VIEW call_outcomes_with_calls AS
SELECT
    o.*,
    r.recommendation,
    r.total_score::DOUBLE AS total_score,
    r.confidence::DOUBLE AS confidence,
    r.technical_score::DOUBLE AS technical_score,
    r.fundamental_score::DOUBLE AS fundamental_score,
    r.macro_score::DOUBLE AS macro_score,
    r.sentiment_score::DOUBLE AS sentiment_score,
    r.current_price::DOUBLE AS current_price,
    r.target_price::DOUBLE AS target_price,
    r.risk_level,
    CASE WHEN j.job_name = 'daily_analysis' THEN 'publicado' ELSE 'simulado' END AS origin
FROM call_outcomes o
JOIN daily_recommendations r USING (analysis_date, ticker)
LEFT JOIN job_runs j ON j.id = r.job_run_id;

COMMENT ON TABLE call_outcomes IS 'One row per call, horizon and entry: the forward return after the call from adjusted closes, against the Merval and against the equal-weight listing group; filled by every run once the exit session has passed';
COMMENT ON COLUMN call_outcomes.analysis_date IS 'daily_recommendations.analysis_date of the call';
COMMENT ON COLUMN call_outcomes.ticker IS 'daily_recommendations.ticker of the call';
COMMENT ON COLUMN call_outcomes.horizon_sessions IS 'Holding period in sessions of the ticker''s exchange (5, 20 or 60)';
COMMENT ON COLUMN call_outcomes.entry IS 'close: bought at the close of analysis_date; next_close: at the close of the next session (calls are published the next morning)';
COMMENT ON COLUMN call_outcomes.listing IS 'ADR (NYSE, USD) or BYMA (.BA, ARS): the group of the benchmark and of the universe mean';
COMMENT ON COLUMN call_outcomes.entry_date IS 'Session of the entry close';
COMMENT ON COLUMN call_outcomes.entry_price IS 'Adjusted entry close expressed in exit-date terms (dividends and splits between entry and exit folded in), listing currency';
COMMENT ON COLUMN call_outcomes.exit_date IS 'The session horizon_sessions after entry_date on the ticker''s exchange';
COMMENT ON COLUMN call_outcomes.exit_price IS 'Close of the last bar on or before exit_date, as traded, listing currency';
COMMENT ON COLUMN call_outcomes.forward_return IS 'exit_price / entry_price - 1 (adjusted closes: total return), a plain fraction';
COMMENT ON COLUMN call_outcomes.benchmark_return IS 'Merval in USD through the CCL (ADR) or in pesos (BYMA) over the same dates; NULL when the series was missing or stale';
COMMENT ON COLUMN call_outcomes.excess_return IS 'forward_return - benchmark_return';
COMMENT ON COLUMN call_outcomes.universe_return IS 'Equal-weight mean forward_return of the same listing group''s calls of the same analysis_date, horizon and entry';
COMMENT ON COLUMN call_outcomes.universe_excess_return IS 'forward_return - universe_return';
COMMENT ON COLUMN call_outcomes.realised_volatility IS 'Sample standard deviation of the daily log returns from entry to exit, times sqrt(252); NULL with fewer than 2 returns';
COMMENT ON COLUMN call_outcomes.target_low_return IS 'Lower edge of the range the call stated, as a return at this horizon: target move x h/63 - annualised volatility x sqrt(h/252)';
COMMENT ON COLUMN call_outcomes.target_high_return IS 'Upper edge of that range: target move x h/63 + annualised volatility x sqrt(h/252)';
COMMENT ON COLUMN call_outcomes.job_run_id IS 'job_runs.id of the run that filled the row';
COMMENT ON COLUMN call_outcomes.created_at IS 'When the row was written, UTC';
COMMENT ON COLUMN daily_recommendations.job_run_id IS 'job_runs.id of the run that wrote the call (backfill: simulado; daily_analysis: publicado); NULL for calls written before migration 4 (origin unknown, counted as simulado)';
COMMENT ON VIEW latest_recommendations IS 'Each ticker at its latest analysis_date, with its exchange and how far that date is behind the latest date of the exchange';
COMMENT ON COLUMN latest_recommendations.id IS 'daily_recommendations.id';
COMMENT ON COLUMN latest_recommendations.analysis_date IS 'The ticker''s latest analysis_date';
COMMENT ON COLUMN latest_recommendations.ticker IS 'Yahoo symbol: BYMA symbols end in .BA, ADRs have no suffix';
COMMENT ON COLUMN latest_recommendations.recommendation IS 'COMPRAR, MANTENER or VENDER';
COMMENT ON COLUMN latest_recommendations.total_score IS '0-100, weighted mean of the component scores that exist';
COMMENT ON COLUMN latest_recommendations.confidence IS '0-100, data completeness and agreement between components';
COMMENT ON COLUMN latest_recommendations.technical_score IS '0-100 or NULL when there was not enough price history';
COMMENT ON COLUMN latest_recommendations.fundamental_score IS '0-100 or NULL when the source had no fundamentals';
COMMENT ON COLUMN latest_recommendations.macro_score IS '0-100 or NULL when no fresh macro series existed';
COMMENT ON COLUMN latest_recommendations.sentiment_score IS '0-100 or NULL when there were no headlines';
COMMENT ON COLUMN latest_recommendations.current_price IS 'Unadjusted close of analysis_date, listing currency (technical_daily.close is the adjusted one)';
COMMENT ON COLUMN latest_recommendations.target_price IS 'Indicative target in the listing currency';
COMMENT ON COLUMN latest_recommendations.risk_level IS 'BAJO, MEDIO or ALTO';
COMMENT ON COLUMN latest_recommendations.summary IS 'Two or three Spanish sentences naming the drivers of the call';
COMMENT ON COLUMN latest_recommendations.created_at IS 'When the row was written, UTC';
COMMENT ON COLUMN latest_recommendations.exchange IS 'XBUE (BYMA: .BA symbols and ^MERV) or XNYS (everything else)';
COMMENT ON COLUMN latest_recommendations.days_since_latest IS 'Calendar days from this call to the latest analysis_date of any ticker on the same exchange (0 = current)';
COMMENT ON COLUMN latest_recommendations.is_current IS 'True when this call is on the latest analysis_date of its exchange';
COMMENT ON VIEW call_outcomes_with_calls IS 'call_outcomes joined with their calls; origin is publicado for calls written by the daily job, simulado otherwise';
COMMENT ON COLUMN call_outcomes_with_calls.analysis_date IS 'daily_recommendations.analysis_date of the call';
COMMENT ON COLUMN call_outcomes_with_calls.ticker IS 'daily_recommendations.ticker of the call';
COMMENT ON COLUMN call_outcomes_with_calls.horizon_sessions IS 'Holding period in sessions of the ticker''s exchange (5, 20 or 60)';
COMMENT ON COLUMN call_outcomes_with_calls.entry IS 'close: bought at the close of analysis_date; next_close: at the close of the next session (calls are published the next morning)';
COMMENT ON COLUMN call_outcomes_with_calls.listing IS 'ADR (NYSE, USD) or BYMA (.BA, ARS): the group of the benchmark and of the universe mean';
COMMENT ON COLUMN call_outcomes_with_calls.entry_date IS 'Session of the entry close';
COMMENT ON COLUMN call_outcomes_with_calls.entry_price IS 'Adjusted entry close expressed in exit-date terms (dividends and splits between entry and exit folded in), listing currency';
COMMENT ON COLUMN call_outcomes_with_calls.exit_date IS 'The session horizon_sessions after entry_date on the ticker''s exchange';
COMMENT ON COLUMN call_outcomes_with_calls.exit_price IS 'Close of the last bar on or before exit_date, as traded, listing currency';
COMMENT ON COLUMN call_outcomes_with_calls.forward_return IS 'exit_price / entry_price - 1 (adjusted closes: total return), a plain fraction';
COMMENT ON COLUMN call_outcomes_with_calls.benchmark_return IS 'Merval in USD through the CCL (ADR) or in pesos (BYMA) over the same dates; NULL when the series was missing or stale';
COMMENT ON COLUMN call_outcomes_with_calls.excess_return IS 'forward_return - benchmark_return';
COMMENT ON COLUMN call_outcomes_with_calls.universe_return IS 'Equal-weight mean forward_return of the same listing group''s calls of the same analysis_date, horizon and entry';
COMMENT ON COLUMN call_outcomes_with_calls.universe_excess_return IS 'forward_return - universe_return';
COMMENT ON COLUMN call_outcomes_with_calls.realised_volatility IS 'Sample standard deviation of the daily log returns from entry to exit, times sqrt(252); NULL with fewer than 2 returns';
COMMENT ON COLUMN call_outcomes_with_calls.target_low_return IS 'Lower edge of the range the call stated, as a return at this horizon: target move x h/63 - annualised volatility x sqrt(h/252)';
COMMENT ON COLUMN call_outcomes_with_calls.target_high_return IS 'Upper edge of that range: target move x h/63 + annualised volatility x sqrt(h/252)';
COMMENT ON COLUMN call_outcomes_with_calls.job_run_id IS 'job_runs.id of the run that filled the row';
COMMENT ON COLUMN call_outcomes_with_calls.created_at IS 'When the row was written, UTC';
COMMENT ON COLUMN call_outcomes_with_calls.recommendation IS 'The call: COMPRAR, MANTENER or VENDER';
COMMENT ON COLUMN call_outcomes_with_calls.total_score IS 'The call''s total score, 0-100';
COMMENT ON COLUMN call_outcomes_with_calls.confidence IS 'The call''s confidence, 0-100';
COMMENT ON COLUMN call_outcomes_with_calls.technical_score IS 'The call''s technical score, 0-100 or NULL';
COMMENT ON COLUMN call_outcomes_with_calls.fundamental_score IS 'The call''s fundamental score, 0-100 or NULL';
COMMENT ON COLUMN call_outcomes_with_calls.macro_score IS 'The call''s macro score, 0-100 or NULL';
COMMENT ON COLUMN call_outcomes_with_calls.sentiment_score IS 'The call''s sentiment score, 0-100 or NULL';
COMMENT ON COLUMN call_outcomes_with_calls.current_price IS 'Unadjusted close of analysis_date, listing currency';
COMMENT ON COLUMN call_outcomes_with_calls.target_price IS 'The call''s indicative target, listing currency';
COMMENT ON COLUMN call_outcomes_with_calls.risk_level IS 'The call''s risk level: BAJO, MEDIO or ALTO';
COMMENT ON COLUMN call_outcomes_with_calls.origin IS 'publicado (written by the daily job) or simulado (by a backfill, or of unknown origin)';
