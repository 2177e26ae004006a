"""The track record's measures on panels small enough to check by hand, and its reader."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from polars.testing import assert_frame_equal

from pipeline.analysis import track_record as tr
from pipeline.analysis.outcomes import ENTRIES
from pipeline.ops import track_record_docs
from store import reads
from store.connection import open_reader

D1, D2 = dt.date(2024, 1, 2), dt.date(2024, 1, 3)
TICKERS = ["A", "B", "C", "D", "E", "F.BA"]


def panel(rows: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Calls and outcomes (horizon 5, entry close) from one dict per call."""
    base = {
        "technical_score": 50.0,
        "fundamental_score": None,
        "macro_score": 50.0,
        "sentiment_score": None,
        "risk_level": "MEDIO",
        "origin": "simulado",
        "target_low_return": -0.1,
        "target_high_return": 0.1,
        "realised_volatility": 0.3,
    }
    frame = pl.DataFrame([base | r for r in rows], infer_schema_length=None).with_columns(
        pl.col("total_score").alias("total_score"),
        pl.lit(5).alias("horizon_sessions"),
        pl.lit("close").alias("entry"),
    )
    universe = (
        pl.col("forward_return").mean().over("analysis_date", pl.col("ticker").str.ends_with(".BA"))
    )
    frame = frame.with_columns(
        (pl.col("forward_return") - 0.01).alias("excess_return"),
        (pl.col("forward_return") - universe).alias("universe_excess_return"),
    )
    calls = frame.select(tr.CALL_COLUMNS)
    return calls, frame.drop("recommendation", "origin", *(f"{s}_score" for s in tr.SCORES))


def test_hit_rates_sit_next_to_the_base_rate_of_the_same_group():
    rows = [
        {
            "analysis_date": D1,
            "ticker": t,
            "recommendation": rec,
            "total_score": s,
            "forward_return": r,
        }
        for t, rec, s, r in [
            ("A", "COMPRAR", 70.0, 0.05),  # beat the benchmark (0.01): hit
            ("B", "COMPRAR", 65.0, -0.02),  # miss
            ("C", "VENDER", 30.0, -0.03),  # trailed it: hit
            ("D", "MANTENER", 50.0, 0.02),
        ]
    ]
    calls, outcomes = panel(rows)
    got = tr.track_record(calls, outcomes, 5).by_call
    row = got.filter(listing="ADR", origin="simulado", recommendation="COMPRAR").row(0, named=True)
    assert row["calls"] == 2 and row["hit_rate"] == 0.5
    assert row["base_rate"] == pytest.approx(2 / 4)  # A and D beat the benchmark
    assert row["mean_excess"] == pytest.approx((0.04 - 0.03) / 2)
    sell = got.filter(listing="todos", origin="todos", recommendation="VENDER").row(0, named=True)
    assert sell["hit_rate"] == 1.0 and sell["base_rate"] == pytest.approx(2 / 4)
    hold = got.filter(listing="ADR", origin="todos", recommendation="MANTENER").row(0, named=True)
    assert hold["hit_rate"] is None and hold["base_rate"] is None


def test_ic_quintiles_calibration_and_coverage_by_hand():
    returns = [0.01, 0.02, 0.03, 0.04, 0.05]
    rows = [
        {
            "analysis_date": D1,
            "ticker": t,
            "recommendation": "MANTENER",
            "total_score": s,
            "forward_return": r,
            "technical_score": 100 - s,
        }
        for t, s, r in zip(TICKERS[:5], [10.0, 20.0, 30.0, 40.0, 50.0], returns, strict=True)
    ] + [
        {
            "analysis_date": D2,
            "ticker": t,
            "recommendation": "MANTENER",
            "total_score": s,
            "forward_return": r,
            "technical_score": None,
        }
        for t, s, r in zip(
            TICKERS[:5], [50.0, 40.0, 30.0, 20.0, 10.0], [0.2, 0.0, 0.0, 0.0, -0.5], strict=True
        )
    ]
    calls, outcomes = panel(rows)
    record = tr.track_record(calls, outcomes, 5)
    ic = record.ic_daily.filter(score="total").sort("analysis_date")
    assert ic["ic"].to_list() == pytest.approx([1.0, 2 / 5**0.5])  # D2: ties get their mean rank
    technical = record.ic_daily.filter(score="technical")
    assert technical["ic"].to_list() == pytest.approx([-1.0]) and technical[
        "tickers"
    ].to_list() == [5]
    assert record.ic_daily.filter(score="macro")["ic"].is_null().all()  # same for every name
    assert record.quintiles["quintile"].to_list() == [1, 2, 3, 4, 5]
    assert record.quintiles["calls"].to_list() == [2] * 5
    q1 = (0.01 - 0.03 + (-0.5 + 0.06)) / 2
    assert record.quintiles["mean_universe_excess"][0] == pytest.approx(q1)
    assert record.spread == pytest.approx((0.05 - 0.03 + 0.2 + 0.06) / 2 - q1)
    cal = record.calibration.filter(listing="todos").row(0, named=True)
    assert (cal["inside"], cal["above"], cal["below"]) == pytest.approx((0.8, 0.1, 0.1))
    cover = dict(record.coverage.select("component", "null_share").iter_rows())
    assert cover == {"technical": 0.5, "fundamental": 1.0, "macro": 0.0, "sentiment": 1.0}
    summary = record.ic_summary.filter(score="total").row(0, named=True)
    assert summary["dates"] == 2 and summary["mean_ic"] == pytest.approx((1 + 2 / 5**0.5) / 2)
    assert (summary["method"], summary["lags"]) == ("newey_west", 5)  # a code, lags = horizon
    assert record.ic_summary["score"].to_list() == list(tr.SCORES)


def test_turnover_counts_changes_and_runs():
    days = [D1 + dt.timedelta(days=i) for i in range(6)]
    calls = pl.DataFrame(
        {
            "analysis_date": days * 2,
            "ticker": ["A"] * 6 + ["B.BA"] * 6,
            "recommendation": ["COMPRAR"] * 3 + ["VENDER"] * 2 + ["COMPRAR"] + ["MANTENER"] * 6,
        }
    ).with_columns(
        *(pl.lit(50.0).alias(f"{s}_score") for s in tr.SCORES),
        risk_level=pl.lit("MEDIO"),
        origin=pl.lit("simulado"),
    )
    got = tr.turnover(calls.lazy()).collect()
    adr = got.filter(listing="ADR").row(0, named=True)
    assert adr["changes_per_ticker_year"] == pytest.approx(2 / (6 / 252))
    assert adr["median_duration_sessions"] == 2.0  # runs of 3, 2 and 1 sessions
    both = got.filter(listing="todos").row(0, named=True)
    assert both["changes_per_ticker_year"] == pytest.approx(2 / (12 / 252)) and both["calls"] == 12


def test_risk_ordering_is_the_share_of_same_date_pairs_ordered_right():
    rows = [
        {
            "analysis_date": D1,
            "ticker": t,
            "recommendation": "MANTENER",
            "total_score": 50.0,
            "forward_return": 0.0,
            "risk_level": level,
            "realised_volatility": vol,
        }
        for t, level, vol in [
            ("A", "BAJO", 0.2),
            ("B", "MEDIO", 0.3),
            ("C", "ALTO", 0.25),
            ("D", "ALTO", 0.3),
        ]
    ]
    calls, outcomes = panel(rows)
    record = tr.track_record(calls, outcomes, 5)
    # pairs: A<B right, A<C right, A<D right, B<C wrong, B=D half
    assert record.risk_ordering == pytest.approx(3.5 / 5)
    assert record.risk["risk_level"].to_list() == ["BAJO", "MEDIO", "ALTO"]
    assert record.risk["realised_vol"].to_list() == pytest.approx([0.2, 0.3, 0.275])


def test_newey_west_t_equals_statsmodels_hac():
    rng = np.random.default_rng(3)
    series = np.convolve(rng.normal(0.02, 0.1, 400), np.ones(20) / 20, mode="valid")
    lags = 20
    ols = sm.OLS(series, np.ones_like(series)).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False}
    )
    got = pl.DataFrame({"ic": series}).select(tr.newey_west_t(pl.col("ic"), lags)).item()
    assert got == pytest.approx(ols.tvalues[0], rel=1e-9)


def test_no_matured_outcome_gives_empty_tables_and_no_scalars():
    calls, outcomes = panel(
        [
            {
                "analysis_date": D1,
                "ticker": "A",
                "recommendation": "COMPRAR",
                "total_score": 70.0,
                "forward_return": 0.1,
            }
        ]
    )
    record = tr.track_record(calls, outcomes.clear(), 20)
    assert record.matured_calls == 0 and record.first_date is None and record.last_date is None
    assert record.spread is None and record.risk_ordering is None
    for table in (
        record.by_call,
        record.ic_daily,
        record.quintiles,
        record.calibration,
        record.risk,
    ):
        assert table.is_empty()
    assert record.ic_summary["dates"].to_list() == [0] * len(tr.SCORES)


def test_reader_reads_the_stored_calls_and_outcomes(sample_db):
    with open_reader(sample_db) as con:
        record = reads.track_record(con, horizon=5, entry="next_close")
        stored = con.execute(
            "SELECT count(*), min(analysis_date), max(analysis_date) FROM call_outcomes"
            " WHERE horizon_sessions = 5 AND entry = 'next_close'"
        ).fetchall()[0]
        later = reads.track_record(con, horizon=5, since=dt.date(2024, 1, 2))
        with pytest.raises(ValueError, match="horizon 7 is not one of 5, 20, 60"):
            reads.track_record(con, horizon=7)
    assert (record.matured_calls, record.first_date, record.last_date) == stored
    assert record.horizon == 5 and record.entry == "next_close"
    assert later.first_date is not None and later.first_date >= dt.date(2024, 1, 2)
    assert later.coverage["calls"][0] < record.coverage["calls"][0]
    assert set(record.by_call["origin"]) == {"simulado", "todos"}  # a backfill's calls


def query(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`argenta query track-record ARGS` in a real process on the database `db`."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(db.parent), "DATABASE_URL": f"duckdb:///{db}"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.ops.cli", "query", "track-record", *args],
        env=env | {"PYTHONPATH": str(Path(__file__).parents[1])},
        cwd=db.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_query_track_record_prints_every_table(sample_db):
    csv = query(sample_db, "--format", "csv", "--horizon", "5")
    assert csv.returncode == 0, csv.stderr
    sections = [line[2:] for line in csv.stdout.splitlines() if line.startswith("# ")]
    assert sections == [
        "summary",
        "by_call",
        "ic_summary",
        "ic_by_year",
        "quintiles",
        "turnover",
        "calibration",
        "risk",
        "coverage",
        "market_view_ic",
        "market_view_by_call",
    ]
    assert "horizon_sessions,entry,first_date" in csv.stdout
    assert "horizon,currency,dates,ic,t_stat,favourable_minus_unfavourable" in csv.stdout
    as_json = query(sample_db, "--format", "json", "--entry", "next_close", "--since", "2024-01-02")
    tables = json.loads(as_json.stdout)
    with open_reader(sample_db) as con:
        record = reads.track_record(con, 20, dt.date(2024, 1, 2), "next_close")
    assert tables["summary"][0]["matured_calls"] == record.matured_calls > 0
    assert len(tables["by_call"]) == record.by_call.height
    with open_reader(sample_db) as con:
        market = reads.market_track_record(con, dt.date(2024, 1, 2), "next_close")
    assert tables["market_view_ic"] == market.ic.to_dicts()
    assert (market.ic.filter(horizon=5)["dates"] > 0).all()  # the view has matured dates
    bad = query(sample_db, "--horizon", "7")
    assert bad.returncode == 2 and "'7' is not one of '5', '20', '60'" in bad.stderr


def test_readme_block_is_written_between_its_markers_from_the_records(sample_db):
    with open_reader(sample_db) as con:
        records = [reads.track_record(con, h, None, e) for h in (5, 20, 60) for e in ENTRIES]
    text = track_record_docs.block(records)
    for heading in (
        "| horizon | entry | matured calls |",
        "| listing | recommendation | calls |",
        "| quintile | mean_universe_excess | calls |",
        "| component | null_share | calls |",
    ):
        assert heading in text
    assert f"| 20 | close | {records[2].matured_calls} |" in text
    readme = f"intro\n{track_record_docs.START}\nold numbers\n{track_record_docs.END}\nrest\n"
    assert track_record_docs.with_block(readme, text) == (
        f"intro\n{track_record_docs.START}\n{text}\n{track_record_docs.END}\nrest\n"
    )


def test_readme_market_view_block_is_written_from_its_record(sample_db):
    with open_reader(sample_db) as con:
        market = reads.market_track_record(con, None, "close")
    text = track_record_docs.market_block(market)
    assert "| horizon | currency | dates | ic | t_stat | favourable_minus_unfavourable |" in text
    assert "| currency | market_call | dates | mean_return | hit_rate | base_rate |" in text
    row = market.ic.filter(horizon=20, currency="USD").row(0, named=True)
    assert f"| 20 | USD | {row['dates']} | {row['ic']:.3f} | {row['t_stat']:.3f} |" in text
    readme = (
        f"{track_record_docs.START}\nx\n{track_record_docs.END}\n"
        f"{track_record_docs.MARKET_START}\nold\n{track_record_docs.MARKET_END}\n"
    )
    both = track_record_docs.with_block(
        readme, text, track_record_docs.MARKET_START, track_record_docs.MARKET_END
    )
    assert both.startswith(f"{track_record_docs.START}\nx\n") and f"\n{text}\n" in both


def test_risk_ordering_equals_counting_every_pair():
    rng = np.random.default_rng(5)
    n = 120
    frame = pl.DataFrame(
        {
            "analysis_date": [D1 + dt.timedelta(days=int(d)) for d in rng.integers(0, 4, n)],
            "listing": rng.choice(["ADR", "BYMA"], n).tolist(),
            "risk_level": [[*tr.RISK_ORDER, None][i] for i in rng.integers(0, 4, n)],
            "realised_volatility": np.round(rng.uniform(0.1, 0.5, n), 1),  # many ties
        }
    )
    got = tr.risk_ordering(frame.lazy()).collect().row(0)
    rank = {level: i for i, level in enumerate(tr.RISK_ORDER)}
    rows = [r for r in frame.iter_rows(named=True) if r["risk_level"] is not None]
    right = pairs = 0.0
    for a in rows:
        for b in rows:
            same = (a["analysis_date"], a["listing"]) == (b["analysis_date"], b["listing"])
            if same and rank[a["risk_level"]] > rank[b["risk_level"]]:
                pairs += 1
                va, vb = a["realised_volatility"], b["realised_volatility"]
                right += 1.0 if va > vb else 0.5 if va == vb else 0.0
    assert got == pytest.approx((right, pairs))


def random_panel(seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Calls and outcomes (horizon 5) over ADRs and BYMA names, shuffled, with tied and NULL
    scores, NULL returns and volatilities, dates with fewer names than a quintile needs,
    and calls whose outcome has not matured."""
    rng = np.random.default_rng(seed)
    tickers = [f"T{i}" for i in range(12)] + [f"L{i}.BA" for i in range(8)]
    rows = []
    for day in range(12):
        names = tickers if day % 4 else list(rng.choice(tickers, 3, replace=False))
        for ticker in names:
            rows.append(
                {
                    "analysis_date": D1 + dt.timedelta(days=day),
                    "ticker": ticker,
                    "recommendation": str(rng.choice(["COMPRAR", "MANTENER", "VENDER"])),
                    "total_score": float(rng.integers(0, 6)),  # many ties
                    "technical_score": None if rng.random() < 0.3 else float(rng.normal()),
                    "macro_score": 40.0 + day,  # the same for every name of a date
                    "forward_return": round(float(rng.normal(0, 0.05)), 2),
                    "risk_level": [*tr.RISK_ORDER, None][int(rng.integers(0, 4))],
                    "realised_volatility": None if rng.random() < 0.1 else round(rng.random(), 1),
                }
            )
    calls, outcomes = panel(rows)
    outcomes = outcomes.with_columns(
        pl.when(pl.Series(rng.random(outcomes.height) < 0.05))
        .then(None)
        .otherwise(pl.col("universe_excess_return"))
        .alias("universe_excess_return")
    )
    matured = pl.Series(rng.random(outcomes.height) < 0.9)
    return calls.sample(fraction=1, shuffle=True, seed=seed), outcomes.filter(matured).sample(
        fraction=1, shuffle=True, seed=seed + 1
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_ic_and_risk_ordering_equal_computing_them_directly(seed):
    from scipy import stats

    calls, outcomes = random_panel(seed)
    record = tr.track_record(calls, outcomes, 5)
    matured = outcomes.drop("risk_level").join(calls, on=["analysis_date", "ticker"])
    for score in ("total", "technical", "macro"):
        got = record.ic_daily.filter(score=score)
        expected = []
        for (day,), names in matured.sort("analysis_date").group_by(
            "analysis_date", maintain_order=True
        ):
            scored = names.drop_nulls(f"{score}_score")
            if scored.height < tr.MIN_NAMES_PER_DATE:
                continue
            both = scored.drop_nulls("universe_excess_return")
            x, y = both[f"{score}_score"].to_numpy(), both["universe_excess_return"].to_numpy()
            ic = None
            if len(set(x)) > 1 and len(set(y)) > 1:
                ic = float(stats.spearmanr(x, y).statistic)
            expected.append((day, ic, scored.height))
        assert got.select("analysis_date", "tickers").rows() == [(d, n) for d, _, n in expected]
        for value, (_, want, _) in zip(got["ic"].to_list(), expected, strict=True):
            assert (value is None) == (want is None)
            assert value is None or value == pytest.approx(want, abs=1e-12)
    rank = {level: i for i, level in enumerate(tr.RISK_ORDER)}
    rated = [
        r
        for r in matured.iter_rows(named=True)
        if r["risk_level"] is not None and r["realised_volatility"] is not None
    ]
    right = pairs = 0.0
    for a in rated:
        for b in rated:
            same_day = a["analysis_date"] == b["analysis_date"]
            same_listing = a["ticker"].endswith(".BA") == b["ticker"].endswith(".BA")
            if same_day and same_listing and rank[a["risk_level"]] > rank[b["risk_level"]]:
                pairs += 1
                va, vb = a["realised_volatility"], b["realised_volatility"]
                right += 1.0 if va > vb else 0.5 if va == vb else 0.0
    assert record.risk_ordering == pytest.approx(right / pairs, abs=1e-15)


def test_record_is_the_same_whether_the_join_reads_its_grid_or_hashes(monkeypatch):
    calls, outcomes = random_panel(3)
    on_grid = tr.tables(tr.track_record(calls, outcomes, 5))
    # A repeated call cannot sit in the grid: the join hashes, and the repeat joins twice.
    twice = tr.track_record(pl.concat([calls, calls.head(1)]), outcomes, 5)
    first = calls.head(1).join(outcomes, on=["analysis_date", "ticker"])
    assert twice.matured_calls == on_grid["summary"]["matured_calls"][0] + first.height
    monkeypatch.setattr(tr, "_GRID_ROWS_PER_ROW", 0)
    monkeypatch.setattr(tr, "_GRID_SLACK", 0)
    hashed = tr.tables(tr.track_record(calls, outcomes, 5))
    for name, table in on_grid.items():  # means may differ in the last bit (summing order)
        assert_frame_equal(table, hashed[name], rel_tol=1e-14, abs_tol=1e-16)
