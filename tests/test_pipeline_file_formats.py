"""Files users have: close-only prices and Argentine Excel CSV exports, detected automatically."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.analysis import analyse
from pipeline.settings import Settings
from pipeline.sources import load_market_data
from tests.files_support import FILE_END, sample_bars

# A call ranks a stock within its listing group, which needs at least five stocks.
FIVE = ("GGAL", "PAM", "TEO", "TGS", "YPF")

OHLV = ["open", "high", "low", "volume"]


@pytest.mark.parametrize(
    "columns", [["date", "ticker", "close"], ["date", "ticker", "close", "adj_close"]]
)
def test_close_only_prices_load_and_get_a_call(tmp_path: Path, columns: list[str]):
    bars = sample_bars(FIVE)
    bars.select(columns).write_csv(tmp_path / "prices.csv")
    data = load_market_data("files", data_dir=tmp_path)
    assert data.problems == [] and data.failed_tickers == {}
    assert data.prices.select(OHLV).null_count().row(0) == (bars.height,) * 4
    assert data.prices.select("date", "ticker", "close").equals(
        bars.select("date", "ticker", "close")
    )
    settings = Settings.from_env({}, env_file=None)
    result = analyse(data, settings, [FILE_END])
    assert sorted(result.recommendations["ticker"]) == list(FIVE)
    technical = result.details.filter(pl.col("analysis_type") == "technical")
    for metadata in technical["metadata"]:  # what is missing is said, not invented
        assert "no volume data: no volume votes" in metadata
        assert "high/low missing: no ATR" in metadata


# An extra column with accents: in Windows-1252 it is not valid UTF-8.
EXCEL_HEADER = "Date;Ticker;Open;High;Low;Close;Volume;Descripción"


def excel_export(bars: pl.DataFrame, encoding: str = "utf-8-sig") -> bytes:
    """The bars as Excel in Spanish (Argentina) saves a CSV: `;`, decimal comma, dd/mm/yyyy."""
    lines = [EXCEL_HEADER]
    for row in bars.iter_rows(named=True):
        numbers = [f"{row[c]:.2f}".replace(".", ",") for c in ("open", "high", "low", "close")]
        volume = f"{int(row['volume']):,}".replace(",", ".")  # thousands grouped with dots
        cells = [f"{row['date']:%d/%m/%Y}", row["ticker"], *numbers, volume, "Acción líder"]
        lines.append(";".join(cells))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "utf-8", "cp1252"], ids=["utf8-bom", "utf8", "windows-1252"]
)
def test_an_argentine_excel_export_reads_like_the_canonical_file(tmp_path: Path, encoding: str):
    bars = sample_bars().filter(pl.col("volume").is_not_null())
    (tmp_path / "prices.csv").write_bytes(excel_export(bars, encoding))
    data = load_market_data("files", data_dir=tmp_path)
    assert data.problems == [] and data.failed_tickers == {}
    expected = bars.with_columns(
        pl.col("open", "high", "low", "close").round(2), pl.col("volume").cast(pl.Int64)
    ).with_columns(pl.col("close").alias("adj_close"))
    got = data.prices.with_columns(pl.col("volume").cast(pl.Int64))
    assert got.select(expected.columns).equals(expected)


def test_a_bad_cell_in_an_excel_export_is_named_with_its_line(tmp_path: Path):
    bars = sample_bars().filter(pl.col("volume").is_not_null()).head(60)
    lines = excel_export(bars).decode("utf-8-sig").splitlines()
    lines[3] = lines[3].replace(lines[3].split(";")[5], "n/d")
    (tmp_path / "prices.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    [problem] = load_market_data("files", data_dir=tmp_path).problems
    assert (problem.row, problem.message) == (4, "close is not a number: 'n/d'; row dropped")
