"""The whole analysis as one pure function: market data in, the day's calls and details out.

indicators -> factors and forecasts (`model`) -> macro (the market view) -> fundamental ->
sentiment -> ranks, total and calls (`model`) -> votes (information only) -> combine ->
details, each over every (ticker, date) row at once. No I/O happens here except reading the
bundled sentiment lexicon once per process.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, TypeVar

import polars as pl

from pipeline.analysis import calls, ccl, forecast, market_view, model, relative
from pipeline.analysis.frames import DETAIL_COLUMNS, RECOMMENDATION_COLUMNS, MarketData
from pipeline.analysis.indicators import adjust_prices, indicator_blocks
from pipeline.analysis.scoring import (
    Reason,
    fundamental,
    macro,
    reason_columns,
    sentiment,
    technical,
)
from pipeline.analysis.scoring.combine import combine
from pipeline.settings import Settings

DETAIL_BUILDERS = {
    "technical": technical.detail,
    "fundamental": fundamental.detail,
    "sentiment": sentiment.detail,
}  # the macro detail is built per date
_T = TypeVar("_T")
# The polars engines a stage may collect with.
Engine = Literal["auto", "in-memory", "streaming"]


@dataclass
class Analysis:
    """The calls, their four details each, the tickers that got none and why, stage timings."""

    recommendations: pl.DataFrame
    details: pl.DataFrame
    errors: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # The market view: one row per date with a call (`market_view.MARKET_VIEW_COLUMNS`).
    market_view: pl.DataFrame = field(default_factory=pl.DataFrame)


class _Stages:
    """Collects each stage's plan and records how long it took."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def run(self, name: str, plan: pl.LazyFrame, engine: Engine = "auto") -> pl.DataFrame:
        return self.call(name, lambda: plan.collect(engine=engine))

    def call(self, name: str, function: Callable[[], _T]) -> _T:
        """`function()`, its seconds added to the stage's (a stage may run in parts)."""
        start = time.perf_counter()
        result = function()
        seconds = self.timings.get(name, 0.0) + time.perf_counter() - start
        self.timings[name] = round(seconds, 3)
        return result


def analyse(
    data: MarketData,
    settings: Settings,
    dates: Sequence[dt.date] | None = None,
    *,
    lexicon: pl.DataFrame | None = None,
) -> Analysis:
    """Score every ticker on `dates` (None: every date in the panel) from the loaded history.

    Rows are the trading days present in `data.prices`; `analysis_date` is the day whose
    close was analysed. Every (ticker, date) of the loaded history is scored, because a
    day's call is formed on the first session of its month and ranked against the whole
    listing group; the rows of `dates` are kept. A row gets a recommendation when its call
    could be formed; the others are reported in `errors`. `lexicon` replaces the bundled
    sentiment lexicon (see `sentiment.load_lexicon`).
    """
    return next(analyse_in_parts(data, settings, dates, lexicon=lexicon))


def analyse_in_parts(
    data: MarketData,
    settings: Settings,
    dates: Sequence[dt.date] | None = None,
    *,
    lexicon: pl.DataFrame | None = None,
    calls_per_part: int | None = None,
) -> Iterator[Analysis]:
    """`analyse`'s result in parts of whole dates, about `calls_per_part` calls each (None:
    one part), each part's details built once the previous part is taken.

    The parts, in date order, hold `analyse`'s calls, details and market view rows; the
    first carries the errors and the seconds of the stages before the details, each part
    the seconds of its own details. Only the scored rows and one part's details are held at
    once; `data.prices` is let go after the per-ticker stage (the caller should not keep it).
    """
    stages = _Stages()
    # The CCL implied by the ADR pairs replaces the source's where enough pairs trade (`ccl`).
    data = dataclasses.replace(data, macro=ccl.with_implied_ccl(data.macro, data.prices))
    scored_dates = None if dates is None else _scored_dates(dates)
    history, history_dates, last_bars = _per_ticker_model(data.prices, scored_dates, stages)
    data = dataclasses.replace(data, prices=data.prices.clear())  # the window is done with
    by_date = stages.run("macro", macro.score_macro(data.macro.lazy(), history_dates.lazy()))
    macro_columns = ["date", "usdars_ccl", "usdars_official", *macro.SCORE_COLUMNS]
    # Joined on the date alone and put beside the rows: the wide frame is not copied.
    on_date = history.select("date").join(
        by_date.select(macro_columns), on="date", how="left", maintain_order="left"
    )
    scoring = history.hstack(on_date.drop("date"))
    del history, on_date
    scoring = scoring.hstack(_per_ticker_components(scoring, data, lexicon, stages))
    weights, shares = settings.weights, (settings.buy_share, settings.sell_share)
    scored = stages.call("calls", partial(model.score_and_call, scoring, weights, *shares))
    del scoring  # each step below keeps only the frame it needs
    rows = scored if dates is None else scored.filter(pl.col("date").is_in(list(dates)))
    del scored
    rows = stages.call("votes", lambda: _votes(rows, stages)).with_columns(forecast.risk_level())
    errors = _no_bar_errors(last_bars, rows) if dates is not None else []
    errors += _no_call_errors(rows)
    rows = rows.filter(pl.col("recommendation").is_not_null()).with_columns(_relative_reasons())
    rows = stages.run("combine", combine(rows.lazy()))
    spans = _date_spans(rows, calls_per_part)
    for span in spans:
        part = rows if len(spans) == 1 else rows.filter(pl.col("date").is_in(span))
        recs = part.rename({"date": "analysis_date"}).select(RECOMMENDATION_COLUMNS)
        details = stages.run("details", _details(part.lazy(), by_date.lazy(), data.source))
        del part
        analysed = recs.get_column("analysis_date").unique().to_list()
        market = market_view.market_view(by_date, data.macro, analysed)
        recs = recs.sort("analysis_date", "ticker")
        yield Analysis(recs, details, errors, stages.timings, market)
        del recs, details, market
        errors, stages.timings = [], {}


def _date_spans(rows: pl.DataFrame, calls_per_part: int | None) -> list[list[dt.date]]:
    """The dates of `rows` in consecutive spans of about `calls_per_part` rows (one span, of
    every date, when None or when the rows are fewer)."""
    if calls_per_part is None or rows.height <= calls_per_part:
        return [[]]  # one part: every row
    per_date = rows.group_by("date").len().sort("date")
    spans: list[list[dt.date]] = [[]]
    size = 0
    for day, count in per_date.iter_rows():
        if spans[-1] and size + count > calls_per_part:
            spans.append([])
            size = 0
        spans[-1].append(day)
        size += count
    return spans


def _per_ticker_model(
    prices: pl.DataFrame, scored_dates: list[dt.date] | None, stages: _Stages
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Indicators, factors and forecasts (`model.price_model`) of the rows of `scored_dates`
    (None: every row); every date with a bar; each ticker's last bar (ticker, last).

    They are per-ticker time series, so they run on the indicator stage's blocks of whole
    tickers one at a time (the indicators are computed in those very blocks, so their values
    are the same bit for bit), and each block keeps only its scored rows: the windows'
    history is never held for every ticker at once. The ranks that follow are cross-sectional.
    """
    # The in-memory engine runs the indicator stage ~1.5x faster than streaming (measured).
    plans = stages.call("indicators", lambda: indicator_blocks(adjust_prices(prices.lazy())))
    parts: list[pl.DataFrame] = []
    dates: list[pl.DataFrame] = []
    last_bars: list[pl.DataFrame] = []
    while plans:
        block = stages.run("indicators", plans.pop(0), engine="in-memory")
        block = stages.call("factors", partial(model.price_model, block, scored_dates))
        dates.append(block.select(pl.col("date").unique()))
        last_bars.append(block.group_by("ticker").agg(pl.col("date").max().alias("last")))
        if scored_dates is not None:  # the other rows were only the windows' history
            block = block.filter(pl.col("date").is_in(scored_dates))
        parts.append(block)
    # A block without a positive close has none of the bars' columns (`model.price_model`).
    parts = [p for p in parts if not p.is_empty()] or parts[:1]
    history = pl.concat(parts) if len(parts) > 1 else parts[0]
    return history, pl.concat(dates).unique(), pl.concat(last_bars)


def _scored_dates(dates: Sequence[dt.date]) -> list[dt.date]:
    """`dates`, the days up to PARTNER_TOLERANCE before them, and all their months'
    formation sessions (on either exchange): the rows scored.

    Scores are ranks within each date's listing group, a call is formed on its month's first
    session, and a company's call may come from the other listing's latest row up to
    PARTNER_TOLERANCE before the date (`calls.company_calls`: the other exchange may not
    trade that day), so these rows give the same scores and calls as the whole history: the
    factors that need the history are computed on it (`model.price_model`).
    """
    back = calls.PARTNER_TOLERANCE.days
    days = sorted({d - dt.timedelta(days=k) for d in dates for k in range(back + 1)})
    probe = pl.DataFrame(  # one ticker of each exchange on every wanted day
        {"date": days * 2, "ticker": ["X"] * len(days) + ["X.BA"] * len(days)},
        schema={"date": pl.Date, "ticker": pl.String},
    )
    sessions = calls.with_formation_session(probe)
    keep = pl.concat([sessions.get_column("date"), sessions.get_column("formed_on")])
    return sorted(keep.drop_nulls().unique().to_list())


def _votes(rows: pl.DataFrame, stages: _Stages) -> pl.DataFrame:
    """The TradingView-style votes and their score (`vote_score`): information, not the call."""
    own = ("score", "completeness", "reason", "reason_code", "reason_params")
    hidden = {
        f"technical_{c}": f"_model_technical_{c}"
        for c in own
        if c in ("score", "completeness", "reason")
    }
    voted = stages.run("technical", technical.score_technical(rows.rename(hidden).lazy()))
    votes = {f"technical_{c}": f"vote_{c}" for c in own}
    return voted.rename(votes).rename({v: k for k, v in hidden.items()})


# Why a relative score is NULL: what `relative` reports, as stored reasons.
# Codes of the ticker errors (besides the call reasons `calls.REASON_*`): a ticker with no
# price bar on any analysed date (params: `last`, its last bar), and an index or an exchange
# rate that gets no call (params: `dates`, `first`, `last`, like the call reasons).
ERROR_NO_BAR_IN_RANGE = "no_bar_in_range"
ERROR_NOT_A_STOCK = "not_a_stock"
RELATIVE_REASONS = {
    relative.REASON_NO_DATA: Reason(
        "no_factor_history", "no value on this date (not enough clean history for its window)"
    ),
    relative.REASON_TOO_FEW_PEERS: Reason(
        "too_few_peers",
        "fewer than {} stocks of the listing group have a value on this date",
        (("needed", pl.lit(relative.MIN_PEERS)),),
    ),
    relative.REASON_NO_GROUP: Reason(
        "not_a_stock", "an index or an exchange rate: not ranked against stocks"
    ),
}


def _relative_reasons() -> list[pl.Expr]:
    """`<k>_reason`, `_reason_code`, `_reason_params` of each ranked component.

    A relative code (`relative.REASON_*`) becomes its RELATIVE_REASONS entry; a component's
    own reason (fundamentals or headlines missing) is kept as its module gave it.
    """
    out: list[pl.Expr] = []
    for k in ("technical", "fundamental", "sentiment"):
        code = pl.col(f"{k}_reason")
        cases = [(code == c, r) for c, r in RELATIVE_REASONS.items()]
        mapped = reason_columns(k, cases)
        if k == "technical":  # its reason is always a relative code
            out += mapped
        else:
            kept = (pl.col(f"{k}_reason"), pl.col(f"{k}_reason_code"), pl.col(f"{k}_reason_params"))
            out += [
                m.fill_null(own).alias(m.meta.output_name())
                for m, own in zip(mapped, kept, strict=True)
            ]
    return out


def _no_call_errors(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """One error per ticker that got no call on some analysed dates, with the reason."""
    texts = {
        calls.REASON_NO_BAR: "no price bar on the first session of the month (calls are formed "
        "then and held all month)",
        calls.REASON_NOT_FORMED: "no total score on the first session of the month (calls are "
        "formed then): too little clean price history",
        calls.REASON_TOO_FEW_PEERS: f"fewer than {relative.MIN_PEERS} stocks of its listing group "
        "had a total score on the first session of the month",
    }
    failed = (
        rows.filter(pl.col("recommendation").is_null())
        .group_by("ticker")
        .agg(
            pl.len().alias("n"),
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
            pl.col("call_reason").sort_by("date").last().alias("reason"),
            pl.col("group").first().is_null().alias("not_a_stock"),
        )
        .sort("ticker")
    )
    return [
        _error(
            r["ticker"],
            ("an index or an exchange rate: no call" if r["not_a_stock"] else texts[r["reason"]])
            + f" ({r['n']} date(s), {r['first']}..{r['last']})",
            ERROR_NOT_A_STOCK if r["not_a_stock"] else r["reason"],
            dates=r["n"],
            first=r["first"].isoformat(),
            last=r["last"].isoformat(),
            **({"needed": relative.MIN_PEERS} if r["reason"] == calls.REASON_TOO_FEW_PEERS else {}),
        )
        for r in failed.iter_rows(named=True)
    ]


def _per_ticker_components(
    rows: pl.DataFrame, data: MarketData, lexicon: pl.DataFrame | None, stages: _Stages
) -> pl.DataFrame:
    """The fundamental and sentiment columns, computed on narrow frames in the rows' order."""
    keys = ["ticker", "date", "close_raw", "usdars_official", "usdars_ccl"]
    panel = rows.lazy().select(keys)
    official = macro.macro_indicators(data.macro.lazy()).filter(pl.col("indicator") == "official")
    plan = fundamental.score_fundamental(panel, data.fundamentals.lazy(), official)
    fundamentals = stages.run("fundamental", plan.drop(keys))
    plan = sentiment.score_sentiment(panel.select("ticker", "date"), data.news.lazy(), lexicon)
    return fundamentals.hstack(stages.run("sentiment", plan.drop("ticker", "date")))


def _details(rows: pl.LazyFrame, by_date: pl.LazyFrame, source: str) -> pl.LazyFrame:
    """Four detail rows (technical, fundamental, macro, sentiment) per recommendation.

    The macro JSON depends on the date only, so it is encoded once per date.
    """
    keys = rows.select(pl.col("date").alias("analysis_date"), "ticker")
    macro_json = by_date.select(
        pl.col("date").alias("analysis_date"), **macro.detail(source), score="macro_score"
    )
    parts = [
        rows.select(
            pl.col("date").alias("analysis_date"),
            "ticker",
            analysis_type=pl.lit(kind),
            **build(source),
            score=pl.col(f"{kind}_score"),
        )
        for kind, build in DETAIL_BUILDERS.items()
    ]
    parts.append(
        keys.join(macro_json, on="analysis_date", how="left").with_columns(
            analysis_type=pl.lit("macro")
        )
    )
    return pl.concat([part.select(DETAIL_COLUMNS) for part in parts])


def _no_bar_errors(last_bars: pl.DataFrame, rows: pl.DataFrame) -> list[dict[str, Any]]:
    """One error per ticker of the data (`last_bars`: ticker, last) with no price bar on any
    analysed date."""
    absent = last_bars.join(rows.select("ticker").unique(), on="ticker", how="anti").sort("ticker")
    return [
        _error(
            r["ticker"],
            f"no price bar on the analysed dates (last bar {r['last']})",
            ERROR_NO_BAR_IN_RANGE,
            last=r["last"].isoformat(),
        )
        for r in absent.iter_rows(named=True)
    ]


def _error(ticker: str, message: str, code: str, **params: Any) -> dict[str, Any]:
    """A ticker error: English `message` for people, `code` and `params` for the dashboard."""
    return {
        "ticker": ticker,
        "analysis_type": "technical",
        "message": message,
        "code": code,
        "params": params,
    }
