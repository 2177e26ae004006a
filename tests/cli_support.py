"""Running the real `argenta` command in a subprocess, against a test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_argenta(
    db: Path,
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    inherit: bool = True,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """`argenta ARGS` with DATABASE_URL pointing at `db` (plus `env`), output captured.

    With `inherit=False` the command sees only `env` and DATABASE_URL, not this process's
    environment (so no ARGENTA_* variable leaks in), except PYTHONPATH.
    """
    # PYTHONPATH is kept even in a bare environment: a worktree's tests run its own code.
    kept = {k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}
    base = os.environ if inherit else kept
    full_env = {**base, "DATABASE_URL": f"duckdb:///{db}", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.ops.cli", *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
