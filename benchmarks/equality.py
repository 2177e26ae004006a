"""Does a backfill store what the daily job stores? Differences, row by row.

    python -m benchmarks.equality                     # 60 random sample dates, seed 7
    python -m benchmarks.equality --dates 30 --seed 1

Runs `argenta backfill` once over the range covering the chosen dates and the daily job
(`jobs.run_daily`) on each date with an empty database, then compares every column of
`daily_recommendations` except id/created_at, every value of the four details' JSON and
every column of the date's `market_view` row.
Numbers are equal when they agree to 10 significant digits (the technical detail's
precision) or within 1e-9 (a difference of nearly equal numbers, such as MACD's histogram,
keeps only the inputs' rounding, about 1e-13, of precision); text must be identical.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from pipeline.analysis import calendar
from pipeline.analysis.frames import RECOMMENDATION_COLUMNS
from pipeline.analysis.market_view import MARKET_VIEW_COLUMNS
from pipeline.ops import jobs
from pipeline.settings import Settings
from store import reads
from store.connection import open_reader

REL_TOL = 1e-9  # one unit in the 10th significant digit, at most
ABS_TOL = 1e-9
KEY = ("analysis_date", "ticker")
CALL_COLUMNS = [c for c in RECOMMENDATION_COLUMNS if c not in KEY]  # all but id, created_at
DETAIL_COLUMNS = ("raw_data", "indicators", "score", "metadata")

Key = tuple[dt.date, str]
MARKET_VIEW = "(market view)"  # the "ticker" of a date's market view difference


def same(a: Any, b: Any) -> bool:
    """Equal values: numbers to 10 significant digits (or 1e-9), text and structure exactly."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def stored(
    database: Path, dates: Sequence[dt.date]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The calls, details and market view stored in `database` on `dates`."""
    with open_reader(database) as con:
        calls, details = reads.partitions_with_details(con, dates)
        view = reads.market_view(con, min(dates), max(dates))
    return calls, details, view.filter(pl.col("analysis_date").is_in(list(dates)))


def differences(
    daily: tuple[pl.DataFrame, ...], backfill: tuple[pl.DataFrame, ...]
) -> dict[Key, list[str]]:
    """Per (date, ticker) that differs: what differs, one line each.

    Each side is (calls, details) or (calls, details, market view); the market view's
    differences are keyed (date, MARKET_VIEW).
    """
    found: dict[Key, list[str]] = {}
    calls = [_by_key(frame, KEY) for frame in (daily[0], backfill[0])]
    for key in sorted(calls[0].keys() | calls[1].keys()):
        a, b = calls[0].get(key), calls[1].get(key)
        if a is None or b is None:
            where = "backfill" if a is None else "daily run"
            found.setdefault(key, []).append(f"only in the {where}")
            continue
        for column in CALL_COLUMNS:
            if not same(a[column], b[column]):
                found.setdefault(key, []).append(f"{column}: {a[column]!r} != {b[column]!r}")
    keys = (*KEY, "analysis_type")
    details = [_by_key(frame, keys) for frame in (daily[1], backfill[1])]
    for key in sorted(details[0].keys() | details[1].keys()):
        a, b = details[0].get(key), details[1].get(key)
        for column in DETAIL_COLUMNS:
            x, y = (None if r is None else _value(r[column]) for r in (a, b))
            if not same(x, y):
                found.setdefault(key[:2], []).append(f"{key[2]}.{column}: {_diff(x, y)}")
    if len(daily) > 2 and len(backfill) > 2:
        _market_differences(daily[2], backfill[2], found)
    return found


def _market_differences(daily: pl.DataFrame, backfill: pl.DataFrame, found: dict) -> None:
    """Add each date whose market view row differs (every stored column) to `found`."""
    rows = [_by_key(frame, ("analysis_date",)) for frame in (daily, backfill)]
    for key in sorted(rows[0].keys() | rows[1].keys()):
        a, b = rows[0].get(key), rows[1].get(key)
        if a is None or b is None:
            where = "backfill" if a is None else "daily run"
            found.setdefault((key[0], MARKET_VIEW), []).append(f"only in the {where}")
            continue
        for column in MARKET_VIEW_COLUMNS[1:]:
            if not same(a[column], b[column]):
                line = f"{column}: {a[column]!r} != {b[column]!r}"
                found.setdefault((key[0], MARKET_VIEW), []).append(line)


def _by_key(frame: pl.DataFrame, keys: Sequence[str]) -> dict[Any, dict[str, Any]]:
    return {tuple(row[k] for k in keys): row for row in frame.iter_rows(named=True)}


def _value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _diff(x: Any, y: Any) -> str:
    if isinstance(x, dict) and isinstance(y, dict):
        keys = sorted(k for k in x.keys() | y.keys() if not same(x.get(k), y.get(k)))
        return ", ".join(f"{k}={x.get(k)!r} vs {y.get(k)!r}" for k in keys)
    return f"{x!r} vs {y!r}"


def compare(
    options: jobs.SourceOptions, dates: Sequence[dt.date], folder: Path
) -> tuple[dict[Key, list[str]], int, int]:
    """Backfill once over `dates`' range, run the daily job on each date; the differences.

    Returns the differences, the number of calls and of market view rows the daily runs
    stored.
    """
    days = sorted(set(dates))
    backfill_db = folder / "backfill.duckdb"
    jobs.backfill(_settings(backfill_db), options, days[0], days[-1])
    parts: list[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]] = []
    for day in days:
        database = folder / f"daily-{day}.duckdb"
        jobs.run_daily(_settings(database), options, day)
        parts.append(stored(database, [day]))
    daily = tuple(pl.concat(frames) for frames in zip(*parts, strict=True))
    return differences(daily, stored(backfill_db, days)), daily[0].height, daily[2].height


def sample_dates(n: int, seed: int, first: dt.date, last: dt.date) -> list[dt.date]:
    """`n` random trading days in [first, last], half BYMA and half NYSE, plus 2020-06-01."""
    rng = random.Random(seed)
    byma = calendar.trading_days(calendar.BUENOS_AIRES, first, last)
    nyse = calendar.trading_days(calendar.NEW_YORK, first, last)
    chosen = rng.sample(byma, n // 2) + rng.sample(nyse, n - n // 2)
    return sorted({*chosen, dt.date(2020, 6, 1)})


def _settings(database: Path) -> Settings:
    return Settings.from_env({"DATABASE_URL": str(database)}, env_file=None)


def main(argv: Sequence[str] | None = None) -> None:
    """Print how many sampled (date, ticker) rows differ between backfill and daily runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dates", type=int, default=60, help="random sample dates")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    dates = sample_dates(args.dates, args.seed, dt.date(2010, 1, 4), dt.date(2024, 3, 8))
    with tempfile.TemporaryDirectory() as folder:
        found, rows, views = compare(jobs.SourceOptions("sample"), dates, Path(folder))
    for (day, ticker), what in sorted(found.items()):
        print(f"{day} {ticker}: {'; '.join(what)}")
    days = len({day for day, _ in found})
    compared = f"{rows} rows and {views} market views"
    print(f"{len(found)} of {compared} differ, on {days} of {len(dates)} dates")


if __name__ == "__main__":
    main()
