"""The daily analysis: sources, indicators, scores, jobs, the daemon and the CLI."""
