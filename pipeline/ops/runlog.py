"""The run record: what one run did, stored as JSON in `job_runs.log_data` and read back here.

`jobs` fills a `RunRecord` as the run goes and stores `to_dict()`; monitoring, the
dashboard and the CLI read `RunRecord.from_json(log_data)`. The JSON layout is a public
interface (data scientists query it by path), so it is fixed:

    {"source": "sample", "requested": {"dates": ["2024-03-08"] | "latest"},
     "dates": {"first", "last", "count", "list"}, "no_data_dates": [...],
     "failed_tickers": {ticker: reason}, "data_problems": [...], "data_problems_count": n,
     "errors": [{ticker, analysis_type, message, ...}], "errors_by_type": {type: n},
     "inactive_tickers": {ticker: "YYYY-MM-DD" (its last bar)}, "inactive_count": n,
     "timings": {stage: seconds}, "recommendations_written": n, "calls_kept": n,
     "outcomes_written": n,
     "retention_deleted": n, "retention_cutoff": "YYYY-MM-DD",
     "metrics": {"duration_s", "tickers_processed", "db_size_bytes", "peak_rss_mb",
                 "cpu_seconds"},
     "failure_reason": "...", "failure_code": "no_prices",
     "failure_params": {"source": "sample", "tickers": [...], "first", "last", "dates": n}}

A failure the pipeline knows by a code (so far `no_prices`: the source has no price bar for
any ticker asked on the requested days, or at all) also carries `failure_code` and its
`failure_params`, so the dashboard can word it in Spanish; `failure_reason` keeps the English
line the CLI and the logs show.

Inactive tickers are not errors: tickers of the data with no bar on the analysed dates
whose last bar is stale on the run's last date (`checks.is_stale`: ARGENTA_STALE_SESSIONS
or more sessions of their exchange behind it) — the source no longer has them (delisted,
or a feed that ended). They count in `inactive_count`, never in `errors_by_type`.

Keys whose value is unknown (None) are left out. Reading is lenient: a missing key, a
key of the wrong type or a log that is not JSON at all gives the field's empty value,
so rows written by any earlier version still display.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

MAX_LOGGED_ITEMS = 500  # longest list (errors, problems, failed tickers) kept in a record


@dataclass
class RunRecord:
    """One run's log: its request, the days analysed, problems, errors, timings and metrics."""

    source: str = ""
    requested: list[dt.date] | None = None  # None: the latest day with data
    dates: list[dt.date] = field(default_factory=list)  # the days analysed and written
    no_data_dates: list[dt.date] = field(default_factory=list)  # asked, but no bar at all
    failed_tickers: dict[str, str] = field(default_factory=dict)  # ticker -> source's reason
    data_problems: list[str] = field(default_factory=list)  # input rows dropped (first 500)
    data_problems_count: int = 0  # all of them
    errors: list[dict[str, Any]] = field(default_factory=list)  # the analysis' ticker errors
    errors_by_type: dict[str, int] = field(default_factory=dict)  # analysis type/source -> n
    # ticker -> its last bar, for tickers without recent data (first 500): not errors
    inactive_tickers: dict[str, dt.date] = field(default_factory=dict)
    inactive_count: int = 0  # all of them (0 in records written before the field existed)
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds; "total"
    recommendations_written: int | None = None
    calls_kept: int | None = None  # no call at all: the stored calls of its days, kept
    outcomes_written: int | None = None  # call_outcomes rows filled by the run
    retention_deleted: int | None = None
    retention_cutoff: dt.date | None = None
    tickers_processed: int | None = None
    db_size_bytes: int | None = None  # the working copy after the run: what is published
    peak_rss_mb: float | None = None  # the run's process: peak resident memory
    cpu_seconds: float | None = None  # the run's process: user + system CPU time
    failure_reason: str | None = None
    failure_code: str | None = None  # a known failure's code ("no_prices"), for translations
    failure_params: dict[str, Any] | None = None  # its parameters (JSON values)

    @property
    def duration_s(self) -> float | None:
        """Seconds the run took, as the run measured it (None until it finished)."""
        return self.timings.get("total")

    @property
    def errors_count(self) -> int:
        """Ticker errors plus tickers the source failed on."""
        return sum(self.errors_by_type.values())

    def to_dict(self) -> dict[str, Any]:
        """The record in its stored JSON layout (dates as ISO strings, None left out)."""
        stored = {
            "source": self.source,
            "requested": {"dates": _isos(self.requested) if self.requested else "latest"},
            "dates": {
                "first": self.dates[0].isoformat() if self.dates else None,
                "last": self.dates[-1].isoformat() if self.dates else None,
                "count": len(self.dates),
                "list": _isos(self.dates),
            },
            "no_data_dates": _isos(self.no_data_dates),
            "failed_tickers": self.failed_tickers,
            "data_problems": self.data_problems,
            "data_problems_count": self.data_problems_count,
            "errors": self.errors,
            "errors_by_type": self.errors_by_type,
            "inactive_tickers": {t: d.isoformat() for t, d in self.inactive_tickers.items()},
            "inactive_count": self.inactive_count,
            "timings": self.timings,
            "recommendations_written": self.recommendations_written,
            "calls_kept": self.calls_kept,
            "outcomes_written": self.outcomes_written,
            "retention_deleted": self.retention_deleted,
            "retention_cutoff": self.retention_cutoff and self.retention_cutoff.isoformat(),
            "metrics": _known(
                {
                    "duration_s": self.duration_s,
                    "tickers_processed": self.tickers_processed,
                    "db_size_bytes": self.db_size_bytes,
                    "peak_rss_mb": self.peak_rss_mb,
                    "cpu_seconds": self.cpu_seconds,
                }
            ),
            "failure_reason": self.failure_reason,
            "failure_code": self.failure_code,
            "failure_params": self.failure_params,
        }
        return _known(stored)

    def to_json(self) -> str:
        """The record as the JSON text stored in `job_runs.log_data`."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> RunRecord:
        """Read a stored `log_data` (any version; unreadable parts become empty values)."""
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        return cls.from_dict(data if isinstance(data, dict) else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Read the stored layout from an already parsed JSON object."""
        dates, metrics = _obj(data.get("dates")), _obj(data.get("metrics"))
        requested = _obj(data.get("requested")).get("dates")
        return cls(
            source=_str(data.get("source")) or "",
            requested=_dates(requested) if isinstance(requested, list) else None,
            dates=_dates(dates.get("list")),
            no_data_dates=_dates(data.get("no_data_dates")),
            failed_tickers={str(k): str(v) for k, v in _obj(data.get("failed_tickers")).items()},
            data_problems=[str(p) for p in _list(data.get("data_problems"))],
            data_problems_count=_int(data.get("data_problems_count")) or 0,
            errors=[e for e in _list(data.get("errors")) if isinstance(e, dict)],
            errors_by_type=_counts(data.get("errors_by_type")),
            inactive_tickers=_ticker_dates(data.get("inactive_tickers")),
            inactive_count=_int(data.get("inactive_count")) or 0,
            timings=_seconds(data.get("timings")),
            recommendations_written=_int(data.get("recommendations_written")),
            calls_kept=_int(data.get("calls_kept")),
            outcomes_written=_int(data.get("outcomes_written")),
            retention_deleted=_int(data.get("retention_deleted")),
            retention_cutoff=_date(data.get("retention_cutoff")),
            tickers_processed=_int(metrics.get("tickers_processed")),
            db_size_bytes=_int(metrics.get("db_size_bytes")),
            peak_rss_mb=_float(metrics.get("peak_rss_mb")),
            cpu_seconds=_float(metrics.get("cpu_seconds")),
            failure_reason=_str(data.get("failure_reason")),
            failure_code=_str(data.get("failure_code")),
            failure_params=_obj(data.get("failure_params")) or None,
        )


def _known(values: dict[str, Any]) -> dict[str, Any]:
    """`values` without the keys whose value is unknown (None)."""
    return {k: v for k, v in values.items() if v is not None}


def _isos(days: list[dt.date]) -> list[str]:
    return [d.isoformat() for d in days]


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _dates(values: Any) -> list[dt.date]:
    return [d for d in map(_date, _list(values)) if d is not None]


def _ticker_dates(value: Any) -> dict[str, dt.date]:
    days = {str(k): _date(v) for k, v in _obj(value).items()}
    return {k: v for k, v in days.items() if v is not None}


def _counts(value: Any) -> dict[str, int]:
    counts = {str(k): _int(v) for k, v in _obj(value).items()}
    return {k: v for k, v in counts.items() if v is not None}


def _seconds(value: Any) -> dict[str, float]:
    seconds = {str(k): _float(v) for k, v in _obj(value).items()}
    return {k: v for k, v in seconds.items() if v is not None}
