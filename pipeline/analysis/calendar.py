"""Trading days per exchange: BYMA (XBUE) for ".BA" symbols and the Merval, else NYSE (XNYS)."""

from __future__ import annotations

import bisect
import datetime as dt
import warnings
from functools import cache
from typing import cast

import exchange_calendars as xcals
import polars as pl

BUENOS_AIRES = "XBUE"
NEW_YORK = "XNYS"
EXCHANGES = (BUENOS_AIRES, NEW_YORK)
_BUENOS_AIRES_SUFFIX = ".BA"
_BUENOS_AIRES_INDEXES = ("^MERV",)
# exchange-calendars covers only ~20 years by default; we build from here on.
_FIRST_YEAR = 1990

# exchange-calendars' XBUE rules miss Argentina's moved and "bridge" holidays (decreed each
# year) and get some movable ones wrong. Corrected from BYMA's own price history (the bundled
# Merval and .BA series: no trades on the holidays, trades on the days the library closes) and
# the official lists at argentina.gob.ar/interior/feriados. Years after 2024 are not corrected.
_XBUE_EXTRA_HOLIDAYS = frozenset(
    dt.date.fromisoformat(d)
    for d in (
        "2020-03-23", "2020-03-31", "2020-06-15", "2020-07-10", "2020-12-07",
        "2021-05-24", "2021-06-21", "2021-10-08",
        "2022-05-18", "2022-10-07", "2022-12-09",
        "2023-05-26", "2023-06-19", "2023-10-13",
        "2024-04-01", "2024-06-21", "2024-10-11",
    )
)  # fmt: skip
_XBUE_EXTRA_SESSIONS = frozenset(
    dt.date.fromisoformat(d)
    for d in ("2020-04-02", "2020-06-17", "2021-06-17", "2024-08-19", "2024-10-14")
)
# BYMA did not trade on any weekday 24 or 31 December of the bundled history (2010-2023).
_XBUE_CLOSED_MONTH_DAYS = ((12, 24), (12, 31))


def exchange_for(ticker: str) -> str:
    """The exchange whose sessions a ticker trades on: XBUE for ".BA" and the Merval, else XNYS."""
    is_local = ticker.endswith(_BUENOS_AIRES_SUFFIX) or ticker in _BUENOS_AIRES_INDEXES
    return BUENOS_AIRES if is_local else NEW_YORK


def exchange_expr(ticker: str = "ticker") -> pl.Expr:
    """`exchange_for` as a polars expression over a ticker column."""
    col = pl.col(ticker)
    is_local = col.str.ends_with(_BUENOS_AIRES_SUFFIX) | col.is_in(_BUENOS_AIRES_INDEXES)
    return pl.when(is_local).then(pl.lit(BUENOS_AIRES)).otherwise(pl.lit(NEW_YORK))


def trading_days(exchange: str, start: dt.date, end: dt.date) -> list[dt.date]:
    """The sessions of `exchange` from `start` to `end`, both included, in order."""
    days = _covering(exchange, start, end)
    return list(days[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)])


def is_trading_day(exchange: str, day: dt.date) -> bool:
    """Whether `day` is a session of `exchange`."""
    days = _covering(exchange, day, day)
    i = bisect.bisect_left(days, day)
    return i < len(days) and days[i] == day


def latest_trading_day(exchange: str, on_or_before: dt.date) -> dt.date:
    """The last session of `exchange` on or before the given day."""
    days = _covering(exchange, on_or_before, on_or_before)
    i = bisect.bisect_right(days, on_or_before)
    if i == 0:
        raise ValueError(f"no {exchange} session on or before {on_or_before}")
    return days[i - 1]


def freshness(day: dt.date, ticker: str = "ticker", date: str = "analysis_date") -> list[pl.Expr]:
    """`exchange`, `days_since_latest` and `is_current` of each call as of `day`.

    A call is current when made on the latest session of its ticker's exchange on or before
    `day` (the latest analysed date): a whole exchange whose feed stopped is not current.
    `days_since_latest` counts calendar days from the call to that session. The dashboard's
    «Sin datos recientes» and `argenta query latest` both use this definition.
    """
    latest = {x: latest_trading_day(x, day) for x in EXCHANGES}
    exchange = exchange_expr(ticker)
    session = exchange.replace_strict(latest, return_dtype=pl.Date)
    behind = (session - pl.col(date)).dt.total_days().clip(lower_bound=0).cast(pl.Int32)
    return [
        exchange.alias("exchange"),
        (pl.col(date) >= session).alias("is_current"),
        behind.alias("days_since_latest"),
    ]


def sessions_frame(start: dt.date, end: dt.date) -> pl.DataFrame:
    """Every (exchange, date) session of the known exchanges between two days."""
    return pl.concat(
        pl.DataFrame(
            {"exchange": exchange, "date": trading_days(exchange, start, end)},
            schema={"exchange": pl.String, "date": pl.Date},
        )
        for exchange in EXCHANGES
    )


def flag_sessions(panel: pl.DataFrame, name: str = "is_session") -> pl.DataFrame:
    """Add a boolean column: is each (ticker, date) row a session of the ticker's exchange."""
    if panel.is_empty():
        return panel.with_columns(pl.lit(False).alias(name))
    first, last = cast(dt.date, panel["date"].min()), cast(dt.date, panel["date"].max())
    days = {x: pl.Series(trading_days(x, first, last), dtype=pl.Date) for x in EXCHANGES}
    date = pl.col("date")
    # A lookup in each exchange's few thousand sessions, not a join on (exchange, date).
    session = (
        pl.when(exchange_expr() == BUENOS_AIRES)
        .then(date.is_in(days[BUENOS_AIRES].implode()))
        .otherwise(date.is_in(days[NEW_YORK].implode()))
    )
    return panel.with_columns(session.fill_null(False).alias(name))


def _covering(exchange: str, start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
    first_year = min(_FIRST_YEAR, start.year)
    last_year = max(dt.date.today().year + 2, end.year)
    return _sessions(exchange, first_year, last_year)


@cache
def _sessions(exchange: str, first_year: int, last_year: int) -> tuple[dt.date, ...]:
    with warnings.catch_warnings():
        # exchange-calendars 4.13 trips a pandas 3.1 deprecation warning while building.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        calendar = xcals.get_calendar(
            exchange, start=f"{first_year}-01-01", end=f"{last_year}-12-31"
        )
    days = set(calendar.sessions.date)
    if exchange == BUENOS_AIRES:
        days = (days | _XBUE_EXTRA_SESSIONS) - _XBUE_EXTRA_HOLIDAYS
        days = {d for d in days if (d.month, d.day) not in _XBUE_CLOSED_MONTH_DAYS}
    return tuple(sorted(days))
