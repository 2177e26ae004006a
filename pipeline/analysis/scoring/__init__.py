"""The four component scores (0-100, or NULL with a reason) and the helpers they share.

Every component module turns columns of the (ticker, date) panel into
`<component>_score`, `<component>_completeness` (0-1) and `<component>_reason` (set
exactly when the score is NULL), and describes its drivers as `Factor`s so that the
combination can name them in the summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from polars.expr.whenthen import ChainedThen, Then

COMPONENTS = ("technical", "fundamental", "macro", "sentiment")


@dataclass(frozen=True)
class Factor:
    """One driver of a component score and its summary phrase for each direction.

    `points` is its signed share of (component score - 50): the points of a component
    add up exactly to its score minus 50, so the combination can rank drivers by their
    effect on the total.
    """

    points: pl.Expr
    up: str
    down: str


def linear_score(x: pl.Expr, worst: float, best: float) -> pl.Expr:
    """0 at `worst`, 100 at `best`, linear between and clipped; NULL stays NULL.

    Constants divide as `* (1 / k)` throughout the scoring: polars divides a column of
    several rows by a constant that way but a one-row column exactly, and the daily run
    scores one date (one macro row), so `/ k` would round differently from a backfill.
    """
    return ((x - worst) * (1.0 / (best - worst)) * 100.0).clip(0.0, 100.0)


def sub_score_factors(columns: Sequence[str], phrases: dict[str, tuple[str, str]]) -> list[Factor]:
    """Factors for a score that is the plain mean of the sub-scores in `columns`."""
    available = pl.sum_horizontal(pl.col(c).is_not_null() for c in columns)
    return [Factor((pl.col(c) - 50.0) / available, phrases[c][0], phrases[c][1]) for c in columns]


def json_object(**fields: pl.Expr) -> pl.Expr:
    """A compact JSON object string built from named expressions (NaN becomes null)."""
    return pl.struct([expr.alias(name) for name, expr in fields.items()]).struct.json_encode()


def warnings_list(*checks: tuple[pl.Expr, str]) -> pl.Expr:
    """The list of messages whose condition holds (an empty list when none does).

    The conditions of a row form a bit mask that is mapped to its list of messages;
    building the lists row by row (concat_list) is ten times slower on a backfill.
    """
    if not checks:
        return pl.lit([], dtype=pl.List(pl.String))
    mask = pl.sum_horizontal(
        cond.fill_null(False).cast(pl.Int32) * (1 << bit) for bit, (cond, _) in enumerate(checks)
    )
    masks = range(1 << len(checks))
    lists = [[msg for bit, (_, msg) in enumerate(checks) if m >> bit & 1] for m in masks]
    return mask.replace_strict(masks, lists, return_dtype=pl.List(pl.String))


@dataclass(frozen=True)
class Reason:
    """Why a component has no score: a stable code, English text, and the text's parameters.

    `text` is a `pl.format` template whose `{}` take the parameters' values in order. The
    code and parameters are for programs (the dashboard words them in Spanish from the code);
    the text is for people reading the data.
    """

    code: str
    text: str
    params: tuple[tuple[str, pl.Expr], ...] = ()


def reason_columns(component: str, cases: Sequence[tuple[pl.Expr, Reason]]) -> list[pl.Expr]:
    """`<component>_reason`, `_reason_code`, `_reason_params` (JSON) of the first case holding."""

    def text(reason: Reason) -> pl.Expr:
        values = [value for _, value in reason.params]
        return pl.format(reason.text, *values) if values else pl.lit(reason.text)

    def params(reason: Reason) -> pl.Expr:
        return json_object(**dict(reason.params)) if reason.params else pl.lit("{}")

    return [
        first_of([(condition, make(reason)) for condition, reason in cases]).alias(
            f"{component}_{suffix}"
        )
        for suffix, make in (
            ("reason", text),
            ("reason_code", lambda r: pl.lit(r.code)),
            ("reason_params", params),
        )
    ]


def first_of(cases: Sequence[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
    """The value of the first case whose condition holds, else null."""
    (condition, value), *rest = cases
    chain: Then | ChainedThen = pl.when(condition).then(value)
    for condition, value in rest:
        chain = chain.when(condition).then(value)
    return chain


def metadata_json(
    source: str,
    component: str,
    as_of: pl.Expr,
    warnings: pl.Expr,
) -> pl.Expr:
    """The `metadata` JSON of a detail row: source, as-of dates, completeness, warnings, reason.

    `reason` (English), `reason_code` and `reason_params` (an object) are null when the
    component has a score.
    """
    fields = json_object(
        source=pl.lit(source),
        as_of=as_of,
        completeness=pl.col(f"{component}_completeness").round(2),
        warnings=warnings,
        reason=pl.col(f"{component}_reason"),
        reason_code=pl.col(f"{component}_reason_code"),
    )
    # The parameters are already a JSON object: append them as one, not as a string.
    params = pl.col(f"{component}_reason_params").fill_null("null")
    return pl.concat_str(
        fields.str.strip_suffix("}"), pl.lit(',"reason_params":'), params, pl.lit("}")
    )
