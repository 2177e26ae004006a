"""Seeded synthetic market data for the benchmarks: prices on NYSE sessions, macro, fundamentals.

Built on `benchmarks.synthetic.synthetic_panel` (random-walk OHLCV), with the shapes and NULL
patterns of the bundled sample: some tickers have close-only stretches (no open/high/low) and
days without volume, a tenth of the tickers have annual statement figures, the macro series
are daily (FX, country risk, policy rate, Merval) or monthly (CPI) and one has a gap.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks.synthetic import synthetic_panel
from pipeline.analysis import calendar
from pipeline.analysis.frames import FUNDAMENTALS_SCHEMA, MACRO_SCHEMA, MarketData

FIRST_SESSION = dt.date(2015, 1, 2)
CLOSE_ONLY_SHARE = 0.05  # tickers with a stretch of rows lacking open/high/low
NO_VOLUME_SHARE = 0.02  # rows without volume
FUNDAMENTALS_SHARE = 0.10  # tickers with statement figures
EMBI_GAP = (0.40, 0.45)  # share of the sessions where the EMBI series is missing


def sessions(n_days: int) -> list[dt.date]:
    """The first `n_days` NYSE sessions from FIRST_SESSION."""
    end = FIRST_SESSION + dt.timedelta(days=n_days * 3 // 2 + 30)  # ~252 sessions a year
    days = calendar.trading_days(calendar.NEW_YORK, FIRST_SESSION, end)
    return days[:n_days]


def synthetic_prices(n_tickers: int, n_days: int, seed: int = 0) -> pl.DataFrame:
    """The synthetic panel on NYSE sessions, with close-only stretches and missing volumes."""
    panel = synthetic_panel(n_tickers, n_days, seed)
    days = pl.Series("date", sessions(n_days), dtype=pl.Date)
    rng = np.random.default_rng(seed + 1)
    position = np.tile(np.arange(n_days), n_tickers)
    close_only = np.repeat(rng.random(n_tickers) < CLOSE_ONLY_SHARE, n_days) & (
        position < n_days // 4
    )
    no_volume = rng.random(panel.height) < NO_VOLUME_SHARE
    range_columns = {
        name: pl.when(pl.Series(close_only)).then(None).otherwise(pl.col(name))
        for name in ("open", "high", "low")
    }
    return panel.with_columns(
        date=days.gather(position),
        volume=pl.when(pl.Series(no_volume)).then(None).otherwise(pl.col("volume")),
        **range_columns,
    )


def synthetic_macro(days: list[dt.date], seed: int = 0) -> pl.DataFrame:
    """The macro series the macro score reads, daily on `days` and CPI monthly."""
    rng = np.random.default_rng(seed + 2)
    n = len(days)

    def walk(start: float, vol: float) -> np.ndarray:
        return start * np.exp(np.cumsum(rng.normal(0.0005, vol, n)))

    official = walk(15.0, 0.004)
    daily = {
        "usdars_official": official,
        "usdars_ccl": official * (1.3 + 0.5 * np.abs(np.sin(np.arange(n) / 300))),
        "merval": walk(10_000.0, 0.02),
        "embi_spread_argentina_pct": np.abs(walk(6.0, 0.01)),
        "bcra_policy_rate_pct": np.clip(walk(30.0, 0.005), 5.0, 140.0),
    }
    in_gap = pl.int_range(pl.len()).is_between(EMBI_GAP[0] * n, EMBI_GAP[1] * n)
    frames = [
        pl.DataFrame({"date": days, "series": name, "value": values}, schema=MACRO_SCHEMA).filter(
            ~in_gap if name == "embi_spread_argentina_pct" else pl.lit(True)
        )
        for name, values in daily.items()
    ]
    months = pl.date_range(days[0], days[-1], "1mo", eager=True).dt.month_end()
    cpi = pl.DataFrame(
        {"date": months, "series": "cpi_mom_pct", "value": rng.gamma(2.0, 1.5, len(months))},
        schema=MACRO_SCHEMA,
    )
    return pl.concat([*frames, cpi])


def synthetic_fundamentals(tickers: list[str], days: list[dt.date], seed: int = 0) -> pl.DataFrame:
    """Annual statement figures (USD) for a share of `tickers`, filed 100 days after year end."""
    rng = np.random.default_rng(seed + 3)
    chosen = [t for t in tickers if rng.random() < FUNDAMENTALS_SHARE]
    years = range(days[0].year - 1, days[-1].year)
    rows = []
    for ticker in chosen:
        revenue = rng.uniform(1e8, 1e10)
        shares = rng.uniform(1e7, 1e9)
        for year in years:
            revenue *= rng.normal(1.05, 0.1)
            income = revenue * rng.normal(0.08, 0.06)
            end = dt.date(year, 12, 31)
            figures = {
                "revenue": revenue,
                "net_income": income,
                "eps_basic_diluted": income / shares,
                "total_equity": revenue * rng.uniform(0.5, 2.0),
                "total_borrowings": revenue * rng.uniform(0.1, 1.0),
                "dividends_paid": -abs(income) * rng.uniform(0.0, 0.5),
                "shares_outstanding": shares,
            }
            filed = end + dt.timedelta(days=100)
            rows += [(ticker, end, filed, m, v, "USD") for m, v in figures.items()]
    return pl.DataFrame(rows, schema=FUNDAMENTALS_SCHEMA, orient="row")


def synthetic_market(n_tickers: int, n_days: int, seed: int = 0) -> MarketData:
    """Prices, macro and fundamentals of `n_tickers` over `n_days` NYSE sessions (no news)."""
    prices = synthetic_prices(n_tickers, n_days, seed)
    days = sessions(n_days)
    tickers = prices.get_column("ticker").unique(maintain_order=True).to_list()
    return MarketData(
        source="files",
        prices=prices,
        fundamentals=synthetic_fundamentals(tickers, days, seed),
        macro=synthetic_macro(days, seed),
    )


def write_files_source(data: MarketData, folder: Path) -> Path:
    """Write `data` as the files source reads it (prices, macro, fundamentals Parquet)."""
    folder.mkdir(parents=True, exist_ok=True)
    data.prices.write_parquet(folder / "prices.parquet")
    data.macro.write_parquet(folder / "macro.parquet")
    data.fundamentals.write_parquet(folder / "fundamentals.parquet")
    return folder
