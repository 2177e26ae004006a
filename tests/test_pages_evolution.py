"""The Evolución de puntajes page: score, component and price charts of chosen tickers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from store import writes
from store.connection import open_reader, open_writer
from tests.factories import partition
from tests.pages_support import assert_no_failure, figures, numbers, open_page
from ui import charts, params
from ui import format as fmt

PAGE = params.EVOLUTION_PAGE
START, END = dt.date(2023, 11, 1), dt.date(2024, 3, 8)
VIEW = "vista"  # the open tab, in the URL
SCORE, PARTS, COMPARED, PRICE, PAIR = (
    "Puntaje total",
    "Componentes",
    "Rendimiento comparado",
    "Precio",
    "ADR y acción local",
)
VIEWS = (SCORE, PARTS, COMPARED, PRICE, PAIR)


def _first_column(path: Path, sql: str, *params) -> list:
    """The first column of a read-only query on the database at `path`."""
    with open_reader(path) as con:
        return [row[0] for row in con.sql(sql, params=list(params)).fetchall()]


def sample_tickers(path: Path, count: int) -> list[str]:
    """The first tickers of the sample database with calls between START and END."""
    return _first_column(
        path,
        "SELECT DISTINCT ticker FROM daily_recommendations"
        " WHERE analysis_date BETWEEN ? AND ? ORDER BY 1 LIMIT ?",
        START,
        END,
        count,
    )


def db_scores(path: Path, ticker: str) -> np.ndarray:
    """A ticker's total scores from START to END, oldest first, straight from the database."""
    sql = (
        "SELECT total_score::DOUBLE FROM daily_recommendations"
        " WHERE ticker = ? AND analysis_date BETWEEN ? AND ? ORDER BY analysis_date"
    )
    return np.array(_first_column(path, sql, ticker, START, END))


@pytest.fixture
def on_sample(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    return sample_db


def open_view(view: str, **query: str | list[str]) -> AppTest:
    """The page on one of its tabs, as a link to it opens it (`?vista=Precio`)."""
    return open_page(PAGE, **({VIEW: view} if view != SCORE else {}), **query)


def open_charts(tickers: list[str], view: str = SCORE) -> AppTest:
    at = open_view(view, **{params.TICKER: tickers})
    at.date_input[0].set_value((START, END))
    return at.run()


def every_figure(tickers: list[str], **query: str | list[str]) -> list[dict]:
    """The figures of every tab of the page."""
    return [f for view in VIEWS for f in figures(open_view(view, **query, ticker=tickers))]


def price_figure(at) -> dict:
    """The page's price figure (its title starts with "Precio de")."""
    return next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Precio de"))


def titled(at, start: str) -> dict:
    return next(f for f in figures(at) if f["layout"]["title"]["text"].startswith(start))


def closes(price: dict) -> list[float]:
    """The closes drawn by a price figure's candlesticks."""
    candles = next(trace for trace in price["data"] if trace["type"] == "candlestick")
    return numbers(candles["close"]).tolist()


def chart_titles(at: AppTest) -> list[str]:
    return [f["layout"]["title"]["text"] for f in figures(at)]


def test_each_view_is_a_tab_and_only_the_open_one_is_drawn(on_sample: Path) -> None:
    at = open_charts(sample_tickers(on_sample, 2))
    assert_no_failure(at)
    assert [tab.label for tab in at.tabs] == list(VIEWS)
    assert chart_titles(at) == ["Puntaje total y recomendación vigente"]
    assert VIEW not in at.query_params  # the first tab keeps the address short


def test_a_tab_opens_from_its_link_and_when_picked(on_sample: Path) -> None:
    ticker = sample_tickers(on_sample, 1)[0]
    at = open_view(PRICE, **{params.TICKER: ticker})
    assert_no_failure(at)
    assert chart_titles(at) == [f"Precio de {ticker}"]
    link = next(e for e in at.get("page_link") if "análisis completo" in e.proto.label)
    assert link.proto.label.endswith(ticker)
    at = open_view(SCORE, **{params.TICKER: ticker})
    at.session_state[VIEW] = PARTS  # what a click on the tab sends
    assert chart_titles(at.run()) == ["Componentes del puntaje"]


def test_an_unknown_tab_in_the_link_opens_the_first(on_sample: Path) -> None:
    at = open_view("Volumen", **{params.TICKER: sample_tickers(on_sample, 1)})
    assert_no_failure(at)
    assert chart_titles(at) == ["Puntaje total y recomendación vigente"]
    assert VIEW not in at.query_params


def test_score_chart_holds_one_series_per_selected_ticker(on_sample: Path) -> None:
    chosen = sample_tickers(on_sample, 2)
    at = open_charts(chosen)
    assert_no_failure(at)
    lines = score_lines(figures(at)[0])
    assert sorted(trace["name"] for trace in lines) == sorted(chosen)
    for trace in lines:
        np.testing.assert_allclose(numbers(trace["y"]), db_scores(on_sample, trace["name"]))


def score_lines(figure: dict) -> list[dict]:
    """The score chart's ticker lines (not the call markers)."""
    return [trace for trace in figure["data"] if trace.get("mode") == "lines"]


def db_calls(path: Path, tickers: list[str]) -> set[tuple[str, str, str]]:
    """(ticker, ISO date, call) of the tickers from START to END, straight from the database."""
    with open_reader(path) as con:
        rows = con.sql(
            "SELECT ticker, strftime(analysis_date, '%Y-%m-%d'), recommendation"
            " FROM daily_recommendations WHERE analysis_date BETWEEN ? AND ?"
            " AND list_contains(?, ticker)",
            params=[START, END, tickers],
        ).fetchall()
    return set(rows)


def test_score_chart_marks_each_day_with_the_stored_call_and_no_fixed_bands(
    on_sample: Path, monkeypatch
) -> None:
    monkeypatch.setenv("ARGENTA_BUY_SHARE", "0.3")
    chosen = sample_tickers(on_sample, 3)
    at = open_charts(chosen)
    assert_no_failure(at)
    score = figures(at)[0]
    # No threshold band or line: calls are quantiles of the month's first session, not levels.
    assert not score["layout"].get("shapes") and not score["layout"].get("annotations")
    drawn = {
        (ticker, str(day)[:10], trace["name"])
        for trace in score["data"]
        if trace.get("mode") == "markers"
        for ticker, day in zip(trace["customdata"], trace["x"], strict=True)
    }
    stored = db_calls(on_sample, chosen)
    assert drawn == stored
    assert {call for _, _, call in stored} >= {"COMPRAR", "VENDER"}  # the test sees both
    for trace in score["data"]:
        if trace.get("mode") == "markers":
            assert trace["marker"]["color"] == fmt.CALL_HEX[trace["name"]]
    caption = next(c.value for c in at.caption if "recomendación vigente" in c.value)
    assert "No hay un puntaje fijo" in caption and "el 30 % de puntaje total más alto" in caption


def test_component_chart_has_a_panel_per_component(on_sample: Path) -> None:
    chosen = sample_tickers(on_sample, 2)
    (components,) = figures(open_charts(chosen, PARTS))
    titles = {a["text"] for a in components["layout"]["annotations"] if "<b>" in a["text"]}
    assert titles == {f"<b>{t}</b>" for t in ("Técnico", "Fundamental", "Macro", "Sentimiento")}
    assert len(components["data"]) == 4 * len(chosen)


def test_price_chart_has_candles_moving_averages_and_bollinger_bands(on_sample: Path) -> None:
    ticker = sample_tickers(on_sample, 1)[0]
    price = price_figure(open_charts([ticker], PRICE))
    kinds = {trace.get("name"): trace["type"] for trace in price["data"]}
    assert kinds[ticker] == "candlestick"
    assert {"SMA 20", "SMA 50", "SMA 200"} <= set(kinds)
    assert any("Bollinger" in name for name in kinds)


def test_peso_prices_can_be_shown_in_dollars_at_the_ccl_rate(db_path: Path, monkeypatch) -> None:
    day = dt.date(2024, 3, 8)
    recs, details = partition(day, ["GGAL.BA", "GGAL"])
    raw = {"open": 990.0, "high": 1010.0, "low": 980.0, "close": 1000.0, "usdars_ccl": 800.0}
    details = details.with_columns(
        raw_data=pl.when(pl.col("analysis_type") == "technical")
        .then(pl.lit(json.dumps(raw)))
        .otherwise(pl.col("raw_data"))
    )
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [day], [(recs, details)])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")

    at = open_view(PRICE, **{params.TICKER: ["GGAL.BA"]})
    assert closes(price_figure(at)) == [1000.0]
    at.toggle[0].set_value(True).run()
    assert closes(price_figure(at)) == [1000.0 / 800.0]

    adr = open_view(PRICE, **{params.TICKER: ["GGAL"]})
    assert adr.toggle[0].disabled


def test_tickers_without_calls_in_the_period_are_named(db_path: Path, monkeypatch) -> None:
    d1, d2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [d1], [partition(d1, ["GGAL", "YPF"])])
        writes.replace_partitions(con, [d2], [partition(d2, ["GGAL"])])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_page(PAGE, **{params.TICKER: ["GGAL", "YPF"]})
    at.date_input[0].set_value((d2, d2)).run()
    assert_no_failure(at)
    assert "Sin análisis entre el vie 08/03/2024 y el vie 08/03/2024: YPF." in at.info[0].value
    assert [trace["name"] for trace in score_lines(figures(at)[0])] == ["GGAL"]


def test_a_close_only_ticker_gets_a_price_line_over_its_own_period(
    db_path: Path, monkeypatch
) -> None:
    days = [dt.date(2022, 8, 1) + dt.timedelta(days=i) for i in range(5)]  # BA data ends early
    with open_writer(db_path) as con:
        for i, day in enumerate(days):
            recs, details = partition(day, ["GGAL.BA"])
            details = details.with_columns(raw_data=pl.lit(json.dumps({"close": 200.0 + i})))
            writes.replace_partitions(con, [day], [(recs, details)])
        last = dt.date(2024, 3, 8)
        writes.replace_partitions(con, [last], [partition(last, ["GGAL"])])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_view(PRICE, **{params.TICKER: "ggal.ba"})  # case-insensitive
    assert_no_failure(at)
    assert at.date_input[0].value == (days[0], days[-1])  # its own data, not the market's end
    price = price_figure(at)
    kinds = {trace.get("name"): trace["type"] for trace in price["data"]}
    assert "candlestick" not in kinds.values()
    line = next(t for t in price["data"] if t["name"] == "GGAL.BA (cierre)")
    assert numbers(line["y"]).tolist() == [200.0, 201.0, 202.0, 203.0, 204.0]
    assert {"RSI 14", "MACD (12, 26)"} <= set(kinds)  # the panels under the price


def test_the_period_lives_in_the_url(on_sample: Path) -> None:
    ticker = sample_tickers(on_sample, 1)[0]
    at = open_page(
        PAGE, **{params.TICKER: ticker, params.START: "2023-12-01", "hasta": "2024-01-31"}
    )
    assert at.date_input[0].value == (dt.date(2023, 12, 1), dt.date(2024, 1, 31))
    at.date_input[0].set_value((dt.date(2023, 11, 1), dt.date(2024, 2, 1))).run()
    assert (at.query_params[params.START], at.query_params[params.END]) == (
        "2023-11-01",
        "2024-02-01",
    )


def test_every_chart_hovers_in_spanish_with_dates_dd_mm_yyyy(on_sample: Path) -> None:
    period = {params.START: START.isoformat(), params.END: END.isoformat()}
    drawn = every_figure(sample_tickers(on_sample, 2), **period)
    assert len(drawn) == len(VIEWS)
    for figure in drawn:
        assert figure["layout"]["separators"] == ",."
        assert figure["layout"]["xaxis"]["tickformat"] == "%d/%m/%Y"
        for trace in figure["data"]:
            template = trace.get("hovertemplate", trace.get("hoverinfo", ""))
            assert template and "=" not in template, trace.get("name")  # no "Puntaje total=55.78"


def test_performance_is_rebased_to_100_on_each_tickers_first_close(on_sample: Path) -> None:
    chosen = sample_tickers(on_sample, 2)
    chart = titled(open_charts(chosen, COMPARED), "Rendimiento comparado")
    with open_reader(on_sample) as con:
        for trace in chart["data"]:
            if trace.get("name") not in chosen:
                continue
            rows = con.sql(  # the close the analysis used (adjusted), from its raw data
                "SELECT (d.raw_data->>'close')::DOUBLE FROM daily_recommendations r"
                " JOIN analysis_details d ON d.recommendation_id = r.id"
                " WHERE d.analysis_type = 'technical' AND r.ticker = ?"
                " AND r.analysis_date BETWEEN ? AND ? ORDER BY r.analysis_date",
                params=[trace["name"], START, END],
            ).fetchall()
            prices = np.array([r[0] for r in rows if r[0] is not None])
            assert numbers(trace["y"]) == pytest.approx(prices / prices[0] * 100, rel=1e-3)


def test_an_adr_against_its_local_share_gives_the_implied_ccl_and_the_gap(
    db_path: Path, monkeypatch
) -> None:
    day = dt.date(2024, 3, 8)
    recs, details = partition(day, ["YPFD.BA", "YPF"])
    adr_raw, local_raw = {"close": 20.0}, {"close": 22000.0, "usdars_ccl": 1000.0}
    raw = (
        pl.when(pl.col("ticker") == "YPF")
        .then(pl.lit(json.dumps(adr_raw)))
        .otherwise(pl.lit(json.dumps(local_raw)))
    )
    details = details.with_columns(raw_data=raw)
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [day], [(recs, details)])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_view(PAIR, **{params.TICKER: ["YPF"]})
    assert_no_failure(at)
    chart = titled(at, "YPF / YPFD.BA")
    implied, ccl, gap = (numbers(t["y"]).tolist() for t in chart["data"])
    assert implied == [1100.0] and ccl == [1000.0]  # 22000 x 1 share per ADR / 20
    assert gap == pytest.approx([10.0])  # percent


def test_a_figure_is_built_once_per_data_and_again_when_the_data_changes() -> None:
    """Figures are cached by value: the same scores reuse the figure; a changed score redraws."""
    days = [dt.date(2024, 3, 6), dt.date(2024, 3, 7), dt.date(2024, 3, 8)]
    history = pl.DataFrame(
        {
            "analysis_date": days,
            "ticker": ["GGAL"] * 3,
            "total_score": [40.0, 50.0, 60.0],
            "recommendation": ["MANTENER"] * 3,
        }
    )
    first = charts.score_history(history)
    assert charts.score_history(history.clone()) is first  # a rerun, a new session
    changed = history.with_columns(pl.Series("total_score", [40.0, 50.0, 61.0]))
    redrawn = charts.score_history(changed)
    assert redrawn is not first
    assert numbers(redrawn.to_dict()["data"][0]["y"])[-1] == 61.0
    recalled = history.with_columns(pl.Series("recommendation", ["MANTENER"] * 2 + ["COMPRAR"]))
    assert charts.score_history(recalled) is not first  # another call, other markers


def test_a_bad_period_in_the_url_is_named_with_the_accepted_form(on_sample: Path) -> None:
    at = open_page(PAGE, **{params.START: "ayer", params.END: "2024-03-08"})
    assert_no_failure(at)
    notice = next(w.value for w in at.warning if "«desde=ayer»" in w.value)
    assert "AAAA-MM-DD, p. ej. desde=2024-03-08" in notice
    span = at.date_input[0].value
    assert isinstance(span, tuple) and dt.date(2024, 3, 8) in span  # the good end is kept


def test_a_period_given_backwards_is_swapped_and_said(on_sample: Path) -> None:
    ticker = sample_tickers(on_sample, 1)[0]
    asked = {params.TICKER: ticker, params.START: "2024-03-08", params.END: "2024-01-02"}
    at = open_page(PAGE, **asked)
    assert_no_failure(at)
    shown = (dt.date(2024, 1, 2), dt.date(2024, 3, 8))
    assert at.date_input[0].value == shown
    notice = next(i.value for i in at.info if "Pediste" in i.value)
    assert notice.startswith("Pediste desde=2024-03-08 y hasta=2024-01-02: «desde» es posterior")
    assert notice.endswith("Se muestra del 02/01/2024 al 08/03/2024.")
    assert (at.query_params[params.START], at.query_params[params.END]) == (
        "2024-01-02",
        "2024-03-08",
    )
    scores = titled(at, "Puntaje total")["data"][0]
    assert len(scores["x"]) > 20  # two months of sessions, not one day


def test_a_period_outside_the_analyses_is_said_and_moved_inside(on_sample: Path) -> None:
    ticker = sample_tickers(on_sample, 1)[0]
    at = open_page(
        PAGE, **{params.TICKER: ticker, params.START: "2024-02-01", params.END: "2030-01-01"}
    )
    assert_no_failure(at)
    notice = next(i.value for i in at.info if "Pediste" in i.value)
    assert "hasta=2030-01-01: fuera de los análisis guardados" in notice
    assert notice.endswith("Se muestra del 01/02/2024 al 08/03/2024.")


def test_a_short_period_has_one_date_tick_per_day(on_sample: Path) -> None:
    """Over four days Plotly would tick every 12 hours, writing each date twice."""
    period: dict[str, str | list[str]] = {params.START: "2024-03-05", params.END: "2024-03-08"}
    drawn = every_figure(sample_tickers(on_sample, 2), **period)
    assert len(drawn) == len(VIEWS)
    for figure in drawn:
        if "CCL implícito" in figure["layout"]["title"]["text"]:
            continue  # the pair's whole common history, not the period
        axes = [v for k, v in figure["layout"].items() if k.startswith("xaxis")]
        assert axes and all(a.get("dtick") == 86_400_000 for a in axes), figure["layout"]["title"]
    long = {params.START: START.isoformat(), params.END: END.isoformat()}  # Plotly's own ticks
    chosen = sample_tickers(on_sample, 2)
    assert all("dtick" not in f["layout"]["xaxis"] for f in every_figure(chosen, **long))


def test_the_adr_pair_shown_first_is_that_of_the_first_chosen_ticker_with_one(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = dt.date(2024, 3, 8)
    stored = ["BBAR", "BBAR.BA", "PAM", "PAMP.BA", "TGS", "TGSU2.BA", "VIST", "CEPU"]
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [day], [partition(day, stored)])
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{db_path}")
    at = open_view(PAIR, **{params.TICKER: ["VIST", "PAM", "CEPU"]})  # VIST.BA is not stored
    assert_no_failure(at)
    pair = next(s for s in at.selectbox if s.label == "Par")
    assert pair.options[0] == "BBAR / BBAR.BA" and pair.value == "PAM / PAMP.BA"
    at = open_view(PAIR, **{params.TICKER: ["CEPU", "TGSU2.BA"]})  # a local share finds its ADR
    assert next(s for s in at.selectbox if s.label == "Par").value == "TGS / TGSU2.BA"
