"""The typed research views: technical_daily, macro_daily, analysis_components, latest freshness."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from store import writes
from store.connection import open_reader, open_writer
from tests.factories import partition
from tests.public_schema import PUBLIC_COLUMNS


def test_technical_daily_has_one_typed_row_per_call_equal_to_the_json(sample_db):
    with open_reader(sample_db) as con:
        view = con.sql("SELECT * FROM technical_daily").pl()
        calls = con.sql(
            "SELECT analysis_date, ticker, current_price::DOUBLE AS current_price"
            " FROM daily_recommendations"
        ).pl()
        stored = con.sql(
            "SELECT r.analysis_date, r.ticker, d.indicators::VARCHAR AS indicators"
            " FROM daily_recommendations r JOIN analysis_details d ON d.recommendation_id = r.id"
            " WHERE d.analysis_type = 'technical' USING SAMPLE 50 ROWS (reservoir, 7)"
        ).pl()
    assert view.height == calls.height
    assert view.select("analysis_date", "ticker").is_duplicated().sum() == 0
    assert view.schema["rsi_14"] == pl.Float64 and view.schema["close"] == pl.Float64
    assert view.schema["vote_rsi_14"] == pl.Int8
    # signed votes survive (a JSON reader inferring from one row typed them unsigned)
    assert view["vote_close_vs_sma_20"].min() == -1 and view["vote_close_vs_sma_20"].max() == 1
    joined = calls.join(view, on=["analysis_date", "ticker"])
    assert (joined["close_raw"] - joined["current_price"]).abs().max() < 0.006
    for row in stored.iter_rows(named=True):
        doc = json.loads(row["indicators"])
        got = view.filter(
            (pl.col("analysis_date") == row["analysis_date"]) & (pl.col("ticker") == row["ticker"])
        ).row(0, named=True)
        assert got["rsi_14"] == doc["rsi_14"] and got["sma_50"] == doc["sma_50"]
        assert got["vote_macd_vs_signal"] == doc["votes"]["macd_vs_signal"]
        assert got["rating_trend"] == doc["ratings"]["trend"]


def test_macro_daily_has_one_row_per_date_with_every_tickers_macro_score(sample_db):
    with open_reader(sample_db) as con:
        macro = con.sql("SELECT * FROM macro_daily").pl()
        dates = con.sql("SELECT count(*) FROM partitions").fetchall()[0][0]
        per_ticker = con.sql(
            "SELECT analysis_date, count(DISTINCT macro_score) AS scores"
            " FROM daily_recommendations GROUP BY 1"
        ).pl()
        scores = con.sql(
            "SELECT r.analysis_date, r.macro_score::DOUBLE AS s FROM daily_recommendations r"
        ).pl()
    assert macro.height == dates
    assert per_ticker["scores"].max() <= 1  # the macro detail is the same for every ticker
    check = scores.join(macro, on="analysis_date").filter(pl.col("s") != pl.col("macro_score"))
    assert check.is_empty()
    assert macro.schema["gap"] == pl.Float64 and macro["usdars_ccl"].null_count() < macro.height


def test_analysis_components_give_reason_codes_next_to_the_text(sample_db):
    with open_reader(sample_db) as con:
        comp = con.sql("SELECT * FROM analysis_components").pl()
    nulls = comp.filter(pl.col("score").is_null())
    assert nulls["reason_code"].null_count() == 0 and nulls["reason"].null_count() == 0
    assert comp.filter(pl.col("score").is_not_null())["reason_code"].null_count() == (
        comp.filter(pl.col("score").is_not_null()).height
    )
    codes = dict(nulls.group_by("analysis_type").agg(pl.col("reason_code").unique()).iter_rows())
    assert set(codes["sentiment"]) == {"no_news_for_ticker"}  # the sample has no news
    assert "no_fundamentals" in codes["fundamental"]
    assert "other" not in set(nulls["reason_code"])


def test_a_stored_reason_code_wins_over_the_text_mapping(db_path):
    day = dt.date(2024, 3, 8)
    recs, details = partition(day, ["GGAL"])
    meta = json.dumps({"reason": "brand new wording", "reason_code": "new_code"})
    details = details.with_columns(metadata=pl.lit(meta))
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [day], [(recs, details)])
    with open_reader(db_path) as con:
        codes = con.sql("SELECT DISTINCT reason_code FROM analysis_components").fetchall()
    assert codes == [("new_code",)]


def test_latest_recommendations_flags_calls_behind_their_exchange_calendar(db_path):
    d1, d2, d3 = dt.date(2024, 3, 6), dt.date(2024, 3, 7), dt.date(2024, 3, 8)
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [d1], [partition(d1, ["PAM", "TGSU2.BA"])])
        writes.replace_partitions(con, [d2], [partition(d2, ["TGSU2.BA"])])
        writes.replace_partitions(con, [d3], [partition(d3, ["GGAL", "YPF"])])
    with open_reader(db_path) as con:
        latest = con.sql(
            "SELECT ticker, exchange, analysis_date, days_since_latest, is_current"
            " FROM latest_recommendations ORDER BY ticker"
        ).fetchall()
        columns = con.sql("SELECT * FROM latest_recommendations").columns
    assert latest == [
        ("GGAL", "XNYS", d3, 0, True),
        ("PAM", "XNYS", d1, 2, False),
        ("TGSU2.BA", "XBUE", d2, 1, False),  # BYMA had a session on d3: its feed stopped
        ("YPF", "XNYS", d3, 0, True),
    ]
    daily = PUBLIC_COLUMNS["daily_recommendations"]
    assert columns[: len(daily)] == daily  # every column of the table, in its order
