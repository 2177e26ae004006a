"""The run record stored in job_runs.log_data: its layout, its round trip, and old rows."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest

from pipeline.ops import jobs
from pipeline.ops.runlog import RunRecord
from pipeline.settings import Settings
from store import writes
from store.connection import open_reader, open_writer
from store.json_schemas import json_schemas

D1, D2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)


def full_record() -> RunRecord:
    return RunRecord(
        source="sample",
        requested=[D1, D2],
        dates=[D1, D2],
        no_data_dates=[dt.date(2024, 3, 11)],
        failed_tickers={"BMA": "no data"},
        data_problems=["prices.csv line 3: close is not a number: 'abc'"],
        data_problems_count=12,
        errors=[{"ticker": "LOMA", "analysis_type": "technical", "message": "30 bars"}],
        errors_by_type={"technical": 1, "source": 1},
        inactive_tickers={"BMA.BA": dt.date(2017, 8, 3)},
        inactive_count=3,
        timings={"load": 0.5, "write": 0.25, "total": 1.5},
        recommendations_written=34,
        retention_deleted=17,
        retention_cutoff=dt.date(2023, 3, 8),
        tickers_processed=17,
        db_size_bytes=4096,
        peak_rss_mb=180.5,
        cpu_seconds=3.25,
        failure_reason=None,
    )


def test_a_record_survives_the_database(db_path):
    record = full_record()
    with open_writer(db_path) as con:
        job = writes.start_job(con, "daily_analysis", record.to_dict())
        writes.finish_job(con, job, 17, record.errors_count, record.to_dict())
        stored = con.execute("SELECT log_data::VARCHAR FROM job_runs").fetchall()[0][0]
    assert RunRecord.from_json(stored) == record
    assert record.errors_count == 2 and record.duration_s == 1.5


def test_a_coded_failure_survives_the_database(db_path):
    params = {"source": "sample", "tickers": [], "first": "2024-06-03", "last": "2024-06-03"}
    reason = "source 'sample' has no price bar for any ticker on 2024-06-03"
    record = RunRecord(
        source="sample",
        failure_reason=reason,
        failure_code="no_prices",
        failure_params=params | {"dates": 1},
    )
    with open_writer(db_path) as con:
        job = writes.start_job(con, "daily_analysis")
        writes.fail_job(con, job, reason, record.to_dict())
        stored = con.execute("SELECT log_data::VARCHAR FROM job_runs").fetchall()[0][0]
    assert json.loads(stored)["failure_code"] == "no_prices"
    assert RunRecord.from_json(stored) == record
    jsonschema.validate(record.to_dict(), json_schemas()["job_runs.log_data"])


def test_the_stored_layout_is_the_documented_one():
    """Notebooks read these paths; the README documents them."""
    stored = json.loads(full_record().to_json())
    assert stored["requested"] == {"dates": ["2024-03-07", "2024-03-08"]}
    assert stored["dates"] == {
        "first": "2024-03-07",
        "last": "2024-03-08",
        "count": 2,
        "list": ["2024-03-07", "2024-03-08"],
    }
    assert stored["metrics"] == {
        "duration_s": 1.5,
        "tickers_processed": 17,
        "db_size_bytes": 4096,
        "peak_rss_mb": 180.5,
        "cpu_seconds": 3.25,
    }
    assert json.loads(RunRecord(tickers_processed=3).to_json())["metrics"] == {
        "tickers_processed": 3
    }
    assert stored["no_data_dates"] == ["2024-03-11"] and stored["retention_cutoff"] == "2023-03-08"
    assert "failure_reason" not in stored  # unknown values are left out
    assert "failure_code" not in stored and "failure_params" not in stored
    assert stored["inactive_tickers"] == {"BMA.BA": "2017-08-03"} and stored["inactive_count"] == 3
    assert json.loads(RunRecord(source="x").to_json())["requested"] == {"dates": "latest"}


@pytest.mark.parametrize(
    "record", [full_record(), RunRecord(source="x", failure_reason="timeout")], ids=["full", "bare"]
)
def test_records_match_the_exported_json_schema(record):
    jsonschema.validate(record.to_dict(), json_schemas()["job_runs.log_data"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, RunRecord()),
        ("", RunRecord()),
        ("not json", RunRecord()),
        ("[1, 2]", RunRecord()),
        ('{"dates": 3, "failure_reason": "timeout"}', RunRecord(failure_reason="timeout")),
        ('{"source": "test"}', RunRecord(source="test")),
        (  # written before tickers without recent data were set apart: none, not errors lost
            '{"errors_by_type": {"technical": 18}}',
            RunRecord(errors_by_type={"technical": 18}, inactive_count=0),
        ),
        (
            '{"inactive_tickers": {"A.BA": "2022-08-12", "B.BA": 7}, "inactive_count": "x"}',
            RunRecord(inactive_tickers={"A.BA": dt.date(2022, 8, 12)}),
        ),
        (
            '{"errors_by_type": {"source": 2, "x": "many"}, "metrics": {"db_size_bytes": "big"}}',
            RunRecord(errors_by_type={"source": 2}),
        ),
        (  # a code without parameters, or parameters of the wrong type
            '{"failure_reason": "no bars", "failure_code": "no_prices", "failure_params": [1]}',
            RunRecord(failure_reason="no bars", failure_code="no_prices"),
        ),
        (
            '{"requested": {"dates": "latest"}, "dates": {"list": ["2024-03-08", "someday"]},'
            ' "timings": {"total": 2, "load": null}}',
            RunRecord(dates=[D2], timings={"total": 2.0}),
        ),
    ],
    ids=[
        "null",
        "empty",
        "not-json",
        "not-object",
        "old-failed",
        "minimal",
        "before-inactive",
        "bad-inactive",
        "bad-types",
        "bad-failure-params",
        "dates",
    ],
)
def test_old_or_damaged_logs_read_as_far_as_they_go(text, expected):
    assert RunRecord.from_json(text) == expected


def test_a_run_stores_what_it_did(tmp_path):
    settings = Settings.from_env({"DATABASE_URL": str(tmp_path / "a.duckdb")}, env_file=None)
    options = jobs.SourceOptions("sample", tickers=("GGAL", "YPF", "NOPE"))
    result = jobs.run_daily(settings, options, D2)
    with open_reader(settings.database_path) as con:
        text, size = con.execute(
            "SELECT log_data::VARCHAR, log_data->>'$.metrics.db_size_bytes' FROM job_runs"
        ).fetchall()[0]
    record = RunRecord.from_json(text)
    assert record == result.record
    assert record.dates == [D2] and record.requested == [D2] and record.source == "sample"
    assert record.tickers_processed == 2 and set(record.failed_tickers) == {"NOPE"}
    assert record.errors_by_type == {"source": 1} and result.errors_count == 1
    assert record.recommendations_written == 2
    assert record.db_size_bytes is not None and int(size) == record.db_size_bytes > 0
    assert set(record.timings) >= {"load", "analyse", "write", "total"}
