"""A backfill stores, for every date, exactly the row the daily job stores on an empty database.

Every column of daily_recommendations except id/created_at, every value of the four
details' JSON and every column of the date's market_view row are compared (numbers to 10
significant digits, text exactly: see benchmarks/equality.py). The daily job runs on random
sample dates (both exchanges, 2010-2024) and on a synthetic panel with a gap, a listing, a
delisting, a macro series with a year missing and peso statements.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from benchmarks.equality import MARKET_VIEW, compare, differences, same, sample_dates
from benchmarks.synthetic_market import sessions, synthetic_market, write_files_source
from pipeline.analysis.frames import FUNDAMENTALS_SCHEMA, NEWS_SCHEMA
from pipeline.ops import jobs
from store import reads
from store.connection import open_reader
from tests.factories import market_rows, partition

pytestmark = pytest.mark.slow

SAMPLE_DATES = 30  # plus 2020-06-01
N_SESSIONS = 1400  # NYSE sessions from 2015-01-02 (to mid 2020)
GAP = (500, 800)  # sessions without a bar for the first ticker
LISTED_AT = 900  # the second ticker's first session
DELISTED_AFTER = 1000  # the third ticker's last session
CCL_GAP = (600, 860)  # sessions without the CCL rate (the Merval-in-USD trend crosses it)
HEADLINES = {1015: "ganancias récord y suba de ventas", 1018: "caída y pérdidas", 1295: "dividendo"}
SYNTHETIC_SESSIONS = (
    *(801, 805, 830, 1020),  # after the gap: a 252-bar window and the EMAs reach across it
    *(LISTED_AT + 49, LISTED_AT + 50, LISTED_AT + 80),  # the listing's first calls
    *(DELISTED_AFTER, DELISTED_AFTER + 1, 1300),  # the delisting's last call and after it
    *(861, 900, 1060, 1399),  # after the CCL gap, 200 observations back cross it
)


@pytest.fixture(scope="module")
def sample_differences(tmp_path_factory: pytest.TempPathFactory):
    """The sampled dates, the daily-vs-backfill differences and the daily rows compared."""
    dates = sample_dates(SAMPLE_DATES, 2026, dt.date(2010, 1, 4), dt.date(2024, 3, 8))
    folder = tmp_path_factory.mktemp("equality-sample")
    return dates, *compare(jobs.SourceOptions("sample"), dates, folder)


def test_the_sample_dates_are_spread_over_both_exchanges_and_years(sample_differences) -> None:
    dates, _, rows, views = sample_differences
    assert len(dates) >= 30 and dt.date(2020, 6, 1) in dates
    assert len({d.year for d in dates}) >= 10
    assert rows > 20 * len(dates)  # every sampled day stored its calls
    # and its market view (a date with no call, before enough history, has none)
    assert views >= 0.9 * len(dates)


def test_backfill_equals_the_daily_run_on_random_sample_dates(sample_differences) -> None:
    _, found, rows, _ = sample_differences
    report = [f"{day} {ticker}: {'; '.join(what)}" for (day, ticker), what in found.items()]
    assert not found, f"{len(found)} of {rows} rows differ:\n" + "\n".join(report[:20])


def test_a_company_call_read_from_the_other_listings_earlier_row_is_the_backfills(
    tmp_path,
) -> None:
    # 2012-07-10: EDN.BA trades, its ADR EDN last traded on 2012-07-09. The company's call
    # comes from EDN's row of 2012-07-09 (the ADR decides a tie in history); the daily run on
    # 2012-07-10 must score that row too, or EDN.BA decides alone (MANTENER, not VENDER).
    dates = [dt.date(2012, 7, 9), dt.date(2012, 7, 10)]
    found, rows, _ = compare(jobs.SourceOptions("sample"), dates, tmp_path)
    report = [f"{day} {ticker}: {'; '.join(what)}" for (day, ticker), what in found.items()]
    assert not found, f"{len(found)} of {rows} rows differ:\n" + "\n".join(report[:20])
    with open_reader(tmp_path / "daily-2012-07-10.duckdb") as con:
        calls, _ = reads.partitions_with_details(con, [dt.date(2012, 7, 10)])
    edn = calls.filter(pl.col("ticker") == "EDN.BA").row(0, named=True)
    assert edn["recommendation"] == "VENDER"  # EDN's call, formed on 2012-07-02


def synthetic_folder(folder: Path) -> Path:
    """A files-source folder: 8 tickers (a call ranks among at least 5) with a gap, a listing,
    a delisting; gappy macro."""
    data = synthetic_market(8, N_SESSIONS, seed=5)
    days = sessions(N_SESSIONS)
    gapped, listed, delisted = sorted(data.prices["ticker"].unique())[:3]
    position = pl.col("date").rank("dense") - 1  # the session's index
    prices = data.prices.filter(
        ~((pl.col("ticker") == gapped) & position.is_between(*GAP, closed="left")),
        ~((pl.col("ticker") == listed) & (position < LISTED_AT)),
        ~((pl.col("ticker") == delisted) & (position > DELISTED_AFTER)),
    )
    ccl_gap = pl.col("date").is_between(days[CCL_GAP[0]], days[CCL_GAP[1]], closed="left")
    macro = data.macro.filter(~((pl.col("series") == "usdars_ccl") & ccl_gap))
    market = data.__class__(
        source="files", prices=prices, fundamentals=peso_statements(gapped, days), macro=macro
    )
    write_files_source(market, folder)
    # Headlines for the listed ticker from session 1015 on: before that, "none yet".
    news = [(days[i], listed, title, "wire") for i, title in HEADLINES.items()]
    pl.DataFrame(news, schema=NEWS_SCHEMA, orient="row").write_parquet(folder / "news.parquet")
    return folder


def peso_statements(ticker: str, days: list[dt.date]) -> pl.DataFrame:
    """Annual figures in ARS (growth is measured in USD at the official rate at period ends)."""
    rows = []
    for n, year in enumerate(range(days[0].year - 1, days[-1].year)):
        end = dt.date(year, 12, 31)
        revenue, income, shares = 1e9 * 1.4**n, 8e7 * 1.3**n, 1e8
        figures = {
            "revenue": revenue,
            "net_income": income,
            "eps_basic_diluted": income / shares,
            "total_equity": revenue * 0.8,
            "shares_outstanding": shares,
        }
        filed = end + dt.timedelta(days=100)
        rows += [(ticker, end, filed, m, v, "ARS") for m, v in figures.items()]
    return pl.DataFrame(rows, schema=FUNDAMENTALS_SCHEMA, orient="row")


def test_backfill_equals_the_daily_run_across_gaps_listings_and_delistings(tmp_path) -> None:
    folder = synthetic_folder(tmp_path / "data")
    days = sessions(N_SESSIONS)
    dates = [days[i] for i in SYNTHETIC_SESSIONS]
    found, rows, views = compare(jobs.SourceOptions("files", folder), dates, tmp_path)
    report = [f"{day} {ticker}: {'; '.join(what)}" for (day, ticker), what in found.items()]
    assert not found, f"{len(found)} of {rows} rows differ:\n" + "\n".join(report[:20])
    # The cases were exercised: the listed ticker's first call, the delisted one's last.
    assert rows >= 5 * len(dates) and views == len(dates)


def test_the_comparison_sees_a_market_view_difference() -> None:
    calls, details = partition(dt.date(2024, 3, 8), ["GGAL"])
    view = market_rows([dt.date(2024, 3, 8)], 61.25)
    moved = view.with_columns(pl.col("merval_usd") * (1 + 1e-8))
    assert differences((calls, details, view), (calls, details, view)) == {}
    found = differences((calls, details, view), (calls, details, moved))
    assert list(found) == [(dt.date(2024, 3, 8), MARKET_VIEW)]
    assert found[(dt.date(2024, 3, 8), MARKET_VIEW)][0].startswith("merval_usd:")


def test_the_comparison_sees_a_difference_in_the_last_stored_digit() -> None:
    assert same(25.51489994, 25.51489995)  # one unit in the 10th significant digit
    assert not same(25.5148999, 25.5148998)
    assert not same(2.2, 2.19) and not same("MANTENER", "COMPRAR") and not same(None, 1.0)
    assert not same({"a": 1.0}, {"a": 1.0, "b": None}) and same([1.0, None], [1.0, None])
