"""One-off: rebuild pipeline/sources/sample_data from the shared data folder.

    .venv/bin/python -m pipeline.sources.build_sample ../shared/data

Prices and macro go through the same checks as every source (`validate`), so the bundled copy
loads without problems; each row dropped on the way is listed in sample_data/dropped_rows.csv
(row = line in the shared CSV file). fundamentals.csv, SOURCES.md and the coverage table are
copied as they are. The product never needs the shared folder at run time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import polars as pl

from pipeline.analysis.frames import DataProblem
from pipeline.sources.files import first_row, read_table
from pipeline.sources.sample import SAMPLE_DIR
from pipeline.sources.validate import MACRO, PRICES, ROW, check_prices, conform

COPIED = ("fundamentals.csv", "SOURCES.md", "prices_ar_coverage.csv")
ZSTD_LEVEL = 19  # small files in the repository; reading speed is the same
# Observations judged wrong and left out (series, first, last, why). Between 2016 and 2019
# Argentina had no capital controls: the official, blue and ADR-implied rates agree within
# ~3 %, yet boletin's CCL and MEP run 1.1-2.0x the official rate (dates look shifted).
SUSPECT_MACRO = (
    ("usdars_ccl", "2016-01-01", "2019-12-31", "implausible: 1.1-2.0x official in 2016-2019"),
    ("usdars_mep", "2016-01-01", "2019-12-31", "implausible: ~2x official in 2019"),
)


def build(shared: Path, out: Path = SAMPLE_DIR) -> list[DataProblem]:
    """Write prices.parquet, macro.parquet and the copied files into `out`; the rows dropped."""
    prices_csv, macro_csv = shared / "prices_ar.csv", shared / "macro_ar.csv"
    every = sys.maxsize  # list every dropped row, not only the first few of each ticker
    prices, parse_problems = conform(
        read_table(prices_csv), PRICES, prices_csv.name, first_row(prices_csv), every
    )
    prices, row_problems = check_prices(prices, prices_csv.name, every)
    macro, macro_problems = conform(
        read_table(macro_csv), MACRO, macro_csv.name, first_row(macro_csv), every
    )
    macro, suspect_problems = drop_suspect(macro, macro_csv.name)
    out.mkdir(parents=True, exist_ok=True)
    prices.drop(ROW).write_parquet(out / "prices.parquet", compression_level=ZSTD_LEVEL)
    macro.drop(ROW).write_parquet(out / "macro.parquet", compression_level=ZSTD_LEVEL)
    for name in COPIED:
        shutil.copyfile(shared / name, out / name)
    problems = parse_problems + row_problems + macro_problems + suspect_problems
    pl.DataFrame(
        [(p.file, p.ticker, p.row, p.message) for p in problems],
        schema={"file": pl.String, "ticker": pl.String, "row": pl.Int64, "problem": pl.String},
        orient="row",
    ).write_csv(out / "dropped_rows.csv")
    return problems


def drop_suspect(macro: pl.DataFrame, file: str) -> tuple[pl.DataFrame, list[DataProblem]]:
    """Remove the SUSPECT_MACRO observations, one problem per removed row."""
    problems: list[DataProblem] = []
    for series, first, last, why in SUSPECT_MACRO:
        hit = (pl.col("series") == series) & pl.col("date").is_between(
            pl.lit(first).str.to_date(), pl.lit(last).str.to_date()
        )
        problems += [
            DataProblem(f"{series} {day}: {why}", file=file, row=row)
            for day, row in macro.filter(hit).select("date", ROW).iter_rows()
        ]
        macro = macro.filter(~hit)
    return macro, problems


def main(argv: list[str] | None = None) -> int:
    """Command line: rebuild the sample from the folder given (default ../shared/data)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", nargs="?", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    problems = build(args.shared)
    print(f"sample_data rebuilt from {args.shared}; {len(problems)} rows dropped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
