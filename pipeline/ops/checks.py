"""Checks that a source still delivers: stale data, a run's volume, a run slower than usual.

Pure functions over what monitoring already reads (each exchange's latest analysed date,
the recent runs), each returning a Finding (code, severity, params) or None, so the
wording stays with whoever shows it.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.analysis import calendar

STALE_SESSIONS = 1  # alert when the data is this many sessions behind the expected run
VOLUME_SHARE = 0.8  # alert when a run processed fewer tickers than this share of the usual
SLOW_RUN_FACTOR = 2.0  # early warning when a run in progress takes this times its usual time
USUAL_RUNS = 10  # "usual" is the median of this many recent completed runs


@dataclass(frozen=True)
class Finding:
    """One problem found: a stable code, `warning` or `critical`, and its facts."""

    code: str
    severity: str
    params: Mapping[str, Any] = field(default_factory=dict)


def expected_session(
    exchange: str,
    now: dt.datetime,
    run_at: dt.time,
    tz: dt.tzinfo,
    grace: dt.timedelta,
    weekdays_only: bool = False,
) -> dt.date:
    """The latest session whose analysis should be stored by `now`.

    The daily run at `run_at` (in `tz`) analyses the sessions before its day; it is
    expected done `grace` later (the job timeout). Before that, the day before counts;
    with `weekdays_only` the latest run was on the last weekday (Friday's session waits
    for Monday's run).
    """
    local = now.astimezone(tz)
    done_at = dt.datetime.combine(local.date(), run_at, tz) + grace
    day = local.date() if local >= done_at else local.date() - dt.timedelta(days=1)
    while weekdays_only and day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return calendar.latest_trading_day(exchange, day - dt.timedelta(days=1))


def sessions_missing(exchange: str, last: dt.date, day: dt.date) -> int:
    """Sessions of `exchange` after `last` up to `day`: 0 when `last` is current on `day`
    (`calendar.freshness`'s definition)."""
    return len(calendar.trading_days(exchange, last + dt.timedelta(days=1), day))


def is_stale(missing: int, sessions: int = STALE_SESSIONS) -> bool:
    """`missing` sessions are stale: `sessions` or more (ARGENTA_STALE_SESSIONS; 0: never)."""
    return sessions > 0 and missing >= sessions


def stale_data(
    latest: Mapping[str, dt.date],
    expected: Mapping[str, dt.date],
    sessions: int = STALE_SESSIONS,
) -> Finding | None:
    """`latest` per exchange is `sessions` or more sessions behind `expected`."""
    if sessions <= 0:  # turned off (ARGENTA_STALE_SESSIONS=0)
        return None
    behind = {}
    for exchange, last in latest.items():
        target = expected[exchange]
        missing = sessions_missing(exchange, last, target)
        if is_stale(missing, sessions):
            behind[exchange] = {"latest": last, "expected": target, "sessions": missing}
    if not behind:
        return None
    return Finding("stale_data", "critical", {"exchanges": behind})


def low_volume(processed: Sequence[int], share: float = VOLUME_SHARE) -> Finding | None:
    """The latest completed run (first) processed no ticker, or under `share` of the usual."""
    if not processed:
        return None
    latest, earlier = processed[0], list(processed[1 : USUAL_RUNS + 1])
    usual = statistics.median(earlier) if earlier else None
    if latest == 0:
        return Finding("low_volume", "critical", {"processed": 0, "usual": usual})
    if usual and latest < share * usual:
        return Finding("low_volume", "warning", {"processed": latest, "usual": usual})
    return None


def slow_run(
    running_seconds: float | None, durations: Sequence[float], factor: float = SLOW_RUN_FACTOR
) -> Finding | None:
    """The run in progress has taken over `factor` times the median of recent durations."""
    if running_seconds is None or not durations:
        return None
    usual = statistics.median(durations[:USUAL_RUNS])
    if usual > 0 and running_seconds > factor * usual:
        return Finding("slow_run", "warning", {"seconds": running_seconds, "usual": usual})
    return None
