-- The stored total is the one that set the month's call: the total on the formation session
-- (the month's first) of the listing that decided the company's call, held all month. The
-- day's own total is in the technical detail (indicators.call.daily_total). Comments only.
COMMENT ON COLUMN daily_recommendations.total_score IS '0-100 relative total that set the month''s call: the weighted mean of the stock''s component ranks within its listing group (50 = median stock) on the first session of the month, of the listing that decided the company''s call, held all month; the day''s own total is indicators.call.daily_total in the technical detail; macro is not part of it';
COMMENT ON COLUMN latest_recommendations.total_score IS '0-100 relative total that set the month''s call (on the first session of the month, held all month; see daily_recommendations.total_score)';
COMMENT ON COLUMN call_outcomes_with_calls.total_score IS 'The call''s total score, 0-100: the total that set the month''s call (see daily_recommendations.total_score)';
