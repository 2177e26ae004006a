"""The Recomendaciones page, as an analyst checks it every morning."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from pipeline.analysis import calendar
from pipeline.settings import Settings
from store import writes
from store.connection import open_reader, open_writer
from tests.factories import partition
from tests.pages_support import assert_no_failure, messages, open_page
from ui import params, tables

PAGE = params.RECOMMENDATIONS_PAGE


@pytest.fixture
def sample_page(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page on the database the pipeline built from the bundled sample."""
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    return open_page(PAGE)


def db_calls(path: Path, day: dt.date | None = None) -> dict[str, str]:
    """Each ticker's call at its latest date on or before `day`, straight from the database."""
    with open_reader(path) as con:
        rows = con.sql(
            "SELECT ticker, recommendation FROM daily_recommendations"
            " WHERE ?::DATE IS NULL OR analysis_date <= ?::DATE"
            " QUALIFY analysis_date = max(analysis_date) OVER (PARTITION BY ticker)",
            params=[day, day],
        ).fetchall()
    return dict(rows)


def link_ticker(link: str) -> str:
    """The ticker a table link points at (the text the table shows)."""
    return parse_qs(urlsplit(link).query)[params.TICKER][0]


def table_calls(at: AppTest) -> dict[str, str]:
    """Ticker → call as the page's table shows them."""
    table = at.dataframe[0].value
    return dict(zip(map(link_ticker, table["link"]), table["recommendation"], strict=True))


def test_table_lists_every_ticker_with_its_latest_call(sample_page: AppTest, sample_db) -> None:
    assert_no_failure(sample_page)
    assert table_calls(sample_page) == db_calls(sample_db)
    buy = next(m for m in sample_page.metric if "Comprar" in m.label)
    assert buy.value == str(list(db_calls(sample_db).values()).count("COMPRAR"))


def test_each_ticker_links_to_its_detail_page_on_the_shown_date(sample_page: AppTest) -> None:
    table = sample_page.dataframe[0].value
    for link, day in zip(table["link"], table["analysis_date"], strict=True):
        url = urlsplit(link)
        assert url.path == params.DETAIL_URL_PATH
        assert parse_qs(url.query)[params.DATE] == [pd.Timestamp(day).date().isoformat()]


def test_old_data_shows_a_freshness_warning_with_its_date(sample_page: AppTest) -> None:
    warning = "\n".join(w.value for w in sample_page.warning)
    assert "08/03/2024" in warning and "la última rueda fue" in warning


def test_a_past_day_shows_the_calls_of_that_day(sample_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    past = dt.date(2023, 12, 15)
    at = open_page(PAGE, **{params.DATE: past.isoformat()})
    assert_no_failure(at)
    assert table_calls(at) == db_calls(sample_db, past)
    assert "Análisis histórico del **vie 15/12/2023**" in messages(at)


def test_the_url_holds_a_picked_date_but_not_the_latest(sample_page: AppTest) -> None:
    assert params.DATE not in sample_page.query_params  # follows new runs
    sample_page.date_input[0].set_value(dt.date(2023, 12, 15)).run()
    assert sample_page.query_params[params.DATE] == "2023-12-15"


@pytest.mark.parametrize(
    ("choose", "keeps"),
    [
        (
            lambda at: at.multiselect[0].set_value(["VENDER", "MANTENER"]),
            lambda row: row["recommendation"] != "COMPRAR",
        ),
        (
            lambda at: at.text_input[0].set_value("BA"),
            lambda row: "BA" in link_ticker(row["link"]),
        ),
        (
            lambda at: at.slider[0].set_value((50, 100)),
            lambda row: row["total_score"] >= 50,
        ),
    ],
    ids=["recommendation", "search", "score"],
)
def test_filters_keep_only_matching_tickers(sample_page: AppTest, choose, keeps) -> None:
    before = sample_page.dataframe[0].value.to_dict("records")
    choose(sample_page)
    after = sample_page.run().dataframe[0].value.to_dict("records")
    assert len(after) == sum(map(keeps, before))
    assert all(map(keeps, after))


def test_sorting_orders_the_current_calls_and_puts_older_ones_last(sample_page: AppTest) -> None:
    sample_page.selectbox[0].set_value("Ticker")
    sample_page.toggle[0].set_value(False)
    table = sample_page.run().dataframe[0].value
    dates = table["analysis_date"].dt.date
    tickers = [link_ticker(link) for link in table["link"]]
    current = [t for t, d in zip(tickers, dates, strict=True) if d == dates.max()]
    assert tickers[: len(current)] == sorted(current)
    assert all(d < dates.max() for d in dates[len(current) :])


def test_tickers_without_data_on_the_day_are_named(small_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")  # PAM has no row on the last day
    at = open_page(PAGE)
    note = "\n".join(c.value for c in at.caption if "sin datos el" in c.value)
    assert "1 ticker sin datos el vie 08/03/2024 (PAM)" in note
    assert "PAM" in table_calls(at)


def test_csv_download_holds_the_shown_rows(small_db: Path) -> None:
    with open_reader(small_db) as con:
        frame = con.sql("SELECT * FROM latest_recommendations").pl()
    back = pl.read_csv(tables.csv(frame))
    assert sorted(back["ticker"]) == sorted(frame["ticker"])
    assert {"recommendation", "total_score", "summary"} <= set(back.columns)


def test_changes_list_upgrades_and_downgrades(db_path: Path, monkeypatch) -> None:
    d1, d2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
    with open_writer(db_path) as con:
        writes.replace_partitions(
            con, [d1], [_calls(d1, {"GGAL": "MANTENER", "YPF": "MANTENER", "PAM": "VENDER"})]
        )
        writes.replace_partitions(
            con, [d2], [_calls(d2, {"GGAL": "COMPRAR", "YPF": "VENDER", "PAM": "VENDER"})]
        )
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    assert_no_failure(at)
    text = "\n".join(m.value for m in at.markdown)
    upgrades = text.split("**Mejoran (1)**")[1].split("**Empeoran")[0]
    downgrades = text.split("**Empeoran (1)**")[1]
    assert "GGAL" in upgrades and "YPF" not in upgrades
    assert "YPF" in downgrades and "GGAL" not in downgrades
    assert "PAM" not in text.split("Cambios de recomendación")[1]


def test_data_of_the_last_session_is_reported_fresh(db_path: Path, monkeypatch) -> None:
    today = dt.datetime.now(Settings().tz).date()
    yesterday = today - dt.timedelta(days=1)
    last = calendar.latest_trading_day(calendar.NEW_YORK, yesterday)
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [last], [partition(last, ["GGAL", "YPF"])])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    assert not at.warning
    assert "la última rueda" in at.success[0].value


def _calls(day: dt.date, calls: dict[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One date's partition where each ticker gets the given call (score to match)."""
    scores = {"COMPRAR": 70.0, "MANTENER": 50.0, "VENDER": 30.0}
    parts = [partition(day, [t], scores[c], c) for t, c in calls.items()]
    return pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts])
