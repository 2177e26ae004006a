"""Reads: each store.reads query on a file built by the tests."""

from __future__ import annotations

import datetime as dt
import threading

import duckdb
import polars as pl
import pytest

from store import reads, writes
from store.connection import DatabaseMissing, SharedReader, open_reader, open_writer
from store.migrate import migrate
from tests.factories import partition

D1, D2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)


@pytest.fixture
def con(small_db):
    with open_reader(small_db) as c:
        yield c


def test_latest_gives_each_ticker_at_its_latest_date(con):
    latest = reads.latest_recommendations(con)
    by_ticker = {r["ticker"]: r for r in latest.to_dicts()}
    assert set(by_ticker) == {"GGAL", "YPF", "PAM"}
    assert (
        by_ticker["GGAL"]["analysis_date"] == D2 and by_ticker["GGAL"]["recommendation"] == "VENDER"
    )
    assert by_ticker["PAM"]["analysis_date"] == D1  # PAM has no row on D2
    assert isinstance(by_ticker["GGAL"]["total_score"], float)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"recommendation": ["COMPRAR"]}, {"PAM"}),
        ({"min_score": 50}, {"PAM"}),
        ({"max_score": 50}, {"GGAL", "YPF"}),
        ({"search": "gg"}, {"GGAL"}),
        ({"risk_level": ["ALTO"]}, set()),
        ({"as_of": D1}, {"GGAL", "YPF", "PAM"}),
    ],
)
def test_latest_filters(con, filters, expected):
    assert set(reads.latest_recommendations(con, **filters)["ticker"]) == expected


def test_history_by_range_and_tickers(con):
    assert reads.recommendation_history(con).height == 5
    assert reads.recommendation_history(con, start=D2).height == 2
    some = reads.recommendation_history(con, tickers=["PAM", "YPF"])
    assert sorted(some["ticker"]) == ["PAM", "YPF", "YPF"]
    assert reads.ticker_history(con, "GGAL")["analysis_date"].to_list() == [D1, D2]


def test_ticker_analysis_has_the_four_details(con):
    rec, details = reads.ticker_analysis(con, "GGAL")
    assert rec["analysis_date"][0] == D2
    assert details["analysis_type"].to_list() == ["technical", "fundamental", "macro", "sentiment"]
    rec1, _ = reads.ticker_analysis(con, "GGAL", D1)
    assert rec1["recommendation"][0] == "COMPRAR"
    empty, none = reads.ticker_analysis(con, "NOPE")
    assert empty.is_empty() and none.is_empty()


def test_changes_since_previous_day(con):
    changes = reads.recommendation_changes(con)
    assert set(changes["ticker"]) == {"GGAL", "YPF"}
    assert set(zip(changes["previous"], changes["current"], strict=True)) == {("COMPRAR", "VENDER")}


def test_job_status_and_views(con):
    runs, health = reads.job_status(con)
    assert runs["status"].to_list() == ["completed"]
    assert health.row(0, named=True)["success_rate_pct"] == 100.0
    view = con.sql("SELECT ticker, analysis_date FROM latest_recommendations ORDER BY 1").fetchall()
    assert view == [("GGAL", D2), ("PAM", D1), ("YPF", D2)]


def test_missing_database_says_how_to_build_it(tmp_path):
    with (
        pytest.raises(DatabaseMissing, match="argenta backfill"),
        open_reader(tmp_path / "x.duckdb"),
    ):
        pass


def test_shared_reader_sees_a_new_run_without_restart(small_db):
    reader = SharedReader(small_db)
    with reader.connection() as con:
        assert reads.latest_date(con) == D2
    d3 = dt.date(2024, 3, 11)
    with open_writer(small_db) as con:
        writes.replace_partitions(con, [d3], [partition(d3, ["GGAL"])])
    with reader.connection() as con:
        assert reads.latest_date(con) == d3
    reader.close()


def test_shared_reader_serves_a_second_query_while_one_is_open_across_a_publish(small_db):
    # A session holding its cursor (a slow page) neither blocks another session's query
    # nor the switch to a newly published file; it finishes on the file it started with.
    reader = SharedReader(small_db)
    holding, release, seen = threading.Event(), threading.Event(), []

    def slow_session() -> None:
        with reader.connection() as con:
            holding.set()
            release.wait(30)
            seen.append(reads.latest_date(con))

    slow = threading.Thread(target=slow_session)
    slow.start()
    assert holding.wait(30)
    d3 = dt.date(2024, 3, 11)
    with open_writer(small_db) as con:
        writes.replace_partitions(con, [d3], [partition(d3, ["GGAL"])])
    done: list[dt.date | None] = []
    other = threading.Thread(target=lambda: done.append(_latest(reader)))
    other.start()
    other.join(10)
    assert done == [d3]  # answered while the slow session still holds its cursor
    release.set()
    slow.join(30)
    assert seen == [D2]  # the slow session read the file it had opened
    assert _latest(reader) == d3
    reader.close()


def _latest(reader: SharedReader) -> dt.date | None:
    with reader.connection() as con:
        return reads.latest_date(con)


def _catalog_and_definition(con) -> tuple[list[tuple], list[tuple]]:
    """The partitions catalog's rows, and the same counts computed from the calls."""
    stored = con.sql(
        "SELECT analysis_date, recommendations, ended_tickers, absent_tickers FROM partitions"
        " ORDER BY 1"
    ).fetchall()
    expected = con.sql(
        """WITH spans AS (SELECT ticker, min(analysis_date) AS first, max(analysis_date) AS last
                          FROM daily_recommendations GROUP BY ticker),
                days AS (SELECT analysis_date, count(*) AS calls FROM daily_recommendations
                         GROUP BY analysis_date)
           SELECT d.analysis_date, d.calls,
                  count(*) FILTER (WHERE s.last < d.analysis_date),
                  count(*) FILTER (WHERE s.first <= d.analysis_date AND s.last >= d.analysis_date)
                  - d.calls
           FROM days d, spans s GROUP BY d.analysis_date, d.calls ORDER BY 1"""
    ).fetchall()
    return stored, expected


def _latest_by_definition(con, day: dt.date) -> list[tuple]:
    """Each ticker's latest call on or before `day`, straight from the calls."""
    return con.sql(
        "SELECT ticker, analysis_date FROM daily_recommendations WHERE analysis_date <= ?"
        " QUALIFY analysis_date = max(analysis_date) OVER (PARTITION BY ticker) ORDER BY 1",
        params=[day],
    ).fetchall()


def test_partition_catalog_counts_follow_every_write_and_latest_reads_them(db_path):
    days = [dt.date(2024, 3, d) for d in (4, 5, 6, 7, 8)]
    names = {  # tickers starting late, stopping early, and missing a day in the middle
        days[0]: ["GGAL", "YPF", "PAM"],
        days[1]: ["GGAL", "YPF", "PAM", "BMA"],
        days[2]: ["GGAL", "BMA"],
        days[3]: ["GGAL", "YPF", "BMA"],
        days[4]: ["GGAL", "BMA", "TGSU2.BA"],
    }
    with open_writer(db_path) as con:
        for day, tickers in names.items():
            writes.replace_partitions(con, [day], [partition(day, tickers)])
            stored, expected = _catalog_and_definition(con)
            assert stored == expected
        assert [row[2:] for row in stored] == [(0, 0), (0, 0), (1, 1), (1, 0), (2, 0)]
        # A replaced partition: YPF and BMA leave the 7th, so YPF now stops on the 5th.
        writes.replace_partitions(con, [days[3]], [partition(days[3], ["GGAL"])])
        stored, expected = _catalog_and_definition(con)
        assert stored == expected
        assert [row[2:] for row in stored] == [(0, 0), (0, 0), (2, 0), (2, 1), (2, 0)]
        for day in days:
            got = reads.latest_recommendations(con, as_of=day).sort("ticker")
            assert got.select("ticker", "analysis_date").rows() == _latest_by_definition(con, day)
        writes.delete_before(con, days[2])  # retention rebuilds the catalog too
        stored, expected = _catalog_and_definition(con)
        assert stored == expected and [r[0] for r in stored] == days[2:]


def test_migration_fills_the_partition_catalog_counts(db_path):
    con = duckdb.connect(str(db_path))
    migrate(con, target=10)  # before the counts existed
    days = [dt.date(2024, 3, d) for d in (5, 6, 7)]
    for day, tickers in zip(days, (["GGAL", "YPF"], ["GGAL"], ["GGAL", "PAM"]), strict=True):
        recs, details = partition(day, tickers)
        writes._insert_chunk(con, recs, details, pl.Series([day]), None)  # no catalog yet
    con.execute(
        "INSERT INTO known_tickers SELECT ticker, min(analysis_date), max(analysis_date)"
        " FROM daily_recommendations GROUP BY ticker"
    )
    con.execute(
        "INSERT INTO partitions SELECT analysis_date, count(*) FROM daily_recommendations"
        " GROUP BY analysis_date"
    )
    migrate(con)
    stored, expected = _catalog_and_definition(con)
    assert stored == expected
    assert [row[2:] for row in stored] == [(0, 0), (1, 0), (1, 0)]
    con.close()


def test_outcome_calls_read_the_volatility_band_only_for_calls_without_a_range(db_path):
    day = dt.date(2024, 3, 8)
    recs, details = partition(day, ["GGAL", "YPF"])
    recs = recs.with_columns(  # YPF: a first-model call, with no stated range
        pl.when(pl.col("ticker") == "YPF").then(None).otherwise(pl.col(c)).alias(c)
        for c in ("target_low", "target_high")
    )
    band = '{"volatility_20": 0.42, "atr_14": 0.7, "rsi_14": 55.0}'
    details = details.with_columns(indicators=pl.lit(band))
    with open_writer(db_path) as w:
        migrate(w)
        writes.replace_partitions(w, [day], [(recs, details)])
        calls = reads.outcome_calls(w, [day], ["GGAL", "YPF"])
        assert reads.outcome_calls(w, [], ["GGAL"]).is_empty()
    values = ["volatility_20", "atr_14", "close"]
    by_ticker = {r["ticker"]: r for r in calls.iter_rows(named=True)}
    assert [by_ticker["YPF"][c] for c in values] == [0.42, 0.7, 10.5]
    assert [by_ticker["GGAL"][c] for c in values] == [None, None, None]  # its range is stated
    assert by_ticker["GGAL"]["target_low"] == 9.75 and by_ticker["YPF"]["target_low"] is None
