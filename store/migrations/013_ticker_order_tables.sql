-- One ticker's history without scanning the whole history. A backfill writes spans of dates
-- with every ticker, so one ticker's 2,520 calls (and their technical details) sit in every
-- block of daily_recommendations and analysis_details: reading them scanned 12.6 M calls (and
-- joined 50.4 M details, parsing their JSON) at 5000 tickers x 2520 days. Two tables keep the
-- same rows in ticker order, written by the writer in the same transaction as the partitions
-- (each write's rows sorted by ticker and date), so a ticker's rows share one or two blocks:
-- ticker_calls, a copy of daily_recommendations, and technical_series, the technical
-- details' candle and chart indicators as DOUBLE columns (from_json of the same text, as
-- technical_daily parses them). No constraint or index: the writer keeps them in step.
CREATE TABLE ticker_calls AS
SELECT * FROM daily_recommendations ORDER BY ticker, analysis_date;

CREATE TABLE technical_series (
    ticker VARCHAR(10) NOT NULL,
    analysis_date DATE NOT NULL,
    open DOUBLE,
    high DOUBLE,
    low DOUBLE,
    close DOUBLE,
    volume DOUBLE,
    usdars_ccl DOUBLE,
    sma_20 DOUBLE,
    sma_50 DOUBLE,
    sma_200 DOUBLE,
    bb_upper DOUBLE,
    bb_middle DOUBLE,
    bb_lower DOUBLE,
    rsi_14 DOUBLE,
    macd DOUBLE,
    macd_signal DOUBLE,
    macd_hist DOUBLE
);

INSERT INTO technical_series
SELECT
    ticker, analysis_date,
    raw.open, raw.high, raw.low, raw.close, raw.volume, raw.usdars_ccl,
    ind.sma_20, ind.sma_50, ind.sma_200, ind.bb_upper, ind.bb_middle, ind.bb_lower,
    ind.rsi_14, ind.macd, ind.macd_signal, ind.macd_hist
FROM (
    SELECT
        r.ticker, r.analysis_date,
        from_json(d.raw_data, '{"open": "DOUBLE", "high": "DOUBLE", "low": "DOUBLE",
            "close": "DOUBLE", "volume": "DOUBLE", "usdars_ccl": "DOUBLE"}') AS raw,
        from_json(d.indicators, '{"sma_20": "DOUBLE", "sma_50": "DOUBLE",
            "sma_200": "DOUBLE", "bb_upper": "DOUBLE", "bb_middle": "DOUBLE",
            "bb_lower": "DOUBLE", "rsi_14": "DOUBLE", "macd": "DOUBLE",
            "macd_signal": "DOUBLE", "macd_hist": "DOUBLE"}') AS ind
    FROM daily_recommendations r
    JOIN analysis_details d ON d.recommendation_id = r.id AND d.analysis_type = 'technical'
)
ORDER BY ticker, analysis_date;

COMMENT ON TABLE ticker_calls IS 'Every row of daily_recommendations, the same columns and values, stored in ticker order (kept by the writer with the partitions), so one ticker''s calls read a block or two instead of the whole history';
COMMENT ON COLUMN ticker_calls.id IS 'daily_recommendations.id';
COMMENT ON COLUMN ticker_calls.analysis_date IS 'As daily_recommendations.analysis_date';
COMMENT ON COLUMN ticker_calls.ticker IS 'As daily_recommendations.ticker';
COMMENT ON COLUMN ticker_calls.recommendation IS 'As daily_recommendations.recommendation';
COMMENT ON COLUMN ticker_calls.total_score IS 'As daily_recommendations.total_score';
COMMENT ON COLUMN ticker_calls.confidence IS 'As daily_recommendations.confidence';
COMMENT ON COLUMN ticker_calls.technical_score IS 'As daily_recommendations.technical_score';
COMMENT ON COLUMN ticker_calls.fundamental_score IS 'As daily_recommendations.fundamental_score';
COMMENT ON COLUMN ticker_calls.macro_score IS 'As daily_recommendations.macro_score';
COMMENT ON COLUMN ticker_calls.sentiment_score IS 'As daily_recommendations.sentiment_score';
COMMENT ON COLUMN ticker_calls.current_price IS 'As daily_recommendations.current_price';
COMMENT ON COLUMN ticker_calls.target_price IS 'As daily_recommendations.target_price';
COMMENT ON COLUMN ticker_calls.risk_level IS 'As daily_recommendations.risk_level';
COMMENT ON COLUMN ticker_calls.summary IS 'As daily_recommendations.summary';
COMMENT ON COLUMN ticker_calls.created_at IS 'As daily_recommendations.created_at (when the call was written, UTC)';
COMMENT ON COLUMN ticker_calls.job_run_id IS 'As daily_recommendations.job_run_id';
COMMENT ON COLUMN ticker_calls.target_low IS 'As daily_recommendations.target_low';
COMMENT ON COLUMN ticker_calls.target_high IS 'As daily_recommendations.target_high';
COMMENT ON TABLE technical_series IS 'One row per call with a technical detail (analysis_date, ticker): the candle and the price chart''s indicators from that detail''s JSON as DOUBLE, written with the partition (kept by the writer), so one ticker''s chart reads no JSON';
COMMENT ON COLUMN technical_series.ticker IS 'Yahoo symbol, as in daily_recommendations.ticker';
COMMENT ON COLUMN technical_series.analysis_date IS 'Trading day whose close was analysed, as in daily_recommendations.analysis_date';
COMMENT ON COLUMN technical_series.open IS 'Open, adjusted for splits and dividends (technical_daily.open; raw_data.open)';
COMMENT ON COLUMN technical_series.high IS 'High, adjusted like open (raw_data.high)';
COMMENT ON COLUMN technical_series.low IS 'Low, adjusted like open (raw_data.low)';
COMMENT ON COLUMN technical_series.close IS 'Adjusted close: the close every indicator uses (raw_data.close)';
COMMENT ON COLUMN technical_series.volume IS 'Shares traded that day, NULL when the source has no volume (raw_data.volume)';
COMMENT ON COLUMN technical_series.usdars_ccl IS 'CCL dollar rate (ARS per USD) of the date, for USD views of .BA prices (raw_data.usdars_ccl)';
COMMENT ON COLUMN technical_series.sma_20 IS 'TA-Lib SMA(20) of the adjusted close (indicators.sma_20)';
COMMENT ON COLUMN technical_series.sma_50 IS 'TA-Lib SMA(50) of the adjusted close (indicators.sma_50)';
COMMENT ON COLUMN technical_series.sma_200 IS 'TA-Lib SMA(200) of the adjusted close (indicators.sma_200)';
COMMENT ON COLUMN technical_series.bb_upper IS 'TA-Lib Bollinger upper band (20, 2), population std (indicators.bb_upper)';
COMMENT ON COLUMN technical_series.bb_middle IS 'Bollinger middle band, = sma_20 (indicators.bb_middle)';
COMMENT ON COLUMN technical_series.bb_lower IS 'TA-Lib Bollinger lower band (20, 2) (indicators.bb_lower)';
COMMENT ON COLUMN technical_series.rsi_14 IS 'TA-Lib RSI(14), Wilder smoothing, 0-100 (indicators.rsi_14)';
COMMENT ON COLUMN technical_series.macd IS 'TA-Lib MACD(12, 26, 9) line (indicators.macd)';
COMMENT ON COLUMN technical_series.macd_signal IS 'TA-Lib MACD signal line, EMA 9 of macd (indicators.macd_signal)';
COMMENT ON COLUMN technical_series.macd_hist IS 'macd - macd_signal (indicators.macd_hist)';
