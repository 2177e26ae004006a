"""Which calls are today's: the latest session of each ticker's exchange, the rest set aside."""

from __future__ import annotations

import datetime as dt

import polars as pl

from pipeline.analysis import calendar

# The components of the total score (macro is a market view, outside it), as the notice names
# them when every current call lacks one, and when some have it.
_MISSING_NAMES = {
    "technical_score": "técnicos",
    "fundamental_score": "fundamentales",
    "sentiment_score": "de noticias",
}
_PRESENT_NAMES = {
    "technical_score": "el técnico",
    "fundamental_score": "el fundamental",
    "sentiment_score": "el de sentimiento",
}


def sessions(day: dt.date) -> dict[str, dt.date]:
    """The latest session of each exchange on or before `day` (ADRs: NYSE; .BA: BYMA)."""
    return {x: calendar.latest_trading_day(x, day) for x in calendar.EXCHANGES}


def is_current(day: dt.date) -> pl.Expr:
    """True for a call made on the latest session of its ticker's exchange, as of `day`."""
    return calendar.freshness(day)[1]


def split(frame: pl.DataFrame, day: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(today's calls, older calls) of a latest-recommendations frame, as of `day`."""
    if frame.is_empty():
        return frame, frame
    flagged = frame.with_columns(is_current(day).alias("_current"))
    current = flagged.filter(pl.col("_current")).drop("_current")
    stale = flagged.filter(~pl.col("_current")).drop("_current")
    return current, stale


def missing_components(current: pl.DataFrame) -> str | None:
    """One line naming the total's components no current call has (None when each has some).

    Macro is not one: it is the day's market view, the same for every stock, outside the total.
    """
    if current.is_empty():
        return None
    missing = [c for c in _MISSING_NAMES if current[c].null_count() == current.height]
    if not missing:
        return None
    present = [_PRESENT_NAMES[c] for c in _MISSING_NAMES if c not in missing]
    lacking = _join([_MISSING_NAMES[c] for c in missing], "ni")
    if not present:
        return f"Ninguna recomendación actual tiene puntaje total: no hay datos {lacking}."
    return f"El puntaje total usa solo {_join(present, 'y')}: no hay datos {lacking}."


def _join(words: list[str], last: str) -> str:
    """ "a", "a y b", "a, b y c" (with `last` as the final conjunction)."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"
