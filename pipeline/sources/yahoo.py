"""The Yahoo Finance source (production): prices, a fundamentals snapshot, news, Merval and FX.

yfinance returns an empty frame instead of raising when a ticker fails or the network is down,
and can hang for minutes. So every call runs in a worker thread bounded by `timeout_s`, failures
and empty answers are retried with exponential backoff, and a ticker still empty after the
retries lands in `failed_tickers` while the others flow on. The network sits behind a small
client object (`YFinanceClient`) that tests replace with recorded frames.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pandas as pd
import polars as pl

from pipeline.analysis.frames import FUNDAMENTALS_SCHEMA, DataProblem, MarketData, empty
from pipeline.sources.validate import NEWS, PRICES, ROW, conform
from pipeline.sources.window import price_data

# The main Argentine ADRs (NYSE/Nasdaq) and the BYMA leading panel (S&P Merval members).
DEFAULT_UNIVERSE = (
    "BBAR", "BMA", "CEPU", "CRESY", "EDN", "GGAL", "GLOB", "IRS", "LOMA", "MELI", "PAM",
    "SUPV", "TEO", "TGS", "VIST", "YPF",
    "ALUA.BA", "BBAR.BA", "BMA.BA", "BYMA.BA", "CEPU.BA", "COME.BA", "CRES.BA", "CVH.BA",
    "EDN.BA", "GGAL.BA", "IRSA.BA", "LOMA.BA", "METR.BA", "PAMP.BA", "SUPV.BA", "TECO2.BA",
    "TGNO4.BA", "TGSU2.BA", "TRAN.BA", "TXAR.BA", "VALO.BA", "YPFD.BA",
)  # fmt: skip
MERVAL = "^MERV"
USD_ARS = "ARS=X"  # official USD/ARS rate -> macro series usdars_official
# (BYMA share, ADR, shares per ADR): local price x shares / ADR price is the implied CCL rate.
CCL_PAIRS = (("YPFD.BA", "YPF", 1.0), ("GGAL.BA", "GGAL", 10.0))
DEFAULT_HISTORY_DAYS = 730  # when no start is given
BACKOFF_BASE_S = 2.0  # first retry waits this long, then twice as long each time
DOWNLOAD = "yahoo download"  # the `file` of problems in downloaded rows (row = position)
# Ticker.info key -> (metric, scale). Yahoo gives debtToEquity and dividendYield in percent;
# they are stored as plain ratios like the others. market_cap's unit is the quote currency.
INFO_METRICS = {
    "trailingPE": ("trailing_pe", 1.0),
    "forwardPE": ("forward_pe", 1.0),
    "priceToBook": ("price_to_book", 1.0),
    "returnOnEquity": ("return_on_equity", 1.0),
    "profitMargins": ("profit_margin", 1.0),
    "debtToEquity": ("debt_to_equity", 0.01),
    "revenueGrowth": ("revenue_growth", 1.0),
    "earningsGrowth": ("earnings_growth", 1.0),
    "dividendYield": ("dividend_yield", 0.01),
    "beta": ("beta", 1.0),
    "marketCap": ("market_cap", 1.0),
}

# What `download_to_long` returns: yf.download's price columns under their Yahoo names.
_DOWNLOAD_SCHEMA = pl.Schema(
    {
        "date": pl.Datetime("us"),
        "ticker": pl.String(),
        **dict.fromkeys(("Open", "High", "Low", "Close", "Adj Close", "Volume"), pl.Float64()),
    }
)

T = TypeVar("T")


class YahooClient(Protocol):
    """The three network calls the source makes; tests pass an object with recorded answers."""

    def download(self, tickers: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        """Daily bars in yf.download(group_by="ticker", auto_adjust=False) layout, end included."""
        ...

    def info(self, ticker: str) -> Mapping[str, Any]:
        """The Ticker.info dictionary."""
        ...

    def news(self, ticker: str) -> Sequence[Mapping[str, Any]]:
        """The Ticker.news items."""
        ...


class YFinanceClient:
    """The real client: yfinance over the network, its cache kept in `cache_dir`."""

    def __init__(self, cache_dir: Path | None = None, http_timeout_s: float = 30.0) -> None:
        import yfinance as yf  # deferred: 1.6 s to import and only this client needs it

        if cache_dir is not None:  # the default (~/.cache) is hidden under systemd
            cache_dir.mkdir(parents=True, exist_ok=True)
            yf.set_tz_cache_location(str(cache_dir))
        # yfinance logs every failed ticker as an ERROR line; this adapter reports them
        # once, as failed tickers, so keep only yfinance's critical messages.
        logging.getLogger("yfinance").setLevel(logging.CRITICAL)
        for category in (pd.errors.Pandas4Warning, DeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category, module=r"yfinance(\.|$)")
        self._yf = yf
        self._http_timeout_s = http_timeout_s

    def download(self, tickers: Sequence[str], start: dt.date, end: dt.date) -> pd.DataFrame:
        """Daily bars with Close and Adj Close, one column block per ticker."""
        return self._yf.download(
            list(tickers),
            start=start.isoformat(),
            end=(end + dt.timedelta(days=1)).isoformat(),  # yfinance's end is exclusive
            group_by="ticker",
            auto_adjust=False,
            actions=False,
            progress=False,
            timeout=self._http_timeout_s,
            multi_level_index=True,
        )

    def info(self, ticker: str) -> Mapping[str, Any]:
        """The Ticker.info dictionary."""
        return self._yf.Ticker(ticker).info

    def news(self, ticker: str) -> list[Mapping[str, Any]]:
        """The Ticker.news items."""
        return self._yf.Ticker(ticker).news


@dataclass(frozen=True)
class Retry:
    """How each call is bounded: seconds per attempt, retries after the first, backoff sleep."""

    max_retries: int = 3
    timeout_s: float = 60.0
    backoff_s: float = BACKOFF_BASE_S
    sleep: Callable[[float], None] = time.sleep

    def wait(self, attempt: int) -> None:
        """Sleep before retry number `attempt` (1, 2, ...): backoff_s, then doubling."""
        self.sleep(self.backoff_s * 2 ** (attempt - 1))

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()` bounded in time and retried on any error; the last attempt's error is raised."""
        for attempt in range(1, self.max_retries + 1):
            try:
                return call_with_timeout(fn, self.timeout_s)
            except Exception:
                self.wait(attempt)
        return call_with_timeout(fn, self.timeout_s)


def call_with_timeout(fn: Callable[[], T], timeout_s: float) -> T:
    """Run `fn` in a daemon thread; its result, its exception, or TimeoutError after timeout_s."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except Exception as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="yahoo-call", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():  # abandoned: a daemon thread cannot block the process from exiting
        raise TimeoutError(f"no answer from Yahoo within {timeout_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def load(
    tickers: Sequence[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    max_retries: int = 3,
    timeout_s: float = 60.0,
    cache_dir: Path | None = None,
    client: YahooClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
    today: dt.date | None = None,
) -> MarketData:
    """Prices, fundamentals (today's snapshot), news and macro (merval, FX) from Yahoo Finance."""
    today = today or dt.date.today()
    end = end or today
    start = start or end - dt.timedelta(days=DEFAULT_HISTORY_DAYS)
    client = client or YFinanceClient(cache_dir)
    retry = Retry(max_retries, timeout_s, sleep=sleep)
    data = _prices_and_macro(client, list(tickers) or list(DEFAULT_UNIVERSE), start, end, retry)
    quoted = data.prices["ticker"].unique().sort().to_list()
    data.fundamentals, data.news, problems = snapshots(client, quoted, retry, today)
    data.problems += problems
    return data


def _prices_and_macro(
    client: YahooClient, wanted: list[str], start: dt.date, end: dt.date, retry: Retry
) -> MarketData:
    helpers = [t for pair in CCL_PAIRS for t in pair[:2] if t not in wanted]  # for the CCL only
    bars, failures = download_bars(client, [*wanted, *helpers, MERVAL, USD_ARS], start, end, retry)
    is_fx = pl.col("ticker") == USD_ARS
    data = price_data(
        "yfinance",
        bars.filter(~is_fx),
        file=DOWNLOAD,
        tickers=[*wanted, *helpers],
        start=start,
        end=end,
    )
    official, fx_problems = _close_series(bars.filter(is_fx), "usdars_official")
    data.macro = pl.concat([data.macro, official, implied_ccl(data.prices)])
    data.prices = data.prices.filter(~pl.col("ticker").is_in(helpers))
    data.problems = [p for p in data.problems + fx_problems if p.ticker not in helpers]
    data.problems += _missing_macro(data.macro, failures)
    data.failed_tickers = {
        t: reason for t, reason in {**data.failed_tickers, **failures}.items() if t in wanted
    }
    return data


def download_bars(
    client: YahooClient, tickers: Sequence[str], start: dt.date, end: dt.date, retry: Retry
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Long bars of the tickers Yahoo answers for, retrying the rest; why each other one failed."""
    pending, frames, reasons = list(tickers), [_empty_download()], {}
    for attempt in range(retry.max_retries + 1):
        if attempt:
            retry.wait(attempt)
        try:
            answer = call_with_timeout(
                partial(client.download, pending, start, end), retry.timeout_s
            )
        except Exception as exc:
            reasons = dict.fromkeys(pending, f"download failed: {_one_line(exc)}")
            continue
        frames.append(download_to_long(answer))
        answered = set(frames[-1]["ticker"].to_list())
        pending = [t for t in pending if t not in answered]
        reasons = dict.fromkeys(pending, "no prices from Yahoo (delisted, misspelled or offline)")
        if not pending:
            break
    tries = f" after {retry.max_retries + 1} attempts"
    return pl.concat(frames, how="diagonal_relaxed"), {t: r + tries for t, r in reasons.items()}


def download_to_long(frame: pd.DataFrame) -> pl.DataFrame:
    """yf.download(group_by="ticker") columns -> one row per (date, ticker); empty rows dropped.

    Price columns keep Yahoo's names ("Adj Close"); `conform` maps them. Rows with no values are
    the union of the tickers' calendars (a NYSE-only day for a .BA symbol) or a failed ticker.
    """
    if frame.empty:
        return _empty_download()
    long = frame.stack(level=0, future_stack=True).rename_axis(index=["date", "ticker"])
    bars = pl.from_pandas(long.reset_index())
    values = [c for c in bars.columns if c not in ("date", "ticker")]
    return bars.filter(pl.any_horizontal(pl.col(values).is_not_null()))


def implied_ccl(prices: pl.DataFrame) -> pl.DataFrame:
    """The CCL rate implied by the CCL_PAIRS closes: macro series usdars_ccl, median of pairs."""
    pairs = pl.DataFrame(CCL_PAIRS, schema=["local", "adr", "shares"], orient="row")
    closes = prices.select("date", "ticker", "close")
    return (
        pairs.join(closes, left_on="local", right_on="ticker")
        .join(closes, left_on=["adr", "date"], right_on=["ticker", "date"], suffix="_adr")
        .group_by("date")
        .agg((pl.col("close") * pl.col("shares") / pl.col("close_adr")).median().alias("value"))
        .select("date", pl.lit("usdars_ccl").alias("series"), "value")
        .sort("date")
    )


def snapshots(
    client: YahooClient, tickers: Sequence[str], retry: Retry, today: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame, list[DataProblem]]:
    """Ticker.info as fundamentals filed `today`, and Ticker.news headlines, per ticker.

    A ticker whose calls fail is reported and skipped; after a timeout the remaining tickers are
    skipped too, so a dead network costs one bounded wait, not one per ticker.
    """
    fundamentals, news, problems = [empty(FUNDAMENTALS_SCHEMA)], [_news_rows("", [])], []
    for ticker in tickers:
        try:
            info = retry.call(partial(client.info, ticker))
            items = retry.call(partial(client.news, ticker))
        except TimeoutError as exc:
            problems.append(
                DataProblem(f"info/news skipped from this ticker on: {exc}", ticker=ticker)
            )
            break
        except Exception as exc:
            problems.append(DataProblem(f"info/news failed: {_one_line(exc)}", ticker=ticker))
            continue
        fundamentals.append(info_fundamentals(ticker, info, today))
        news.append(_news_rows(ticker, items))
    headlines, news_problems = conform(pl.concat(news), NEWS, "yahoo news")
    headlines = headlines.drop(ROW).unique(
        ["ticker", "headline"], keep="first", maintain_order=True
    )
    return pl.concat(fundamentals), headlines, problems + news_problems


def info_fundamentals(ticker: str, info: Mapping[str, Any], filed: dt.date) -> pl.DataFrame:
    """The INFO_METRICS present in a Ticker.info dict, as fundamentals rows filed on `filed`."""
    period_end = _epoch_date(info.get("mostRecentQuarter"))
    currency = info.get("currency")
    rows = [
        (
            ticker,
            period_end,
            filed,
            metric,
            float(info[key]) * scale,
            currency if metric == "market_cap" else "ratio",
        )
        for key, (metric, scale) in INFO_METRICS.items()
        if _is_number(info.get(key))
    ]
    return pl.DataFrame(rows, schema=FUNDAMENTALS_SCHEMA, orient="row")


def _news_rows(ticker: str, items: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    contents = [item.get("content") or {} for item in items]
    return pl.DataFrame(
        {
            "date": [c.get("pubDate") for c in contents],
            "ticker": [ticker] * len(contents),
            "headline": [c.get("title") for c in contents],
            "source": [(c.get("provider") or {}).get("displayName") for c in contents],
        },
        schema=dict.fromkeys(("date", "ticker", "headline", "source"), pl.String),
    )


def _close_series(bars: pl.DataFrame, name: str) -> tuple[pl.DataFrame, list[DataProblem]]:
    fx, problems = conform(bars, PRICES, DOWNLOAD)
    return fx.select("date", pl.lit(name).alias("series"), pl.col("close").alias("value")), problems


def _missing_macro(macro: pl.DataFrame, failures: Mapping[str, str]) -> list[DataProblem]:
    present = set(macro["series"].to_list())
    wanted = {"merval": MERVAL, "usdars_official": USD_ARS, "usdars_ccl": None}
    return [
        DataProblem(
            f"macro series {series} unavailable: "
            + (failures.get(ticker, "no data") if ticker else "no common dates for the CCL pairs")
        )
        for series, ticker in wanted.items()
        if series not in present
    ]


def _empty_download() -> pl.DataFrame:
    return pl.DataFrame(schema=_DOWNLOAD_SCHEMA)


def _epoch_date(value: Any) -> dt.date | None:
    if not _is_number(value):
        return None
    return dt.datetime.fromtimestamp(value, tz=dt.UTC).date()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _one_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
