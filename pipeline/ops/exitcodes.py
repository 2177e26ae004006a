"""The exit codes of every `argenta` command (the daemon reads its children's)."""

FAILED = 1  # the run started and failed (recorded in job_runs)
USAGE = 2  # bad usage, configuration or input: retrying cannot help
LOCKED = 3  # refused: another run or daemon holds the lock
ALERT = 4  # `argenta status`: an alert is active
