"""Stale data, a run's volume, a slow run: the checks behind the new alerts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pipeline.ops.checks import expected_session, low_volume, slow_run, stale_data

BA = ZoneInfo("America/Argentina/Buenos_Aires")
SIX = dt.time(6, 0)
HOUR = dt.timedelta(hours=1)


def at(day: str, hour: int) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=BA)


def test_the_expected_session_flips_once_the_run_should_be_done():
    # Tuesday 2024-03-12: before 07:00 (06:00 + the job timeout) Friday's session is expected
    assert expected_session("XNYS", at("2024-03-12", 6), SIX, BA, HOUR) == dt.date(2024, 3, 8)
    assert expected_session("XNYS", at("2024-03-12", 8), SIX, BA, HOUR) == dt.date(2024, 3, 11)
    # Monday 2024-03-11 after the run: Friday; carnival closes BYMA on 2024-02-12 and 13
    assert expected_session("XNYS", at("2024-03-11", 9), SIX, BA, HOUR) == dt.date(2024, 3, 8)
    assert expected_session("XBUE", at("2024-02-14", 9), SIX, BA, HOUR) == dt.date(2024, 2, 9)


def test_a_files_folder_whose_last_bar_is_ten_days_old_is_stale():
    expected = {"XNYS": dt.date(2024, 3, 8)}
    finding = stale_data({"XNYS": dt.date(2024, 2, 27)}, expected)
    assert finding is not None and finding.code == "stale_data"
    assert finding.params["exchanges"]["XNYS"]["sessions"] == 8
    assert stale_data({"XNYS": dt.date(2024, 3, 8)}, expected) is None
    assert stale_data({"XNYS": dt.date(2024, 3, 7)}, expected, sessions=2) is None


def test_no_ticker_or_a_fall_under_80_percent_of_the_usual_volume_alerts():
    none_processed = low_volume([0, 30, 30])
    assert none_processed is not None and none_processed.severity == "critical"
    warned = low_volume([20, 30, 31, 29, 30])
    assert warned is not None and warned.params == {"processed": 20, "usual": 30.0}
    assert low_volume([25, 30, 31, 29, 30]) is None  # 25 >= 0.8 x 30
    assert low_volume([30]) is None and low_volume([]) is None


def test_a_run_taking_twice_its_usual_time_is_an_early_warning():
    assert slow_run(250.0, [100.0, 110.0, 90.0]) is not None
    assert slow_run(150.0, [100.0, 110.0, 90.0]) is None
    assert slow_run(None, [100.0]) is None and slow_run(500.0, []) is None
