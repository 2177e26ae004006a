"""Settings: one declaration each, the documented defaults, one clear line for every bad value."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from pipeline.ops import settings_docs
from pipeline.settings import SETTINGS, ConfigError, Integer, Number, Settings

ROOT = Path(__file__).resolve().parents[1]
# The variable names operators already use: renaming one would silently drop their value.
VARIABLES = {
    "DATABASE_URL",
    "SCHEDULER_ENABLED",
    "DAILY_ANALYSIS_HOUR",
    "DAILY_ANALYSIS_MINUTE",
    "DAILY_ANALYSIS_TIMEZONE",
    "JOB_TIMEOUT_MINUTES",
    "MAX_RETRIES",
    "ARGENTA_RETRY_BACKOFF_SECONDS",
    "ARGENTA_SOURCE",
    "ARGENTA_DATA_DIR",
    "ARGENTA_YF_CACHE_DIR",
    "ARGENTA_TICKERS",
    "ARGENTA_WEEKDAYS_ONLY",
    "ARGENTA_CATCHUP_DAYS",
    "ARGENTA_RETENTION_DAYS",
    "ARGENTA_PUBLISH_COMMAND",
    "ARGENTA_ALERT_WEBHOOK",
    "ARGENTA_ALERT_COMMAND",
    "ARGENTA_LOW_DISK_MB",
    "ARGENTA_STALE_SESSIONS",
    "ARGENTA_VOLUME_SHARE",
    "ARGENTA_WEIGHTS",
    "ARGENTA_BUY_SHARE",
    "ARGENTA_SELL_SHARE",
}
NUMERIC = [s for s in SETTINGS if isinstance(s.parser, Integer | Number)]
# nan and infinity, overflow, separators, non-ASCII digits, hex, two numbers
NOT_A_PLAIN_NUMBER = ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "1_000", "١٢", "0x1", "6 0"]


def from_env(**values: str) -> Settings:
    return Settings.from_env(values, env_file=None)


def rejection(variable: str, value: str) -> str:
    """The ConfigError message the settings give for `variable=value`."""
    with pytest.raises(ConfigError) as err:
        from_env(**{variable: value})
    assert err.value.variable == variable
    return str(err.value)


def test_defaults_are_the_plans():
    s = from_env()
    assert s == Settings()
    assert s.database_path == Path("argenta_ia.duckdb")
    assert s.scheduler_enabled is True
    assert (s.daily_analysis_hour, s.daily_analysis_minute) == (6, 0)
    assert s.daily_analysis_timezone == "America/Argentina/Buenos_Aires"
    assert (s.job_timeout_minutes, s.max_retries, s.retry_backoff_seconds) == (60, 3, 60)
    assert s.weights == {"technical": 0.4, "fundamental": 0.2, "sentiment": 0.15}
    assert (s.buy_share, s.sell_share) == (0.2, 0.2)


def test_every_field_is_declared_once_under_its_existing_variable():
    assert [s.name for s in SETTINGS] == [f.name for f in dataclasses.fields(Settings)]
    assert len({s.variable for s in SETTINGS}) == len(SETTINGS)
    assert {s.variable for s in SETTINGS} == VARIABLES


@pytest.mark.parametrize("declared", SETTINGS, ids=lambda s: s.variable)
def test_each_documented_default_parses_to_the_default(declared):
    text = declared.default_text or declared.example
    assert text, f"{declared.variable} has neither a default text nor an example"
    value = declared.parser.parse(text, declared.variable)
    if declared.default_text:
        assert value == declared.default
    assert getattr(from_env(**{declared.variable: text}), declared.name) == value


def test_a_settings_object_never_shares_its_weights():
    first = Settings()
    first.weights["technical"] = 9.0
    assert Settings().weights["technical"] == 0.4


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
    assert from_env(DATABASE_URL=url).database_path == expected


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("DAILY_ANALYSIS_HOUR", "25", "use a whole number between 0 and 23"),
        ("DAILY_ANALYSIS_HOUR", "six", "use a whole number between 0 and 23"),
        ("DAILY_ANALYSIS_HOUR", "6.0", "use a whole number between 0 and 23"),
        ("DAILY_ANALYSIS_TIMEZONE", "Mars/Olympus", "IANA zone"),
        ("DAILY_ANALYSIS_TIMEZONE", "../../etc/passwd", "IANA zone"),
        ("DATABASE_URL", "sqlite:///x.db", "duckdb:///PATH"),
        ("DATABASE_URL", "postgresql://u@h/db", "duckdb:///PATH"),
        ("JOB_TIMEOUT_MINUTES", "-5", "use a number between 0.01 and 10080"),
        ("JOB_TIMEOUT_MINUTES", "nan", "use a number between 0.01 and 10080"),
        ("JOB_TIMEOUT_MINUTES", "inf", "use a number between 0.01 and 10080"),
        ("JOB_TIMEOUT_MINUTES", "1e308", "use a number between 0.01 and 10080"),
        ("ARGENTA_RETRY_BACKOFF_SECONDS", "nan", "use a number between 0 and 86400"),
        ("ARGENTA_BUY_SHARE", "nan", "use a number between 0.01 and 0.5"),
        ("ARGENTA_SELL_SHARE", "0.6", "use a number between 0.01 and 0.5"),
        ("ARGENTA_SELL_THRESHOLD", "40", "no longer used; calls are now in fixed proportions"),
        ("ARGENTA_WEIGHTS", "technical=1,macro=1", "macro is a market view"),
        ("MAX_RETRIES", "-1", "use a whole number between 0 and 20"),
        ("ARGENTA_RETENTION_DAYS", "99999999999999999999", "between 0 and 36600"),
        ("SCHEDULER_ENABLED", "maybe", "use true or false"),
        ("ARGENTA_SOURCE", "bloomberg", "use one of sample, files, yfinance"),
        ("ARGENTA_TICKERS", "THIS_IS_TOO_LONG", "1-10 characters"),
        ("ARGENTA_WEIGHTS", "technical=abc", "component=weight pairs"),
        ("ARGENTA_WEIGHTS", "technical=nan", "each weight a number between 0 and 100"),
        ("ARGENTA_WEIGHTS", "technical=inf,sentiment=1", "each weight a number between 0 and 100"),
        ("ARGENTA_WEIGHTS", "technical=1e308,sentiment=1e308", "between 0 and 100"),
        ("ARGENTA_WEIGHTS", "technical=-1,sentiment=2", "between 0 and 100"),
        ("ARGENTA_WEIGHTS", "technical=0,sentiment=0", "their sum above 0"),
        ("ARGENTA_WEIGHTS", "technical=1,technical=2", "component=weight pairs"),
        ("ARGENTA_WEIGHTS", "momentum=1", "components: technical, fundamental, sentiment"),
        ("ARGENTA_WEIGHTS", "technical", "component=weight pairs"),
    ],
)
def test_bad_value_names_variable_value_and_what_is_accepted(variable, value, accepted):
    message = rejection(variable, value)
    assert message.startswith(f"{variable}={value!r} is invalid: ")
    assert accepted in message
    assert "\n" not in message


@pytest.mark.parametrize("declared", NUMERIC, ids=lambda s: s.variable)
@pytest.mark.parametrize("value", NOT_A_PLAIN_NUMBER)
def test_every_numeric_setting_refuses_what_is_not_a_plain_finite_number(declared, value):
    expected = f"{declared.variable}={value!r} is invalid: use {declared.parser.accepted}"
    assert rejection(declared.variable, value) == expected


@pytest.mark.parametrize("declared", NUMERIC, ids=lambda s: s.variable)
def test_every_numeric_setting_takes_its_bounds_and_nothing_beyond(declared):
    parser = declared.parser
    lo, hi = parser.format(parser.lo), parser.format(parser.hi)
    assert [parser.parse(text, declared.variable) for text in (lo, hi)] == [parser.lo, parser.hi]
    step = 1 if isinstance(parser, Integer) else 0.001
    for outside in (parser.lo - step, parser.hi + step):
        text = str(outside)
        assert text in rejection(declared.variable, text)


# Through the real command: exit 2 and the usual single line, for the values that used to
# pass (nan, infinity) or crash (1e308).
CLI_CASES = [
    ("ARGENTA_BUY_SHARE", "nan", "use a number between 0.01 and 0.5"),
    ("JOB_TIMEOUT_MINUTES", "nan", "use a number between 0.01 and 10080"),
    ("JOB_TIMEOUT_MINUTES", "inf", "use a number between 0.01 and 10080"),
    ("JOB_TIMEOUT_MINUTES", "1e308", "use a number between 0.01 and 10080"),
    ("ARGENTA_RETRY_BACKOFF_SECONDS", "nan", "use a number between 0 and 86400"),
    ("ARGENTA_WEIGHTS", "technical=nan", "use component=weight pairs"),
    ("DAILY_ANALYSIS_HOUR", "25", "use a whole number between 0 and 23"),
]


@pytest.mark.slow
def test_the_cli_exits_2_with_one_line_naming_variable_value_and_what_is_accepted(tmp_path):
    running = []
    for n, (variable, value, _) in enumerate(CLI_CASES):
        cwd = tmp_path / str(n)
        cwd.mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
        env[variable] = value
        running.append(
            subprocess.Popen(
                [sys.executable, "-m", "pipeline.ops.cli", "run", "--source", "sample"],
                env=env,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc, (variable, value, accepted) in zip(running, CLI_CASES, strict=True):
        out, err = proc.communicate(timeout=120)
        assert (proc.returncode, out) == (2, ""), err
        line = f"error: {variable}={value!r} is invalid: "
        assert err.splitlines() == [err.strip()] and err.startswith(line) and accepted in err
    assert not list(tmp_path.glob("*/argenta_ia.duckdb"))  # nothing ran


def test_an_empty_value_means_the_default():
    assert from_env(**{s.variable: "  " for s in SETTINGS}) == Settings()


def test_env_file_is_read_and_environment_wins(tmp_path):
    env = tmp_path / ".env"
    env.write_text("DAILY_ANALYSIS_HOUR=7\nMAX_RETRIES=5\n")
    s = Settings.from_env({"MAX_RETRIES": "1"}, env_file=env)
    assert (s.daily_analysis_hour, s.max_retries) == (7, 1)


def test_tickers_and_weights_parsed():
    s = from_env(
        ARGENTA_TICKERS="ggal, ypf ypf,TGSU2.BA", ARGENTA_WEIGHTS="technical=1,sentiment=1"
    )
    assert s.tickers == ("GGAL", "YPF", "TGSU2.BA")
    assert s.weights == {"technical": 1.0, "fundamental": 0.0, "sentiment": 1.0}


# --- the generated documentation ---------------------------------------------------------


def test_the_readme_table_and_the_example_environment_are_made_from_the_declarations():
    for path, text in settings_docs.expected_files().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name}: run make settings-docs"
    assert settings_docs.main(["--check"]) == 0


def readme_rows() -> dict[str, list[str]]:
    """The README's configuration table, by variable: [default, accepted, meaning]."""
    text = settings_docs.README.read_text(encoding="utf-8")
    table = text.split(settings_docs.TABLE_START)[1].split(settings_docs.TABLE_END)[0]
    rows = [line.strip("|").split(" | ") for line in table.strip().splitlines()[2:]]
    return {cells[0].strip(" `"): [c.strip() for c in cells[1:]] for cells in rows}


def test_the_readme_table_shows_each_setting_with_its_real_default_and_bounds():
    rows = readme_rows()
    assert list(rows) == [s.variable for s in SETTINGS]
    for declared in SETTINGS:
        default, accepted, meaning = rows[declared.variable]
        assert (accepted, meaning) == (declared.parser.accepted, declared.help)
        if declared.default_text and not declared.shown:
            shown = default.strip("`")
            assert declared.parser.parse(shown, declared.variable) == declared.default


def test_the_example_environment_uncommented_gives_the_defaults_and_the_units_paths(tmp_path):
    lines = settings_docs.ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    settings_lines = [line[1:] for line in lines if line[1:2].isupper() and "=" in line]
    assert [line.partition("=")[0] for line in settings_lines] == [s.variable for s in SETTINGS]
    env = tmp_path / "argenta.env"
    env.write_text("\n".join(settings_lines) + "\n", encoding="utf-8")
    values = {k: v for k, v in dotenv_values(env).items() if v is not None}
    parsed = Settings.from_env(values, env_file=None)
    assert parsed.database_path == Path("/var/lib/argenta/argenta_ia.duckdb")
    assert parsed.yf_cache_dir == Path("/var/cache/argenta")
    assert parsed.tickers and parsed.data_dir and parsed.publish_command  # unset by default
    unset = {"database_path", "yf_cache_dir", "tickers", "data_dir", "publish_command"}
    unset |= {"alert_webhook", "alert_command"}
    assert {s.name for s in SETTINGS if getattr(parsed, s.name) != s.default} == unset


def test_publish_command_is_split_like_a_shell_and_refused_when_unbalanced():
    command = from_env(ARGENTA_PUBLISH_COMMAND="rsync -a '{path}' 'replica:/srv/my data/'")
    assert command.publish_command == ("rsync", "-a", "{path}", "replica:/srv/my data/")
    assert from_env().publish_command == ()
    assert "a command line" in rejection("ARGENTA_PUBLISH_COMMAND", "rsync '{path}")


def test_alert_webhook_must_be_an_http_url():
    url = "https://hooks.example.com/services/T0/B0/x"
    assert from_env(ARGENTA_ALERT_WEBHOOK=url).alert_webhook == url
    assert from_env().alert_webhook is None
    assert "http:// or https://" in rejection("ARGENTA_ALERT_WEBHOOK", "hooks.example.com/x")
    assert "http:// or https://" in rejection("ARGENTA_ALERT_WEBHOOK", "file:///etc/passwd")


@pytest.mark.parametrize("value", ["yes", "No", "on", "OFF", "1", "0", "TRUE"])
def test_every_flag_spelling_read_is_one_the_readme_table_lists(value):
    """SCHEDULER_ENABLED=yes was read as true while the table said only true/false."""
    assert isinstance(from_env(SCHEDULER_ENABLED=value).scheduler_enabled, bool)
    _, accepted, _ = readme_rows()["SCHEDULER_ENABLED"]
    assert value.lower() in re.findall(r"\w+", accepted)


def test_the_alert_command_row_shows_no_publish_example():
    """The table showed the rsync publish command as ARGENTA_ALERT_COMMAND's example."""
    _, accepted, meaning = readme_rows()["ARGENTA_ALERT_COMMAND"]
    assert "rsync" not in accepted + meaning and "alert" in meaning
