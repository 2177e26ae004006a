"""The pure analysis imports neither the database nor the dashboard."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    ["pipeline.analysis", "pipeline.analysis.scoring.combine", "pipeline.sources"],
)
def test_analysis_imports_no_duckdb_or_streamlit(module: str) -> None:
    code = (
        f"import json, sys; import {module}; "
        "print(json.dumps(sorted(m for m in ('duckdb', 'streamlit') if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []
