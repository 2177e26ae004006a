"""deploy/argenta-as-service: a command run as the service user with the service's settings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "argenta-as-service"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root")
def test_it_passes_the_service_environment_and_the_arguments(tmp_path):
    state, cache = tmp_path / "state", tmp_path / "cache"
    state.mkdir()
    env_file = tmp_path / "argenta.env"
    env_file.write_text(
        "# a comment\n\nARGENTA_SOURCE=sample\n"
        "ARGENTA_PUBLISH_COMMAND=rsync -a --inplace {path} replica:/srv/argenta/\n"
        "not a setting\n",
        encoding="utf-8",
    )
    fake = tmp_path / "argenta"  # stands for the installed entry point: prints what it got
    fake.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            """
            import json, os, sys
            keys = ["DATABASE_URL", "ARGENTA_YF_CACHE_DIR", "ARGENTA_SOURCE",
                    "ARGENTA_PUBLISH_COMMAND", "POLARS_SKIP_CPU_CHECK", "SECRET_FROM_CALLER"]
            print(json.dumps({"env": {k: os.environ.get(k) for k in keys}, "argv": sys.argv[1:],
                              "uid": os.getuid(), "cwd": os.getcwd()}))
            """
        ),
        encoding="utf-8",
    )
    fake.chmod(0o755)
    env = {
        **os.environ,
        "SECRET_FROM_CALLER": "leak",
        "ARGENTA_SERVICE_USER": "root",
        "ARGENTA_ENV_FILE": str(env_file),
        "ARGENTA_STATE_DIR": str(state),
        "ARGENTA_CACHE_DIR": str(cache),
        "ARGENTA_BIN": str(fake),
    }
    done = subprocess.run(
        [str(SCRIPT), "backfill", "--start", "2024-03-04", "--end", "2024-03-08"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["argv"] == ["backfill", "--start", "2024-03-04", "--end", "2024-03-08"]
    assert got["env"] == {
        "DATABASE_URL": f"duckdb:///{state}/argenta_ia.duckdb",
        "ARGENTA_YF_CACHE_DIR": str(cache),
        "ARGENTA_SOURCE": "sample",
        "ARGENTA_PUBLISH_COMMAND": "rsync -a --inplace {path} replica:/srv/argenta/",
        "POLARS_SKIP_CPU_CHECK": "1",
        "SECRET_FROM_CALLER": None,  # a clean environment, as under systemd
    }
    assert got["uid"] == 0 and got["cwd"] == str(state)
    assert "skipping a line" in done.stderr
