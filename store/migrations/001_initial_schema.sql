-- The three public tables: calls, their details, job runs. Timestamps are UTC wall-clock (TIMESTAMP without zone).
CREATE SEQUENCE daily_recommendations_id_seq;
CREATE SEQUENCE analysis_details_id_seq;
CREATE SEQUENCE job_runs_id_seq;

CREATE TABLE daily_recommendations (
    id BIGINT PRIMARY KEY DEFAULT nextval('daily_recommendations_id_seq'),
    analysis_date DATE NOT NULL,
    ticker VARCHAR(10) NOT NULL CHECK (length(ticker) BETWEEN 1 AND 10),
    recommendation VARCHAR(20) NOT NULL CHECK (recommendation IN ('COMPRAR', 'MANTENER', 'VENDER')),
    total_score DECIMAL(5, 2) NOT NULL CHECK (total_score BETWEEN 0 AND 100),
    confidence DECIMAL(5, 2) NOT NULL CHECK (confidence BETWEEN 0 AND 100),
    technical_score DECIMAL(5, 2) CHECK (technical_score BETWEEN 0 AND 100),
    fundamental_score DECIMAL(5, 2) CHECK (fundamental_score BETWEEN 0 AND 100),
    macro_score DECIMAL(5, 2) CHECK (macro_score BETWEEN 0 AND 100),
    sentiment_score DECIMAL(5, 2) CHECK (sentiment_score BETWEEN 0 AND 100),
    current_price DECIMAL(10, 2),
    target_price DECIMAL(10, 2),
    risk_level VARCHAR(20),
    summary TEXT,
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'UTC'),
    UNIQUE (analysis_date, ticker)
);

-- recommendation_id refers to daily_recommendations(id). It is not declared as a
-- FOREIGN KEY because DuckDB cannot delete a referenced row in the same transaction
-- that deletes its children, which would make the atomic partition replace
-- impossible; the writer guarantees the relationship (tests check for orphans).
CREATE TABLE analysis_details (
    id BIGINT PRIMARY KEY DEFAULT nextval('analysis_details_id_seq'),
    recommendation_id BIGINT NOT NULL,
    analysis_type VARCHAR(20) NOT NULL
        CHECK (analysis_type IN ('technical', 'fundamental', 'macro', 'sentiment')),
    raw_data JSON,
    indicators JSON,
    score DECIMAL(5, 2) CHECK (score BETWEEN 0 AND 100),
    metadata JSON,
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'UTC')
);

CREATE TABLE job_runs (
    id BIGINT PRIMARY KEY DEFAULT nextval('job_runs_id_seq'),
    job_name VARCHAR(50) NOT NULL,
    start_time TIMESTAMP NOT NULL,
    end_time TIMESTAMP,
    status VARCHAR(20) NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    tickers_processed INTEGER,
    errors_count INTEGER,
    log_data JSON,
    created_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'UTC')
);
