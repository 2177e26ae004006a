"""The only code that opens DuckDB or speaks SQL."""
