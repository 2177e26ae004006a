-- Comments only: the columns whose COMMENT predates the stored reason codes (metadata.reason_code,
-- reason_params) or the relative model (migration 6) are described as they are now filled.
-- Nothing is renamed, dropped or rewritten; every row keeps its values.

COMMENT ON COLUMN analysis_details.score IS '0-100 as stored in the daily_recommendations column of this analysis_type (from migration 6 a rank within the listing group for technical, fundamental and sentiment; the market view for macro); NULL when the component had no data or too few peers (metadata.reason_code says why)';
COMMENT ON COLUMN analysis_details.indicators IS 'JSON: derived values. technical: TA-Lib-compatible indicators, the group ratings and votes (information, not the call), vote_score, the four price factors and their ranks (factors, factor_ranks), how the call was formed (call), the 63-session return percentiles (range_63) and the EWMA volatility; fundamental: ratios, sub-scores and level (the 0-100 score before ranking); macro: ratios and sub-scores; sentiment: lexicon hits and level';
COMMENT ON COLUMN analysis_details.metadata IS 'JSON: source, as_of (dates of the inputs used), completeness (0-1), warnings (English texts); when score is NULL, reason (English text), reason_code (machine code, listed on analysis_components.reason_code) and reason_params (an object of its values), null when there is a score; rows written before the codes have reason only';

COMMENT ON COLUMN daily_recommendations.summary IS 'Two to four Spanish sentences: the call, since when and its relative total; the listing that set the company''s call when it is not this one; the stock''s own ranks for and against; a note when only the price factors count';
COMMENT ON COLUMN daily_recommendations.job_run_id IS 'job_runs.id of the run that wrote the call (backfill: simulado; daily_analysis: publicado); NULL for calls written before migration 5 (origin unknown, counted as simulado)';
COMMENT ON COLUMN latest_recommendations.summary IS 'Two to four Spanish sentences: the call, since when and its relative total; the listing that set the company''s call when it is not this one; the stock''s own ranks for and against; a note when only the price factors count';

COMMENT ON COLUMN job_runs.errors_count IS 'Tickers without a call plus tickers the source failed on (the sum of log_data.errors_by_type)';
COMMENT ON COLUMN job_runs.log_data IS 'JSON, the run record (RunRecord in pipeline/ops/runlog.py): source, requested and written dates, days without data, failed tickers, dropped input rows, ticker errors and their counts by type, stage timings, rows written, retention, metrics (duration, tickers, database size, peak memory, CPU time), failure reason';

COMMENT ON VIEW technical_daily IS 'One row per (analysis_date, ticker): the technical detail as typed columns (prices, TA-Lib indicators, group ratings, votes); from migration 6 the ratings and votes are information, not the call';
COMMENT ON COLUMN technical_daily.technical_score IS '0-100 as daily_recommendations.technical_score (from migration 6 the rank of the price factors within the listing group), or NULL (see reason_code)';
COMMENT ON COLUMN technical_daily.completeness IS 'Share (0-1) of the inputs of technical_score present: the four price factors from migration 6 on, the 11 votes before';
COMMENT ON COLUMN technical_daily.reason_code IS 'Why technical_score is NULL: no_factor_history, too_few_peers or not_a_stock (short_history in rows of the first model); NULL when it is not';

COMMENT ON COLUMN analysis_components.score IS '0-100 as analysis_details.score, or NULL (reason_code says why)';
COMMENT ON COLUMN analysis_components.reason_code IS 'Why score is NULL: no_factor_history, too_few_peers, not_a_stock, short_history, no_fundamentals, not_filed_yet, filing_too_old, no_usable_metric, no_fresh_macro, no_news_for_ticker, no_news_in_window, no_lexicon_words, other; NULL when there is a score';

COMMENT ON COLUMN call_outcomes_with_calls.confidence IS 'The call''s confidence, 0-100 in rows of the first model; NULL from migration 6 on (no longer estimated)';
COMMENT ON COLUMN call_outcomes_with_calls.target_price IS 'The call''s target price (from migration 6 the median of the 63-session range), listing currency';
