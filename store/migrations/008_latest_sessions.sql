-- latest_recommendations: is_current and days_since_latest measured against the exchange
-- calendar (the latest session of each exchange on or before the latest analysis_date of any
-- ticker), not the latest date of the same exchange, so a whole exchange whose feed stopped is
-- no longer current; the dashboard and `argenta query latest` use the same definition
-- (pipeline.analysis.calendar.freshness). The sessions come from a small catalog the writer
-- rebuilds with known_tickers; until the first write after this migration it is empty and the
-- view falls back to the former definition. Same columns, same order.

CREATE TABLE latest_sessions (
    exchange VARCHAR NOT NULL PRIMARY KEY,
    session_date DATE NOT NULL
);

CREATE OR REPLACE VIEW latest_recommendations AS
WITH latest AS (
    SELECT r.*, exchange_of(r.ticker) AS exchange
    FROM daily_recommendations r
    JOIN known_tickers k ON k.ticker = r.ticker AND k.last_date = r.analysis_date
),
expected AS (
    SELECT
        l.*,
        coalesce(
            (SELECT s.session_date FROM latest_sessions s WHERE s.exchange = l.exchange),
            max(l.analysis_date) OVER (PARTITION BY l.exchange)
        ) AS _session
    FROM latest l
)
SELECT
    * EXCLUDE (_session),
    greatest(_session - analysis_date, 0) AS days_since_latest,
    analysis_date >= _session AS is_current
FROM expected;

COMMENT ON TABLE latest_sessions IS 'Catalog: the latest session of each exchange''s calendar (XBUE, XNYS) on or before the latest analysis_date of any ticker; rebuilt by the writer with known_tickers in every partition replace';
COMMENT ON COLUMN latest_sessions.exchange IS 'XBUE (BYMA) or XNYS';
COMMENT ON COLUMN latest_sessions.session_date IS 'The exchange''s latest session on or before the latest analysis_date stored';
COMMENT ON VIEW latest_recommendations IS 'Each ticker at its latest analysis_date, with its exchange and how far that date is behind the latest session of the exchange''s calendar (as of the latest analysis_date stored)';
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
COMMENT ON COLUMN latest_recommendations.summary IS 'Two to four Spanish sentences: the call, since when and its relative total; the listing that set the company''s call when it is not this one; the stock''s own ranks for and against; a note when only the price factors count';
COMMENT ON COLUMN latest_recommendations.created_at IS 'When the row was written, UTC';
COMMENT ON COLUMN latest_recommendations.job_run_id IS 'job_runs.id of the run that wrote the call (backfill: simulado; daily_analysis: publicado); NULL for calls written before migration 5 (origin unknown, counted as simulado)';
COMMENT ON COLUMN latest_recommendations.target_low IS '10th percentile of the 63-session range: the close moved by the 10th percentile of the ticker''s past 63-session returns (3-year look-back), listing currency';
COMMENT ON COLUMN latest_recommendations.target_high IS '90th percentile of the 63-session range (see target_low); the range is meant to hold 80 % of outcomes';
COMMENT ON COLUMN latest_recommendations.exchange IS 'XBUE (BYMA: .BA symbols and ^MERV) or XNYS (everything else)';
COMMENT ON COLUMN latest_recommendations.days_since_latest IS 'Calendar days from this call to the latest session of its exchange''s calendar on or before the latest analysis_date of any ticker (latest_sessions; 0 = current). Before migration 8, and until the next write after it, measured against the latest analysis_date of the same exchange';
COMMENT ON COLUMN latest_recommendations.is_current IS 'True when this call is on the latest session of its exchange''s calendar on or before the latest analysis_date (latest_sessions): a whole exchange whose feed stopped is not current. The dashboard''s «Sin datos recientes» and argenta query latest use the same definition';
