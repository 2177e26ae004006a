"""JSON Schemas (draft 2020-12) of the JSON columns, from the documented structure of each.

Written from the code that builds the documents (the column lists of the analysis), not
inferred from stored rows: a reader inferring types from one row would type the votes as
unsigned and lose every -1. `analysis_details` documents depend on `analysis_type`: each
column's schema has one closed branch per type in `$defs`, and `oneOf` over them.
"""

from __future__ import annotations

from typing import Any

from pipeline.analysis.factors import FACTOR_COLUMNS
from pipeline.analysis.indicators import INDICATOR_COLUMNS
from pipeline.analysis.scoring import fundamental, macro, technical

DRAFT = "https://json-schema.org/draft/2020-12/schema"
NUMBER = {"type": ["number", "null"]}
INTEGER = {"type": ["integer", "null"]}
STRING = {"type": ["string", "null"]}
DATE = {"type": ["string", "null"], "format": "date"}
STRINGS = {"type": "array", "items": {"type": "string"}}


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    """A closed object whose every documented property is present."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }


def _metadata(as_of: tuple[str, ...], component: str) -> dict[str, Any]:
    """The metadata document shared by the four components."""
    schema = _object(
        {
            "source": {"type": "string", "description": "sample, files or yfinance"},
            "as_of": _object({k: DATE for k in as_of}, "Dates of the inputs used"),
            "completeness": {"type": "number", "minimum": 0, "maximum": 1},
            "warnings": STRINGS,
            "reason": {**STRING, "description": "Why the score is NULL; null when it is not"},
            "reason_code": {**STRING, "description": "Machine-readable reason (optional)"},
            "reason_params": {
                "type": ["object", "null"],
                "description": "The reason's values by name, e.g. filed, age_days (optional)",
            },
        },
        f"Metadata of the {component} analysis",
    )
    for optional in ("reason_code", "reason_params"):  # absent from rows written before them
        schema["required"].remove(optional)
    return schema


def _technical() -> dict[str, dict[str, Any]]:
    vote = {
        "type": ["integer", "null"],
        "minimum": -1,
        "maximum": 1,
        "description": "+1 buy, -1 sell, 0 neutral, null when an input is missing",
    }
    rating = {"type": ["number", "null"], "minimum": -1, "maximum": 1}
    indicators = {name: NUMBER for name in INDICATOR_COLUMNS if name != "bars"}
    indicators["ratings"] = _object(dict.fromkeys(technical.GROUPS, rating), "Group ratings")
    indicators["votes"] = _object({v.name: vote for v in technical.VOTES}, "The eleven votes")
    raw = dict.fromkeys((*technical.PRICE_COLUMNS, "volume", "usdars_ccl"), NUMBER)
    schema = _object(indicators, "TA-Lib-compatible indicators, ratings and votes")
    _optional(schema, _relative_technical())
    return {
        "raw_data": _object(raw, "Prices of the day: OHLC adjusted, close_raw as traded"),
        "indicators": schema,
        "metadata": _metadata(("prices",), "technical"),
    }


def _optional(schema: dict[str, Any], properties: dict[str, Any]) -> None:
    """Add properties that rows written before the relative model (migration 6) lack."""
    schema["properties"] |= properties


def _relative_technical() -> dict[str, Any]:
    """What the relative model adds to the technical indicators (see pipeline.analysis.model)."""
    call = {"group": STRING, "formed_on": DATE, "daily_total": NUMBER, "decided_by": STRING}
    call["history_bars"] = INTEGER
    percentiles = dict.fromkeys(("q_low", "q_mid", "q_high"), NUMBER)
    return {
        "vote_score": {**NUMBER, "description": "The votes' 0-100 rating (not the call)"},
        "factors": _object(dict.fromkeys(FACTOR_COLUMNS, NUMBER), "The four price factors"),
        "factor_ranks": _object(dict.fromkeys(FACTOR_COLUMNS, NUMBER), "Their 0-100 ranks"),
        "call": _object(call, "Listing group, formation session, listing that set the call"),
        "range_63": _object(percentiles, "Percentiles of past 63-session log returns"),
        "ewma_volatility": {**NUMBER, "description": "RiskMetrics EWMA volatility, annual"},
    }


def _fundamental() -> dict[str, dict[str, Any]]:
    raw = {"currency": STRING, "price": NUMBER, "usdars_official": NUMBER}
    raw |= dict.fromkeys((*fundamental.METRICS, "revenue_prev"), NUMBER)
    ratios = ("pe", "pb", "roe", "net_margin", "debt_to_equity", "revenue_growth")
    indicators: dict[str, Any] = dict.fromkeys((*ratios, "dividend_yield"), NUMBER)
    subs = [s.removeprefix("fundamental_") for s in fundamental.SUB_SCORES]
    indicators["sub_scores"] = _object(dict.fromkeys(subs, NUMBER), "Sub-scores 0-100")
    schema = _object(indicators, "Ratios and sub-scores")
    _optional(schema, {"level": {**NUMBER, "description": "0-100 score before ranking"}})
    raw_schema = _object(raw, "Point-in-time filing figures and the converted price")
    priced = {  # absent from rows written before issue 11's peso ratios
        "price_in_statement_currency": {**NUMBER, "description": "One share, statements' unit"},
        "price_basis": {**STRING, "description": "listing, adr_per_share, local_share, ..."},
    }
    _optional(raw_schema, priced)
    return {
        "raw_data": raw_schema,
        "indicators": schema,
        "metadata": _metadata(("filed", "period_end"), "fundamental"),
    }


def _macro() -> dict[str, dict[str, Any]]:
    raw: dict[str, Any] = dict.fromkeys(
        ("usdars_ccl", "usdars_official", "embi_spread_pct", "cpi_mom_pct", "policy_rate_pct"),
        NUMBER,
    )
    raw |= {"fx_family": STRING, "cpi_family": STRING}
    derived = ("gap", "gap_change", "embi_change", "real_rate_monthly_pp")
    indicators: dict[str, Any] = dict.fromkeys(
        (*derived, "merval_vs_sma200", "merval_usd_vs_sma200"), NUMBER
    )
    subs = [s.removeprefix("macro_") for s in macro.SUB_SCORES]
    indicators["sub_scores"] = _object(dict.fromkeys(subs, NUMBER), "Sub-scores 0-100")
    as_of = ("gap", "embi", "cpi", "policy_rate", "merval_trend")
    raw_schema = _object(raw, "Macro series of the date (one family per group)")
    ccl_used = {  # absent from rows written before the implied CCL (issue 11)
        "ccl_source": {**STRING, "description": "adr_pairs_median or source: which CCL"},
        "ccl_pairs": {**INTEGER, "description": "ADR pairs behind the implied CCL"},
        "usdars_ccl_source": {**NUMBER, "description": "The source's own CCL, same date"},
    }
    _optional(raw_schema, ccl_used)
    return {
        "raw_data": raw_schema,
        "indicators": _object(indicators, "Derived values and sub-scores"),
        "metadata": _metadata(as_of, "macro"),
    }


def _sentiment() -> dict[str, dict[str, Any]]:
    latest = {"type": ["array", "null"], "items": {"type": "string"}}
    raw = {"headlines": {"type": "integer", "minimum": 0}, "latest": latest}
    hits = {"type": ["integer", "null"], "minimum": 0}
    indicators = {"positive_hits": hits, "negative_hits": hits, "matched_words": latest}
    schema = _object(indicators, "Lexicon hits")
    _optional(schema, {"level": {**NUMBER, "description": "0-100 score before ranking"}})
    return {
        "raw_data": _object(raw, "Headlines in the 7-day window (count, latest titles)"),
        "indicators": schema,
        "metadata": _metadata(("window_start", "window_end"), "sentiment"),
    }


def _by_type(column: str) -> dict[str, Any]:
    """One column of analysis_details: one closed branch per analysis_type."""
    parts = {
        "technical": _technical(),
        "fundamental": _fundamental(),
        "macro": _macro(),
        "sentiment": _sentiment(),
    }
    return {
        "$schema": DRAFT,
        "title": f"analysis_details.{column}",
        "description": f"The {column} document; its shape depends on analysis_type ($defs)",
        "$defs": {kind: docs[column] for kind, docs in parts.items()},
        "oneOf": [{"$ref": f"#/$defs/{kind}"} for kind in parts],
    }


def _log_data() -> dict[str, Any]:
    dates = {"type": "object", "properties": {"count": {"type": "integer"}}}
    return {
        "$schema": DRAFT,
        "title": "job_runs.log_data",
        "description": "The run's log; keys may be added by newer versions (open object)",
        "type": "object",
        "properties": {
            "source": {"type": "string"},
            "dates": dates,
            "errors_by_type": {"type": "object", "additionalProperties": {"type": "integer"}},
            "errors": {"type": "array"},
            "inactive_tickers": {
                "type": "object",
                "description": "tickers without recent data (not errors): ticker -> last bar",
                "additionalProperties": {"type": "string", "format": "date"},
            },
            "inactive_count": {"type": "integer", "minimum": 0},
            "failed_tickers": {"type": "object"},
            "data_problems": STRINGS,
            "data_problems_count": {"type": "integer", "minimum": 0},
            "calls_kept": {
                "type": "integer",
                "minimum": 0,
                "description": "a run with no call: the stored calls of its days, kept",
            },
            "failure_reason": {"type": "string"},
            "failure_code": {
                "type": "string",
                "description": "a known failure's code (no_prices), worded by the dashboard",
            },
            "failure_params": {"type": "object", "description": "the failure code's parameters"},
            "timings": {"type": "object", "additionalProperties": {"type": "number"}},
            "metrics": {"type": "object"},
        },
    }


def json_schemas() -> dict[str, dict[str, Any]]:
    """Every JSON column's schema, keyed `table.column`."""
    return {
        "analysis_details.raw_data": _by_type("raw_data"),
        "analysis_details.indicators": _by_type("indicators"),
        "analysis_details.metadata": _by_type("metadata"),
        "job_runs.log_data": _log_data(),
    }


def schema_for(column: str, analysis_type: str) -> dict[str, Any]:
    """The closed schema of one analysis_details column for one analysis_type."""
    whole = json_schemas()[f"analysis_details.{column}"]
    return {"$schema": DRAFT, **whole["$defs"][analysis_type]}
