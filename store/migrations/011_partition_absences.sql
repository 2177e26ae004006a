-- Two counts per partition, kept by the writer with the catalog, so the latest read finds
-- its day and whether any ticker is missing from it in one lookup of this small table
-- instead of counting known_tickers on every read.
ALTER TABLE partitions ADD COLUMN ended_tickers INTEGER DEFAULT 0;
ALTER TABLE partitions ADD COLUMN absent_tickers INTEGER DEFAULT 0;

UPDATE partitions p SET ended_tickers = c.ended_tickers, absent_tickers = c.absent_tickers
FROM (
    SELECT p.analysis_date,
           count(k.ticker) FILTER (WHERE k.last_date < p.analysis_date) AS ended_tickers,
           count(k.ticker) FILTER (WHERE k.first_date <= p.analysis_date
                                     AND k.last_date >= p.analysis_date)
           - any_value(p.recommendations) AS absent_tickers
    FROM partitions p, known_tickers k
    GROUP BY p.analysis_date
) c
WHERE p.analysis_date = c.analysis_date;

COMMENT ON COLUMN partitions.ended_tickers IS 'Tickers whose latest analysis_date (known_tickers.last_date) is before this day: their calls stopped earlier (kept by the writer)';
COMMENT ON COLUMN partitions.absent_tickers IS 'Tickers with no call on this day though their first and last analysis_date enclose it (known_tickers with first_date <= day <= last_date, less recommendations; kept by the writer)';
