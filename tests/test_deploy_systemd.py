"""The systemd unit and its example environment file, checked with systemd-analyze."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from pipeline.ops.settings_docs import unit_environment
from pipeline.settings import SETTINGS

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
UNIT = DEPLOY / "argenta-pipeline.service"
ENV_EXAMPLE = DEPLOY / "argenta.env.example"
INSTALLED_BINARY = "/opt/argenta/.venv/bin/argenta"


def systemd_analyze(*args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze is missing: run `make system-deps` (apt-get install systemd)"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)


def service_options() -> dict[str, list[str]]:
    """The [Service] section's settings, each with all its values (Environment= repeats)."""
    options: dict[str, list[str]] = {}
    section = None
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            options.setdefault(key, []).append(value)
    return options


def installable(unit: Path, installed: str, folder: Path, name: str | None = None) -> Path:
    """A copy of `unit` in `folder` whose `installed` program path points at this environment's
    program of that name (systemd-analyze verify needs it to exist)."""
    program = Path(sys.executable).with_name(Path(installed).name)
    assert program.exists(), f"{program.name} is not installed in this environment"
    text = unit.read_text(encoding="utf-8")
    assert installed in text
    path = folder / (name or unit.name)
    path.write_text(text.replace(installed, str(program)), encoding="utf-8")
    return path


@pytest.fixture
def installable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at this checkout's `argenta`."""
    return installable(UNIT, INSTALLED_BINARY, tmp_path)


def test_the_unit_verifies_without_any_message(installable_unit):
    result = systemd_analyze("verify", str(installable_unit))
    assert result.returncode == 0
    assert result.stdout + result.stderr == ""


def test_the_unit_is_rated_at_most_2_by_the_security_audit():
    result = systemd_analyze("security", "--offline=true", str(UNIT))
    match = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0


def test_the_unit_runs_the_daemon_unprivileged_with_its_state_dir_and_restarts():
    service = service_options()
    assert service["ExecStart"][-1].endswith("argenta daemon")
    assert service["User"][-1] not in ("", "root")
    assert service["Restart"] == ["on-failure"]
    assert service["StateDirectory"] == ["argenta"]
    env = " ".join(service["Environment"])
    assert "DATABASE_URL=duckdb:////var/lib/argenta/" in env
    assert "POLARS_SKIP_CPU_CHECK=1" in env  # MemoryDenyWriteExecute breaks polars otherwise
    assert "ARGENTA_YF_CACHE_DIR=/var/cache/argenta" in env  # yfinance cache; home is hidden


def test_a_notify_unit_has_a_watchdog_the_daemon_feeds():
    service = service_options()
    assert service["Type"] == ["notify"]
    assert service["NotifyAccess"] == ["main"]
    assert service["WatchdogSec"]


def test_the_example_environment_names_only_settings_and_leaves_the_units_paths_alone():
    active = set(dotenv_values(ENV_EXAMPLE))
    commented = re.findall(r"^#([A-Z][A-Z_]+)=", ENV_EXAMPLE.read_text("utf-8"), re.MULTILINE)
    assert set(commented) | active <= {s.variable for s in SETTINGS}
    from_unit = unit_environment(UNIT.read_text(encoding="utf-8"))
    assert {"DATABASE_URL", "ARGENTA_YF_CACHE_DIR"} <= set(from_unit)
    assert not active & set(from_unit)  # EnvironmentFile= would override the unit's paths


def test_the_alert_unit_verifies_and_the_pipeline_names_it_on_failure(tmp_path):
    alert, name = (
        DEPLOY / "argenta-alert@.service",
        "argenta-alert@argenta-pipeline.service.service",
    )
    instance = installable(alert, INSTALLED_BINARY, tmp_path, name)
    result = systemd_analyze("verify", str(instance))
    assert result.returncode == 0 and result.stdout + result.stderr == ""
    audit = systemd_analyze("security", "--offline=true", str(instance))
    match = re.search(r"Overall exposure level for \S+: ([\d.]+)", audit.stdout)
    assert match and float(match.group(1)) <= 2.0
    assert "OnFailure=argenta-alert@%n.service" in UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED_BINARY} notify-failed %i" in alert.read_text(encoding="utf-8")


DASHBOARD_UNIT = DEPLOY / "argenta-dashboard.service"
INSTALLED_STREAMLIT = "/opt/argenta/.venv/bin/streamlit"


def unit_options(unit: Path, section: str = "Service") -> dict[str, list[str]]:
    """One section's settings of a unit, each with all its values."""
    options: dict[str, list[str]] = {}
    current = None
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            options.setdefault(key, []).append(value)
    return options


def test_the_dashboard_unit_verifies_and_is_rated_at_most_2(tmp_path):
    unit = installable(DASHBOARD_UNIT, INSTALLED_STREAMLIT, tmp_path)
    result = systemd_analyze("verify", str(unit))
    assert result.returncode == 0
    assert result.stdout + result.stderr == ""
    audit = systemd_analyze("security", "--offline=true", str(unit))
    match = re.search(r"Overall exposure level for \S+: ([\d.]+)", audit.stdout)
    assert match, audit.stdout + audit.stderr
    assert float(match.group(1)) <= 2.0


def test_the_dashboard_unit_serves_the_app_reading_the_pipelines_database_read_only():
    dashboard, pipeline = unit_options(DASHBOARD_UNIT), service_options()
    assert dashboard["ExecStart"][-1].startswith(f"{INSTALLED_STREAMLIT} run serve.py ")
    assert dashboard["WorkingDirectory"] == ["/opt/argenta"]  # where .streamlit/config.toml is
    assert dashboard["EnvironmentFile"] == pipeline["EnvironmentFile"]
    database = [e for e in pipeline["Environment"] if e.startswith("DATABASE_URL=")]
    assert database and database[0] in dashboard["Environment"]
    assert dashboard["ReadOnlyPaths"] == ["/var/lib/argenta"]
    assert "StateDirectory" not in dashboard and "ReadWritePaths" not in dashboard
    assert dashboard["User"][-1] not in ("", "root", pipeline["User"][-1])
    assert dashboard["Group"] == pipeline["Group"]  # the published file is 0640, group-readable
    assert dashboard["Restart"] == ["on-failure"]
    assert "POLARS_SKIP_CPU_CHECK=1" in dashboard["Environment"]
