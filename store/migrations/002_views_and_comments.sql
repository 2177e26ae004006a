-- Views for data scientists and comments on every table and column.
CREATE VIEW latest_recommendations AS
SELECT r.*
FROM daily_recommendations r
QUALIFY r.analysis_date = max(r.analysis_date) OVER (PARTITION BY r.ticker);

CREATE VIEW job_health AS
SELECT
    job_name,
    count(*) AS runs,
    count(*) FILTER (WHERE status = 'completed') AS completed,
    count(*) FILTER (WHERE status = 'failed') AS failed,
    count(*) FILTER (WHERE status = 'running') AS running,
    round(100.0 * count(*) FILTER (WHERE status = 'completed')
          / nullif(count(*) FILTER (WHERE status <> 'running'), 0), 1) AS success_rate_pct,
    max(start_time) AS last_start_utc,
    max(end_time) FILTER (WHERE status = 'completed') AS last_success_utc,
    round(median(epoch(end_time - start_time)) FILTER (WHERE end_time IS NOT NULL), 1)
        AS median_duration_s
FROM job_runs
GROUP BY job_name;

COMMENT ON TABLE daily_recommendations IS 'One row per (analysis_date, ticker): the daily call. analysis_date is the exchange trading day whose close was analysed.';
COMMENT ON COLUMN daily_recommendations.id IS 'Surrogate key, referenced by analysis_details.recommendation_id';
COMMENT ON COLUMN daily_recommendations.analysis_date IS 'Trading day (exchange calendar: BYMA for .BA, NYSE otherwise) whose close was analysed';
COMMENT ON COLUMN daily_recommendations.ticker IS 'Yahoo symbol: BYMA symbols end in .BA, ADRs have no suffix';
COMMENT ON COLUMN daily_recommendations.recommendation IS 'COMPRAR, MANTENER or VENDER, from thresholds on total_score';
COMMENT ON COLUMN daily_recommendations.total_score IS '0-100, weighted mean of the component scores that exist';
COMMENT ON COLUMN daily_recommendations.confidence IS '0-100, data completeness and agreement between components';
COMMENT ON COLUMN daily_recommendations.technical_score IS '0-100 or NULL when there was not enough price history';
COMMENT ON COLUMN daily_recommendations.fundamental_score IS '0-100 or NULL when the source had no fundamentals';
COMMENT ON COLUMN daily_recommendations.macro_score IS '0-100 or NULL when no fresh macro series existed';
COMMENT ON COLUMN daily_recommendations.sentiment_score IS '0-100 or NULL when there were no headlines';
COMMENT ON COLUMN daily_recommendations.current_price IS 'Close of analysis_date, in the listing currency (USD for ADRs, ARS for .BA)';
COMMENT ON COLUMN daily_recommendations.target_price IS 'Indicative target in the listing currency';
COMMENT ON COLUMN daily_recommendations.risk_level IS 'BAJO, MEDIO or ALTO from volatility and drawdown';
COMMENT ON COLUMN daily_recommendations.summary IS 'Two or three Spanish sentences naming the drivers of the call';
COMMENT ON COLUMN daily_recommendations.created_at IS 'When the row was written, UTC';
COMMENT ON TABLE analysis_details IS 'Four rows per recommendation (technical, fundamental, macro, sentiment) with the inputs and indicators used';
COMMENT ON COLUMN analysis_details.id IS 'Surrogate key';
COMMENT ON COLUMN analysis_details.recommendation_id IS 'daily_recommendations.id this analysis belongs to';
COMMENT ON COLUMN analysis_details.analysis_type IS 'technical, fundamental, macro or sentiment';
COMMENT ON COLUMN analysis_details.raw_data IS 'JSON: the inputs used by this component';
COMMENT ON COLUMN analysis_details.indicators IS 'JSON: derived values (for technical: TA-Lib-compatible indicators)';
COMMENT ON COLUMN analysis_details.score IS '0-100 or NULL when the component had no data (metadata.reason says why)';
COMMENT ON COLUMN analysis_details.metadata IS 'JSON: source, as-of dates, completeness, warnings, reason when NULL';
COMMENT ON COLUMN analysis_details.created_at IS 'When the row was written, UTC';
COMMENT ON TABLE job_runs IS 'One row per pipeline run (daily run or backfill)';
COMMENT ON COLUMN job_runs.id IS 'Surrogate key';
COMMENT ON COLUMN job_runs.job_name IS 'daily_analysis, backfill, ...';
COMMENT ON COLUMN job_runs.start_time IS 'Run start, UTC';
COMMENT ON COLUMN job_runs.end_time IS 'Run end, UTC; NULL while running';
COMMENT ON COLUMN job_runs.status IS 'running, completed or failed';
COMMENT ON COLUMN job_runs.tickers_processed IS 'Tickers that got a recommendation';
COMMENT ON COLUMN job_runs.errors_count IS 'Per-ticker and per-analysis errors counted in log_data';
COMMENT ON COLUMN job_runs.log_data IS 'JSON: dates, source, per-ticker errors, errors by analysis type, stage timings, failure reason';
COMMENT ON COLUMN job_runs.created_at IS 'When the row was written, UTC';
COMMENT ON VIEW latest_recommendations IS 'Each ticker at its latest analysis_date';
COMMENT ON VIEW job_health IS 'Per job: runs, successes, failures, success rate, last run and median duration';
