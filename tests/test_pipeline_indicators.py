"""The indicator stage against TA-Lib and numpy, on the bundled real prices."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
import talib

from benchmarks import bench_indicators
from benchmarks.synthetic import synthetic_panel
from pipeline.analysis import indicators
from pipeline.analysis.frames import PRICES_SCHEMA
from pipeline.analysis.indicators import (
    INDICATOR_COLUMNS,
    TALIB_INDICATORS,
    add_indicators,
    adjust_prices,
)
from pipeline.sources.sample import SAMPLE_DIR
from tests.oracles.talib_reference import defined_columns, per_ticker, talib_indicators

MIN_HISTORY = 300  # tickers with fewer bars are left out of the oracle comparison


def as_array(frame: pl.DataFrame, column: str) -> np.ndarray:
    """A column as float numpy, nulls as NaN."""
    return frame[column].cast(pl.Float64).to_numpy()


def assert_matches(ours: np.ndarray, reference: np.ndarray, rtol: float, label: str = "") -> None:
    """Same NaN positions, and values within rtol.

    For values crossing zero (MACD, returns) rtol applies to at least a thousandth of the
    series' median size, the precision that a relative error on the inputs allows.
    """
    nulls_differ = np.flatnonzero(np.isnan(ours) != np.isnan(reference))
    assert nulls_differ.size == 0, f"{label}: null positions differ at rows {nulls_differ[:5]}"
    known = ~np.isnan(reference)
    if not known.any():
        return
    expected = reference[known]
    error = np.abs(ours[known] - expected)
    allowed = rtol * np.maximum(np.abs(expected), 1e-3 * np.median(np.abs(expected)))
    worst = int(np.argmax(error - allowed))
    assert (error <= allowed).all(), (
        f"{label}: {ours[known][worst]!r}, expected {expected[worst]!r}"
    )


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    """The bundled real prices, adjusted and sorted as the pipeline feeds them."""
    prices = pl.read_parquet(SAMPLE_DIR / "prices.parquet").sort("ticker", "date")
    return adjust_prices(prices.lazy()).collect()


@pytest.fixture(scope="module")
def computed(sample: pl.DataFrame) -> pl.DataFrame:
    """Our indicators on the whole sample panel at once."""
    return add_indicators(sample.lazy()).collect()


@pytest.fixture(scope="module")
def oracle(computed: pl.DataFrame) -> dict[str, tuple[pl.DataFrame, dict[str, np.ndarray]]]:
    """Per ticker with enough history: its rows and TA-Lib's and numpy's values."""
    found = {}
    for (ticker,), rows in computed.partition_by("ticker", as_dict=True).items():
        if rows.height >= MIN_HISTORY:
            close, high, low, volume = (
                as_array(rows, c) for c in ("close", "high", "low", "volume")
            )
            found[ticker] = (
                rows,
                talib_indicators(close, high, low) | defined_columns(close, volume),
            )
    return found


def test_sample_covers_the_cases(oracle: dict) -> None:
    """The oracle sees full OHLC tickers, close-only tickers and mixed ones."""
    missing_range = [rows["high"].null_count() / rows.height for rows, _ in oracle.values()]
    assert len(oracle) >= 30
    assert {0.0, 1.0} <= set(missing_range) and any(0 < share < 1 for share in missing_range)


@pytest.mark.parametrize("indicator", TALIB_INDICATORS)
def test_indicator_equals_talib(indicator: str, oracle: dict) -> None:
    """Each indicator equals TA-Lib's per ticker, null where TA-Lib has NaN, to 1e-9 relative.

    (The target is 1e-6 once 250 bars precede; this holds from the first value.)
    """
    compared = 0
    for ticker, (rows, expected) in oracle.items():
        if indicator == "atr_14" and rows["high"].null_count() > 0:
            continue  # TA-Lib propagates NaN; close-only rows are tested below
        assert_matches(
            as_array(rows, indicator), expected[indicator], 1e-9, f"{ticker} {indicator}"
        )
        compared += 1
    assert compared >= 15


@pytest.mark.parametrize("column", [c for c in INDICATOR_COLUMNS if c not in TALIB_INDICATORS])
def test_other_columns_follow_their_definition(column: str, oracle: dict) -> None:
    """Returns, volatility (sample std × √252), volume average, 252-bar high and drawdown."""
    for ticker, (rows, expected) in oracle.items():
        assert_matches(as_array(rows, column), expected[column], 1e-9, f"{ticker} {column}")


def test_null_only_before_the_window_fills(computed: pl.DataFrame) -> None:
    """On a full-data ticker each value appears exactly when its window or warm-up is full."""
    first_bar = {"sma_200": 200, "macd": 34, "macd_signal": 34, "rsi_14": 15, "atr_14": 15}
    first_bar |= {"ema_26": 26, "volatility_20": 21, "return_252d": 253, "drawdown_252": 252}
    rows = computed.filter(pl.col("ticker") == "GGAL")
    for column, bar in first_bar.items():
        present = rows.filter(pl.col(column).is_not_null())["bars"]
        assert (present.min(), present.len()) == (bar, rows.height - bar + 1), column


def test_close_only_tickers_have_no_atr_but_close_indicators(oracle: dict) -> None:
    """A ticker without high/low gets null ATR, and RSI/SMA/MACD as TA-Lib computes them."""
    close_only = {t: v for t, v in oracle.items() if v[0]["high"].null_count() == v[0].height}
    assert close_only
    for ticker, (rows, expected) in close_only.items():
        assert rows["atr_14"].null_count() == rows.height
        for column in ("rsi_14", "sma_50", "macd_signal"):
            assert rows[column].null_count() < rows.height
            assert_matches(as_array(rows, column), expected[column], 1e-9, f"{ticker} {column}")


def test_atr_restarts_after_close_only_rows(oracle: dict) -> None:
    """ATR is null on close-only rows; each run of full bars gets TA-Lib's ATR of that run."""
    mixed = [rows for rows, _ in oracle.values() if 0 < rows["high"].null_count() < rows.height]
    runs = [
        run.drop("run")
        for rows in mixed
        for run in rows.with_columns(run=pl.col("high").is_null().rle_id()).partition_by("run")
    ]
    assert len(mixed) >= 3 and sum(run.height > 100 for run in runs) >= 3
    for run in runs:
        if run["high"].null_count():
            assert run["atr_14"].null_count() == run.height
        else:
            close, high, low = (as_array(run, c) for c in ("close", "high", "low"))
            label = f"{run['ticker'][0]} from {run['date'][0]}"
            assert_matches(as_array(run, "atr_14"), talib.ATR(high, low, close, 14), 1e-9, label)


def test_tickers_do_not_leak_into_each_other(sample: pl.DataFrame) -> None:
    """A cheap ticker sorted right after an expensive one: jointly = separately (to rounding)."""
    ggal = sample.filter(pl.col("ticker") == "GGAL")
    cheap = ggal.with_columns(
        pl.lit("GGAL.X").alias("ticker"),
        *(pl.col(c) * 1e-4 for c in ("open", "high", "low", "close")),
    )
    merval = sample.filter(pl.col("ticker") == "^MERV")
    panel = pl.concat([ggal, cheap, merval])
    jointly = add_indicators(panel.lazy()).collect()
    for ticker, alone in (("GGAL.X", cheap), ("^MERV", merval)):
        expected = add_indicators(alone.lazy()).collect()
        got = jointly.filter(pl.col("ticker") == ticker)
        for column in INDICATOR_COLUMNS:
            ours, alone_values = as_array(got, column), as_array(expected, column)
            assert_matches(ours, alone_values, 1e-9, f"{ticker} {column}")


def test_blocks_of_whole_tickers_give_the_panel_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """A panel computed in blocks of whole tickers equals it computed at once (to rounding)."""
    panel = synthetic_panel(7, 300, seed=3)
    whole = add_indicators(panel.lazy()).collect()
    monkeypatch.setattr(indicators, "_BLOCK_ROWS", 500)
    assert indicators._blocks(panel) == [(0, 600), (600, 600), (1200, 600), (1800, 300)]
    blocked = add_indicators(panel.lazy()).collect()
    assert blocked.select("ticker", "date").equals(whole.select("ticker", "date"))
    for column in INDICATOR_COLUMNS:
        assert_matches(as_array(blocked, column), as_array(whole, column), 1e-9, column)


def test_very_long_history_equals_talib() -> None:
    """A ticker of 17,000 bars (68 years) after a pricier one: every bar equals TA-Lib's."""
    n = 17_000
    days = [dt.date(1950, 1, 1) + dt.timedelta(days=i) for i in range(n)]
    close = 50 * np.exp(np.random.default_rng(5).normal(0, 0.02, n).cumsum())
    panel = pl.concat(
        [prices_frame({"A": close[:300] * 1e3}, days[:300]), prices_frame({"B": close}, days)]
    )
    rows = add_indicators(panel.lazy()).collect().filter(pl.col("ticker") == "B")
    expected = talib_indicators(close, close * 1.01, close * 0.99)
    for column in TALIB_INDICATORS:
        assert_matches(as_array(rows, column), expected[column], 1e-9, column)


def test_panel_without_high_low_has_no_atr() -> None:
    """With no high/low anywhere ATR is null on every row; the close indicators are computed."""
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(60)]
    walks = 10 * np.exp(np.random.default_rng(2).normal(0, 0.03, (2, 60)).cumsum(axis=1))
    panel = prices_frame({"A": walks[0], "B": walks[1]}, days)
    close_only = panel.with_columns(high=None, low=None).cast(PRICES_SCHEMA)
    out = add_indicators(close_only.lazy()).collect()
    assert out["atr_14"].null_count() == out.height
    for ticker, rows in out.partition_by("ticker", as_dict=True).items():
        expected = talib.RSI(as_array(rows, "close"), 14)
        assert_matches(as_array(rows, "rsi_14"), expected, 1e-9, f"{ticker} rsi_14")


def test_flat_start_gives_rsi_zero_as_talib() -> None:
    """A ticker whose price has not moved since listing has RSI 0, even after a volatile one."""
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(60)]
    volatile = 1e5 * np.exp(np.random.default_rng(1).normal(0, 0.05, 60).cumsum())
    flat = np.r_[np.full(40, 0.5), np.linspace(0.51, 0.7, 20)]
    panel = prices_frame({"A": volatile, "B": flat}, days)
    rsi = as_array(add_indicators(panel.lazy()).collect().filter(pl.col("ticker") == "B"), "rsi_14")
    np.testing.assert_array_equal(rsi[14:40], 0.0)
    np.testing.assert_allclose(rsi, talib.RSI(flat, 14), rtol=1e-9)


def test_rows_without_close_are_dropped() -> None:
    """A row without a close gets no indicators and does not break its neighbours' windows."""
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(40)]
    close = np.linspace(10, 20, 40)
    panel = prices_frame({"A": close}, days).with_columns(
        close=pl.when(pl.col("date") == days[5]).then(None).otherwise(pl.col("close"))
    )
    out = add_indicators(panel.lazy()).collect()
    assert out.height == 39 and days[5] not in out["date"].to_list()
    np.testing.assert_allclose(as_array(out, "sma_20"), talib.SMA(np.delete(close, 5), 20))


@pytest.mark.parametrize("n_rows", [0, 1, 30])
def test_short_panels_get_nulls_not_errors(n_rows: int) -> None:
    """Too little history leaves the long windows null; the columns are there in their order."""
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(n_rows)]
    panel = prices_frame({"A": np.linspace(10, 20, n_rows)}, days)
    out = add_indicators(panel.lazy()).collect()
    assert out.columns == [*PRICES_SCHEMA, *INDICATOR_COLUMNS]
    assert out.height == n_rows
    assert out["sma_200"].null_count() == n_rows
    assert out["rsi_14"].null_count() == min(n_rows, 14)


def test_adjust_prices_scales_ohlc_and_keeps_the_raw_close() -> None:
    """OHLC are multiplied by adj_close/close where adj_close is known; close_raw is the input."""
    panel = pl.DataFrame(
        {
            "date": [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)],
            "ticker": ["A", "A", "A"],
            "open": [9.0, 10.0, None],
            "high": [11.0, 12.0, None],
            "low": [8.0, 9.0, None],
            "close": [10.0, 11.0, 12.0],
            "adj_close": [5.0, None, 9.0],
            "volume": [100.0, 200.0, None],
        },
        schema=PRICES_SCHEMA,
    )
    out = adjust_prices(panel.lazy()).collect()
    assert out["close_raw"].to_list() == [10.0, 11.0, 12.0]
    assert out["close"].to_list() == [5.0, 11.0, 9.0]
    assert out.select("open", "high", "low").rows() == [
        (4.5, 5.5, 4.0),
        (10.0, 12.0, 9.0),
        (None,) * 3,
    ]
    assert out["volume"].to_list() == panel["volume"].to_list()


def test_adjust_prices_on_the_sample(sample: pl.DataFrame) -> None:
    """On real dividend-paying tickers the adjusted close equals adj_close, other prices follow."""
    raw = pl.read_parquet(SAMPLE_DIR / "prices.parquet").sort("ticker", "date")
    ratio = raw["adj_close"] / raw["close"]
    assert (ratio < 0.9).sum() > 1000  # the sample has real adjustments to check
    np.testing.assert_allclose(sample["close"], raw["adj_close"], rtol=1e-12)
    np.testing.assert_allclose(sample["close_raw"], raw["close"], rtol=0)
    for column in ("open", "high", "low"):
        np.testing.assert_allclose(sample[column], raw[column] * ratio, rtol=1e-12)


def test_benchmark_implementations_agree() -> None:
    """The TA-Lib reference and the benchmark's pandas version compute what polars computes."""
    panel = synthetic_panel(4, 400, seed=7)
    ours = bench_indicators.polars_stage(panel)
    others = {
        "talib": per_ticker(panel),
        "pandas": pl.from_pandas(bench_indicators.pandas_groupby(panel)),
    }
    for name, theirs in others.items():
        for column in INDICATOR_COLUMNS:
            assert_matches(
                as_array(ours, column), as_array(theirs, column), 1e-8, f"{name} {column}"
            )


def test_benchmark_prints_a_row_per_implementation(capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmark script runs end to end on a tiny panel and prints its table."""
    bench_indicators.main(["3x300", "--runs", "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 + len(bench_indicators.implementations())
    assert all(float(line.split()[-1]) > 0 for line in lines[1:])


def prices_frame(closes: dict[str, np.ndarray], days: list[dt.date]) -> pl.DataFrame:
    """A PRICES_SCHEMA panel with the given closes, high/low 1% around them."""
    frames = [
        pl.DataFrame(
            {"date": days, "ticker": ticker, "close": close, "adj_close": close, "volume": 1.0}
        ).with_columns(
            open=pl.col("close"), high=pl.col("close") * 1.01, low=pl.col("close") * 0.99
        )
        for ticker, close in closes.items()
    ]
    return pl.concat(frames).select(PRICES_SCHEMA.keys()).cast(PRICES_SCHEMA)
