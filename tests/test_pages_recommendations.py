"""The Recomendaciones page, as an analyst checks it every morning."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from pipeline.analysis import calendar
from pipeline.settings import Settings
from store import reads, writes
from store.connection import open_reader, open_writer
from tests.factories import partition
from tests.pages_support import assert_no_failure, messages, open_page
from ui import format as fmt
from ui import params, tables

PAGE = params.RECOMMENDATIONS_PAGE


@pytest.fixture
def sample_page(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The page on the database the pipeline built from the bundled sample."""
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    return open_page(PAGE)


def db_calls(path: Path, day: dt.date | None = None) -> dict[str, str]:
    """Each ticker's call at its latest date on or before `day`, straight from the database."""
    with open_reader(path) as con:
        rows = con.sql(
            "SELECT ticker, recommendation FROM daily_recommendations"
            " WHERE ?::DATE IS NULL OR analysis_date <= ?::DATE"
            " QUALIFY analysis_date = max(analysis_date) OVER (PARTITION BY ticker)",
            params=[day, day],
        ).fetchall()
    return dict(rows)


def table_calls(at: AppTest, index: int = 0) -> dict[str, str]:
    """Ticker → call as one of the page's tables shows them (0: today's, 1: older calls)."""
    table = at.dataframe[index].value
    return dict(zip(table["ticker"], table["recommendation"], strict=True))


def current_calls(path: Path) -> dict[str, str]:
    """The calls made on the latest session of each ticker's exchange, from the database."""
    with open_reader(path) as con:
        rows = con.sql(
            "SELECT ticker, recommendation, analysis_date FROM daily_recommendations"
            " QUALIFY analysis_date = max(analysis_date) OVER (PARTITION BY ticker)"
        ).fetchall()
        last = con.sql("SELECT max(analysis_date) FROM daily_recommendations").fetchall()[0][0]
    sessions = {x: calendar.latest_trading_day(x, last) for x in calendar.EXCHANGES}
    return {t: c for t, c, d in rows if d >= sessions[calendar.exchange_for(t)]}


def test_today_lists_only_the_latest_session_of_each_exchange(
    sample_page: AppTest, sample_db: Path
) -> None:
    assert_no_failure(sample_page)
    every, today = db_calls(sample_db), current_calls(sample_db)
    assert table_calls(sample_page) == today
    assert any(t.endswith(".BA") for t in every) and not any(t.endswith(".BA") for t in today)
    assert table_calls(sample_page, 1) == {t: c for t, c in every.items() if t not in today}
    filters, aside = sample_page.expander  # «Filtrar y ordenar», then the set-aside calls
    assert filters.label == "Filtrar y ordenar"
    stale = len(every) - len(today)
    assert aside.label == f"Sin datos recientes ({stale} ticker{'' if stale == 1 else 's'})"


def test_kpis_count_only_todays_calls(sample_page: AppTest, sample_db: Path) -> None:
    today = list(current_calls(sample_db).values())
    for call in ("COMPRAR", "MANTENER", "VENDER"):
        metric = next(m for m in sample_page.metric if call.capitalize() in m.label)
        assert metric.value == str(today.count(call)), call


def test_a_component_missing_for_every_current_call_is_named_once(sample_page: AppTest) -> None:
    notices = [i.value for i in sample_page.info if "puntaje total" in i.value]
    # Macro is no component of the total: the notice never says it enters the score.
    assert notices == [
        "El puntaje total usa solo el técnico: no hay datos fundamentales ni de noticias."
    ]


def context(at: AppTest) -> dict[str, str]:
    """The market context panel's figures: label → value as written."""
    pairs = (m.value.split("  \n", 1) for m in at.markdown if "  \n**" in m.value)
    return {label: value.strip("*") for label, value in pairs}


def test_the_days_market_view_is_shown_as_context(sample_page: AppTest, sample_db: Path) -> None:
    with open_reader(sample_db) as con:
        view = reads.latest_market_view(con)
    assert view is not None and view["macro_score"] is not None
    shown = context(sample_page)
    call = {"FAVORABLE": "Favorable", "NEUTRAL": "Neutral", "DESFAVORABLE": "Desfavorable"}
    score = f"{view['macro_score']:.2f}".replace(".", ",")
    assert shown["Visión de mercado"] == f"{call[view['market_call']]} · {score}"
    ccl = f"{view['usdars_ccl']:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert shown["Dólar CCL"] == f"$ {ccl}"
    assert shown["Brecha"] == f"{view['exchange_gap'] * 100:.1f} %".replace(".", ",")
    merval = f"{view['merval_usd']:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert shown["Merval en dólares"] == f"US$ {merval}"
    assert "**Contexto del mercado** · vie 08/03/2024" in [m.value for m in sample_page.markdown]
    assert any("no entra en el puntaje total" in c.value for c in sample_page.caption)


def test_a_past_day_shows_that_days_market_view(sample_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    past = dt.date(2023, 12, 15)
    at = open_page(PAGE, **{params.DATE: past.isoformat()})
    with open_reader(sample_db) as con:
        view = reads.latest_market_view(con, past)
    assert view is not None and view["analysis_date"] == past
    assert "**Contexto del mercado** · vie 15/12/2023" in [m.value for m in at.markdown]
    shown = context(at)
    assert shown["Visión de mercado"].endswith(f"{view['macro_score']:.2f}".replace(".", ","))


def test_without_a_stored_market_view_there_is_no_context_panel(small_db, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    at = open_page(PAGE)
    assert_no_failure(at)
    assert "Visión de mercado" not in context(at)


def test_old_data_shows_a_freshness_warning_with_its_date(sample_page: AppTest) -> None:
    warning = "\n".join(w.value for w in sample_page.warning)
    assert "08/03/2024" in warning and "la última rueda fue" in warning


def test_a_past_day_shows_the_calls_of_that_day(sample_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    past = dt.date(2023, 12, 15)
    at = open_page(PAGE, **{params.DATE: past.isoformat()})
    assert_no_failure(at)
    assert table_calls(at) | table_calls(at, 1) == db_calls(sample_db, past)
    assert all(not t.endswith(".BA") for t in table_calls(at))  # .BA data stops in 2023
    assert "Análisis histórico del **vie 15/12/2023**" in messages(at)


def test_the_url_holds_a_picked_date_but_not_the_latest(sample_page: AppTest) -> None:
    assert params.DATE not in sample_page.query_params  # follows new runs
    sample_page.date_input[0].set_value(dt.date(2023, 12, 15)).run()
    assert sample_page.query_params[params.DATE] == "2023-12-15"


@pytest.mark.parametrize(
    ("choose", "keeps"),
    [
        (
            lambda at: at.multiselect[0].set_value(["VENDER", "MANTENER"]),
            lambda row: row["recommendation"] != "COMPRAR",
        ),
        (
            lambda at: at.text_input[0].set_value("BA"),
            lambda row: "BA" in row["ticker"],
        ),
        (
            lambda at: at.slider[0].set_value((50, 100)),
            lambda row: row["total_score"] >= 50,
        ),
    ],
    ids=["recommendation", "search", "score"],
)
def test_filters_keep_only_matching_tickers(sample_page: AppTest, choose, keeps) -> None:
    before = sample_page.dataframe[0].value.to_dict("records")
    choose(sample_page)
    after = sample_page.run().dataframe[0].value.to_dict("records")
    assert len(after) == sum(map(keeps, before))
    assert all(map(keeps, after))


def test_sorting_orders_todays_calls(sample_page: AppTest) -> None:
    sample_page.selectbox[0].set_value("Potencial")
    table = sample_page.run().dataframe[0].value
    upside = table["upside_pct"].tolist()
    assert upside == sorted(upside, reverse=True)
    sample_page.selectbox[0].set_value("Ticker")
    sample_page.toggle[0].set_value(False)
    tickers = sample_page.run().dataframe[0].value["ticker"].tolist()
    assert tickers == sorted(tickers)


def test_tickers_without_data_on_the_day_are_set_aside(small_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")  # PAM has no row on the last day
    at = open_page(PAGE)
    assert_no_failure(at)
    assert "PAM" not in table_calls(at)
    assert [e.label for e in at.expander if "Sin datos" in e.label] == [
        "Sin datos recientes (1 ticker)"
    ]
    assert list(table_calls(at, 1)) == ["PAM"]
    assert "Vender" in at.metric[2].label and at.metric[2].value == "2"  # GGAL, YPF; not PAM


def test_machine_csv_holds_the_rows_with_database_names(small_db: Path) -> None:
    with open_reader(small_db) as con:
        frame = con.sql("SELECT * FROM latest_recommendations").pl()
    back = pl.read_csv(tables.csv(frame, dt.date(2024, 3, 8)))
    assert sorted(back["ticker"]) == sorted(frame["ticker"])
    assert {"recommendation", "total_score", "summary"} <= set(back.columns)
    # PAM's last call is of the day before: flagged, as the page sets it aside.
    flags = dict(zip(back["ticker"], back["is_current"], strict=True))
    assert flags == {"GGAL": True, "YPF": True, "PAM": False}
    assert set(back["exchange"]) == {"XNYS"}


def test_machine_csv_names_the_exchange_of_each_row(sample_db: Path) -> None:
    with open_reader(sample_db) as con:
        frame = reads.latest_recommendations(con)
        day = reads.latest_date(con)
    assert day is not None
    back = pl.read_csv(tables.csv(frame, day))
    exchanges = dict(zip(back["ticker"], back["exchange"], strict=True))
    assert {exchanges[t] for t in exchanges if t.endswith(".BA")} == {"XBUE"}
    assert {exchanges[t] for t in exchanges if not t.endswith(".BA")} == {"XNYS"}
    current = set(back.filter(pl.col("is_current"))["ticker"])
    assert current == set(current_calls(sample_db))


def test_excel_csv_is_argentine(sample_db: Path) -> None:
    with open_reader(sample_db) as con:
        frame = reads.latest_recommendations(con)
    data = tables.csv_excel(frame)
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), sep=";", decimal=",", dtype={"Ticker": str})
    assert list(back.columns[:3]) == ["Ticker", "Fecha", "Recomendación"]
    assert {"Moneda", "Precio", "Precio objetivo", "Potencial (%)"} <= set(back.columns)
    rows = back.set_index("Ticker")
    local = next(t for t in frame["ticker"] if t.endswith(".BA"))
    stored = frame.filter(pl.col("ticker") == local).row(0, named=True)
    assert rows.loc[local, "Moneda"] == "ARS" and rows.loc["GGAL", "Moneda"] == "USD"
    assert rows.loc[local, "Precio"] == pytest.approx(float(stored["current_price"]), abs=0.005)
    assert rows.loc[local, "Fecha"] == f"{stored['analysis_date']:%d/%m/%Y}"
    price_cell = text.splitlines()[1].split(";")[list(back.columns).index("Precio")]
    assert "," in price_cell and "." not in price_cell


def test_excel_csv_keeps_accents_and_neutralises_formulas() -> None:
    frame = pl.DataFrame(
        {
            "ticker": ["GGAL", "YPFD.BA"],
            "analysis_date": [dt.date(2024, 3, 8)] * 2,
            "recommendation": ["COMPRAR", "VENDER"],
            "total_score": [70.0, 30.0],
            "technical_score": [70.0, 30.0],
            "fundamental_score": [None, None],
            "macro_score": [None, None],
            "sentiment_score": [None, None],
            "confidence": [50.0, 50.0],
            "current_price": [1512.5, 20000.0],
            "target_price": [1600.0, 18000.0],
            "target_low": [1400.0, 15000.0],
            "target_high": [1700.0, 21000.0],
            "risk_level": ["BAJO", "ALTO"],
            "summary": ["=HYPERLINK(1) acompaña", "-2+3"],
        }
    )
    text = tables.csv_excel(frame).decode("utf-8")  # strict UTF-8 after the BOM
    assert ";'=HYPERLINK(1) acompaña" in text
    assert ";USD;1512,50;1600,00;5,8;1400,00;1700,00;BAJO;" in text
    # A number is not a formula; Excel reads a hyphen as the minus sign.
    assert ";ARS;20000,00;18000,00;-10,0;15000,00;21000,00;ALTO;'-2+3" in text


def _excel_rows(frame: pl.DataFrame) -> pd.DataFrame:
    """The Excel CSV of `frame` read back as Excel in Argentina would (`;`, decimal comma)."""
    text = tables.csv_excel(frame).decode("utf-8-sig")
    return pd.read_csv(io.StringIO(text), sep=";", decimal=",", dtype={"Ticker": str})


def test_excel_csv_keeps_the_total_score_to_two_decimals(small_db: Path) -> None:
    with open_reader(small_db) as con:
        frame = reads.latest_recommendations(con).with_columns(total_score=pl.lit(93.75))
    text = tables.csv_excel(frame).decode("utf-8-sig")
    assert ";93,75;" in text and ";93,8;" not in text  # as stored, as the README says
    assert (_excel_rows(frame)["Puntaje total"] == 93.75).all()


def test_excel_csv_leaves_out_confidence_when_none_is_estimated(sample_db: Path) -> None:
    with open_reader(sample_db) as con:
        frame = reads.latest_recommendations(con)
    assert frame["confidence"].is_null().all()  # the model no longer estimates it
    assert "Confianza (%)" not in _excel_rows(frame).columns
    older = _excel_rows(frame.with_columns(confidence=pl.lit(70.0)))  # rows of the first model
    assert (older["Confianza (%)"] == 70).all()


def test_confidence_column_and_sort_are_hidden_when_not_estimated(sample_page: AppTest) -> None:
    assert_no_failure(sample_page)
    assert "confidence" not in sample_page.dataframe[0].value.columns
    sorts = next(s for s in sample_page.selectbox if s.label == "Ordenar por")
    assert "Confianza" not in sorts.options and "Puntaje total" in sorts.options


def test_changes_list_upgrades_and_downgrades(db_path: Path, monkeypatch) -> None:
    d1, d2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
    with open_writer(db_path) as con:
        writes.replace_partitions(
            con, [d1], [_calls(d1, {"GGAL": "MANTENER", "YPF": "MANTENER", "PAM": "VENDER"})]
        )
        writes.replace_partitions(
            con, [d2], [_calls(d2, {"GGAL": "COMPRAR", "YPF": "VENDER", "PAM": "VENDER"})]
        )
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    assert_no_failure(at)
    text = "\n".join(m.value for m in at.markdown)
    upgrades = text.split("**Mejoran (1)**")[1].split("**Empeoran")[0]
    downgrades = text.split("**Empeoran (1)**")[1]
    assert "GGAL" in upgrades and "YPF" not in upgrades
    assert "YPF" in downgrades and "GGAL" not in downgrades
    assert "PAM" not in text.split("Cambios de recomendación")[1]


def test_data_of_the_last_session_is_reported_fresh(db_path: Path, monkeypatch) -> None:
    today = dt.datetime.now(Settings().tz).date()
    yesterday = today - dt.timedelta(days=1)
    last = calendar.latest_trading_day(calendar.NEW_YORK, yesterday)
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [last], [partition(last, ["GGAL", "YPF"])])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    assert not at.warning
    assert "la última rueda" in at.success[0].value


def _calls(day: dt.date, calls: dict[str, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One date's partition where each ticker gets the given call (score to match)."""
    scores = {"COMPRAR": 70.0, "MANTENER": 50.0, "VENDER": 30.0}
    parts = [partition(day, [t], scores[c], c) for t, c in calls.items()]
    return pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts])


def test_the_calls_carry_the_track_records_verdict(sample_page: AppTest, sample_db: Path) -> None:
    with open_reader(sample_db) as con:
        record = reads.track_record(con, horizon=20, entry="close")
    mean_ic, t_stat = fmt.ic_of(record.ic_summary, "total")
    line = next(c.value for c in sample_page.caption if c.value.startswith("Historial:"))
    assert f"IC medio {fmt.number(mean_ic, 3)}, t {fmt.number(t_stat, 2)}, a 20 ruedas" in line
    assert t_stat is not None and abs(t_stat) < 2
    assert "no muestran una ventaja medible" in line
    links = [link.proto.label for link in sample_page.get("page_link")]
    assert "Ver el Historial de aciertos" in links


def test_without_matured_calls_the_verdict_says_it_is_not_known(
    small_db: Path, monkeypatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{small_db}")
    at = open_page(PAGE)
    assert_no_failure(at)
    line = next(c.value for c in at.caption if c.value.startswith("Historial:"))
    assert "todavía no hay recomendaciones con resultado a 20 ruedas" in line


def test_no_average_score_kpi_and_no_per_ticker_macro_column(sample_page: AppTest) -> None:
    assert [m.label for m in sample_page.metric if "Puntaje" in m.label] == []
    columns = sample_page.dataframe[0].value.columns
    assert "macro_score" not in columns and "technical_score" in columns
    assert {"target_low", "target_high"} <= set(columns)
    note = next(c.value for c in sample_page.caption if c.value.startswith("**Puntaje**"))
    assert "primera rueda del mes" in note and "son las de hoy" in note


def test_the_table_shows_the_stated_range_beside_the_target(
    sample_page: AppTest, sample_db: Path
) -> None:
    table = sample_page.dataframe[0]
    config = json.loads(table.proto.columns)
    assert config["target_low"]["label"] == "Objetivo mín."
    assert "percentil 10" in config["target_low"]["help"]
    assert "percentil 90" in config["target_high"]["help"]
    with open_reader(sample_db) as con:
        stored = reads.latest_recommendations(con)
    frame = table.value.set_index("ticker")
    for row in stored.filter(pl.col("ticker").is_in(list(frame.index))).iter_rows(named=True):
        assert frame.loc[row["ticker"], "target_low"] == pytest.approx(row["target_low"])
        assert frame.loc[row["ticker"], "target_high"] == pytest.approx(row["target_high"])


def test_excel_csv_has_the_range_and_no_macro_column(sample_db: Path) -> None:
    with open_reader(sample_db) as con:
        frame = reads.latest_recommendations(con)
    rows = _excel_rows(frame).set_index("Ticker")
    assert "Puntaje macro" not in rows.columns
    stored = frame.filter(pl.col("target_low").is_not_null()).row(0, named=True)
    assert rows.loc[stored["ticker"], "Objetivo mínimo (percentil 10)"] == pytest.approx(
        stored["target_low"], abs=0.005
    )
    assert rows.loc[stored["ticker"], "Objetivo máximo (percentil 90)"] == pytest.approx(
        stored["target_high"], abs=0.005
    )


def test_a_past_day_is_headed_with_its_date(sample_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    at = open_page(PAGE, **{params.DATE: "2023-12-15"})
    headings = [s.value for s in at.subheader]
    assert any(h.startswith("Recomendaciones del vie 15/12/2023 · ") for h in headings)
    assert not any("última rueda" in h for h in headings)


def test_a_weekend_date_says_which_session_is_shown(sample_db: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    at = open_page(PAGE, **{params.DATE: "2024-03-02"})
    assert_no_failure(at)
    assert "No hay análisis del sáb 02/03/2024" in messages(at)
    assert "se muestra el anterior, del **vie 01/03/2024**" in messages(at)


def test_changes_show_the_scores_as_stored(db_path: Path, monkeypatch) -> None:
    d1, d2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [d1], [partition(d1, ["GGAL"], 81.25, "MANTENER")])
        writes.replace_partitions(con, [d2], [partition(d2, ["GGAL"], 93.75, "COMPRAR")])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE)
    text = "\n".join(m.value for m in at.markdown)
    assert "(81,25 → 93,75)" in text and "81,2 " not in text
