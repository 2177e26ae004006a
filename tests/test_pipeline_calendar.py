"""Trading days: BYMA (XBUE) for .BA symbols and the Merval, NYSE (XNYS) for ADRs."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipeline.analysis import calendar
from pipeline.sources.sample import SAMPLE_DIR

D = dt.date


@pytest.mark.parametrize(
    ("ticker", "exchange"),
    [
        ("GGAL.BA", "XBUE"),
        ("YPFD.BA", "XBUE"),
        ("^MERV", "XBUE"),
        ("GGAL", "XNYS"),
        ("MELI", "XNYS"),
    ],
)
def test_exchange_for_ticker(ticker: str, exchange: str) -> None:
    assert calendar.exchange_for(ticker) == exchange
    frame = pl.DataFrame({"ticker": [ticker]})
    assert frame.select(calendar.exchange_expr()).item() == exchange


@pytest.mark.parametrize(
    ("exchange", "day", "open_"),
    [
        ("XBUE", D(2023, 2, 20), False),  # Carnival Monday
        ("XBUE", D(2023, 2, 21), False),  # Carnival Tuesday
        ("XNYS", D(2023, 2, 21), True),  # New York trades through Carnival
        ("XNYS", D(2023, 2, 20), False),  # Presidents' Day
        ("XNYS", D(2023, 7, 4), False),  # Independence Day
        ("XBUE", D(2023, 7, 4), True),
        ("XBUE", D(2023, 3, 4), False),  # Saturday
        ("XNYS", D(2023, 3, 5), False),  # Sunday
        ("XBUE", D(2023, 3, 6), True),
        ("XNYS", D(2001, 9, 11), False),  # before exchange-calendars' default 20-year window
        ("XNYS", D(2001, 9, 17), True),
    ],
)
def test_is_trading_day(exchange: str, day: dt.date, open_: bool) -> None:
    assert calendar.is_trading_day(exchange, day) is open_


def test_trading_days_skip_weekends_and_holidays() -> None:
    assert calendar.trading_days("XBUE", D(2023, 2, 17), D(2023, 2, 23)) == [
        D(2023, 2, 17),
        D(2023, 2, 22),
        D(2023, 2, 23),
    ]
    nyse = calendar.trading_days("XNYS", D(2023, 7, 1), D(2023, 7, 7))
    assert nyse == [D(2023, 7, 3), D(2023, 7, 5), D(2023, 7, 6), D(2023, 7, 7)]


@pytest.mark.parametrize(
    ("exchange", "day", "latest"),
    [
        ("XBUE", D(2023, 2, 21), D(2023, 2, 17)),
        ("XBUE", D(2023, 2, 22), D(2023, 2, 22)),
        ("XNYS", D(2023, 7, 4), D(2023, 7, 3)),
        ("XNYS", D(2023, 7, 9), D(2023, 7, 7)),
    ],
)
def test_latest_trading_day(exchange: str, day: dt.date, latest: dt.date) -> None:
    assert calendar.latest_trading_day(exchange, day) == latest


def test_flag_sessions_uses_each_tickers_exchange() -> None:
    days = [D(2023, 2, 17) + dt.timedelta(days=i) for i in range(7)]
    panel = pl.DataFrame(
        {"ticker": ["GGAL.BA", "GGAL", "^MERV"] * 7, "date": [d for d in days for _ in range(3)]}
    )
    flagged = calendar.flag_sessions(panel)
    assert flagged.select("ticker", "date").equals(panel)  # same rows, same order
    expected = [calendar.is_trading_day(calendar.exchange_for(t), d) for t, d in panel.iter_rows()]
    assert flagged["is_session"].to_list() == expected
    assert not flagged.filter(pl.col("date") == D(2023, 2, 21), pl.col("ticker") == "GGAL.BA")[
        "is_session"
    ].item()


def test_every_bundled_merval_day_is_a_buenos_aires_session() -> None:
    # BYMA's own index history: the calendar must not call any of its days a holiday,
    # including the holidays Argentina moved in 2020-2024 (e.g. 2020-04-02 traded).
    merval = pl.read_parquet(SAMPLE_DIR / "prices.parquet").filter(pl.col("ticker") == "^MERV")
    flagged = calendar.flag_sessions(merval.filter(pl.col("date") >= D(2015, 1, 1)))
    assert flagged.filter(~pl.col("is_session"))["date"].to_list() == []
    assert calendar.is_trading_day("XBUE", D(2020, 4, 2))
    assert not calendar.is_trading_day("XBUE", D(2020, 3, 31))  # Malvinas day, moved (2020)
