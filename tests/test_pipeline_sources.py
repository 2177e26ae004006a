"""Sources: the bundled sample, a folder of files, and Yahoo Finance replayed from recordings."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

from pipeline.analysis import calendar
from pipeline.analysis.frames import (
    FUNDAMENTALS_SCHEMA,
    MACRO_SCHEMA,
    NEWS_SCHEMA,
    PRICES_SCHEMA,
    MarketData,
)
from pipeline.sources import SourceError, build_sample, load_market_data, sample, yahoo
from pipeline.sources.validate import MIN_BARS
from tests.files_support import (
    FILE_END,
    FILE_START,
    GGAL_LINE,
    SAMPLE_PRICES,
    YAHOO_HEADER,
    csv_lines,
    sample_bars,
    set_cell,
    write,
)

D = dt.date
YAHOO = Path(__file__).parent / "fixtures" / "yahoo"


# --- the bundled sample ---------------------------------------------------------------------


def test_sample_loads_from_the_project_with_every_ticker_and_series() -> None:
    data = load_market_data("sample")
    assert Path(sample.SAMPLE_DIR).is_relative_to(Path(__file__).parents[1])
    coverage = pl.read_csv(sample.SAMPLE_DIR / "prices_ar_coverage.csv")
    tickers = set(coverage.filter(pl.col("ticker") != "^MERV")["ticker"])
    assert set(data.prices["ticker"]) == tickers and "GGAL.BA" in tickers and "YPF" in tickers
    assert data.prices.schema == pl.Schema(PRICES_SCHEMA)
    documented = {"usdars_official", "usdars_ccl", "embi_spread_argentina_pct", "cpi_mom_pct"}
    assert documented | {"merval"} <= set(data.macro["series"])
    assert data.problems == [] and data.failed_tickers == {}
    assert data.news.is_empty() and data.news.schema == pl.Schema(NEWS_SCHEMA)


def test_sample_merval_closes_become_macro_not_a_ticker() -> None:
    data = load_market_data("sample", start=D(2024, 3, 1), end=D(2024, 3, 7))
    merval = data.macro.filter(pl.col("series") == "merval")
    # Macro keeps its whole history up to the end: a window over it never depends on `start`.
    source = SAMPLE_PRICES.filter(pl.col("ticker") == "^MERV", pl.col("date") <= D(2024, 3, 7))
    assert merval.select("date", "value").rows() == source.select("date", "close").rows()
    assert "^MERV" not in set(data.prices["ticker"])
    assert data.prices["date"].min() == D(2024, 3, 1)


def test_the_warm_up_is_counted_in_bars_however_far_back_a_gap_pushes_them(tmp_path) -> None:
    days = calendar.trading_days(calendar.NEW_YORK, D(2020, 1, 2), D(2020, 3, 31))
    days = days[:10] + days[30:]  # 20 sessions missing, then the rest
    price = {c: 10.0 for c in ("open", "high", "low", "close")}
    bars = pl.DataFrame({"date": days, "ticker": "GAP", **price, "volume": 1000.0})
    bars.write_parquet(tmp_path / "prices.parquet")
    data = load_market_data("files", data_dir=tmp_path, start=days[15], warmup_bars=12)
    assert data.prices["date"].to_list() == days[3:]  # 12 bars before start, then the rest


def test_bars_dropped_in_the_warm_up_are_made_up_from_further_back(tmp_path) -> None:
    # The window is chosen before validation: bad bars inside it must not shorten the warm-up.
    days = calendar.trading_days(calendar.NEW_YORK, D(2020, 1, 2), D(2020, 6, 30))
    price = {c: 10.0 for c in ("open", "high", "low", "close")}
    good = pl.DataFrame({"date": days, "ticker": "GOOD", **price, "volume": 1000.0})
    bad = good.with_columns(
        pl.lit("BAD").alias("ticker"),
        pl.when(pl.int_range(pl.len()).is_in([95, 97]))  # two bad bars just before `start`
        .then(-1.0)
        .otherwise(pl.col("close"))
        .alias("close"),
    )
    pl.concat([good, bad]).write_parquet(tmp_path / "prices.parquet")
    data = load_market_data("files", data_dir=tmp_path, start=days[100], warmup_bars=20)
    kept = {t: g["date"].to_list() for (t,), g in data.prices.group_by("ticker")}
    assert kept["GOOD"] == days[80:]
    assert kept["BAD"] == [d for i, d in enumerate(days[78:], 78) if i not in (95, 97)]
    assert len([p for p in data.problems if p.ticker == "BAD"]) == 2  # both named, with rows


def test_a_daily_load_reads_only_its_window_of_a_long_file(tmp_path) -> None:
    days = calendar.trading_days(calendar.NEW_YORK, D(2015, 1, 2), D(2020, 6, 30))
    price = {c: 10.0 for c in ("open", "high", "low", "close")}
    bars = pl.DataFrame({"date": days, "ticker": "OLD", **price, "volume": 1000.0})
    old_bad = bars.head(1).with_columns(pl.lit(-5.0).alias("close"))  # a bad bar from 2015
    future = bars.tail(1).with_columns(pl.lit(D(2924, 3, 8)).alias("date"))  # cannot be real
    pl.concat([bars, old_bad, future]).write_parquet(tmp_path / "prices.parquet")
    data = load_market_data(
        "files", data_dir=tmp_path, start=days[-1], end=days[-1], warmup_bars=60
    )
    assert data.prices["date"].to_list() == days[-61:]
    assert [p.message for p in data.problems] == [
        "2924-03-08 is after today (" + p.message.split("(", 1)[1] for p in data.problems
    ]  # the far-future row is still named; the bad 2015 bar lies outside the window


def test_sample_fundamentals_are_ypf_filings_in_ars_dated_by_filing() -> None:
    fundamentals = load_market_data("sample").fundamentals
    assert fundamentals.schema == pl.Schema(FUNDAMENTALS_SCHEMA)
    assert set(fundamentals["ticker"]) == {"YPF"}
    money = fundamentals.filter(pl.col("metric").is_in(["revenue", "net_income", "total_equity"]))
    assert money.height >= 18 and set(money["unit"]) == {"ARS"}
    assert (fundamentals["filed"] > fundamentals["period_end"]).all()


def test_sample_keeps_the_requested_tickers_and_dates() -> None:
    data = load_market_data(
        "sample", tickers=["ggal", " YPF", "NOPE"], start=D(2024, 1, 2), end=D(2024, 3, 8)
    )
    assert set(data.prices["ticker"]) == {"GGAL", "YPF"}
    assert data.prices["date"].min() == D(2024, 1, 2) and data.prices["date"].max() == D(2024, 3, 8)
    assert data.failed_tickers == {"NOPE": "not in prices.parquet"}
    assert data.fundamentals.filter(pl.col("filed") > D(2024, 3, 8)).is_empty()


def test_build_sample_drops_rejected_rows_and_lists_them(tmp_path: Path) -> None:
    shared, out = tmp_path / "shared", tmp_path / "sample_data"
    lines = csv_lines(sample_bars(), header=list(PRICES_SCHEMA))
    lines.append(set_cell(lines[GGAL_LINE - 1], "Date", "2023-06-10"))  # a Saturday
    write(shared, "prices_ar.csv", lines)
    write(shared, "macro_ar.csv", ["date,series,value", "2023-06-30,usdars_official,256.7"])
    for name in build_sample.COPIED:
        (shared / name).write_text("copied as is\n")
    build_sample.build(shared, out)
    assert pl.read_parquet(out / "prices.parquet").equals(sample_bars())
    dropped = pl.read_csv(out / "dropped_rows.csv")
    assert dropped.rows() == [
        (
            "prices_ar.csv",
            "GGAL",
            len(lines),
            "2023-06-10 is not a trading day on XNYS; row dropped",
        )
    ]
    assert (out / "SOURCES.md").read_text() == "copied as is\n"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "bloomberg"}, "unknown source 'bloomberg': use one of sample, files, yfinance"),
        ({"source": "files"}, "the files source needs a folder: set ARGENTA_DATA_DIR"),
    ],
)
def test_unusable_source_arguments_raise_one_line(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SourceError) as raised:
        load_market_data(**kwargs)
    assert str(raised.value) == message


# --- a folder of files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ["date", "ticker", "open", "high", "low", "close", "adj_close", "volume"],
        YAHOO_HEADER,
        ["DATE", "Ticker", "OPEN", "High", "low", "Close", "Adj_Close", "VOLUME"],
    ],
    ids=["canonical", "yahoo-export", "mixed-case"],
)
def test_files_accept_yahoo_and_canonical_headers(tmp_path: Path, header: list[str]) -> None:
    bars = sample_bars()
    data = load_market_data(
        "files", data_dir=write(tmp_path, "prices.csv", csv_lines(bars, header))
    )
    assert data.problems == [] and data.failed_tickers == {}
    assert data.prices.equals(bars)


def test_files_parquet_prices_load_like_csv_with_rows_counted_from_one(tmp_path: Path) -> None:
    bars = sample_bars()
    bad = bars.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(-1.0).otherwise(pl.col("low")).alias("low")
    )
    bad.rename(dict(zip(bars.columns, YAHOO_HEADER, strict=True))).write_parquet(
        tmp_path / "prices.parquet"
    )
    data = load_market_data("files", data_dir=tmp_path)
    assert [str(p) for p in data.problems] == [
        "file=prices.parquet, ticker=GGAL, row=4: low is not positive (-1.0); row dropped"
    ]
    assert data.prices.equals(bars.filter(pl.int_range(pl.len()) != 3))


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (
            lambda lines: set_cell(lines[GGAL_LINE - 1], "Close", "abc"),
            GGAL_LINE,
            "close is not a number: 'abc'; row dropped",
        ),
        (
            lambda lines: set_cell(lines[GGAL_LINE - 1], "Date", "2023/06/06"),
            GGAL_LINE,
            "date is not a date (YYYY-MM-DD or DD/MM/YYYY): '2023/06/06'; row dropped",
        ),
        (
            lambda lines: set_cell(lines[GGAL_LINE - 1], "Low", "-1"),
            GGAL_LINE,
            "low is not positive (-1.0); row dropped",
        ),
        (
            lambda lines: set_cell(set_cell(lines[GGAL_LINE - 1], "High", "9.5"), "Low", "10.0"),
            GGAL_LINE,
            "high 9.5 is below low 10.0; row dropped",
        ),
    ],
    ids=["text-in-number", "bad-date", "non-positive", "high-below-low"],
)
def test_files_bad_row_is_dropped_and_named(
    tmp_path: Path, edit: Callable[[list[str]], str], line: int, message: str
) -> None:
    bars = sample_bars()
    lines = csv_lines(bars)
    lines[line - 1] = edit(lines)
    data = load_market_data("files", data_dir=write(tmp_path, "prices.csv", lines))
    [problem] = data.problems
    assert (problem.file, problem.ticker, problem.row, problem.message) == (
        "prices.csv",
        "GGAL",
        line,
        message,
    )
    assert str(problem) == f"file=prices.csv, ticker=GGAL, row={line}: {message}"
    ggal = bars.filter(pl.col("ticker") == "GGAL")
    assert data.prices.filter(pl.col("ticker") == "GGAL").height == ggal.height - 1
    assert data.prices.filter(pl.col("ticker") == "YPF").equals(
        bars.filter(pl.col("ticker") == "YPF")
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (lambda line: line, "repeats the bar of 2023-06-06; row dropped"),
        (
            lambda line: set_cell(line, "Date", "2023-06-10"),
            "2023-06-10 is not a trading day on XNYS; row dropped",
        ),
        (
            lambda line: set_cell(line, "Date", "2023-07-04"),
            "2023-07-04 is not a trading day on XNYS; row dropped",
        ),
    ],
    ids=["duplicate", "weekend", "nyse-holiday"],
)
def test_files_extra_row_is_dropped_and_named(
    tmp_path: Path, extra: Callable[[str], str], message: str
) -> None:
    bars = sample_bars()
    lines = csv_lines(bars)
    lines.append(extra(lines[GGAL_LINE - 1]))
    data = load_market_data("files", data_dir=write(tmp_path, "prices.csv", lines))
    [problem] = data.problems
    assert (problem.file, problem.ticker, problem.row, problem.message) == (
        "prices.csv",
        "GGAL",
        len(lines),
        message,
    )
    assert data.prices.equals(bars)


def test_files_missing_column_is_fatal_and_names_file_column_and_accepted_names(
    tmp_path: Path,
) -> None:
    bars = sample_bars().drop("close")
    header = [h for h in YAHOO_HEADER if h != "Close"]
    with pytest.raises(SourceError) as raised:
        load_market_data("files", data_dir=write(tmp_path, "prices.csv", csv_lines(bars, header)))
    message = str(raised.value)
    assert message.startswith("prices.csv is missing column(s) close; accepted headers")
    assert "ticker|symbol" in message and "adj_close (optional)" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda folder: folder / "absent", "does not exist: set ARGENTA_DATA_DIR (or --data-dir)"),
        (lambda folder: folder, ": add prices.csv or prices.parquet with columns date|datetime"),
    ],
    ids=["no-folder", "no-prices-file"],
)
def test_files_without_prices_raise(
    tmp_path: Path, prepare: Callable[[Path], Path], message: str
) -> None:
    with pytest.raises(SourceError) as raised:
        load_market_data("files", data_dir=prepare(tmp_path))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_files_without_adj_close_use_close(tmp_path: Path) -> None:
    bars = sample_bars().drop("adj_close")
    header = [h for h in YAHOO_HEADER if h != "Adj Close"]
    data = load_market_data(
        "files", data_dir=write(tmp_path, "prices.csv", csv_lines(bars, header))
    )
    assert data.prices["adj_close"].to_list() == bars["close"].to_list()


def test_files_dates_with_time_zones_keep_their_local_date(tmp_path: Path) -> None:
    bars = sample_bars(["YPF"])
    lines = csv_lines(bars)
    lines[1] = set_cell(lines[1], "Date", "2023-06-01 00:00:00-04:00")
    lines[2] = set_cell(lines[2], "Date", "2023-06-02T00:00:00Z")
    data = load_market_data("files", data_dir=write(tmp_path, "prices.csv", lines))
    assert data.problems == [] and data.prices["date"].head(2).to_list() == [
        D(2023, 6, 1),
        D(2023, 6, 2),
    ]


def test_files_short_history_is_reported_but_kept(tmp_path: Path) -> None:
    bars = pl.concat([sample_bars(), sample_bars(["VIST"]).head(5)])
    data = load_market_data("files", data_dir=write(tmp_path, "prices.csv", csv_lines(bars)))
    [problem] = data.problems
    assert problem.ticker == "VIST"
    assert problem.message == (
        f"only 5 bars from 2023-06-01 to 2023-06-07; a call needs at least {MIN_BARS}"
    )
    assert data.prices.filter(pl.col("ticker") == "VIST").height == 5


def test_files_many_bad_rows_are_counted_after_the_first_ten(tmp_path: Path) -> None:
    bars = sample_bars()
    lines = csv_lines(bars)
    for i in range(1, 26):  # GGAL's first 25 bars
        lines[i] = set_cell(lines[i], "Volume", "n/d")
    data = load_market_data("files", data_dir=write(tmp_path, "prices.csv", lines))
    assert [p.row for p in data.problems[:10]] == list(range(2, 12))
    assert str(data.problems[10]) == "file=prices.csv, ticker=GGAL: 15 more bad row(s) dropped"
    assert len(data.problems) == 11
    assert data.prices.filter(pl.col("ticker") == "YPF").height == sample_bars(["YPF"]).height


def test_files_optional_tables_load_and_one_bad_table_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "prices.csv", csv_lines(pl.concat([sample_bars(), merval_bars()])))
    write(
        tmp_path,
        "fundamentals.csv",
        [
            "Ticker,Metric,Value,Filed,Period_End,Unit",
            "GGAL,trailing_pe,7.5,2023-08-20,2023-06-30,ratio",
            "GGAL,trailing_pe,8.1,2024-02-20,2023-12-31,ratio",  # filed after the end
        ],
    )
    write(tmp_path, "macro.csv", ["date,series,value", "2023-06-30,usdars_official,256.7"])
    write(tmp_path, "news.csv", ["date,ticker,title", "2023-06-05T14:00:00-03:00,GGAL,Hola"])
    data = load_market_data("files", data_dir=tmp_path, end=FILE_END)
    assert data.fundamentals.select("ticker", "filed", "value").rows() == [
        ("GGAL", D(2023, 8, 20), 7.5)
    ]
    assert data.fundamentals.schema == pl.Schema(FUNDAMENTALS_SCHEMA)
    assert set(data.macro["series"]) == {"usdars_official", "merval"}
    assert data.macro.schema == pl.Schema(MACRO_SCHEMA)
    assert data.news.rows() == [(D(2023, 6, 5), "GGAL", "Hola", None)]
    assert "^MERV" not in set(data.prices["ticker"]) and data.problems == []

    write(tmp_path, "news.csv", ["date,ticker,source", "2023-06-05,GGAL,Reuters"])
    data = load_market_data("files", data_dir=tmp_path, end=FILE_END)
    [problem] = data.problems
    assert problem.fatal and problem.file == "news.csv"
    assert problem.message.startswith("news.csv is missing column(s) headline;")
    assert data.news.is_empty() and set(data.prices["ticker"]) == {"GGAL", "YPF"}


def merval_bars() -> pl.DataFrame:
    return SAMPLE_PRICES.filter(
        pl.col("ticker") == "^MERV", pl.col("date").is_between(FILE_START, FILE_END)
    )


# --- Yahoo Finance, replayed ----------------------------------------------------------------

YAHOO_START, YAHOO_END = D(2017, 5, 15), D(2017, 8, 3)
SNAPSHOT_DAY = D(2017, 8, 4)


def recorded_download() -> pd.DataFrame:
    return pd.read_csv(YAHOO / "download.csv", header=[0, 1], index_col=0, parse_dates=True)


class RecordedYahoo:
    """A YahooClient answering from tests/fixtures/yahoo, with scripted failures."""

    def __init__(self, empty_downloads: int = 0, hang: set[str] | None = None) -> None:
        self.frame = recorded_download()
        self.empty_downloads = empty_downloads
        self.hang = hang or set()
        self.release = threading.Event()
        self.calls: list[tuple[str, Any]] = []

    def _maybe_hang(self, call: str) -> None:
        if call in self.hang:
            self.release.wait(10)

    def download(self, tickers: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        self.calls.append(("download", list(tickers)))
        self._maybe_hang("download")
        if self.empty_downloads:
            self.empty_downloads -= 1
            return self.frame.iloc[0:0]  # what yfinance returns with the network down
        known = [t for t in self.frame.columns.get_level_values(0).unique() if t in tickers]
        return self.frame[known]

    def info(self, ticker: str) -> dict[str, Any]:
        self.calls.append(("info", ticker))
        self._maybe_hang("info")
        path = YAHOO / f"info_{ticker}.json"
        return json.loads(path.read_text()) if path.exists() else {"trailingPegRatio": None}

    def news(self, ticker: str) -> list[dict[str, Any]]:
        self.calls.append(("news", ticker))
        path = YAHOO / f"news_{ticker}.json"
        return json.loads(path.read_text()) if path.exists() else []


@pytest.fixture
def sleeps() -> list[float]:
    return []


def load_yahoo(
    client: RecordedYahoo, sleeps: list[float], tickers: Sequence[str] = ("GGAL", "YPF"), **kw: Any
) -> MarketData:
    return yahoo.load(
        tickers,
        YAHOO_START,
        YAHOO_END,
        client=client,
        sleep=sleeps.append,
        today=SNAPSHOT_DAY,
        **kw,
    )


@pytest.fixture
def recorded() -> RecordedYahoo:
    return RecordedYahoo()


def test_recorded_download_has_yfinance_group_by_ticker_layout() -> None:
    frame = recorded_download()
    assert list(frame.columns.names) == ["Ticker", "Price"]
    assert list(frame["GGAL"].columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert frame["DESP"].isna().all().all()  # a delisted ticker: NaN throughout
    assert frame["GGAL.BA"].loc["2017-07-04"].notna().all()  # union of the two calendars
    assert frame["GGAL"].loc["2017-07-04"].isna().all()


def test_yahoo_prices_are_the_requested_tickers_on_their_sessions(
    recorded: RecordedYahoo, sleeps: list[float]
) -> None:
    data = load_yahoo(recorded, sleeps)
    frame = recorded_download()
    assert data.source == "yfinance" and data.failed_tickers == {} and sleeps == []
    assert set(data.prices["ticker"]) == {"GGAL", "YPF"}  # the CCL helpers are not analysed
    ggal = data.prices.filter(pl.col("ticker") == "GGAL")
    expected = frame["GGAL"].dropna()
    assert ggal["date"].to_list() == [d.date() for d in expected.index]
    assert ggal["close"].to_list() == pytest.approx(expected["Close"].to_list())
    assert ggal["adj_close"].to_list() == pytest.approx(expected["Adj Close"].to_list())
    assert data.prices.schema == pl.Schema(PRICES_SCHEMA)


def test_yahoo_macro_has_merval_official_and_implied_ccl(
    recorded: RecordedYahoo, sleeps: list[float]
) -> None:
    macro = load_yahoo(recorded, sleeps).macro
    frame = recorded_download()
    merval = macro.filter(pl.col("series") == "merval")
    assert merval["value"].to_list() == pytest.approx(frame["^MERV"]["Close"].dropna().to_list())
    official = macro.filter(pl.col("series") == "usdars_official")
    assert official.height == frame["ARS=X"]["Close"].notna().sum()
    # The rate implied by YPFD.BA/YPF and GGAL.BA×10/GGAL tracks the published ADR-implied rate.
    published = pl.read_parquet(sample.SAMPLE_DIR / "macro.parquet").filter(
        pl.col("series") == "usdars_adr_implied"
    )
    ccl = macro.filter(pl.col("series") == "usdars_ccl").join(published, on="date")
    assert ccl.height > 40
    assert ((ccl["value"] / ccl["value_right"] - 1).abs() < 0.03).all()


def test_yahoo_info_becomes_fundamentals_filed_on_the_snapshot_day(
    recorded: RecordedYahoo, sleeps: list[float]
) -> None:
    fundamentals = load_yahoo(recorded, sleeps).fundamentals
    info = json.loads((YAHOO / "info_GGAL.json").read_text())
    assert fundamentals.schema == pl.Schema(FUNDAMENTALS_SCHEMA)
    assert set(fundamentals["filed"]) == {SNAPSHOT_DAY}
    values = dict(fundamentals.select("metric", "value").rows())
    assert values["trailing_pe"] == info["trailingPE"]
    assert values["return_on_equity"] == info["returnOnEquity"]
    assert values["debt_to_equity"] == pytest.approx(info["debtToEquity"] / 100)  # was percent
    assert values["dividend_yield"] == pytest.approx(info["dividendYield"] / 100)  # was percent
    assert "forward_pe" not in values  # Yahoo sent "Infinity"
    assert fundamentals.filter(pl.col("metric") == "market_cap")["unit"].item() == "USD"
    assert set(fundamentals["period_end"]) == {D(2017, 6, 30)}  # mostRecentQuarter


def test_yahoo_news_items_become_headlines(recorded: RecordedYahoo, sleeps: list[float]) -> None:
    news = load_yahoo(recorded, sleeps).news
    assert news.schema == pl.Schema(NEWS_SCHEMA)
    assert news.rows() == [
        (D(2017, 8, 2), "GGAL", "Galicia shares climb as Argentine banks rally", "Reuters"),
        (
            D(2017, 7, 28),
            "GGAL",
            "Grupo Financiero Galicia to report second-quarter results",
            "Business Wire",
        ),
    ]


def test_yahoo_empty_ticker_is_retried_then_failed_while_others_flow(
    recorded: RecordedYahoo, sleeps: list[float]
) -> None:
    data = load_yahoo(recorded, sleeps, tickers=("GGAL", "DESP"), max_retries=3)
    assert set(data.prices["ticker"]) == {"GGAL"}
    assert data.failed_tickers == {
        "DESP": "no prices from Yahoo (delisted, misspelled or offline) after 4 attempts"
    }
    downloads = [args for call, args in recorded.calls if call == "download"]
    assert downloads[1:] == [["DESP"]] * 3  # only the empty ticker is asked again
    assert sleeps == [2.0, 4.0, 8.0]
    assert ("info", "DESP") not in recorded.calls


def test_yahoo_network_down_then_back_recovers_after_backoff(sleeps: list[float]) -> None:
    client = RecordedYahoo(empty_downloads=2)
    data = load_yahoo(client, sleeps, max_retries=3)
    assert set(data.prices["ticker"]) == {"GGAL", "YPF"} and data.failed_tickers == {}
    assert sleeps == [2.0, 4.0]


def load_hanging(call: str, sleeps: list[float], max_retries: int):
    """Load from a recorded Yahoo whose `call` never answers, with a 0.05 s timeout."""
    client = RecordedYahoo(hang={call})
    try:
        return client, load_yahoo(client, sleeps, max_retries=max_retries, timeout_s=0.05)
    finally:
        client.release.set()


def test_yahoo_hanging_download_is_stopped_by_the_timeout(sleeps: list[float]) -> None:
    client, data = load_hanging("download", sleeps, max_retries=2)
    reason = "download failed: no answer from Yahoo within 0.05 s after 3 attempts"
    assert data.failed_tickers == {"GGAL": reason, "YPF": reason}
    assert data.prices.is_empty() and sleeps == [2.0, 4.0]
    assert len([c for c in client.calls if c[0] == "download"]) == 3
    assert any(p.message.startswith("macro series merval unavailable") for p in data.problems)


def test_yahoo_hanging_info_stops_the_snapshots_but_keeps_prices(sleeps: list[float]) -> None:
    client, data = load_hanging("info", sleeps, max_retries=1)
    assert set(data.prices["ticker"]) == {"GGAL", "YPF"}
    assert [c for c in client.calls if c[0] == "info"] == [("info", "GGAL")] * 2
    [problem] = data.problems
    assert problem.ticker == "GGAL" and "no answer from Yahoo within 0.05 s" in problem.message
    assert data.fundamentals.is_empty() and data.news.is_empty()


def test_yfinance_client_moves_the_cache_to_the_given_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yfinance

    moved: list[str] = []
    monkeypatch.setattr(yfinance, "set_tz_cache_location", moved.append)
    yahoo.YFinanceClient(tmp_path / "yf-cache")
    assert moved == [str(tmp_path / "yf-cache")] and (tmp_path / "yf-cache").is_dir()


def test_a_late_window_does_not_make_long_histories_look_short() -> None:
    data = load_market_data("sample", start=dt.date(2022, 6, 7), end=dt.date(2024, 3, 8))
    assert [str(p) for p in data.problems] == []  # e.g. GGAL.BA ends 2022-08 after 12 years


def test_one_bar_of_history_is_worded_in_the_singular() -> None:
    from pipeline.sources.validate import short_history

    prices = pl.DataFrame({"ticker": ["VIST"], "date": [D(2024, 3, 8)]})
    [problem] = short_history(prices, min_bars=50)
    assert problem.message == "only 1 bar, on 2024-03-08; a call needs at least 50"
