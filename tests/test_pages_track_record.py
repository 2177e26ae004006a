"""The Historial de aciertos page, read as an analyst checks how the calls turned out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from pipeline.analysis import verdict as rules
from pipeline.analysis.track_record import BY_CALL_SHARES, TrackRecord
from pipeline.ops import jobs
from pipeline.settings import Settings
from store import reads
from store.connection import open_reader
from tests.pages_support import (
    assert_no_failure,
    figures,
    messages,
    numbers,
    open_page,
    table_cells,
)
from ui import format as fmt
from ui import params
from ui import track_record_verdict as verdict

PAGE = params.TRACK_PAGE
SAMPLE = jobs.SourceOptions("sample")
# Written the Argentine way: thousands dot, decimal comma, a space before the percent sign.
# A negative figure carries the minus sign of the charts' axes (U+2212), never a hyphen.
PERCENT = re.compile(r"^[+\u2212]?\d{1,3}(\.\d{3})*,\d{1,2} %$")


def record_of(path: Path, horizon: int = 20, entry: str = "close") -> TrackRecord:
    """The track record straight from the store, as the page should show it."""
    with open_reader(path) as con:
        return reads.track_record(con, horizon=horizon, entry=entry)


def shown(at: AppTest, index: int) -> pd.DataFrame:
    """A table's cells as the page writes them (the Styler's display values)."""
    proto = at.dataframe[index].proto.arrow_data.styler.display_values
    return dataframe_util.convert_arrow_bytes_to_pandas_df(proto)


def choose_listing(at: AppTest, listing: str) -> AppTest:
    """Pick a listing group of the by-call table."""
    group = next(radio for radio in at.radio if radio.label == "Grupo")
    return group.set_value(listing).run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def build(path: Path, start: dt.date, end: dt.date) -> Settings:
    """A database backfilled from the bundled sample between `start` and `end`."""
    settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
    jobs.backfill(settings, SAMPLE, start, end)
    return settings


@pytest.fixture
def on_sample(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{sample_db}")
    return sample_db


@pytest.fixture
def sample_page(on_sample: Path) -> AppTest:
    return open_page(PAGE)


VIEW = "vista"  # the open tab, in the URL
BY_CALL, POWER, RANGE, TURNOVER, MARKET = (
    "Por recomendación",
    "Poder predictivo",
    "Rango objetivo y riesgo",
    "Rotación y cobertura",
    "Visión de mercado",
)
VIEWS = (BY_CALL, POWER, RANGE, TURNOVER, MARKET)


def open_view(view: str, **query: str) -> AppTest:
    """The page on one of its tabs, as a link to it opens it (`?vista=Poder+predictivo`)."""
    return open_page(PAGE, **({VIEW: view} if view != BY_CALL else {}), **query)


@pytest.fixture
def power_page(on_sample: Path) -> AppTest:
    return open_view(POWER)


@pytest.fixture
def range_page(on_sample: Path) -> AppTest:
    return open_view(RANGE)


def test_each_block_is_a_tab_and_only_the_open_one_is_run(sample_page: AppTest) -> None:
    assert_no_failure(sample_page)
    assert [tab.label for tab in sample_page.tabs] == list(VIEWS)
    assert not figures(sample_page)  # the calls table first: no chart to draw on arrival
    assert len(sample_page.dataframe) == 1 and VIEW not in sample_page.query_params
    assert "Recomendaciones evaluadas" in metrics(sample_page)  # the headline stays above


def test_a_tab_opens_from_its_link_and_when_picked(on_sample: Path) -> None:
    at = open_view(RANGE, **{params.HORIZON: "5"})
    assert_no_failure(at)
    titles = [f["layout"]["title"]["text"] for f in figures(at)]
    assert titles[0].startswith("Dónde terminó el precio") and titles[1].startswith("Volatilidad")
    at = open_page(PAGE)
    at.session_state[VIEW] = POWER  # what a click on the tab sends
    titles = [f["layout"]["title"]["text"] for f in figures(at.run())]
    assert titles[0].startswith("IC en el tiempo") and titles[1].startswith("Retorno por quintil")
    unknown = open_page(PAGE, **{VIEW: "Gráficos"})
    assert not figures(unknown) and VIEW not in unknown.query_params


def by_listing(record: TrackRecord, listing: str) -> pl.DataFrame:
    return record.by_call.filter(pl.col("listing") == listing)


def test_the_by_call_table_has_every_call_group_with_its_base_rate(
    sample_page: AppTest, on_sample: Path
) -> None:
    assert_no_failure(sample_page)
    record = record_of(on_sample)
    columns = ["recommendation", "calls", "hit_rate", "base_rate"]
    for listing in ("todos", "ADR"):
        at = choose_listing(sample_page, listing)
        got = pl.from_pandas(at.dataframe[0].value[columns])
        expected = by_listing(record, listing).select(columns)
        assert got.sort(pl.all()).equals(expected.sort(pl.all()), null_equal=True)
    pooled = by_listing(record, "todos").filter(pl.col("origin") == "todos")
    assert set(pooled["recommendation"]) == set(fmt.RECOMMENDATIONS)
    assert pooled["calls"].sum() == record.matured_calls > 0


def test_numbers_are_written_the_argentine_way_and_sort_as_numbers(
    sample_page: AppTest, on_sample: Path
) -> None:
    record = record_of(on_sample)
    cells = shown(sample_page, 0)
    for column in BY_CALL_SHARES:  # every fraction the track record returns, as a percentage
        written = [c for c in cells[column] if c != "—"]
        assert written and all(PERCENT.match(c) for c in written), (column, written[:3])
    buy = by_listing(record, "todos").filter(
        (pl.col("recommendation") == "COMPRAR") & (pl.col("origin") == "todos")
    )
    row = cells[(cells["recommendation"] == "COMPRAR") & (cells["origin"] == "Todos")]
    assert row["hit_rate"].item() == f"{buy['hit_rate'][0] * 100:.1f} %".replace(".", ",")
    assert sample_page.dataframe[0].value["hit_rate"].dtype.kind == "f"  # sorts as numbers
    turnover = shown(open_view(TURNOVER), 0)
    expected = [f"{n:,}".replace(",", ".") for n in record.turnover["calls"]]
    assert sorted(turnover["calls"]) == sorted(expected)
    assert any("." in c for c in expected), "the sample has a count over 999"
    calls = metrics(sample_page)["Recomendaciones evaluadas"]
    assert calls == f"{record.matured_calls:,}".replace(",", ".")
    drawn = [f for view in (POWER, RANGE) for f in figures(open_view(view))]
    assert len(drawn) == 4
    for figure in drawn:
        assert figure["layout"]["separators"] == ",."


def test_simulated_and_published_calls_are_labelled(sample_page: AppTest, on_sample) -> None:
    origins = set(shown(sample_page, 0)["origin"])
    assert "Simulado" in origins and "Publicado" not in origins  # a backfill only
    record = record_of(on_sample)
    text = "\n".join(m.value for m in sample_page.markdown)
    simulated = f"{record.matured_calls:,}".replace(",", ".")
    assert f"0 publicadas · {simulated} simuladas" in text
    assert f"{record.first_date:%d/%m/%Y}" in text and f"{record.last_date:%d/%m/%Y}" in text
    assert "después de los hechos" in "\n".join(c.value for c in sample_page.caption)


def test_the_ic_is_a_rolling_twelve_month_mean_with_its_t_statistic(
    power_page: AppTest, on_sample: Path
) -> None:
    record = record_of(on_sample)
    total = record.ic_summary.filter(pl.col("score") == "total").row(0, named=True)
    t_text = fmt.number(total["t_stat"], 2)
    assert metrics(power_page)["Estadístico t del IC"] == t_text
    ic_chart = figures(power_page)[0]
    assert f"(t = {t_text})" in ic_chart["layout"]["title"]["text"]
    line = next(trace for trace in ic_chart["data"] if trace["name"] == "Total")
    daily = record.ic_daily.filter(pl.col("score") == "total").drop_nulls("ic")
    year_ago = daily.select(pl.col("analysis_date").max().dt.offset_by("-12mo")).item()
    window = daily.filter(pl.col("analysis_date") > year_ago)
    assert numbers(line["y"])[-1] == pytest.approx(window["ic"].mean())
    assert ic_chart["layout"]["xaxis"]["tickformat"] == "%d/%m/%Y"
    measured = record.ic_daily.drop_nulls("ic")["score"].unique().to_list()
    assert "macro" not in measured  # the same for every stock: no cross-section to rank
    legend = {trace["name"] for trace in ic_chart["data"] if trace.get("showlegend", True)}
    assert legend == {fmt.SCORES[score] for score in measured}  # no entry without a line
    assert shown(power_page, 0)["t_stat"][0] == t_text
    method = "Newey-West (núcleo de Bartlett) con 20 rezagos, igual al horizonte"
    assert shown(power_page, 0)["method"][0] == method
    assert any(f"(método: {method})" in c.value for c in power_page.caption)


def test_quintile_bars_show_the_mean_excess_and_the_spread(
    power_page: AppTest, on_sample: Path
) -> None:
    record = record_of(on_sample)
    bars = figures(power_page)[1]
    assert list(bars["data"][0]["x"]) == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    expected = record.quintiles.sort("quintile")["mean_universe_excess"].to_numpy() * 100
    np.testing.assert_allclose(numbers(bars["data"][0]["y"]), expected)
    assert fmt.percent(record.spread, 2, signed=True) in bars["layout"]["title"]["text"]


def test_target_range_and_risk_charts_match_the_record(
    range_page: AppTest, on_sample: Path
) -> None:
    record = record_of(on_sample)
    calibration, risk = figures(range_page)
    inside = next(t for t in calibration["data"] if t["name"] == "Dentro del rango")
    assert numbers(inside["x"]).sum() == pytest.approx(record.calibration["inside"].sum() * 100)
    assert set(risk["data"][0]["x"]) == set(record.risk["risk_level"])
    assert fmt.percent(record.risk_ordering) in risk["layout"]["title"]["text"]


def test_the_range_guide_states_the_models_percentile_range(range_page: AppTest) -> None:
    # The calls state the 10th-90th percentile range (80 %), not the first model's ± 1 sd.
    guide = next(c.value for c in range_page.caption if "rango para el precio" in c.value)
    assert "del percentil 10 al percentil 90" in guide
    assert "debería contener el 80 % de los resultados" in guide
    assert "cerca del 10 % de cada lado" in guide


def table_with(at: AppTest, column: str) -> tuple[pl.DataFrame, pd.DataFrame]:
    """The values and the written cells of the page's table that has `column`."""
    index = next(i for i, t in enumerate(at.dataframe) if column in t.value.columns)
    return pl.from_pandas(at.dataframe[index].value), shown(at, index)


def test_the_market_view_is_measured_against_the_merval_in_pesos_and_dollars(
    on_sample: Path,
) -> None:
    at = open_view(MARKET, **{params.HORIZON: "5", params.ENTRY: "siguiente"})
    assert_no_failure(at)
    with open_reader(on_sample) as con:
        market = reads.market_track_record(con, entry="next_close")
    expected = market.ic.filter(horizon=5)
    values, cells = table_with(at, "favourable_minus_unfavourable")
    assert values["dates"].to_list() == expected["dates"].to_list() and min(values["dates"]) > 0
    assert values["ic"].to_list() == pytest.approx(expected["ic"].to_list())
    assert cells["currency"].to_list() == ["En pesos", "En dólares (CCL)"]
    assert cells["t_stat"].to_list() == [fmt.number(t, 2) for t in expected["t_stat"]]
    calls, call_cells = table_with(at, "mean_return")
    by_call = market.by_call.filter(horizon=5)
    assert calls["dates"].sum() == by_call["dates"].sum() == expected["dates"].sum()
    assert set(call_cells["market_call"]) <= {"Favorable", "Neutral", "Desfavorable"}
    written = [c for c in call_cells["hit_rate"] if c != "—"]
    assert all(PERCENT.match(c) for c in written)
    guide = next(c.value for c in at.caption if "visión de mercado" in c.value)
    assert "66,67 puntos o más" in guide and "33,33 o menos" in guide
    assert "en las 5 ruedas de BYMA siguientes" in guide


def test_horizon_and_entry_come_from_the_url_and_go_back_to_it(on_sample: Path) -> None:
    at = open_page(PAGE, **{params.HORIZON: "5", params.ENTRY: "siguiente"})
    assert_no_failure(at)
    record = record_of(on_sample, horizon=5, entry="next_close")
    assert metrics(at)["Recomendaciones evaluadas"] == fmt.number(record.matured_calls, 0)
    at.radio[0].set_value("60").run()
    assert at.query_params[params.HORIZON] == "60"
    assert at.query_params[params.ENTRY] == "siguiente"
    later = record_of(on_sample, horizon=60, entry="next_close")
    assert metrics(at)["Recomendaciones evaluadas"] == fmt.number(later.matured_calls, 0)


def test_calls_of_the_daily_job_are_labelled_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "argenta_ia.duckdb"
    settings = build(path, dt.date(2023, 11, 1), dt.date(2024, 1, 31))
    day = dt.date(2024, 2, 1)
    jobs.run_daily(settings, SAMPLE, day)
    jobs.backfill(settings, SAMPLE, day + dt.timedelta(days=1), dt.date(2024, 3, 8))
    with open_reader(path) as con:
        sql = "SELECT count(*) FROM daily_recommendations WHERE analysis_date = ?"
        (published,) = con.execute(sql, [day]).fetchall()[0]
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{path}")
    at = open_page(PAGE, **{params.HORIZON: "5"})
    assert_no_failure(at)
    table = shown(at, 0)
    calls = table.loc[table["origin"] == "Publicado", "calls"].map(
        lambda c: int(c.replace(".", ""))
    )
    assert calls.sum() == published > 0
    assert f"{published} publicadas" in "\n".join(m.value for m in at.markdown)


def test_a_database_without_matured_outcomes_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "argenta_ia.duckdb"
    settings = Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)
    jobs.run_daily(settings, SAMPLE, dt.date(2024, 3, 8))
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{path}")
    at = open_page(PAGE)
    assert_no_failure(at)
    assert "Todavía no hay resultados maduros" in messages(at)
    assert not at.dataframe and not figures(at)


@pytest.mark.parametrize(
    ("query", "named", "accepted"),
    [
        ({params.HORIZON: "7"}, "«horizonte=7»", "horizonte=5, horizonte=20 o horizonte=60"),
        ({params.ENTRY: "abierto"}, "«entrada=abierto»", "entrada=cierre o entrada=siguiente"),
    ],
)
def test_a_bad_url_parameter_is_named_with_the_accepted_values(
    on_sample: Path, query: dict, named: str, accepted: str
) -> None:
    at = open_page(PAGE, **query)
    assert_no_failure(at)
    notices = [w.value for w in at.warning if named in w.value]
    assert len(notices) == 1 and f"los valores aceptados son {accepted}" in notices[0]
    (param,) = query
    assert at.query_params[param] != query[param]  # the address now holds what is shown


def verdict_text(at: AppTest) -> str:
    """The verdict box's sentences (the markdown above its rule caption)."""
    return next(
        m.value for m in at.markdown if "puntaje total" in m.value and "IC medio" in m.value
    )


@pytest.mark.parametrize(
    ("hits", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611)],
)
def test_the_hit_rate_interval_is_wilsons(hits: int, n: int, low: float, high: float) -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score).
    assert rules.wilson(hits / n, n) == pytest.approx((low, high), abs=5e-5)


def test_the_verdict_says_whether_the_ic_is_told_apart_from_zero(
    sample_page: AppTest, on_sample: Path
) -> None:
    assert_no_failure(sample_page)
    record = record_of(on_sample)
    mean_ic, t_stat = fmt.ic_of(record.ic_summary, "total")
    assert mean_ic is not None and t_stat is not None
    text = verdict_text(sample_page)
    assert f"IC medio {fmt.number(mean_ic, 3)}, t {fmt.number(t_stat, 2)}" in text
    told_apart = "**El IC medio del puntaje total se distingue de cero**" in text
    assert told_apart == (abs(t_stat) >= 2)
    assert ("no se distingue de cero" in text) == (abs(t_stat) < 2)
    assert "|t| de 2 o más" in text and "al 5 %" in text
    # The sample's calls have no edge (|t| < 2): the page must say so, not leave it to the reader.
    assert abs(t_stat) < 2 and "no se distingue de cero" in text


def test_each_directional_call_is_judged_against_its_base_rate(
    sample_page: AppTest, on_sample: Path
) -> None:
    record = record_of(on_sample)
    text = verdict_text(sample_page)
    pooled = record.by_call.filter(listing="todos", origin="todos")
    for call in ("COMPRAR", "VENDER"):
        row = pooled.filter(recommendation=call).row(0, named=True)
        low, high = rules.wilson(row["hit_rate"], row["calls"])
        line = next(line for line in text.splitlines() if line.startswith(f"- {call} acertó"))
        assert f"el {fmt.percent(row['hit_rate'])} de {fmt.number(row['calls'], 0)} " in line
        assert f"tasa base de {fmt.percent(row['base_rate'])}" in line
        assert f"{fmt.percent(low)} a {fmt.percent(high)}" in line
        if row["base_rate"] < low:
            assert line.endswith("supera la tasa base.")
        elif row["base_rate"] > high:
            assert line.endswith("queda por debajo de la tasa base.")
        else:
            assert "no se distingue de la tasa base" in line


def test_a_t_of_two_or_more_is_an_edge_and_its_sign_says_which_way(on_sample: Path) -> None:
    record = record_of(on_sample)
    ic = record.ic_summary

    def with_t(mean_ic: float, t_stat: float) -> TrackRecord:
        total = pl.col("score") == "total"
        summary = ic.with_columns(
            mean_ic=pl.when(total).then(mean_ic).otherwise(pl.col("mean_ic")),
            t_stat=pl.when(total).then(t_stat).otherwise(pl.col("t_stat")),
        )
        return dataclasses.replace(record, ic_summary=summary)

    assert verdict.edge(with_t(0.03, 2.0)) == "positive"
    assert verdict.edge(with_t(0.03, 1.99)) == "none"
    assert verdict.edge(with_t(-0.03, -2.5)) == "negative"
    assert "se distingue de cero" in verdict.ic_sentence(with_t(0.03, 2.5))
    assert "no se distingue" not in verdict.ic_sentence(with_t(0.03, 2.5))
    assert "mejor que el azar" in verdict.caption(with_t(0.03, 2.5))
    assert "no muestran una ventaja medible" in verdict.caption(with_t(0.03, 1.5))
    assert "al revés" in verdict.caption(with_t(-0.03, -2.5))


@pytest.mark.parametrize(("horizon", "some_unclear"), [(5, False), (20, True)])
def test_the_by_call_table_shows_the_interval_and_flags_cells_that_say_nothing(
    on_sample: Path, horizon: int, some_unclear: bool
) -> None:
    at = open_page(PAGE, **{params.HORIZON: str(horizon)})
    assert_no_failure(at)
    record = record_of(on_sample, horizon=horizon)
    cells = shown(at, 0)
    rows = by_listing(record, "todos").filter(pl.col("hit_rate").is_not_null())
    unclear = []
    for row in rows.iter_rows(named=True):
        low, high = rules.wilson(row["hit_rate"], row["calls"])
        origin = fmt.ORIGINS[row["origin"]]
        shown_row = cells[
            (cells["recommendation"] == row["recommendation"]) & (cells["origin"] == origin)
        ]
        assert shown_row["ci_low"].item() == fmt.percent(low)
        assert shown_row["ci_high"].item() == fmt.percent(high)
        inside = low <= row["base_rate"] <= high
        expected = (
            "no se distingue"
            if inside
            else "por encima"
            if row["base_rate"] < low
            else "por debajo"
        )
        assert shown_row["versus"].item() == expected
        if inside:
            unclear.append(f"{row['recommendation']} {origin.lower()} (")
    warning = "\n".join(w.value for w in at.warning)
    assert bool(unclear) == some_unclear  # the sample has both cases: each branch is checked
    assert bool(unclear) == ("Aciertos que no se distinguen de la tasa base" in warning)
    assert all(cell in warning for cell in unclear)


def test_the_ic_guide_asks_for_the_t_and_stability_not_just_the_mean(power_page: AppTest) -> None:
    guide = next(c.value for c in power_page.caption if c.value.startswith("El **IC**"))
    assert "ya se considera útil" not in guide
    assert "**estadístico t**" in guide and "año tras año" in guide and "|t|" in guide


def test_a_score_without_an_ic_has_no_method_either(power_page: AppTest) -> None:
    ic = next(
        shown(power_page, i)
        for i in range(len(power_page.dataframe))
        if "method" in power_page.dataframe[i].value.columns
    )
    empty = ic[ic["mean_ic"] == "—"]
    assert not empty.empty, "the sample has components without data"
    assert (empty["method"] == "—").all()
    assert (ic[ic["mean_ic"] != "—"]["method"].str.startswith("Newey-West")).all()


def test_origin_badges_are_not_the_calls_colours() -> None:
    assert not set(fmt.ORIGIN_HEX.values()) & set(fmt.CALL_HEX.values())


def test_negative_figures_carry_a_minus_sign_not_a_hyphen(on_sample: Path) -> None:
    cells = [c for view in VIEWS for table in open_view(view).dataframe for c in table_cells(table)]
    assert any(c.startswith("\u2212") for c in cells)
    assert not any(re.match(r"^-\d", c) for c in cells)
