-- Small catalog tables the writer rebuilds in the same transaction as the partitions, so
-- listing tickers and dates, and finding each ticker's latest call, read a few thousand
-- rows instead of the whole history.
CREATE TABLE known_tickers (
    ticker VARCHAR(10) NOT NULL,
    first_date DATE NOT NULL,
    last_date DATE NOT NULL
);
INSERT INTO known_tickers
SELECT ticker, min(analysis_date), max(analysis_date) FROM daily_recommendations GROUP BY ticker;

CREATE TABLE partitions (analysis_date DATE NOT NULL, recommendations INTEGER NOT NULL);
INSERT INTO partitions
SELECT analysis_date, count(*) FROM daily_recommendations GROUP BY analysis_date;

COMMENT ON TABLE known_tickers IS 'Every ticker with rows in daily_recommendations, with its first and last analysis_date (kept by the writer)';
COMMENT ON COLUMN known_tickers.ticker IS 'Yahoo symbol, as in daily_recommendations.ticker';
COMMENT ON COLUMN known_tickers.first_date IS 'Its earliest analysis_date';
COMMENT ON COLUMN known_tickers.last_date IS 'Its latest analysis_date';
COMMENT ON TABLE partitions IS 'Every analysis_date with rows in daily_recommendations (kept by the writer)';
COMMENT ON COLUMN partitions.analysis_date IS 'Trading day of the partition';
COMMENT ON COLUMN partitions.recommendations IS 'Rows of daily_recommendations on that day';
