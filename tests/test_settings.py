"""Settings: the plan's variables, defaults, and one clear line for every bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.settings import ConfigError, Settings


def test_defaults_are_the_plans():
    s = Settings.from_env({}, env_file=None)
    assert s.database_path == Path("argenta_ia.duckdb")
    assert s.scheduler_enabled is True
    assert (s.daily_analysis_hour, s.daily_analysis_timezone) == (
        6,
        "America/Argentina/Buenos_Aires",
    )
    assert (s.job_timeout_minutes, s.max_retries) == (60, 3)
    assert abs(sum(s.weights.values()) - 1) < 1e-9


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("duckdb:///./data/a.duckdb", Path("data/a.duckdb")),
        ("duckdb:////var/lib/argenta/a.duckdb", Path("/var/lib/argenta/a.duckdb")),
        ("/srv/a.duckdb", Path("/srv/a.duckdb")),
        ("a.duckdb", Path("a.duckdb")),
    ],
)
def test_database_url_forms(url, expected):
    assert Settings.from_env({"DATABASE_URL": url}, env_file=None).database_path == expected


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("DAILY_ANALYSIS_HOUR", "25", "between 0 and 23"),
        ("DAILY_ANALYSIS_HOUR", "six", "whole number"),
        ("DAILY_ANALYSIS_TIMEZONE", "Mars/Olympus", "IANA zone"),
        ("DATABASE_URL", "sqlite:///x.db", "duckdb:///PATH"),
        ("DATABASE_URL", "postgresql://u@h/db", "duckdb:///PATH"),
        ("JOB_TIMEOUT_MINUTES", "-5", ">= 0.01"),
        ("MAX_RETRIES", "-1", "between 0 and 20"),
        ("SCHEDULER_ENABLED", "maybe", "true or false"),
        ("ARGENTA_SOURCE", "bloomberg", "sample, files, yfinance"),
        ("ARGENTA_TICKERS", "THIS_IS_TOO_LONG", "1-10 characters"),
        ("ARGENTA_WEIGHTS", "technical=abc", "technical=0.4"),
        ("ARGENTA_SELL_THRESHOLD", "70", "below ARGENTA_BUY_THRESHOLD"),
    ],
)
def test_bad_value_names_variable_value_and_what_is_accepted(variable, value, accepted):
    with pytest.raises(ConfigError) as err:
        Settings.from_env({variable: value}, env_file=None)
    message = str(err.value)
    assert variable in message and value in message and accepted in message
    assert "\n" not in message


def test_env_file_is_read_and_environment_wins(tmp_path):
    env = tmp_path / ".env"
    env.write_text("DAILY_ANALYSIS_HOUR=7\nMAX_RETRIES=5\n")
    s = Settings.from_env({"MAX_RETRIES": "1"}, env_file=env)
    assert (s.daily_analysis_hour, s.max_retries) == (7, 1)


def test_tickers_and_weights_parsed():
    s = Settings.from_env(
        {"ARGENTA_TICKERS": "ggal, ypf ypf,TGSU2.BA", "ARGENTA_WEIGHTS": "technical=1,macro=1"},
        env_file=None,
    )
    assert s.tickers == ("GGAL", "YPF", "TGSU2.BA")
    assert s.weights == {"technical": 1.0, "fundamental": 0.0, "macro": 1.0, "sentiment": 0.0}


def test_cli_exits_2_with_one_line_on_bad_setting(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DAILY_ANALYSIS_HOUR": "25", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.ops.cli", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "error: DAILY_ANALYSIS_HOUR='25' is invalid: use a whole number between 0 and 23"
    ]
