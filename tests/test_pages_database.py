"""The pages and their database: new runs show up; missing, empty, locked or misconfigured
files give one clear Spanish message instead of a traceback."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest

from pipeline.settings import SETTINGS
from store import writes
from store.connection import open_writer
from tests.factories import partition
from tests.pages_support import assert_no_failure, locked, messages, open_page
from ui import format as fmt
from ui import params

D1, D2, D3 = dt.date(2024, 3, 7), dt.date(2024, 3, 8), dt.date(2024, 3, 11)
PAGES = [params.RECOMMENDATIONS_PAGE, params.EVOLUTION_PAGE, params.DETAIL_PAGE, params.HEALTH_PAGE]
DATA_PAGES = PAGES[:3]


@pytest.fixture
def use_db(monkeypatch: pytest.MonkeyPatch, db_path: Path) -> Path:
    """Point the dashboard at the test's database path."""
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    return db_path


def test_a_published_run_shows_without_restarting_the_app(small_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    at = open_page(params.RECOMMENDATIONS_PAGE)
    assert set(at.dataframe[0].value["analysis_date"].dt.date) == {D2}
    assert set(at.dataframe[1].value["analysis_date"].dt.date) == {D1}  # set aside: no data on D2
    with open_writer(small_db) as con:  # the daily run publishes a new file
        writes.replace_partitions(con, [D3], [partition(D3, ["GGAL", "YPF", "PAM"])])
    at.run()
    assert_no_failure(at)
    assert set(at.dataframe[0].value["analysis_date"].dt.date) == {D3}
    assert at.date_input[0].value == D3


@pytest.mark.parametrize("page", PAGES)
def test_missing_database_says_how_to_build_it(use_db: Path, page: str) -> None:
    at = open_page(page)
    assert_no_failure(at)
    text = messages(at)
    assert "Todavía no existe la base de datos" in text and str(use_db) in text
    assert "make demo" in text and "argenta backfill --source sample" in text


@pytest.mark.parametrize("page", DATA_PAGES)
def test_empty_database_says_how_to_fill_it(use_db: Path, page: str) -> None:
    with open_writer(use_db):
        pass  # creates the schema, no rows
    at = open_page(page)
    assert_no_failure(at)
    assert "todavía no tiene recomendaciones" in messages(at)
    assert "make demo" in messages(at)
    assert not at.dataframe and not at.get("plotly_chart")


def test_health_page_of_an_empty_database_has_no_runs(use_db: Path) -> None:
    with open_writer(use_db):
        pass
    at = open_page(params.HEALTH_PAGE)
    assert_no_failure(at)
    assert "Todavía no hay corridas registradas" in messages(at)


@pytest.mark.parametrize("url", ["postgres://db/argenta", "duckdb:///"])
def test_wrong_database_setting_is_one_clear_message(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    at = open_page(params.RECOMMENDATIONS_PAGE)
    assert_no_failure(at)
    assert len(at.error) == 1
    assert "La configuración no es válida" in at.error[0].value
    assert "DATABASE_URL" in at.error[0].value


# English words of the CLI's messages that must not reach the Spanish page.
ENGLISH = re.compile(r"\b(is invalid|use|must|between|number|one of|no longer|file path)\b")


@pytest.mark.parametrize(
    ("variable", "value", "spanish"),
    [
        ("DATABASE_URL", "sqlite:///x.db", "usá duckdb:///RUTA"),
        ("DAILY_ANALYSIS_HOUR", "25", "un número entero entre 0 y 23"),
        ("ARGENTA_BUY_SHARE", "2", "un número entre 0.01 y 0.5"),
        ("SCHEDULER_ENABLED", "maybe", "usá true o false"),
        ("ARGENTA_WEIGHTS", "macro=1", "no forma parte del total"),
        ("ARGENTA_BUY_THRESHOLD", "60", "usá ARGENTA_BUY_SHARE"),
    ],
)
def test_a_bad_setting_is_explained_in_spanish(monkeypatch, variable, value, spanish) -> None:
    monkeypatch.setenv(variable, value)
    at = open_page(params.RECOMMENDATIONS_PAGE)
    assert_no_failure(at)
    assert len(at.error) == 1
    text = at.error[0].value
    assert text.startswith(f"La configuración no es válida: la variable `{variable}`"), text
    assert spanish in text and "volvé a iniciar el tablero" in text
    assert not ENGLISH.search(text), text


def test_every_setting_error_code_has_spanish_text() -> None:
    codes = {declared.parser.code for declared in SETTINGS} - {""}  # "": never rejects
    codes |= {"database_url_file", "database_path", "cache_path", "macro_weight", "env_file"}
    codes |= {"retired"}
    assert codes <= set(fmt.SETTING_ERRORS_ES), codes - set(fmt.SETTING_ERRORS_ES)


@pytest.mark.slow
def test_locked_database_without_earlier_data_asks_to_close_the_other_program(
    small_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    with locked(small_db):
        at = open_page(params.RECOMMENDATIONS_PAGE)
    assert_no_failure(at)
    assert "bloqueada por otro proceso" in messages(at)
    assert not at.dataframe


@pytest.mark.slow
def test_locked_database_keeps_showing_the_last_data_with_a_notice(
    small_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    at = open_page(params.RECOMMENDATIONS_PAGE)
    shown = at.dataframe[0].value["ticker"].tolist()
    # A run publishes a new file, and a foreign read-write process grabs it at once.
    shutil.copyfile(small_db, tmp_path / "next.duckdb")
    os.replace(tmp_path / "next.duckdb", small_db)
    with locked(small_db):
        at.run()
    assert_no_failure(at)
    assert "se muestran los últimos datos leídos" in messages(at)
    assert at.dataframe[0].value["ticker"].tolist() == shown
