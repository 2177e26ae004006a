"""Errors that end an `argenta` command, each with its exit code and a one-line message.

The exit codes are an interface: systemd's unit, cron jobs and the daemon (which reads
its run children's codes) act on them.

    0  success
    1  FAILED  the run failed, or the environment did (disk full, a file removed, a
               permission): retrying later can help; a started run is recorded in job_runs
    2  USAGE   bad usage, configuration or input file: retrying cannot help
    3  LOCKED  refused: another run or daemon holds the lock
    4  ALERT   `argenta status`: an alert is active (not an error)

`pipeline.ops.cli` turns every `ArgentaError` (and any `OSError`, as an
`EnvironmentFault`) into `error: <message>` on stderr and its exit code, in one place.
"""

from __future__ import annotations

FAILED = 1
USAGE = 2
LOCKED = 3
ALERT = 4


class ArgentaError(Exception):
    """An error that ends a command with a one-line message and `exit_code`."""

    exit_code = FAILED

    @property
    def message(self) -> str:
        """The one line printed after `error: `."""
        lines = str(self).strip().splitlines()
        return lines[0] if lines else type(self).__name__


class BadInput(ArgentaError):
    """Bad usage, configuration or input: the request itself is wrong (exit code 2)."""

    exit_code = USAGE


class RunFailed(ArgentaError):
    """The work failed in a way that retrying later can mend (exit code 1)."""

    exit_code = FAILED


class EnvironmentFault(RunFailed):
    """The machine let the command down: disk full, a file removed, a permission (exit 1)."""

    @classmethod
    def from_os_error(cls, exc: OSError) -> EnvironmentFault:
        """Name the file and the system's reason, e.g. `x.duckdb: No space left on device`."""
        where = exc.filename or "file"
        return cls(f"{where}: {exc.strerror or exc}")


class Refused(ArgentaError):
    """Another run or daemon holds the lock (exit code 3)."""

    exit_code = LOCKED
