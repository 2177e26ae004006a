"""The market view table: one row per analysed date, replaced with the date's partition."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from pipeline.analysis.market_view import FAVOURABLE_AT_LEAST, UNFAVOURABLE_AT_MOST
from store import reads, writes
from store.connection import open_reader, open_writer
from store.export import export
from tests.factories import largest_gap, market_rows, partition

D1, D2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)


def stored_view(path) -> pl.DataFrame:
    with open_reader(path) as con:
        return reads.market_view(con)


def test_a_rerun_replaces_the_days_market_view_without_duplicates(db_path):
    with open_writer(db_path) as con:
        recs, details = partition(D1, ["GGAL"])
        writes.replace_partitions(con, [D1], [(recs, details, market_rows([D1], 40.0))])
        recs, details = partition(D2, ["GGAL"])
        writes.replace_partitions(con, [D2], [(recs, details, market_rows([D2], 45.0))])
        writes.replace_partitions(
            con, [D2], [(recs, details, market_rows([D2], 70.0))], job_run_id=3
        )
    view = stored_view(db_path)
    assert view["analysis_date"].to_list() == [D1, D2]
    assert view["macro_score"].to_list() == [40.0, 70.0]
    with open_reader(db_path) as con:
        latest, earlier = reads.latest_market_view(con), reads.latest_market_view(con, as_of=D1)
    assert latest is not None and latest["macro_score"] == 70.0
    assert earlier is not None and earlier["macro_score"] == 40.0
    with open_reader(db_path) as con:
        assert con.sql("SELECT job_run_id FROM market_view ORDER BY 1").fetchall() == [
            (3,),
            (None,),
        ]


def test_a_failing_write_keeps_the_previous_market_view(db_path):
    with open_writer(db_path) as con:
        recs, details = partition(D2, ["GGAL"])
        writes.replace_partitions(con, [D2], [(recs, details, market_rows([D2], 45.0))])
    bad = partition(D2, ["YPF"])[1].with_columns(pl.lit("not json {").alias("metadata"))

    def chunks():
        yield (*partition(D2, ["BMA"]), market_rows([D2], 90.0))
        yield partition(D2, ["YPF"])[0], bad  # invalid JSON: everything rolls back

    with open_writer(db_path) as con, pytest.raises(Exception, match=r"(?i)json"):
        writes.replace_partitions(con, [D2], chunks())
    assert stored_view(db_path)["macro_score"].to_list() == [45.0]


def test_market_view_rows_outside_the_replaced_dates_are_rejected(db_path):
    recs, details = partition(D2, ["GGAL"])
    with open_writer(db_path) as con, pytest.raises(ValueError, match="outside the replaced"):
        writes.replace_partitions(con, [D2], [(recs, details, market_rows([D1, D2]))])
    assert stored_view(db_path).is_empty()


def test_retention_deletes_the_old_market_view_with_its_partitions(db_path):
    with open_writer(db_path) as con:
        for day in (D1, D2):
            recs, details = partition(day, ["GGAL"])
            writes.replace_partitions(con, [day], [(recs, details, market_rows([day]))])
        writes.delete_before(con, D2)
    assert stored_view(db_path)["analysis_date"].to_list() == [D2]


def test_the_pipeline_stores_one_market_view_per_date_equal_to_the_macro_detail(sample_db):
    with open_reader(sample_db) as con:
        view = reads.market_view(con)
        dates = reads.analysis_dates(con)
        macro = con.sql(
            "SELECT analysis_date, macro_score, usdars_ccl, usdars_official, gap,"
            " sub_score_merval_usd FROM macro_daily ORDER BY 1"
        ).pl()
    assert view["analysis_date"].to_list() == dates  # one row per date with calls
    both = view.join(macro, on="analysis_date", suffix="_detail")
    assert both.height == len(dates)
    for stored, detail, digits in (
        ("macro_score", "macro_score_detail", 2),
        ("usdars_ccl", "usdars_ccl_detail", 2),
        ("usdars_official", "usdars_official_detail", 2),
        ("exchange_gap", "gap", 4),
        ("macro_merval_usd", "sub_score_merval_usd", 2),
    ):
        assert largest_gap(both[stored].round(digits), both[detail]) < 1e-9, stored
    rated = view.drop_nulls("macro_score")
    assert rated.height > 0.9 * view.height and rated["merval"].null_count() == 0
    expected = [
        "FAVORABLE"
        if s >= FAVOURABLE_AT_LEAST
        else "DESFAVORABLE"
        if s <= UNFAVOURABLE_AT_MOST
        else "NEUTRAL"
        for s in rated["macro_score"]
    ]
    assert rated["market_call"].to_list() == expected
    usd = rated.drop_nulls("usdars_ccl")
    assert (
        (usd["merval_usd"] * usd["usdars_ccl"] - usd["merval"]).abs() < 1e-6 * usd["merval"]
    ).all()


def test_the_export_carries_the_market_view_and_its_dictionary(sample_db, tmp_path):
    with open_reader(sample_db) as con:
        result = export(con, tmp_path / "out")
        stored = reads.market_view(con)
    assert result.rows["market_view"] == stored.height > 0
    back = pl.read_parquet(tmp_path / "out" / "market_view" / "**" / "*.parquet")
    assert back.sort("analysis_date")["macro_score"].equals(stored["macro_score"])
    dictionary = json.loads((tmp_path / "out" / "dictionary.json").read_text(encoding="utf-8"))
    text = json.dumps(dictionary)
    assert "merval / usdars_ccl" in text and "thirds of the 0-100 scale" in text
