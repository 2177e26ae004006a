"""Operations around the analysis: jobs, the daemon, locking, monitoring and the CLI."""
