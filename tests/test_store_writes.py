"""Writes: partitions replaced whole and atomically; the job-run lifecycle."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from store import reads, writes
from store.connection import open_reader, open_writer
from tests.factories import partition

D1, D2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)


def counts(db_path):
    with open_reader(db_path) as con:
        return reads.table_counts(con)


def test_rerunning_a_day_replaces_it_without_duplicates(small_db):
    with open_writer(small_db) as con:
        writes.replace_partitions(
            con, [D2], [partition(D2, ["GGAL", "YPF", "BMA"], 80.0, "COMPRAR")]
        )
        writes.replace_partitions(
            con, [D2], [partition(D2, ["GGAL", "YPF", "BMA"], 80.0, "COMPRAR")]
        )
    with open_reader(small_db) as con:
        day = reads.recommendation_history(con, D2, D2)
        earlier = reads.recommendation_history(con, D1, D1)
        orphans = con.sql(
            "SELECT count(*) FROM analysis_details d ANTI JOIN daily_recommendations r"
            " ON r.id = d.recommendation_id"
        ).fetchall()[0][0]
    assert sorted(day["ticker"]) == ["BMA", "GGAL", "YPF"]
    assert set(day["total_score"]) == {80.0}
    assert earlier.height == 3  # the other day is untouched
    assert counts(small_db)["analysis_details"] == 4 * (3 + 3)
    assert orphans == 0


def test_a_ticker_dropped_from_a_rerun_disappears_from_that_day(small_db):
    with open_writer(small_db) as con:
        writes.replace_partitions(con, [D2], [partition(D2, ["GGAL"])])
    with open_reader(small_db) as con:
        assert reads.recommendation_history(con, D2, D2)["ticker"].to_list() == ["GGAL"]


def test_tickers_the_source_failed_on_keep_their_stored_call(small_db):
    with open_writer(small_db) as con:
        writes.replace_partitions(con, [D2], [partition(D2, ["GGAL"], 80.0)], keep_tickers=["YPF"])
    with open_reader(small_db) as con:
        day = {
            r["ticker"]: r["total_score"]
            for r in reads.recommendation_history(con, D2, D2).to_dicts()
        }
        orphans = con.sql(
            "SELECT count(*) FROM analysis_details d ANTI JOIN daily_recommendations r"
            " ON r.id = d.recommendation_id"
        ).fetchall()[0][0]
    assert day == {"GGAL": 80.0, "YPF": 35.0}
    assert orphans == 0


def test_a_failing_write_leaves_the_previous_state(small_db):
    before = counts(small_db)
    recs, details = partition(D2, ["GGAL", "YPF"], 90.0)
    bad = details.with_columns(pl.lit("not json {").alias("metadata"))

    def chunks():
        yield partition(D2, ["BMA"], 90.0)
        yield recs, bad  # invalid JSON: the whole transaction must roll back

    with open_writer(small_db) as con, pytest.raises(Exception, match=r"(?i)json"):
        writes.replace_partitions(con, [D2], chunks())
    assert counts(small_db) == before
    with open_reader(small_db) as con:
        assert set(reads.recommendation_history(con, D2, D2)["total_score"]) == {35.0}


def test_details_without_a_recommendation_are_rejected(db_path):
    recs, details = partition(D1, ["GGAL"])
    _, stray = partition(D1, ["YPF"])
    with open_writer(db_path) as con, pytest.raises(ValueError, match="without a recommendation"):
        writes.replace_partitions(con, [D1], [(recs, pl.concat([details, stray]))])


def test_retention_deletes_old_partitions_and_their_details(small_db):
    with open_writer(small_db) as con:
        assert writes.delete_before(con, D2) == 3
    assert counts(small_db)["daily_recommendations"] == 2
    assert counts(small_db)["analysis_details"] == 8


def test_job_lifecycle(db_path):
    with open_writer(db_path) as con:
        ok = writes.start_job(con, "daily_analysis", {"source": "sample"})
    with open_writer(db_path) as con:
        writes.finish_job(con, ok, 17, 2, {"errors": ["x", "y"]})
        bad = writes.start_job(con, "backfill")
        writes.fail_job(con, bad, "timeout", {"dates": 3})
        stale = writes.start_job(con, "daily_analysis")
        assert writes.close_stale_runs(con, "process died") == 1
    with open_reader(db_path) as con:
        runs = {r["id"]: r for r in reads.job_runs(con).to_dicts()}
    assert runs[ok]["status"] == "completed" and runs[ok]["tickers_processed"] == 17
    assert runs[ok]["errors_count"] == 2 and runs[ok]["end_time"] is not None
    assert runs[bad]["status"] == "failed"
    assert json.loads(runs[bad]["log_data"]) == {"dates": 3, "failure_reason": "timeout"}
    assert json.loads(runs[stale]["log_data"])["failure_reason"] == "process died"


def test_with_keep_when_empty_nothing_to_write_keeps_the_stored_partition(db_path):
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [D2], [partition(D2, ["GGAL", "YPF", "PAM"])])
    before = counts(db_path)
    with open_writer(db_path) as con:
        assert writes.stored_calls(con, [D2]) == 3
        assert writes.stored_calls(con, [D2], keep_tickers=["GGAL"]) == 2
        assert writes.stored_calls(con, [D2], only_tickers=["YPF"]) == 1
        assert writes.stored_calls(con, [D1]) == 0
        assert writes.replace_partitions(con, [D2], [], keep_when_empty=True) == 0
    assert counts(db_path) == before
    with open_writer(db_path) as con:  # without it, nothing replaces them (as before)
        writes.replace_partitions(con, [D2], [])
        assert writes.stored_calls(con, [D2]) == 0
