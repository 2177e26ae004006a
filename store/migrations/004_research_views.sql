-- Typed research views over the JSON details, freshness columns on latest_recommendations,
-- machine-readable reason codes, and a comment on every column of every table and view.

-- The machine-readable code of a component's NULL-score reason (metadata.reason). A
-- detail written with its own metadata.reason_code keeps it; older rows are mapped by
-- the fixed wording of each reason. NULL when there is no reason.
CREATE MACRO reason_code(reason) AS CASE
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
    ELSE 'other'
END;

-- The exchange whose calendar a ticker follows (as pipeline/analysis/calendar.py).
CREATE MACRO exchange_of(ticker) AS
    CASE WHEN ticker LIKE '%.BA' OR ticker = '^MERV' THEN 'XBUE' ELSE 'XNYS' END;

-- Same columns as before, then the exchange and the freshness of each ticker's latest
-- call. Reads each ticker's latest date from the known_tickers catalog (no window over
-- the whole history).
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

-- One row per (analysis_date, ticker): the technical detail's prices, indicators, group
-- ratings and votes as typed columns.
CREATE VIEW technical_daily AS
SELECT
    r.id AS recommendation_id,
    r.analysis_date,
    r.ticker,
    exchange_of(r.ticker) AS exchange,
    t.score::DOUBLE AS technical_score,
    (t.metadata->>'completeness')::DOUBLE AS completeness,
    coalesce(t.metadata->>'reason_code', reason_code(t.metadata->>'reason')) AS reason_code,
    t.metadata->>'reason' AS reason,
    t.raw.open, t.raw.high, t.raw.low, t.raw.close, t.raw.close_raw, t.raw.adj_close,
    t.raw.volume, t.raw.usdars_ccl,
    t.ind.sma_20, t.ind.sma_50, t.ind.sma_200, t.ind.ema_12, t.ind.ema_26,
    t.ind.macd, t.ind.macd_signal, t.ind.macd_hist, t.ind.rsi_14,
    t.ind.bb_upper, t.ind.bb_middle, t.ind.bb_lower, t.ind.atr_14,
    t.ind.log_return, t.ind.return_20d, t.ind.return_60d, t.ind.return_252d,
    t.ind.volatility_20, t.ind.volume_sma_20, t.ind.high_252, t.ind.drawdown_252,
    t.ind.ratings.trend AS rating_trend,
    t.ind.ratings.momentum AS rating_momentum,
    t.ind.ratings.volatility AS rating_volatility,
    t.ind.ratings.volume AS rating_volume,
    t.ind.votes.close_vs_sma_20 AS vote_close_vs_sma_20,
    t.ind.votes.close_vs_sma_50 AS vote_close_vs_sma_50,
    t.ind.votes.close_vs_sma_200 AS vote_close_vs_sma_200,
    t.ind.votes.sma_50_vs_sma_200 AS vote_sma_50_vs_sma_200,
    t.ind.votes.rsi_14 AS vote_rsi_14,
    t.ind.votes.macd_vs_signal AS vote_macd_vs_signal,
    t.ind.votes.return_20d AS vote_return_20d,
    t.ind.votes.bollinger AS vote_bollinger,
    t.ind.votes.volatility_20 AS vote_volatility_20,
    t.ind.votes.volume_spike AS vote_volume_spike,
    t.ind.votes.volume_confirms_trend AS vote_volume_confirms_trend
FROM daily_recommendations r
JOIN (
    SELECT
        recommendation_id, score, metadata,
        from_json(raw_data, '{"open": "DOUBLE", "high": "DOUBLE", "low": "DOUBLE",
            "close": "DOUBLE", "close_raw": "DOUBLE", "adj_close": "DOUBLE",
            "volume": "DOUBLE", "usdars_ccl": "DOUBLE"}') AS raw,
        from_json(indicators, '{"sma_20": "DOUBLE", "sma_50": "DOUBLE", "sma_200": "DOUBLE",
            "ema_12": "DOUBLE", "ema_26": "DOUBLE", "macd": "DOUBLE", "macd_signal": "DOUBLE",
            "macd_hist": "DOUBLE", "rsi_14": "DOUBLE", "bb_upper": "DOUBLE",
            "bb_middle": "DOUBLE", "bb_lower": "DOUBLE", "atr_14": "DOUBLE",
            "log_return": "DOUBLE", "return_20d": "DOUBLE", "return_60d": "DOUBLE",
            "return_252d": "DOUBLE", "volatility_20": "DOUBLE", "volume_sma_20": "DOUBLE",
            "high_252": "DOUBLE", "drawdown_252": "DOUBLE",
            "ratings": {"trend": "DOUBLE", "momentum": "DOUBLE", "volatility": "DOUBLE",
                        "volume": "DOUBLE"},
            "votes": {"close_vs_sma_20": "TINYINT", "close_vs_sma_50": "TINYINT",
                      "close_vs_sma_200": "TINYINT", "sma_50_vs_sma_200": "TINYINT",
                      "rsi_14": "TINYINT", "macd_vs_signal": "TINYINT",
                      "return_20d": "TINYINT", "bollinger": "TINYINT",
                      "volatility_20": "TINYINT", "volume_spike": "TINYINT",
                      "volume_confirms_trend": "TINYINT"}}') AS ind
    FROM analysis_details
    WHERE analysis_type = 'technical'
) t ON t.recommendation_id = r.id;

-- One row per analysis_date: the macro detail, which is the same for every ticker of a
-- date (the first ticker's row is read).
CREATE VIEW macro_daily AS
SELECT
    m.analysis_date,
    m.score::DOUBLE AS macro_score,
    (m.metadata->>'completeness')::DOUBLE AS completeness,
    coalesce(m.metadata->>'reason_code', reason_code(m.metadata->>'reason')) AS reason_code,
    m.metadata->>'reason' AS reason,
    m.raw.usdars_ccl, m.raw.usdars_official, m.raw.embi_spread_pct, m.raw.cpi_mom_pct,
    m.raw.policy_rate_pct, m.raw.fx_family, m.raw.cpi_family,
    m.ind.gap, m.ind.gap_change, m.ind.embi_change, m.ind.real_rate_monthly_pp,
    m.ind.merval_vs_sma200, m.ind.merval_usd_vs_sma200,
    m.ind.sub_scores.gap_level AS sub_score_gap_level,
    m.ind.sub_scores.gap_change AS sub_score_gap_change,
    m.ind.sub_scores.embi_level AS sub_score_embi_level,
    m.ind.sub_scores.embi_change AS sub_score_embi_change,
    m.ind.sub_scores.inflation AS sub_score_inflation,
    m.ind.sub_scores.real_rate AS sub_score_real_rate,
    m.ind.sub_scores.merval_ars AS sub_score_merval_ars,
    m.ind.sub_scores.merval_usd AS sub_score_merval_usd
FROM (
    SELECT
        r.analysis_date, d.score, d.metadata,
        from_json(d.raw_data, '{"usdars_ccl": "DOUBLE", "usdars_official": "DOUBLE",
            "embi_spread_pct": "DOUBLE", "cpi_mom_pct": "DOUBLE", "policy_rate_pct": "DOUBLE",
            "fx_family": "VARCHAR", "cpi_family": "VARCHAR"}') AS raw,
        from_json(d.indicators, '{"gap": "DOUBLE", "gap_change": "DOUBLE",
            "embi_change": "DOUBLE", "real_rate_monthly_pp": "DOUBLE",
            "merval_vs_sma200": "DOUBLE", "merval_usd_vs_sma200": "DOUBLE",
            "sub_scores": {"gap_level": "DOUBLE", "gap_change": "DOUBLE",
                "embi_level": "DOUBLE", "embi_change": "DOUBLE", "inflation": "DOUBLE",
                "real_rate": "DOUBLE", "merval_ars": "DOUBLE", "merval_usd": "DOUBLE"}}') AS ind
    FROM daily_recommendations r
    JOIN analysis_details d ON d.recommendation_id = r.id AND d.analysis_type = 'macro'
    QUALIFY row_number() OVER (PARTITION BY r.analysis_date ORDER BY r.ticker) = 1
) m;

-- One row per detail: each component's score, completeness, warnings and, when the score
-- is NULL, the reason as a code and as text.
CREATE VIEW analysis_components AS
SELECT
    d.recommendation_id,
    r.analysis_date,
    r.ticker,
    d.analysis_type,
    d.score::DOUBLE AS score,
    (d.metadata->>'completeness')::DOUBLE AS completeness,
    coalesce(d.metadata->>'reason_code', reason_code(d.metadata->>'reason')) AS reason_code,
    d.metadata->>'reason' AS reason,
    from_json(d.metadata->'warnings', '["VARCHAR"]') AS warnings,
    d.metadata->>'source' AS source
FROM daily_recommendations r
JOIN analysis_details d ON d.recommendation_id = r.id;

COMMENT ON TABLE schema_migrations IS 'Every schema migration applied to this file (store/migrations/NNN_name.sql)';
COMMENT ON COLUMN schema_migrations.version IS 'Migration number (NNN of the file name)';
COMMENT ON COLUMN schema_migrations.name IS 'Migration name (the file name without number and .sql)';
COMMENT ON COLUMN schema_migrations.applied_at IS 'When it was applied, UTC';

COMMENT ON COLUMN job_health.job_name IS 'daily_analysis, backfill, ...';
COMMENT ON COLUMN job_health.runs IS 'Runs recorded for this job';
COMMENT ON COLUMN job_health.completed IS 'Runs that completed';
COMMENT ON COLUMN job_health.failed IS 'Runs that failed';
COMMENT ON COLUMN job_health.running IS 'Runs still marked running';
COMMENT ON COLUMN job_health.success_rate_pct IS 'completed / finished runs, percent (NULL when none finished)';
COMMENT ON COLUMN job_health.last_start_utc IS 'Start of the latest run, UTC';
COMMENT ON COLUMN job_health.last_success_utc IS 'End of the latest completed run, UTC';
COMMENT ON COLUMN job_health.median_duration_s IS 'Median duration of the finished runs, seconds';

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

COMMENT ON VIEW technical_daily IS 'One row per (analysis_date, ticker): the technical detail as typed columns (prices, TA-Lib indicators, group ratings, votes)';
COMMENT ON COLUMN technical_daily.recommendation_id IS 'daily_recommendations.id';
COMMENT ON COLUMN technical_daily.analysis_date IS 'Trading day whose close was analysed';
COMMENT ON COLUMN technical_daily.ticker IS 'Yahoo symbol';
COMMENT ON COLUMN technical_daily.exchange IS 'XBUE (BYMA) or XNYS';
COMMENT ON COLUMN technical_daily.technical_score IS '0-100 or NULL (see reason_code)';
COMMENT ON COLUMN technical_daily.completeness IS 'Share (0-1) of the 11 votes that are not NULL';
COMMENT ON COLUMN technical_daily.reason_code IS 'Why technical_score is NULL (short_history), NULL when it is not';
COMMENT ON COLUMN technical_daily.reason IS 'The same reason as text';
COMMENT ON COLUMN technical_daily.open IS 'Open, adjusted for splits and dividends (x adj_close/close_raw)';
COMMENT ON COLUMN technical_daily.high IS 'High, adjusted like open';
COMMENT ON COLUMN technical_daily.low IS 'Low, adjusted like open';
COMMENT ON COLUMN technical_daily.close IS 'Adjusted close (splits and dividends): the close every indicator uses';
COMMENT ON COLUMN technical_daily.close_raw IS 'Close as traded (unadjusted), = daily_recommendations.current_price';
COMMENT ON COLUMN technical_daily.adj_close IS 'The source''s adjusted close (NULL when it gave none; close then equals close_raw)';
COMMENT ON COLUMN technical_daily.volume IS 'Shares traded that day (NULL when the source has no volume)';
COMMENT ON COLUMN technical_daily.usdars_ccl IS 'CCL dollar rate (ARS per USD) of the date, for USD views of .BA prices';
COMMENT ON COLUMN technical_daily.sma_20 IS 'TA-Lib SMA(20) of the adjusted close';
COMMENT ON COLUMN technical_daily.sma_50 IS 'TA-Lib SMA(50) of the adjusted close';
COMMENT ON COLUMN technical_daily.sma_200 IS 'TA-Lib SMA(200) of the adjusted close';
COMMENT ON COLUMN technical_daily.ema_12 IS 'TA-Lib EMA(12) of the adjusted close';
COMMENT ON COLUMN technical_daily.ema_26 IS 'TA-Lib EMA(26) of the adjusted close';
COMMENT ON COLUMN technical_daily.macd IS 'TA-Lib MACD(12, 26, 9) line';
COMMENT ON COLUMN technical_daily.macd_signal IS 'TA-Lib MACD signal line (EMA 9 of macd)';
COMMENT ON COLUMN technical_daily.macd_hist IS 'macd - macd_signal';
COMMENT ON COLUMN technical_daily.rsi_14 IS 'TA-Lib RSI(14), Wilder smoothing, 0-100';
COMMENT ON COLUMN technical_daily.bb_upper IS 'TA-Lib Bollinger upper band (20, 2), population std';
COMMENT ON COLUMN technical_daily.bb_middle IS 'Bollinger middle band (= sma_20)';
COMMENT ON COLUMN technical_daily.bb_lower IS 'TA-Lib Bollinger lower band (20, 2)';
COMMENT ON COLUMN technical_daily.atr_14 IS 'TA-Lib ATR(14), Wilder smoothing; NULL without high/low';
COMMENT ON COLUMN technical_daily.log_return IS 'ln(close / previous close)';
COMMENT ON COLUMN technical_daily.return_20d IS 'close / close 20 bars earlier - 1 (fraction)';
COMMENT ON COLUMN technical_daily.return_60d IS 'close / close 60 bars earlier - 1 (fraction)';
COMMENT ON COLUMN technical_daily.return_252d IS 'close / close 252 bars earlier - 1 (fraction)';
COMMENT ON COLUMN technical_daily.volatility_20 IS 'Sample std of the last 20 log returns x sqrt(252) (annualised fraction)';
COMMENT ON COLUMN technical_daily.volume_sma_20 IS 'Mean volume over 20 bars';
COMMENT ON COLUMN technical_daily.high_252 IS 'Highest adjusted close of the last 252 bars';
COMMENT ON COLUMN technical_daily.drawdown_252 IS 'close / high_252 - 1 (fraction, <= 0)';
COMMENT ON COLUMN technical_daily.rating_trend IS 'Mean of the trend votes, -1..1';
COMMENT ON COLUMN technical_daily.rating_momentum IS 'Mean of the momentum votes, -1..1';
COMMENT ON COLUMN technical_daily.rating_volatility IS 'Mean of the volatility votes, -1..1';
COMMENT ON COLUMN technical_daily.rating_volume IS 'Mean of the volume votes, -1..1 (NULL without volume)';
COMMENT ON COLUMN technical_daily.vote_close_vs_sma_20 IS 'Vote +1 buy / -1 sell / 0 neutral: close vs SMA 20';
COMMENT ON COLUMN technical_daily.vote_close_vs_sma_50 IS 'Vote: close vs SMA 50';
COMMENT ON COLUMN technical_daily.vote_close_vs_sma_200 IS 'Vote: close vs SMA 200';
COMMENT ON COLUMN technical_daily.vote_sma_50_vs_sma_200 IS 'Vote: SMA 50 vs SMA 200 (golden/death cross)';
COMMENT ON COLUMN technical_daily.vote_rsi_14 IS 'Vote: RSI < 30 buy, > 70 sell';
COMMENT ON COLUMN technical_daily.vote_macd_vs_signal IS 'Vote: MACD vs its signal line';
COMMENT ON COLUMN technical_daily.vote_return_20d IS 'Vote: sign of the 20-day return';
COMMENT ON COLUMN technical_daily.vote_bollinger IS 'Vote: close below the lower band buy, above the upper band sell';
COMMENT ON COLUMN technical_daily.vote_volatility_20 IS 'Vote: volatility_20 < 30 % buy, > 60 % sell';
COMMENT ON COLUMN technical_daily.vote_volume_spike IS 'Vote: volume >= 1.5 x its 20-day mean, in the day''s direction';
COMMENT ON COLUMN technical_daily.vote_volume_confirms_trend IS 'Vote: volume above its mean confirming the 20-day return';

COMMENT ON VIEW macro_daily IS 'One row per analysis_date: the macro detail (the same for every ticker of a date) as typed columns';
COMMENT ON COLUMN macro_daily.analysis_date IS 'Trading day';
COMMENT ON COLUMN macro_daily.macro_score IS '0-100 or NULL (see reason_code)';
COMMENT ON COLUMN macro_daily.completeness IS 'Share (0-1) of the 8 sub-scores available';
COMMENT ON COLUMN macro_daily.reason_code IS 'Why macro_score is NULL (no_fresh_macro), NULL when it is not';
COMMENT ON COLUMN macro_daily.reason IS 'The same reason as text';
COMMENT ON COLUMN macro_daily.usdars_ccl IS 'CCL dollar rate, ARS per USD';
COMMENT ON COLUMN macro_daily.usdars_official IS 'Official (BCRA) dollar rate, ARS per USD';
COMMENT ON COLUMN macro_daily.embi_spread_pct IS 'EMBI Argentina spread, percentage points';
COMMENT ON COLUMN macro_daily.cpi_mom_pct IS 'Monthly CPI inflation, percent (as known on the date)';
COMMENT ON COLUMN macro_daily.policy_rate_pct IS 'BCRA policy rate, percent a year';
COMMENT ON COLUMN macro_daily.fx_family IS 'Series family used for the exchange rates (base or rava)';
COMMENT ON COLUMN macro_daily.cpi_family IS 'Series family used for CPI (base or rava)';
COMMENT ON COLUMN macro_daily.gap IS 'CCL / official - 1 (fraction)';
COMMENT ON COLUMN macro_daily.gap_change IS 'gap - gap 30 calendar days earlier';
COMMENT ON COLUMN macro_daily.embi_change IS 'EMBI / EMBI 30 calendar days earlier - 1';
COMMENT ON COLUMN macro_daily.real_rate_monthly_pp IS 'Policy rate / 12 - monthly CPI, percentage points a month';
COMMENT ON COLUMN macro_daily.merval_vs_sma200 IS 'Merval / its 200-observation mean - 1 (pesos)';
COMMENT ON COLUMN macro_daily.merval_usd_vs_sma200 IS 'Merval in CCL dollars / its 200-observation mean - 1';
COMMENT ON COLUMN macro_daily.sub_score_gap_level IS 'Sub-score 0-100: gap level (100 % worst, 5 % best)';
COMMENT ON COLUMN macro_daily.sub_score_gap_change IS 'Sub-score 0-100: gap change (+10 pp worst, -10 pp best)';
COMMENT ON COLUMN macro_daily.sub_score_embi_level IS 'Sub-score 0-100: EMBI level (25 worst, 4 best)';
COMMENT ON COLUMN macro_daily.sub_score_embi_change IS 'Sub-score 0-100: EMBI change (+15 % worst, -15 % best)';
COMMENT ON COLUMN macro_daily.sub_score_inflation IS 'Sub-score 0-100: monthly CPI (10 % worst, 1 % best)';
COMMENT ON COLUMN macro_daily.sub_score_real_rate IS 'Sub-score 0-100: real policy rate (-4 pp worst, +1 pp best)';
COMMENT ON COLUMN macro_daily.sub_score_merval_ars IS 'Sub-score 0-100: Merval trend in pesos (-20 % worst, +20 % best)';
COMMENT ON COLUMN macro_daily.sub_score_merval_usd IS 'Sub-score 0-100: Merval trend in dollars (-20 % worst, +20 % best)';

COMMENT ON VIEW analysis_components IS 'One row per analysis detail: the component score, completeness, warnings and the NULL-score reason as code and text';
COMMENT ON COLUMN analysis_components.recommendation_id IS 'daily_recommendations.id';
COMMENT ON COLUMN analysis_components.analysis_date IS 'Trading day';
COMMENT ON COLUMN analysis_components.ticker IS 'Yahoo symbol';
COMMENT ON COLUMN analysis_components.analysis_type IS 'technical, fundamental, macro or sentiment';
COMMENT ON COLUMN analysis_components.score IS '0-100 or NULL when the component had no data';
COMMENT ON COLUMN analysis_components.completeness IS 'Share (0-1) of the component''s inputs that were available';
COMMENT ON COLUMN analysis_components.reason_code IS 'Why score is NULL: short_history, no_fundamentals, not_filed_yet, filing_too_old, no_usable_metric, no_fresh_macro, no_news_for_ticker, no_news_in_window, no_lexicon_words, other; NULL when there is a score';
COMMENT ON COLUMN analysis_components.reason IS 'The same reason as English text';
COMMENT ON COLUMN analysis_components.warnings IS 'Warnings of the component (inputs missing or stale)';
COMMENT ON COLUMN analysis_components.source IS 'Data source of the run (sample, files, yfinance)';
