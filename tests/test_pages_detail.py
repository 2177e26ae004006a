"""The Detalle del ticker page: one ticker on one date and the four analyses behind it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from store import reads
from store.connection import open_reader
from tests.pages_support import assert_no_failure, messages, open_page
from tests.reasons_support import declared_reasons
from ui import format as fmt
from ui import params

PAGE = params.DETAIL_PAGE
ANALYSES = ("Técnico", "Fundamental", "Macro", "Sentimiento")


@pytest.fixture
def latest_call(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The last call of the sample's first ticker, with its details, from the database."""
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    with open_reader(sample_db) as con:
        ticker = reads.tickers(con)[0]
        rec, details = reads.ticker_analysis(con, ticker)
    return {"rec": rec.row(0, named=True), "details": details}


def open_detail(call: dict, day: dt.date | None = None) -> AppTest:
    rec = call["rec"]
    day = day or rec["analysis_date"]
    return open_page(PAGE, **{params.TICKER: rec["ticker"], params.DATE: day.isoformat()})


def test_header_shows_the_call_its_scores_and_summary(latest_call: dict) -> None:
    at = open_detail(latest_call)
    assert_no_failure(at)
    rec = latest_call["rec"]
    text = "\n".join(m.value for m in at.markdown)
    assert rec["ticker"] in text and rec["recommendation"] in text and rec["summary"] in text
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Puntaje total"] == f"{fmt.number(rec['total_score'])}/100"  # as stored
    assert {m.label: m.help for m in at.metric}["Precio objetivo"].startswith("Potencial")
    assert metrics["Riesgo"] == rec["risk_level"]


def test_json_viewer_shows_the_four_analyses(latest_call: dict) -> None:
    at = open_detail(latest_call)
    labels = [e.label for e in at.expander]
    assert [next(a for a in ANALYSES if a in label) for label in labels] == list(ANALYSES)
    shown = [json.loads(element.value) for element in at.json]
    stored = [
        json.loads(detail[field] or "{}")
        for detail in latest_call["details"].iter_rows(named=True)
        for field in ("raw_data", "indicators", "metadata")
    ]
    assert shown == stored
    assert {"open", "high", "low", "close"} <= set(shown[0])  # technical raw data


def test_indicator_table_names_every_technical_indicator_in_spanish(latest_call: dict) -> None:
    table = open_detail(latest_call).dataframe[0].value
    technical = latest_call["details"].row(0, named=True)
    rows = table[table["Análisis"] == "Técnico"].set_index("Indicador")
    stored = json.loads(technical["indicators"])
    flat = sum(len(v) if isinstance(v, dict) else 1 for v in stored.values())
    assert len(rows) == flat  # one row per stored indicator, none dropped
    assert not any("_" in name for name in rows.index)  # Spanish names, no JSON keys
    rsi = rows.loc["RSI 14 ruedas"]
    assert rsi["Valor"] == fmt.number(stored["rsi_14"], 1) and rsi["Unidad"] == "índice (0-100)"
    sma = rows.loc["Media móvil simple 20 ruedas"]
    assert sma["Valor"] == fmt.number(stored["sma_20"]) and "," in sma["Valor"]
    drawdown = rows.loc["Caída desde el máximo de 52 semanas", "Valor"]
    assert drawdown == fmt.percent(stored["drawdown_252"], 1, signed=True)  # a percentage


@pytest.mark.parametrize("asked", ["ggal", " GgAl "])
def test_ticker_in_the_url_ignores_case(sample_db: Path, monkeypatch, asked: str) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    at = open_page(PAGE, **{params.TICKER: asked})
    assert_no_failure(at)
    assert at.markdown[0].value.startswith("## GGAL ·") and not at.warning
    assert at.query_params[params.TICKER] == "GGAL"


def test_an_unknown_ticker_is_named_with_what_is_shown(sample_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    at = open_page(PAGE, **{params.TICKER: "NOPE"})
    assert_no_failure(at)
    shown = at.selectbox[0].value
    assert f"No hay ningún ticker «NOPE» en la base; se muestra {shown}" in at.warning[0].value


def test_a_date_out_of_range_is_named_with_the_date_shown(sample_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    at = open_page(PAGE, **{params.TICKER: "GGAL", params.DATE: "2099-01-01"})
    assert_no_failure(at)
    with open_reader(sample_db) as con:
        last = reads.latest_date(con)
    assert "Pediste el 01/01/2099" in messages(at)
    assert f"se muestra el {last:%d/%m/%Y}" in messages(at)


def test_a_day_without_analysis_shows_the_previous_one(latest_call: dict, sample_db) -> None:
    rec = latest_call["rec"]
    saturday = rec["analysis_date"] - dt.timedelta(days=rec["analysis_date"].weekday() + 2)
    with open_reader(sample_db) as con:
        previous = con.sql(
            "SELECT max(analysis_date) FROM daily_recommendations"
            " WHERE ticker = ? AND analysis_date <= ?",
            params=[rec["ticker"], saturday],
        ).fetchall()[0][0]
    at = open_detail(latest_call, saturday)
    assert_no_failure(at)
    assert f"se muestra el anterior, del {fmt.date(previous)}" in messages(at)
    assert f"{rec['ticker']} · {fmt.date(previous)}" in at.markdown[0].value


def test_the_url_names_the_ticker_and_date_on_screen(latest_call: dict, sample_db) -> None:
    at = open_detail(latest_call)
    with open_reader(sample_db) as con:
        other = reads.tickers(con)[-1]
    at.selectbox[0].set_value(other).run()
    assert at.query_params[params.TICKER] == other
    assert at.query_params[params.DATE] == latest_call["rec"]["analysis_date"].isoformat()


def test_a_component_without_score_says_why_in_spanish(latest_call: dict) -> None:
    at = open_detail(latest_call)
    captions = [c.value for c in at.caption if c.value.startswith("Sin puntaje")]
    assert "Sin puntaje: la fuente no trajo titulares hasta esa fecha" in captions  # no news
    assert not any("the source" in c for c in captions)


def test_every_reason_code_has_its_spanish_words_with_the_same_parameters() -> None:
    reasons = declared_reasons()  # the components' and the relative model's
    assert len(reasons) == 11 and len({r.code for r in reasons}) == 11
    for r in reasons:
        template = fmt.REASONS_ES[r.code]
        assert set(re.findall(r"{(\w+)}", template)) == {name for name, _ in r.params}, r.code


def test_a_reason_is_worded_from_its_code_and_an_old_row_keeps_its_english() -> None:
    stale = {
        "reason": "latest filing (2020-04-24) is 1551 days old, over the 550-day limit",
        "reason_code": "filing_too_old",
        "reason_params": {"filed": "2020-04-24", "age_days": 1551, "limit_days": 550},
    }
    assert fmt.reason(stale) == (
        "el último balance (24/04/2020) tiene 1.551 días, más que el límite de 550"
    )
    old_row = {"reason": "no fundamentals filed on or before this date"}  # before the codes
    assert fmt.reason(old_row) == "no fundamentals filed on or before this date"
    assert fmt.reason({**stale, "reason_code": "a_code_from_the_future"}) == stale["reason"]
    assert fmt.reason({**stale, "reason_params": {"filed": "2020-04-24"}}) == stale["reason"]


@pytest.mark.parametrize("query", [{}, {params.TICKER: "FOO"}], ids=["no-ticker", "unknown"])
def test_the_default_ticker_is_the_first_of_todays_calls(sample_db, monkeypatch, query) -> None:
    """Not the alphabetically first ticker (ALUA.BA, whose data ends in 2022): the first row of
    the recommendations page, with a call of the latest session."""
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    listed = open_page(params.RECOMMENDATIONS_PAGE).dataframe[0].value
    first = listed.iloc[0]
    at = open_page(PAGE, **query)
    assert_no_failure(at)
    assert at.selectbox[0].value == first["ticker"] != "ALUA.BA"
    header = at.markdown[0].value
    assert header.startswith(f"## {first['ticker']} · {fmt.date(first['analysis_date'])}")
    assert "se muestra el anterior" not in messages(at)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({params.DATE: "notadate"}, "«fecha=notadate»"),
        ({params.DATE: "2024-02-30"}, "«fecha=2024-02-30»"),
    ],
)
def test_a_bad_date_in_the_url_is_named_with_the_accepted_form(
    sample_db: Path, monkeypatch, query: dict, named: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    at = open_page(PAGE, **query)
    assert_no_failure(at)
    notice = next(w.value for w in at.warning if named in w.value)
    assert "AAAA-MM-DD, p. ej. fecha=2024-03-08" in notice
    assert params.DATE not in at.query_params  # the address holds only what is shown


def sell_call(sample_db: Path) -> dict:
    """A stored VENDER call whose target is above its price (the sample has some)."""
    with open_reader(sample_db) as con:
        frame = reads.latest_recommendations(con)
    rows = frame.filter(
        (frame["recommendation"] == "VENDER") & (frame["target_price"] > frame["current_price"])
    )
    assert not rows.is_empty(), "the sample has a VENDER call with a target above the price"
    return rows.row(0, named=True)


def test_a_sell_calls_upside_is_not_coloured_as_a_buy(sample_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    call = sell_call(sample_db)
    at = open_page(
        PAGE,
        **{params.TICKER: call["ticker"], params.DATE: call["analysis_date"].isoformat()},
    )
    assert_no_failure(at)
    target = next(m for m in at.metric if m.label == "Precio objetivo")
    assert target.proto.delta.startswith("+")
    assert target.proto.color == Metric.MetricColor.GRAY  # never a buy's green
    assert "por eso una VENDER puede tener un objetivo por encima del precio" in "\n".join(
        c.value for c in at.caption
    )


def test_the_stated_range_is_shown_in_the_listing_currency(latest_call: dict) -> None:
    at = open_detail(latest_call)
    rec = latest_call["rec"]
    assert rec["target_low"] is not None
    line = next(m for m in at.markdown if m.value.startswith("**Rango objetivo a 63 ruedas**"))
    low, high = (
        fmt.price(rec["target_low"], rec["ticker"]),
        fmt.price(rec["target_high"], rec["ticker"]),
    )
    assert line.value.endswith(f"de {low} a {high}")
    assert "(80 % de los resultados)" in line.value
    assert "percentil 10" in line.help and "percentil 90" in line.help


def test_the_call_carries_the_track_records_verdict(latest_call: dict) -> None:
    at = open_detail(latest_call)
    line = next(c.value for c in at.caption if c.value.startswith("Historial:"))
    assert "a 20 ruedas" in line and "IC medio" in line
