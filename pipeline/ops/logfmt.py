"""Log lines in logfmt (`ts=… level=… logger=… event=… key=value`), with journald priorities.

Every log call in the product writes its message as `event=NAME key=value ...`, values
formatted with `%s` or `%r`. This formatter reads those pairs back (a `%r` value is a
Python string literal, decoded exactly; an unquoted value that a space split, such as a
datetime, is joined again) and writes them as logfmt: a value with a space, `=`, a quote
or nothing is double-quoted with `\\"`, `\\\\` and `\\n` escaped. A message that is not
`key=value` text goes in `msg`.

When stdout is the journal (`JOURNAL_STREAM` names stdout's device and inode, as systemd
sets it), each line starts with its syslog priority, `<3>` for errors, which journald
strips and stores, so `journalctl -p err` finds them.
"""

from __future__ import annotations

import ast
import datetime as dt
import logging
import os
import re
import sys
from collections.abc import Iterable
from typing import TextIO

# syslog priorities (sd-daemon(3)): err, warning, info, debug
PRIORITIES = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6}
_PAIR = re.compile(
    r"""(?P<key>[A-Za-z_][\w.]*)=(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S*)"""
)
_BARE = re.compile(r"\S+")
_NEEDS_QUOTES = re.compile(r'[\s="\\]|^$')


def quote(value: object) -> str:
    """A logfmt value: bare when it can be, else double-quoted with escapes."""
    text = "" if value is None else str(value)
    if not _NEEDS_QUOTES.search(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _value(token: str) -> str:
    """A value as the message wrote it: a Python string literal decoded, else as is."""
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        try:
            return str(ast.literal_eval(token))
        except (ValueError, SyntaxError):
            return token[1:-1]
    return token


def message_pairs(message: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of an `event=… key=value` message; [("msg", message)] otherwise."""
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(message):
        if message[pos].isspace():
            pos += 1
            continue
        pair = _PAIR.match(message, pos)
        if pair:
            pairs.append((pair["key"], _value(pair["value"])))
            pos = pair.end()
            continue
        bare = _BARE.match(message, pos)
        assert bare is not None  # a non-space character starts a token
        if not pairs:
            return [("msg", message)]
        key, value = pairs[-1]  # e.g. the time of `next_run=2026-11-30 22:24:04+00:00`
        pairs[-1] = (key, f"{value} {bare.group()}")
        pos = bare.end()
    return pairs or [("msg", message)]


def render(pairs: Iterable[tuple[str, object]]) -> str:
    """`key=value` pairs joined by spaces, each value quoted as logfmt needs."""
    return " ".join(f"{key}={quote(value)}" for key, value in pairs)


class LogfmtFormatter(logging.Formatter):
    """ts (ISO 8601, UTC with its offset), level, logger, then the message's own pairs."""

    def __init__(self, journal: bool = False) -> None:
        super().__init__()
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        """One logfmt line (with a `<N>` priority prefix for the journal)."""
        ts = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")
        head = [("ts", ts), ("level", record.levelname.lower()), ("logger", record.name)]
        line = render([*head, *message_pairs(record.getMessage())])
        if record.exc_info:
            line += " " + render([("exception", self.formatException(record.exc_info))])
        if self.journal:
            line = f"<{PRIORITIES.get(record.levelno, 7)}>{line}"
        return line


def stdout_is_journal(stream: TextIO | None = None, environ: dict | None = None) -> bool:
    """Whether `stream` (stdout) is the journal: JOURNAL_STREAM holds its `device:inode`."""
    value = (environ if environ is not None else os.environ).get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in value.split(":"))
        st = os.fstat((stream or sys.stdout).fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (device, inode)


def configure(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Log logfmt lines to stdout (the journal under systemd) at `level` and above."""
    stream = stream or sys.stdout
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LogfmtFormatter(journal=stdout_is_journal(stream)))
    logging.basicConfig(level=level, handlers=[handler], force=True)
