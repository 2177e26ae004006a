-- The typed research views parse each detail's metadata JSON once (one from_json into a
-- STRUCT) instead of once per field (->> per column): the same columns, types, rows and
-- comments, for less CPU in every query and export that reads them (issue 15's export).
-- A view made again loses its comments, so they are set again below, unchanged.

CREATE OR REPLACE VIEW technical_daily AS
SELECT
    r.id AS recommendation_id,
    r.analysis_date,
    r.ticker,
    exchange_of(r.ticker) AS exchange,
    t.score::DOUBLE AS technical_score,
    t.meta.completeness,
    coalesce(t.meta.reason_code, reason_code(t.meta.reason)) AS reason_code,
    t.meta.reason,
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
        recommendation_id, score,
        from_json(metadata, '{"completeness": "DOUBLE", "reason_code": "VARCHAR",
            "reason": "VARCHAR"}') AS meta,
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

CREATE OR REPLACE VIEW analysis_components AS
SELECT
    d.recommendation_id,
    r.analysis_date,
    r.ticker,
    d.analysis_type,
    d.score,
    d.meta.completeness,
    coalesce(d.meta.reason_code, reason_code(d.meta.reason)) AS reason_code,
    d.meta.reason,
    d.meta.warnings,
    d.meta.source
FROM daily_recommendations r
JOIN (
    SELECT
        recommendation_id, analysis_type, score::DOUBLE AS score,
        from_json(metadata, '{"completeness": "DOUBLE", "reason_code": "VARCHAR",
            "reason": "VARCHAR", "warnings": ["VARCHAR"], "source": "VARCHAR"}') AS meta
    FROM analysis_details
) d ON d.recommendation_id = r.id;

COMMENT ON VIEW technical_daily IS 'One row per (analysis_date, ticker): the technical detail as typed columns (prices, TA-Lib indicators, group ratings, votes); from migration 6 the ratings and votes are information, not the call';
COMMENT ON COLUMN technical_daily.recommendation_id IS 'daily_recommendations.id';
COMMENT ON COLUMN technical_daily.analysis_date IS 'Trading day whose close was analysed';
COMMENT ON COLUMN technical_daily.ticker IS 'Yahoo symbol';
COMMENT ON COLUMN technical_daily.exchange IS 'XBUE (BYMA) or XNYS';
COMMENT ON COLUMN technical_daily.technical_score IS '0-100 as daily_recommendations.technical_score (from migration 6 the rank of the price factors within the listing group), or NULL (see reason_code)';
COMMENT ON COLUMN technical_daily.completeness IS 'Share (0-1) of the inputs of technical_score present: the four price factors from migration 6 on, the 11 votes before';
COMMENT ON COLUMN technical_daily.reason_code IS 'Why technical_score is NULL: no_factor_history, too_few_peers or not_a_stock (short_history in rows of the first model); NULL when it is not';
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
COMMENT ON VIEW analysis_components IS 'One row per analysis detail: the component score, completeness, warnings and the NULL-score reason as code and text';
COMMENT ON COLUMN analysis_components.recommendation_id IS 'daily_recommendations.id';
COMMENT ON COLUMN analysis_components.analysis_date IS 'Trading day';
COMMENT ON COLUMN analysis_components.ticker IS 'Yahoo symbol';
COMMENT ON COLUMN analysis_components.analysis_type IS 'technical, fundamental, macro or sentiment';
COMMENT ON COLUMN analysis_components.score IS '0-100 as analysis_details.score, or NULL (reason_code says why)';
COMMENT ON COLUMN analysis_components.completeness IS 'Share (0-1) of the component''s inputs that were available';
COMMENT ON COLUMN analysis_components.reason_code IS 'Why score is NULL: no_factor_history, too_few_peers, not_a_stock, short_history, no_fundamentals, not_filed_yet, filing_too_old, no_usable_metric, no_fresh_macro, no_news_for_ticker, no_news_in_window, no_lexicon_words, other; NULL when there is a score';
COMMENT ON COLUMN analysis_components.reason IS 'The same reason as English text';
COMMENT ON COLUMN analysis_components.warnings IS 'Warnings of the component (inputs missing or stale)';
COMMENT ON COLUMN analysis_components.source IS 'Data source of the run (sample, files, yfinance)';
