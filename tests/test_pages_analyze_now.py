"""On-demand analysis: `argenta analyze` and the detail page's «Analizar ahora» button."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.ops import jobs, ondemand
from store import reads
from store.connection import open_reader
from tests.pages_support import assert_no_failure, open_page
from ui import params

PAGE = params.DETAIL_PAGE


def stored_call(path: Path, ticker: str) -> dict:
    with open_reader(path) as con:
        rec, _ = reads.ticker_analysis(con, ticker)
    return rec.row(0, named=True)


def test_cli_analyze_matches_the_stored_call_and_stores_nothing(sample_db: Path) -> None:
    with open_reader(sample_db) as con:
        before = reads.table_counts(con)
    command = [sys.executable, "-m", "pipeline.ops.cli", "analyze", "ggal", "--source", "sample"]
    done = subprocess.run(
        [*command, "--format", "json"],
        env={"DATABASE_URL": str(sample_db), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)
    stored = stored_call(sample_db, "GGAL")
    assert row["ticker"] == "GGAL" and row["stored"] is False and row["seconds"] > 0
    assert row["analysis_date"] == stored["analysis_date"].isoformat()
    assert row["recommendation"] == stored["recommendation"]
    assert row["total_score"] == pytest.approx(stored["total_score"], abs=0.01)
    with open_reader(sample_db) as con:
        assert reads.table_counts(con) == before


def test_cli_analyze_names_an_unknown_ticker_in_one_line(sample_db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.ops.cli", "analyze", "NOPE", "--source", "sample"],
        env={"DATABASE_URL": str(sample_db), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: the source 'sample' has no prices for NOPE"]


def test_an_unreachable_source_is_abandoned_after_the_bounded_wait(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hangs(*args, **kwargs):  # the network vendor, not answering
        time.sleep(5)
        raise AssertionError("not reached in time")

    monkeypatch.setattr(jobs, "load_market_data", hangs)
    start = time.monotonic()
    with pytest.raises(ondemand.SourceUnreachable, match=r"did not answer within 0\.5 s"):
        ondemand.analyze(settings, jobs.SourceOptions("yfinance"), "GGAL", timeout_s=0.5)
    assert time.monotonic() - start < 2


def test_the_button_shows_the_fresh_call_beside_the_stored_one(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    monkeypatch.setenv("ARGENTA_SOURCE", "sample")
    at = open_page(PAGE, **{params.TICKER: "GGAL"})
    next(b for b in at.button if b.label == "Analizar ahora").click().run()
    assert_no_failure(at)
    table = at.dataframe[0].value
    fresh = next(c for c in table.columns if c.startswith("Calculado a las"))
    assert fresh.endswith(", no guardado")
    rows = table.set_index("Dato")
    assert rows.loc["Recomendación", fresh] == rows.loc["Recomendación", "Guardado"]
    assert rows.loc["Puntaje total", fresh] == rows.loc["Puntaje total", "Guardado"]
    for price in ("Precio", "Precio objetivo"):  # in the listing currency, as the header has it
        assert rows.loc[price, "Guardado"].startswith("US$ ")
        assert rows.loc[price, fresh].startswith("US$ ")
    assert any("no guardado · fuente sample · tardó" in c.value for c in at.caption)


def test_the_button_says_when_the_source_does_not_answer(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    monkeypatch.setenv("ARGENTA_SOURCE", "yfinance")
    monkeypatch.setattr(ondemand, "DEFAULT_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(jobs, "load_market_data", lambda *a, **k: time.sleep(5))
    at = open_page(PAGE, **{params.TICKER: "GGAL"})
    next(b for b in at.button if b.label == "Analizar ahora").click().run()
    assert_no_failure(at)
    assert at.error[0].value.startswith(
        "La fuente de datos (yfinance) no respondió en 0,5 s. Se muestra el análisis guardado"
    )
