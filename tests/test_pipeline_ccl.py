"""The CCL implied by the ADR pairs: its definition, the replacement rule, what the details say."""

from __future__ import annotations

import datetime as dt
import json
from typing import cast

import polars as pl
import pytest

from benchmarks import data_checks
from pipeline.analysis import ccl, outcomes
from pipeline.analysis.frames import MACRO_SCHEMA
from pipeline.analysis.stages import analyse
from pipeline.settings import Settings
from pipeline.sources import sample

MON, TUE, WED = dt.date(2021, 3, 1), dt.date(2021, 3, 2), dt.date(2021, 3, 3)
# (local, ADR, shares per ADR) from calls.ADR_PAIRS.
GGAL, YPF, BMA, PAMP = (
    ("GGAL.BA", "GGAL", 10),
    ("YPFD.BA", "YPF", 1),
    ("BMA.BA", "BMA", 10),
    (
        "PAMP.BA",
        "PAM",
        25,
    ),
)


def prices(rows: list[tuple[dt.date, str, float]]) -> pl.DataFrame:
    schema = {"date": pl.Date, "ticker": pl.String, "close": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def pair(day: dt.date, listing: tuple[str, str, int], rate: float, adr_close: float) -> list:
    """Closes of a pair on `day` whose implied CCL is `rate`."""
    local, adr, shares = listing
    return [(day, local, rate * adr_close / shares), (day, adr, adr_close)]


def macro(rows: list[tuple[dt.date, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=MACRO_SCHEMA, orient="row")


def series(frame: pl.DataFrame, name: str) -> dict[dt.date, float]:
    picked = frame.filter(pl.col("series") == name).sort("date")
    return dict(zip(picked["date"], picked["value"], strict=True))


def test_the_implied_rate_is_the_median_of_the_pairs_quoted_on_both_exchanges() -> None:
    # By hand: GGAL.BA 1500 x 10 / GGAL 10 = 1500; YPFD.BA 1400 x 1 / YPF 1 = 1400; BMA.BA
    # 480 x 10 / BMA 3 = 1600. The median is 1500. PAMP.BA has no ADR close that day.
    frame = prices(
        [
            (MON, "GGAL.BA", 1500.0),
            (MON, "GGAL", 10.0),
            (MON, "YPFD.BA", 1400.0),
            (MON, "YPF", 1.0),
            (MON, "BMA.BA", 480.0),
            (MON, "BMA", 3.0),
            (MON, "PAMP.BA", 100.0),
        ]
    )
    out = ccl.implied_ccl(frame).row(0, named=True)
    assert out == {"date": MON, "implied_ccl": pytest.approx(1500.0), "pairs": 3}


def test_fewer_than_three_pairs_give_no_implied_rate() -> None:
    frame = prices(pair(MON, GGAL, 150.0, 20.0) + pair(MON, YPF, 140.0, 9.0))
    assert ccl.implied_ccl(frame).is_empty()


def test_one_bad_pair_does_not_move_the_rate() -> None:
    # A stale local quote (a tenth of the price) on one pair of three.
    rows = pair(MON, GGAL, 150.0, 20.0) + pair(MON, YPF, 151.0, 9.0) + pair(MON, BMA, 15.2, 4.0)
    assert ccl.implied_ccl(prices(rows))["implied_ccl"].item() == pytest.approx(150.0)


def test_the_implied_rate_replaces_the_source_where_three_pairs_trade() -> None:
    closes = [
        *pair(MON, GGAL, 150.0, 20.0),
        *pair(MON, YPF, 152.0, 9.0),
        *pair(MON, BMA, 154.0, 4.0),
    ]
    late = dt.date(2021, 3, 20)  # 19 days after the last implied rate: the source's counts
    given = macro(
        [(MON, "usdars_ccl", 190.0), (TUE, "usdars_ccl", 191.0), (late, "usdars_ccl", 195.0)]
    )
    out = ccl.with_implied_ccl(given, prices(closes))
    # Monday: the pairs' median; Tuesday (within CARRY_DAYS of Monday) is left to the as-of
    # rule, which carries Monday's implied rate; the 20th keeps the source's rate.
    assert series(out, "usdars_ccl") == {MON: pytest.approx(152.0), late: 195.0}
    assert series(out, ccl.PAIRS_SERIES) == {MON: 3.0, late: 0.0}
    assert series(out, ccl.SOURCE_SERIES) == {MON: 190.0, TUE: 191.0, late: 195.0}
    assert ccl.with_implied_ccl(out, prices(closes)).equals(out)  # applied once only


def test_a_date_with_pairs_and_no_source_rate_gets_the_implied_one() -> None:
    closes = [
        *pair(WED, GGAL, 150.0, 20.0),
        *pair(WED, YPF, 150.0, 9.0),
        *pair(WED, PAMP, 151.0, 1.0),
    ]
    out = ccl.with_implied_ccl(macro([(MON, "merval", 1.0)]), prices(closes))
    assert series(out, "usdars_ccl") == {WED: pytest.approx(150.0)}
    assert series(out, "merval") == {MON: 1.0}


@pytest.fixture(scope="module")
def analysed_sample() -> dict[dt.date, pl.DataFrame]:
    """The details of a day of 2013 and 2021 (pairs) and of 2023 (no BYMA pairs)."""
    days = [dt.date(2013, 6, 4), dt.date(2021, 6, 1), dt.date(2023, 6, 6)]
    settings = Settings.from_env({}, env_file=None)
    return {
        day: analyse(sample.load([], day, day, warmup_bars=756), settings, [day]).details
        for day in days
    }


def raw(details: pl.DataFrame, kind: str, ticker: str | None = None) -> dict:
    rows = details.filter(pl.col("analysis_type") == kind)
    if ticker:
        rows = rows.filter(pl.col("ticker") == ticker)
    return json.loads(rows["raw_data"][0])


def test_the_details_say_which_ccl_was_used(analysed_sample: dict[dt.date, pl.DataFrame]) -> None:
    with_pairs = raw(analysed_sample[dt.date(2013, 6, 4)], "macro")
    assert with_pairs["ccl_source"] == ccl.FROM_PAIRS and with_pairs["ccl_pairs"] >= ccl.MIN_PAIRS
    # The bundled series ran well above the pairs in 2013 (the 1.06-1.36x).
    assert with_pairs["usdars_ccl_source"] > 1.05 * with_pairs["usdars_ccl"]
    without = raw(analysed_sample[dt.date(2023, 6, 6)], "macro")  # BYMA pairs end in 2022
    assert without["ccl_source"] == ccl.FROM_SOURCE and without["ccl_pairs"] is None
    assert without["usdars_ccl"] == without["usdars_ccl_source"]


def test_on_the_sample_the_rate_agrees_with_the_sources_own_adr_implied_series() -> None:
    # `usdars_adr_implied` (bundled, 2002-2020, from another project) was never used to set
    # the rule; the median of the pairs is within 1 % of it on a typical date (measured:
    # median gap 0.52 %, within 5 % on 97.7 % of the 2,429 shared dates).
    data = sample.load()
    implied = ccl.implied_ccl(data.prices)
    theirs = data.macro.filter(pl.col("series") == "usdars_adr_implied")
    joined = implied.join(theirs, on="date")
    gap = joined.select((pl.col("value") / pl.col("implied_ccl") - 1).abs()).to_series()
    assert gap.len() > 2000
    assert cast(float, gap.median()) < 0.01
    assert cast(float, (gap < 0.05).mean()) > 0.95


def test_the_dollar_merval_of_adr_outcomes_uses_the_same_ccl() -> None:
    # A 2013 ADR call: its benchmark is the Merval over the pairs' CCL at entry and exit,
    # not over the bundled series (which ran 1.06-1.36x above the pairs that year).
    data = sample.load([], dt.date(2013, 1, 2), dt.date(2013, 12, 30))
    day = dt.date(2013, 6, 4)
    calls = pl.DataFrame(
        {"analysis_date": [day], "ticker": ["YPF"], "current_price": [20.0]},
        schema_overrides={"analysis_date": pl.Date},
    ).with_columns(
        pl.lit(None, dtype=pl.Float64).alias(c)
        for c in ("target_price", "stated_volatility", "target_low", "target_high")
    )
    row = (
        outcomes.compute_outcomes(calls, data.prices, data.macro, horizons=(20,))
        .filter(pl.col("entry") == "close")
        .row(0, named=True)
    )
    used = ccl.with_implied_ccl(data.macro, data.prices)
    at = {d: series(used, name) for d, name in (("ccl", "usdars_ccl"), ("merval", "merval"))}
    entry, exit_ = row["entry_date"], row["exit_date"]
    assert ccl.implied_ccl(data.prices).filter(pl.col("date").is_in([entry, exit_])).height == 2
    expected = (at["merval"][exit_] / at["merval"][entry]) / (at["ccl"][exit_] / at["ccl"][entry])
    assert row["benchmark_return"] == pytest.approx(expected - 1, rel=1e-12)


def test_ypf_peso_ratios_on_the_sample_take_the_local_shares_close(
    analysed_sample: dict[dt.date, pl.DataFrame],
) -> None:
    # 2021: the ADR x official rate priced YPF ~1.7x too low; the local share's close is used.
    day = dt.date(2021, 6, 1)
    fundamental = raw(analysed_sample[day], "fundamental", "YPF")
    local = raw(analysed_sample[day], "technical", "YPFD.BA")["close_raw"]
    assert fundamental["price_basis"] == "local_share"
    assert fundamental["price_in_statement_currency"] == pytest.approx(local, abs=0.01)
    assert local > 1.5 * fundamental["price"] * fundamental["usdars_official"]


def test_data_checks_print_the_readmes_figures(capsys: pytest.CaptureFixture[str]) -> None:
    # `python -m benchmarks.data_checks`, quoted in the README and NOTES.md.
    data_checks.main()
    out = capsys.readouterr().out
    assert "| 2012 | 233           | 8.000        | 1.362 " in out
    assert "| 2021 | 252  | 239         | 13      | 1.705 " in out
