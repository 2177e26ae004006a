"""Sentiment score: the tone of a ticker's headlines of the last WINDOW_DAYS days.

Headlines are lower-cased, stripped of accents and split into words; each word found in
the lexicon counts +1 (positive) or -1 (negative). With P positive and N negative hits
in the window, the score is 50 + 50 x (P - N) / (P + N); headlines with no hit score 50.
The bundled lexicon (lexicon.csv) is a small hand-made list of English and Spanish
finance words, so Yahoo's English headlines and Spanish local headlines are scored the
same way. `load_lexicon` also reads the Loughran-McDonald Master Dictionary CSV for
those licensed to use it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl

from pipeline.analysis.scoring import (
    Factor,
    Reason,
    json_object,
    metadata_json,
    reason_columns,
    warnings_list,
)
from pipeline.analysis.scoring.summary_es import DRIVERS

WINDOW_DAYS = 7  # calendar days, the analysis date included
# Why there is no score. Whether the ticker had any headline by the date, not in the whole
# loaded history: a backfill must say what the daily run would have said.
NO_NEWS = Reason(
    "no_news_for_ticker", "the source supplied no headlines for this ticker up to this date"
)
NO_NEWS_IN_WINDOW = Reason(
    "no_news_in_window", "no headlines in the last {} days", (("days", pl.lit(WINDOW_DAYS)),)
)
NO_LEXICON_WORDS = Reason("no_lexicon_words", "no headline in the window has a word of the lexicon")
LEXICON_PATH = Path(__file__).with_name("lexicon.csv")
LM_COLUMNS = {"Word", "Positive", "Negative"}  # the Loughran-McDonald Master Dictionary


def words(text: pl.Expr) -> pl.Expr:
    """The lower-case, accent-free words of a text, as a list."""
    return (
        text.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.extract_all(r"[a-z]+")
    )


def load_lexicon(path: Path = LEXICON_PATH) -> pl.DataFrame:
    """(word, polarity) from a `word,polarity` CSV or the Loughran-McDonald Master Dictionary."""
    raw = pl.read_csv(path, infer_schema_length=0)
    if set(raw.columns) >= LM_COLUMNS:
        # A non-zero year in Positive/Negative marks membership (negative: removed that year).
        member = {k: pl.col(k).cast(pl.Int64, strict=False) > 0 for k in ("Positive", "Negative")}
        raw = raw.select(
            word="Word",
            polarity=pl.when(member["Positive"]).then(1).when(member["Negative"]).then(-1),
        )
    return (
        raw.select(
            words(pl.col("word")).list.first().alias("word"), pl.col("polarity").cast(pl.Int8)
        )
        .drop_nulls()
        .unique("word", keep="first", maintain_order=True)
    )


@functools.cache
def default_lexicon() -> pl.DataFrame:
    """The bundled English/Spanish finance lexicon (read once per process)."""
    return load_lexicon(LEXICON_PATH)


def _headline_hits(news: pl.LazyFrame, lexicon: pl.DataFrame) -> pl.LazyFrame:
    """Per headline: its positive and negative lexicon hits and the words that matched."""
    return (
        news.drop_nulls(["date", "ticker", "headline"])
        .with_row_index("headline_id")
        .with_columns(word=words(pl.col("headline")))
        .explode("word")
        .join(lexicon.lazy(), on="word", how="left")
        .group_by("headline_id")
        .agg(
            pl.col("ticker", "date", "headline").first(),
            positive=(pl.col("polarity") == 1).sum().cast(pl.Int64),
            negative=(pl.col("polarity") == -1).sum().cast(pl.Int64),
            matched=pl.col("word").filter(pl.col("polarity").is_not_null()),
        )
    )


def _window_totals(hits: pl.LazyFrame) -> pl.LazyFrame:
    """Per (ticker, date): the headlines of the WINDOW_DAYS days ending that date."""
    published = pl.col("published")
    window = pl.date_ranges(published, published + pl.duration(days=WINDOW_DAYS - 1))
    return (
        hits.rename({"date": "published"})
        .with_columns(date=window)
        .explode("date")
        .group_by("ticker", "date")
        .agg(
            headlines=pl.len(),
            positive_hits=pl.col("positive").sum(),
            negative_hits=pl.col("negative").sum(),
            latest=pl.col("headline").sort_by("published", descending=True).head(3),
            matched=pl.col("matched")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort()
            .head(10),
        )
    )


def score_sentiment(
    panel: pl.LazyFrame, news: pl.LazyFrame, lexicon: pl.DataFrame | None = None
) -> pl.LazyFrame:
    """Add the window's headline counts and `sentiment_score` / `_completeness` / `_reason`.

    The result has one row per panel row, in the panel's order.
    """
    totals = _window_totals(_headline_hits(news, default_lexicon() if lexicon is None else lexicon))
    covered = news.group_by("ticker").agg(first_headline=pl.col("date").min())
    hits = pl.col("positive_hits") + pl.col("negative_hits")
    tone = (pl.col("positive_hits") - pl.col("negative_hits")) / hits
    return (
        panel.join(totals, on=["ticker", "date"], how="left", maintain_order="left")
        .join(covered, on="ticker", how="left", maintain_order="left")
        .with_columns(
            *reason_columns(
                "sentiment",
                [
                    (~(pl.col("first_headline") <= pl.col("date")).fill_null(False), NO_NEWS),
                    (pl.col("headlines").is_null(), NO_NEWS_IN_WINDOW),
                    (hits == 0, NO_LEXICON_WORDS),
                ],
            ),
            sentiment_score=pl.when(hits > 0).then((50.0 + 50.0 * tone).round(2)),
            sentiment_completeness=pl.when(hits > 0).then(1.0).otherwise(0.0),
        )
    )


def factors() -> list[Factor]:
    """The headlines' tone as a single driver of (sentiment score - 50)."""
    return [Factor(pl.col("sentiment_score") - 50.0, *DRIVERS["sentiment_tone"])]


def detail(source: str) -> dict[str, pl.Expr]:
    """The JSON columns of the sentiment detail row."""
    c = pl.col
    window_start = c("date") - pl.duration(days=WINDOW_DAYS - 1)
    return {
        "raw_data": json_object(
            headlines=c("headlines").fill_null(0),
            latest=c("latest").list.eval(pl.element().str.slice(0, 120)),
        ),
        "indicators": json_object(
            level=c("sentiment_level"),  # the 0-100 score before ranking among peers
            positive_hits=c("positive_hits"),
            negative_hits=c("negative_hits"),
            matched_words=c("matched"),
        ),
        "metadata": metadata_json(
            source,
            "sentiment",
            pl.struct(window_start=window_start, window_end=c("date")),
            warnings_list(),
        ),
    }
