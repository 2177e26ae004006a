"""Call outcomes: forward returns as a reader would compute them, filled as horizons mature."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import exchange_calendars as xcals
import polars as pl
import pytest

from pipeline.analysis import calendar
from pipeline.analysis import outcomes as analysis_outcomes
from pipeline.analysis.frames import MACRO_SCHEMA
from pipeline.analysis.outcomes import OUTCOME_COLUMNS, compute_outcomes
from pipeline.ops import jobs
from pipeline.ops import outcomes as ops_outcomes
from pipeline.settings import Settings
from store import writes
from store.connection import open_reader, open_writer
from store.migrate import migrate
from tests.factories import SAMPLE_END, SAMPLE_START, largest_gap, partition

SAMPLE_DATA = Path(__file__).parents[1] / "pipeline" / "sources" / "sample_data"
ADRS = ("GGAL", "YPF", "PAM", "BMA", "TEO")
KEYS = ["analysis_date", "ticker", "horizon_sessions", "entry"]
STATED = ["listing", "target_low_return", "target_high_return"]
VALUE_COLUMNS = [c for c in OUTCOME_COLUMNS if c not in KEYS + STATED]
CALL_COLUMNS_SCHEMA = {
    "analysis_date": pl.Date,
    "ticker": pl.String,
    **dict.fromkeys(["current_price", "target_price", "stated_volatility"], pl.Float64),
    **dict.fromkeys(["target_low", "target_high"], pl.Float64),
}


def stored_outcomes(path: Path) -> pl.DataFrame:
    with open_reader(path) as con:
        return con.sql("SELECT * FROM call_outcomes ORDER BY ALL").pl()


def settings_for(path: Path) -> Settings:
    return Settings.from_env({"DATABASE_URL": str(path)}, env_file=None)


def as_of(
    frame: pl.DataFrame, dates: pl.DataFrame, by: str | None, max_age: int | None = None
) -> pl.DataFrame:
    """The last value on or before each date, at most `max_age` days old."""
    return dates.sort("when").join_asof(
        frame.sort("date"),
        left_on="when",
        right_on="date",
        by=by,
        check_sortedness=False,
        tolerance=None if max_age is None else dt.timedelta(days=max_age),
    )


def test_forward_returns_equal_a_direct_computation_from_the_bundled_prices(sample_db):
    """Each stored return is the adjusted close at the exit session over the entry one."""
    got = stored_outcomes(sample_db)
    assert got.height > 5_000 and set(got["horizon_sessions"]) == {5, 20, 60}
    raw = pl.read_parquet(SAMPLE_DATA / "prices.parquet").with_columns(
        pl.col("adj_close").fill_null(pl.col("close")).alias("adj")
    )
    # Exit sessions of ADRs straight from exchange-calendars' NYSE calendar.
    nyse = [d.date() for d in xcals.get_calendar("XNYS", start="2023-01-01").sessions]
    position = {d: i for i, d in enumerate(nyse)}
    adrs = got.filter(pl.col("listing") == "ADR")
    offsets = {"close": 0, "next_close": 1}
    for row in adrs.sample(300, seed=1).iter_rows(named=True):
        i = position[row["analysis_date"]] + offsets[row["entry"]]
        assert row["entry_date"] == nyse[i]
        assert row["exit_date"] == nyse[i + row["horizon_sessions"]]
    # Returns: the last bar on or before each date, from the parquet file itself.
    ends = pl.concat(
        got.select("ticker", pl.col(c).alias("when"), pl.lit(c).alias("end"), *KEYS[:1] + KEYS[2:])
        for c in ("entry_date", "exit_date")
    )
    priced = as_of(raw.select("date", "ticker", "adj", "close"), ends, by="ticker")
    wide = priced.pivot(on="end", index=KEYS, values=["adj", "close"])
    check = got.join(wide, on=KEYS)
    assert check.height == got.height
    expected = check["adj_exit_date"] / check["adj_entry_date"] - 1
    assert largest_gap(check["forward_return"], expected) < 1e-12
    assert largest_gap(check["exit_price"], check["close_exit_date"]) < 1e-9
    universe = check.group_by(["analysis_date", "listing", "horizon_sessions", "entry"]).agg(
        pl.col("forward_return").mean().alias("mean"), pl.col("universe_return").first()
    )
    assert largest_gap(universe["mean"], universe["universe_return"]) < 1e-12


def test_benchmarks_are_the_merval_in_pesos_and_in_dollars(sample_db):
    got = stored_outcomes(sample_db).filter(pl.col("entry") == "close")
    # The sample's Merval is the ^MERV index among the prices; the CCL is a macro series.
    merval_bars = pl.read_parquet(SAMPLE_DATA / "prices.parquet").filter(
        pl.col("ticker") == "^MERV"
    )
    macro = pl.concat(
        [
            pl.read_parquet(SAMPLE_DATA / "macro.parquet"),
            merval_bars.select(
                "date", pl.lit("merval").alias("series"), pl.col("close").alias("value")
            ),
        ]
    )

    def series(name: str, when: str) -> pl.Series:
        values = macro.filter(pl.col("series") == name).select("date", "value")
        dates = got.select(pl.col(when).alias("when"), *KEYS)
        return as_of(values, dates, by=None, max_age=10).sort(KEYS)["value"]

    got = got.sort(KEYS)
    merval = series("merval", "exit_date") / series("merval", "entry_date")
    ccl = series("usdars_ccl", "exit_date") / series("usdars_ccl", "entry_date")
    ccl_rava = series("usdars_ccl_rava", "exit_date") / series("usdars_ccl_rava", "entry_date")
    frame = got.with_columns(m=merval, c=ccl, r=ccl_rava)
    byma = frame.filter(pl.col("listing") == "BYMA")
    assert byma.height > 0
    assert largest_gap(byma["benchmark_return"], (byma["m"] - 1)) < 1e-12
    # ADRs: the CCL ends 2023-08-16 in the sample; ten days later the Rava family takes over.
    adr = frame.filter(pl.col("listing") == "ADR")
    expected = adr["m"] / adr["c"].fill_null(adr["r"]) - 1
    assert largest_gap(adr["benchmark_return"], expected) < 1e-12
    excess = got["forward_return"] - got["benchmark_return"]
    assert largest_gap(got["excess_return"], excess) < 1e-15


def _files_source(folder: Path, shock_after: dt.date | None) -> Path:
    """The sample's ADRs as a files-source folder; prices and macro after a day scrambled."""
    folder.mkdir()
    prices = pl.read_parquet(SAMPLE_DATA / "prices.parquet").filter(
        pl.col("ticker").is_in(ADRS) & (pl.col("date") >= dt.date(2021, 6, 1))
    )
    macro = pl.read_parquet(SAMPLE_DATA / "macro.parquet")
    if shock_after:
        later = pl.col("date") > shock_after
        factor = pl.when(later).then(pl.col("ticker").rank("dense") * 1.7)
        prices = prices.with_columns(
            pl.col(c) * factor.otherwise(1.0) for c in ("open", "high", "low", "close", "adj_close")
        )
        macro = macro.with_columns(pl.when(later).then(pl.col("value") * 3).otherwise("value"))
    prices.write_parquet(folder / "prices.parquet")
    macro.write_parquet(folder / "macro.parquet")
    return folder


def test_an_outcome_never_reads_prices_after_its_exit_date(tmp_path):
    """Scrambling every price and macro value after a day changes no outcome that exited by then."""
    cutoff = dt.date(2023, 8, 15)
    results = []
    for name, shock in (("clean", None), ("shocked", cutoff)):
        folder = _files_source(tmp_path / name, shock)
        path = tmp_path / f"{name}.duckdb"
        options = jobs.SourceOptions("files", data_dir=folder)
        jobs.backfill(settings_for(path), options, dt.date(2023, 4, 3), dt.date(2023, 10, 31))
        results.append(stored_outcomes(path).sort(KEYS))
    clean, shocked = results
    settled = pl.col("exit_date") <= cutoff
    before = clean.filter(settled).select(KEYS + VALUE_COLUMNS)
    assert before.height > 1000
    assert before.equals(shocked.filter(settled).select(KEYS + VALUE_COLUMNS))
    # The scrambling does reach the later rows, so the comparison above can fail.
    after = clean.filter(~settled).join(shocked, on=KEYS, suffix="_s")
    assert largest_gap(after["forward_return"], after["forward_return_s"]) > 0.1


def test_a_daily_run_settles_what_matured_since_and_equals_one_backfill(tmp_path, sample_db):
    """Backfill to a day, then one daily run later: the new rows are the run's and match."""
    path = tmp_path / "a.duckdb"
    settings, options = settings_for(path), jobs.SourceOptions("sample")
    first = jobs.backfill(settings, options, SAMPLE_START, dt.date(2024, 2, 29))
    before = stored_outcomes(path)
    daily = jobs.run_daily(settings, options, SAMPLE_END)
    after = stored_outcomes(path)
    new = after.join(before, on=KEYS, how="anti")
    assert new.height > 0
    assert new["exit_date"].is_between(dt.date(2024, 3, 1), SAMPLE_END).all()
    assert set(new["job_run_id"]) == {daily.job_id}
    assert set(before["job_run_id"]) == {first.job_id}
    assert (daily.record.outcomes_written or 0) >= new.height
    # Every outcome equals the one a single backfill over the whole range stores (which
    # also has calls for 2024-03-01..07, days this database has no call for). The realised
    # volatility is a difference of running sums that start where the loaded prices do.
    whole = stored_outcomes(sample_db).join(
        after.select(KEYS[:2]).unique(), on=KEYS[:2], how="semi"
    )
    exact = [c for c in VALUE_COLUMNS if c != "realised_volatility"]
    assert after.select(KEYS + exact).sort(KEYS).equals(whole.select(KEYS + exact).sort(KEYS))
    both = after.join(whole, on=KEYS)
    assert largest_gap(both["realised_volatility"], both["realised_volatility_right"]) < 1e-12
    with open_reader(path) as con:
        origins = con.sql(
            "SELECT analysis_date = ? AS today, origin, count(*) FROM call_outcomes_with_calls"
            " GROUP BY ALL ORDER BY ALL",
            params=[SAMPLE_END],
        ).fetchall()
        calls = con.sql(
            "SELECT r.analysis_date = ?, j.job_name, count(*) FROM daily_recommendations r"
            " JOIN job_runs j ON j.id = r.job_run_id GROUP BY ALL ORDER BY ALL",
            params=[SAMPLE_END],
        ).fetchall()
    assert [o[:2] for o in origins] == [(False, "simulado")]  # today's call has not matured
    assert [c[:2] for c in calls] == [(False, "backfill"), (True, "daily_analysis")]


def test_rerunning_a_day_keeps_or_recomputes_its_outcomes_and_leaves_no_orphans(tmp_path):
    folder = _files_source(tmp_path / "data", None)
    path = tmp_path / "a.duckdb"
    settings, options = settings_for(path), jobs.SourceOptions("files", data_dir=folder)
    jobs.backfill(settings, options, dt.date(2023, 11, 1), SAMPLE_END)
    # Not the first session of a month: a bar lost on that day would leave four stocks to
    # form the month's calls, too few to rank (every call of the month would go).
    day = dt.date(2023, 12, 4)
    before = stored_outcomes(path).filter(pl.col("analysis_date") == day)
    assert before.height == len(ADRS) * 6
    # The day's run loads prices up to that day only: its stored outcomes are kept.
    jobs.run_daily(settings, options, day)
    assert stored_outcomes(path).filter(pl.col("analysis_date") == day).equals(before)
    # The source loses one ticker's bar that day: the re-run drops that call and the day's
    # outcomes (the universe mean changed); the next run reaching their exits recomputes them.
    prices = pl.read_parquet(folder / "prices.parquet")
    gone = (pl.col("ticker") == ADRS[-1]) & (pl.col("date") == day)
    prices.filter(~gone).write_parquet(folder / "prices.parquet")
    jobs.run_daily(settings, options, day)
    assert stored_outcomes(path).filter(pl.col("analysis_date") == day).is_empty()
    later = jobs.run_daily(settings, options, SAMPLE_END)
    after = stored_outcomes(path).filter(pl.col("analysis_date") == day)
    assert after.height == (len(ADRS) - 1) * 6 and ADRS[-1] not in set(after["ticker"])
    assert set(after["job_run_id"]) == {later.job_id}
    universe = after.group_by(KEYS[2:]).agg(
        (pl.col("forward_return").mean() - pl.col("universe_return").first()).alias("gap")
    )
    assert largest_gap(universe["gap"], 0.0) < 1e-12
    with open_reader(path) as con:
        orphans = con.sql(
            "SELECT count(*) FROM call_outcomes o ANTI JOIN daily_recommendations r"
            " USING (analysis_date, ticker)"
        ).fetchall()[0][0]
    assert orphans == 0


def test_retention_and_replaced_partitions_take_their_outcomes_along(db_path):
    day = dt.date(2024, 3, 1)
    row = {c: 0.01 for c in VALUE_COLUMNS} | {
        "analysis_date": day,
        "ticker": "GGAL",
        "horizon_sessions": 5,
        "entry": "close",
        "listing": "ADR",
        "entry_date": day,
        "exit_date": day + dt.timedelta(days=7),
        "target_low_return": -0.1,
        "target_high_return": 0.1,
    }
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [day], [partition(day, ["GGAL", "YPF"])], job_run_id=7)
        calls = pl.DataFrame({"analysis_date": [day], "ticker": ["GGAL"]})
        assert writes.replace_outcomes(con, calls, pl.DataFrame([row]), job_run_id=8) == 1
        stray = pl.DataFrame([row | {"ticker": "YPF"}])
        with pytest.raises(ValueError, match="belong to none of the calls"):
            writes.replace_outcomes(con, calls, stray)
        count = "SELECT count(*) FROM call_outcomes"
        assert con.sql(count).fetchall()[0][0] == 1
        writes.replace_partitions(con, [day], [partition(day, ["GGAL"])])
        assert con.sql(count).fetchall()[0][0] == 1  # the call is still there
        writes.replace_partitions(con, [day], [partition(day, ["YPF"])])
        assert con.sql(count).fetchall()[0][0] == 0
        writes.replace_partitions(con, [day], [partition(day, ["GGAL"])])
        writes.replace_outcomes(con, calls, pl.DataFrame([row]))
        writes.delete_before(con, day + dt.timedelta(days=1))
        assert con.sql(count).fetchall()[0][0] == 0


def test_rewriting_outcomes_replaces_only_their_keys_and_refuses_unstored_calls(db_path):
    days = [dt.date(2024, 3, 1), dt.date(2024, 3, 4), dt.date(2024, 3, 5)]
    row = {c: 0.01 for c in VALUE_COLUMNS} | {
        "ticker": "GGAL",
        "horizon_sessions": 5,
        "entry": "close",
        "listing": "ADR",
        "target_low_return": -0.1,
        "target_high_return": 0.1,
    }
    rows = [row | {"analysis_date": d, "entry_date": d, "exit_date": d} for d in days]
    calls = pl.DataFrame({"analysis_date": days, "ticker": ["GGAL"] * 3})
    with open_writer(db_path) as con:
        writes.replace_partitions(con, days, [partition(d, ["GGAL"]) for d in days])
        writes.replace_outcomes(con, calls, pl.DataFrame(rows))
        # The middle day again, with another return: its row is replaced, the others kept.
        changed = pl.DataFrame([rows[1] | {"forward_return": 0.5}])
        assert writes.replace_outcomes(con, calls, changed) == 1
        stored = con.sql(
            "SELECT analysis_date, forward_return FROM call_outcomes ORDER BY 1"
        ).fetchall()
        assert stored == [(days[0], 0.01), (days[1], 0.5), (days[2], 0.01)]
        # A call listed but never stored (YPF on the middle day) is refused.
        ypf = pl.DataFrame([rows[1] | {"ticker": "YPF"}])
        unstored = pl.DataFrame({"analysis_date": [days[1]], "ticker": ["YPF"]})
        with pytest.raises(ValueError, match="1 outcome keys have no stored call"):
            writes.replace_outcomes(con, unstored, ypf)
        assert con.sql("SELECT count(*) FROM call_outcomes").fetchall()[0][0] == 3


def test_calls_written_before_the_origin_was_recorded_count_as_simulated(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    migrate(con, target=3)
    recs, _ = partition(dt.date(2024, 3, 1), ["GGAL"])
    recs = recs.drop("target_low", "target_high")  # columns of migration 6
    columns = ", ".join(recs.columns)
    con.execute(f"INSERT INTO daily_recommendations ({columns}) SELECT {columns} FROM recs")
    migrate(con)
    con.execute(
        "INSERT INTO call_outcomes (analysis_date, ticker, horizon_sessions, entry, listing,"
        " entry_date, entry_price, exit_date, exit_price, forward_return, universe_return,"
        " universe_excess_return) VALUES ('2024-03-01', 'GGAL', 5, 'close', 'ADR',"
        " '2024-03-01', 10, '2024-03-08', 11, 0.1, 0.1, 0)"
    )
    assert con.sql("SELECT job_run_id FROM daily_recommendations").fetchall() == [(None,)]
    assert con.sql("SELECT origin FROM call_outcomes_with_calls").fetchall() == [("simulado",)]


def test_a_daily_run_recomputes_only_the_dates_whose_outcomes_came_due(tmp_path):
    path = tmp_path / "a.duckdb"
    settings, options = settings_for(path), jobs.SourceOptions("sample", tickers=ADRS)
    jobs.backfill(settings, options, dt.date(2023, 6, 1), dt.date(2024, 3, 7))
    before = stored_outcomes(path)
    daily = jobs.run_daily(settings, options, SAMPLE_END)
    after = stored_outcomes(path)
    rewritten = after.filter(pl.col("job_run_id") == daily.job_id)
    # One more session: the calls 5, 20 and 60 sessions back (+1 for next_close) come due.
    assert rewritten["analysis_date"].n_unique() <= 7
    assert rewritten.select(KEYS).join(before.select(KEYS), on=KEYS, how="anti").height > 0
    unchanged = after.filter(pl.col("job_run_id") != daily.job_id).drop("created_at")
    assert unchanged.join(before.drop("created_at"), on=unchanged.columns, how="anti").is_empty()


def test_the_range_a_relative_call_is_measured_against_is_its_stated_percentiles():
    # A call of the relative model states target_low/high (10th-90th percentile, 80 %); the
    # calibration must read them, not the first model's target ± one volatility (about 68 %).
    days = calendar.trading_days(calendar.NEW_YORK, dt.date(2024, 1, 2), dt.date(2024, 6, 28))
    closes = [100.0 * 1.001**i for i in range(len(days))]
    prices = pl.DataFrame(
        {"date": days, "ticker": "GGAL", "close": closes, "adj_close": closes},
        schema_overrides={"close": pl.Float64, "adj_close": pl.Float64},
    )
    call = pl.DataFrame(
        {
            "analysis_date": [days[0]],
            "ticker": ["GGAL"],
            "current_price": [100.0],
            "target_price": [105.0],
            "stated_volatility": [0.50],  # a ± 1 sd band would be far wider
            "target_low": [92.0],
            "target_high": [115.0],
        }
    )
    got = compute_outcomes(call, prices, pl.DataFrame(schema=MACRO_SCHEMA), horizons=(63, 20))
    closed = got.filter(pl.col("entry") == "close")
    at = {r["horizon_sessions"]: r for r in closed.iter_rows(named=True)}
    # By hand, at the stated horizon: the range itself.
    assert at[63]["target_low_return"] == pytest.approx(92.0 / 100.0 - 1, rel=1e-12)
    assert at[63]["target_high_return"] == pytest.approx(115.0 / 100.0 - 1, rel=1e-12)
    # At 20 sessions: median drift x 20/63, each edge's log distance x sqrt(20/63).
    mid, h = math.log(1.05), 20 / 63
    low = math.exp(mid * h + (math.log(0.92) - mid) * math.sqrt(h)) - 1
    assert at[20]["target_low_return"] == pytest.approx(low, rel=1e-12)
    # The price rose 1.001^63 - 1 = 6.5 % in 63 sessions: inside [-8 %, +15 %].
    assert at[63]["target_low_return"] < at[63]["forward_return"] < at[63]["target_high_return"]


def test_daily_runs_write_only_the_outcomes_that_newly_matured_when_a_ticker_stops(tmp_path):
    """A ticker that stopped trading never settles its last calls: the runs after it must not
    rewrite the whole window for that (each run wrote every outcome of the loaded window)."""
    folder = tmp_path / "data"
    folder.mkdir()
    stopped, last_bar = "TEO", dt.date(2024, 2, 14)
    prices = pl.read_parquet(SAMPLE_DATA / "prices.parquet").filter(
        pl.col("ticker").is_in([*ADRS, "BBAR", "TGS"]),
        pl.col("date") >= dt.date(2021, 6, 1),
        (pl.col("ticker") != stopped) | (pl.col("date") <= last_bar),
    )
    prices.write_parquet(folder / "prices.parquet")
    pl.read_parquet(SAMPLE_DATA / "macro.parquet").write_parquet(folder / "macro.parquet")
    options = jobs.SourceOptions("files", data_dir=folder)
    first, days = dt.date(2023, 11, 1), (dt.date(2024, 3, 6), dt.date(2024, 3, 7), SAMPLE_END)
    path = tmp_path / "daily.duckdb"
    jobs.backfill(settings_for(path), options, first, days[0])
    for day in days[1:]:
        before = stored_outcomes(path)
        run = jobs.run_daily(settings_for(path), options, day)
        after = stored_outcomes(path)
        new = after.join(before, on=KEYS, how="anti")
        rewritten = after.filter(pl.col("job_run_id") == run.job_id)
        assert new.height > 0
        assert rewritten.select(KEYS).sort(KEYS).equals(new.select(KEYS).sort(KEYS))
        assert run.record.outcomes_written == new.height
    # The stopped ticker's calls are there, some of them never settled.
    assert stopped in set(after["ticker"])
    # The table equals the one a single backfill over the same days stores.
    whole_path = tmp_path / "backfill.duckdb"
    jobs.backfill(settings_for(whole_path), options, first, days[-1])
    whole = stored_outcomes(whole_path)
    exact = [c for c in OUTCOME_COLUMNS if c != "realised_volatility"]
    assert after.select(exact).sort(KEYS).equals(whole.select(exact).sort(KEYS))
    both = after.join(whole, on=KEYS)
    assert both.height == whole.height
    assert largest_gap(both["realised_volatility"], both["realised_volatility_right"]) < 1e-12


def test_outcomes_filled_in_groups_of_dates_equal_one_pass(tmp_path, monkeypatch):
    """A large backfill fills its outcomes a group of dates at a time (bounded memory):
    the rows stored are exactly those of one pass over every date."""
    options = jobs.SourceOptions("sample", tickers=ADRS)
    start, end = dt.date(2023, 9, 1), dt.date(2023, 12, 29)
    one = tmp_path / "one.duckdb"
    jobs.backfill(settings_for(one), options, start, end)
    monkeypatch.setattr(ops_outcomes, "GROUP_CALLS", 3 * len(ADRS))  # three dates a group
    groups = tmp_path / "groups.duckdb"
    jobs.backfill(settings_for(groups), options, start, end)
    stored = [stored_outcomes(p).drop("job_run_id", "created_at") for p in (one, groups)]
    assert stored[0].height > 200
    assert stored[0].equals(stored[1])


@pytest.mark.parametrize("block_bars", [1_000_000, 150])  # the bars prepared at once, or per ticker
def test_prices_are_looked_up_as_an_as_of_join_by_ticker_would(monkeypatch, block_bars):
    """Each outcome's bars (found by a binary search over every ticker's bars) are those of
    an as-of join by ticker name: the last bar on or before the entry and exit sessions,
    across gaps, tickers that start after a call or stop before its exit, and names that
    sort apart from their listing. The returns and volatility built on them are equal,
    whether the bars' running sums are prepared for every ticker at once or in blocks."""
    monkeypatch.setattr(analysis_outcomes, "_BLOCK_BARS", block_bars)
    days = calendar.trading_days(calendar.NEW_YORK, dt.date(2024, 1, 2), dt.date(2024, 9, 30))
    rows = []
    for k, ticker in enumerate(["ZZ", "AA", "MM.BA", "LATE", "GONE"]):
        for i, day in enumerate(days):
            skip = (
                (i + k) % 7 == 3 or (ticker == "LATE" and i < 40) or (ticker == "GONE" and i > 150)
            )
            if not skip:
                close = 50.0 + 10 * k + math.sin(i / (3 + k)) * 5 + i * 0.01
                adj = None if (i + k) % 11 == 0 else close * (0.9 + 0.01 * k)
                rows.append((ticker, day, close, adj))
    prices = pl.DataFrame(
        rows, schema=["ticker", "date", "close", "adj_close"], orient="row"
    ).sample(fraction=1.0, shuffle=True, seed=3)  # any order in
    calls = pl.DataFrame(
        [
            (day, t, 100.0, 103.0, 0.3, None, None)
            for day in days[5:120:4]
            for t in ["ZZ", "AA", "MM.BA", "LATE", "GONE"]
        ],
        schema=CALL_COLUMNS_SCHEMA,
        orient="row",
    )
    got = compute_outcomes(calls, prices, pl.DataFrame(schema=MACRO_SCHEMA))
    assert set(got["ticker"]) == {"ZZ", "AA", "MM.BA", "LATE", "GONE"}
    # The reference: as-of joins by ticker name on the bars with their running sums.
    bars = (
        prices.sort("ticker", "date")
        .with_columns(pl.col("adj_close").fill_null(pl.col("close")).alias("adj"))
        .with_columns(
            ((pl.col("adj") / pl.col("adj").shift(1)).log().fill_null(0.0))
            .over("ticker")
            .alias("r")
        )
        .with_columns(
            pl.col("r").cum_sum().over("ticker").alias("s1"),
            (pl.col("r") ** 2).cum_sum().over("ticker").alias("s2"),
            pl.int_range(pl.len()).over("ticker").alias("bar"),
        )
    )
    ends = {}
    for end in ("entry_date", "exit_date"):
        when = got.select(*KEYS, pl.col(end).alias("when"))
        found = as_of(
            bars.select("ticker", "date", "adj", "close", "s1", "s2", "bar"), when, "ticker"
        )
        ends[end] = found.sort(KEYS)
    got = got.sort(KEYS)
    entry, exit_ = ends["entry_date"], ends["exit_date"]
    assert entry["adj"].null_count() == 0 and exit_["adj"].null_count() == 0
    assert got["forward_return"].equals(exit_["adj"] / entry["adj"] - 1.0, check_names=False)
    assert got["exit_price"].equals(exit_["close"], check_names=False)
    n = exit_["bar"] - entry["bar"]
    total = exit_["s1"] - entry["s1"]
    variance = (exit_["s2"] - entry["s2"] - total**2 / n) / (n - 1)
    vol = (variance.clip(0.0) * 252).sqrt()
    expected = pl.select(pl.when(pl.lit(n) >= 2).then(pl.lit(vol))).to_series()
    assert got["realised_volatility"].equals(expected, check_names=False)
    # A call whose ticker had no bar yet on its entry session has no outcome.
    late = calls.filter(pl.col("ticker") == "LATE")["analysis_date"].min()
    assert got.filter((pl.col("ticker") == "LATE") & (pl.col("analysis_date") == late)).is_empty()
