"""ARGENTA_PUBLISH_COMMAND: a command run after each publish, e.g. to push the file to replicas."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger("argenta.publish")
PLACEHOLDER = "{path}"
TIMEOUT_SECONDS = 600.0  # a push that hangs longer is abandoned (and logged)
MAX_LOGGED_CHARS = 300


def command_for(command: Sequence[str], path: Path) -> list[str]:
    """The command's words with `{path}` replaced by the file's path (appended when absent)."""
    words = [word.replace(PLACEHOLDER, str(path)) for word in command]
    if not any(PLACEHOLDER in word for word in command):
        words.append(str(path))
    return words


def run_publish_command(
    command: Sequence[str], path: Path, timeout: float = TIMEOUT_SECONDS
) -> bool:
    """Run the publish command for `path`; True when it exited 0. Never raises.

    It runs without a shell, with ARGENTA_PUBLISHED_PATH in its environment and no stdin;
    its output goes to the log. A failure is logged as `event=publish_hook_failed`: the
    run that published stays a success, and the next publish runs the command again.
    """
    words = command_for(command, path)
    env = {**os.environ, "ARGENTA_PUBLISHED_PATH": str(path)}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            words,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return _failed(words, f"no exit after {timeout:g} s (abandoned)")
    except OSError as exc:
        return _failed(words, f"cannot run it: {exc.strerror or exc}")
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-MAX_LOGGED_CHARS:]
        return _failed(words, f"exit code {done.returncode}: {tail}")
    log.info("event=publish_hook_done command=%r path=%s seconds=%.2f", words[0], path, seconds)
    return True


def _failed(words: list[str], reason: str) -> bool:
    log.warning("event=publish_hook_failed command=%r reason=%r", words[0], reason)
    return False


def publish_hook(command: Sequence[str]) -> Callable[[Path], None] | None:
    """The `on_publish` callback of the writer for a configured command (None when unset)."""
    if not command:
        return None

    def hook(path: Path) -> None:
        run_publish_command(command, path)

    return hook
