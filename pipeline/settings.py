"""The environment, validated once at the entry point and passed down as one object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from pipeline.textsafe import redact

SOURCES = ("sample", "files", "yfinance")
DEFAULT_WEIGHTS = {"technical": 0.40, "fundamental": 0.20, "macro": 0.25, "sentiment": 0.15}
# Tickers as Yahoo spells them: BYMA symbols carry ".BA"; ADRs have none.
TICKER_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=^]{0,9}$")


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names it and what is accepted."""

    def __init__(self, variable: str, value: object, accepted: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}={redact(repr(value))} is invalid: {accepted}")


@dataclass(frozen=True)
class Settings:
    """Every setting of the product, with the original plan's defaults."""

    database_path: Path = Path("argenta_ia.duckdb")
    scheduler_enabled: bool = True
    daily_analysis_hour: int = 6
    daily_analysis_minute: int = 0
    daily_analysis_timezone: str = "America/Argentina/Buenos_Aires"
    job_timeout_minutes: float = 60.0
    max_retries: int = 3
    retry_backoff_seconds: float = 60.0
    tickers: tuple[str, ...] = ()
    weekdays_only: bool = True
    history_retention_days: int = 0
    catchup_days: int = 10
    low_disk_threshold_mb: int = 1024
    source: str = "yfinance"
    data_dir: Path | None = None
    yf_cache_dir: Path | None = None  # None: `.yf-cache` next to the database
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    buy_threshold: float = 60.0
    sell_threshold: float = 40.0

    @property
    def yfinance_cache(self) -> Path:
        """Where yfinance keeps its cache (the home directory is hidden under systemd)."""
        return self.yf_cache_dir or self.database_path.parent / ".yf-cache"

    @property
    def tz(self) -> ZoneInfo:
        """The scheduling time zone as a ZoneInfo."""
        return ZoneInfo(self.daily_analysis_timezone)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
    ) -> Settings:
        """Read and validate the settings from the environment and an optional `.env` file."""
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return _parse(values)


def parse_database_url(value: str, variable: str = "DATABASE_URL") -> Path:
    """Turn `duckdb:///PATH` or a plain path into a Path; reject other databases."""
    accepted = "use duckdb:///PATH (e.g. duckdb:///./argenta_ia.duckdb) or a plain file path"
    text = value.strip()
    if not text:
        raise ConfigError(variable, value, accepted)
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme.lower() != "duckdb" or not rest.startswith("/") or rest == "/":
            raise ConfigError(variable, value, accepted)
        text = rest[1:]  # duckdb:///./x -> ./x ; duckdb:////abs/x -> /abs/x
    if text in (":memory:",) or text.endswith("/"):
        raise ConfigError(variable, value, accepted + " naming a file")
    return Path(text).expanduser()


def parse_tickers(value: str, variable: str = "ARGENTA_TICKERS") -> tuple[str, ...]:
    """Split a comma/space separated ticker list, upper-cased, checked against Yahoo's spelling."""
    out: list[str] = []
    for raw in re.split(r"[,\s]+", value.strip()):
        if not raw:
            continue
        t = raw.upper()
        if not TICKER_RE.match(t):
            raise ConfigError(
                variable, raw, "tickers are 1-10 characters of A-Z, 0-9, '.', '-', e.g. GGAL,YPF"
            )
        if t not in out:
            out.append(t)
    return tuple(out)


def _bool(values: Mapping[str, str], name: str, default: bool) -> bool:
    raw = values.get(name)
    if raw is None or raw.strip() == "":
        return default
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, raw, "use true or false")


def _number(values: Mapping[str, str], name: str, default, kind, lo=None, hi=None):
    raw = values.get(name)
    if raw is None or raw.strip() == "":
        return default
    bounds = (
        f"between {lo} and {hi}"
        if lo is not None and hi is not None
        else f">= {lo}"
        if lo is not None
        else ""
    )
    word = "a whole number" if kind is int else "a number"
    try:
        num = kind(raw.strip())
    except ValueError:
        raise ConfigError(name, raw, f"use {word} {bounds}".strip()) from None
    if (lo is not None and num < lo) or (hi is not None and num > hi):
        raise ConfigError(name, raw, f"use {word} {bounds}".strip())
    return num


def _parse_weights(raw: str | None) -> dict[str, float]:
    name = "ARGENTA_WEIGHTS"
    accepted = "use technical=0.4,fundamental=0.2,macro=0.25,sentiment=0.15 (non-negative, sum > 0)"
    if raw is None or not raw.strip():
        return dict(DEFAULT_WEIGHTS)
    weights = dict.fromkeys(DEFAULT_WEIGHTS, 0.0)
    for part in raw.split(","):
        key, sep, val = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in weights:
            raise ConfigError(name, raw, accepted)
        try:
            weights[key] = float(val)
        except ValueError:
            raise ConfigError(name, raw, accepted) from None
        if weights[key] < 0:
            raise ConfigError(name, raw, accepted)
    if sum(weights.values()) <= 0:
        raise ConfigError(name, raw, accepted)
    return weights


def _parse(values: Mapping[str, str]) -> Settings:
    db = parse_database_url(values.get("DATABASE_URL") or "duckdb:///./argenta_ia.duckdb")
    tz = (values.get("DAILY_ANALYSIS_TIMEZONE") or Settings.daily_analysis_timezone).strip()
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "DAILY_ANALYSIS_TIMEZONE", tz, "use an IANA zone such as America/Argentina/Buenos_Aires"
        ) from None
    source = (values.get("ARGENTA_SOURCE") or "yfinance").strip().lower()
    if source not in SOURCES:
        raise ConfigError("ARGENTA_SOURCE", source, "use one of " + ", ".join(SOURCES))
    data_dir = values.get("ARGENTA_DATA_DIR")
    buy = _number(values, "ARGENTA_BUY_THRESHOLD", 60.0, float, 0, 100)
    sell = _number(values, "ARGENTA_SELL_THRESHOLD", 40.0, float, 0, 100)
    if sell >= buy:
        raise ConfigError(
            "ARGENTA_SELL_THRESHOLD", sell, f"must be below ARGENTA_BUY_THRESHOLD ({buy})"
        )
    return Settings(
        database_path=db,
        scheduler_enabled=_bool(values, "SCHEDULER_ENABLED", True),
        daily_analysis_hour=_number(values, "DAILY_ANALYSIS_HOUR", 6, int, 0, 23),
        daily_analysis_minute=_number(values, "DAILY_ANALYSIS_MINUTE", 0, int, 0, 59),
        daily_analysis_timezone=tz,
        job_timeout_minutes=_number(values, "JOB_TIMEOUT_MINUTES", 60.0, float, 0.01),
        max_retries=_number(values, "MAX_RETRIES", 3, int, 0, 20),
        retry_backoff_seconds=_number(values, "ARGENTA_RETRY_BACKOFF_SECONDS", 60.0, float, 0),
        tickers=parse_tickers(values.get("ARGENTA_TICKERS") or ""),
        weekdays_only=_bool(values, "ARGENTA_WEEKDAYS_ONLY", True),
        history_retention_days=_number(values, "ARGENTA_RETENTION_DAYS", 0, int, 0),
        catchup_days=_number(values, "ARGENTA_CATCHUP_DAYS", 10, int, 0, 3660),
        low_disk_threshold_mb=_number(values, "ARGENTA_LOW_DISK_MB", 1024, int, 0),
        source=source,
        data_dir=Path(data_dir).expanduser() if data_dir else None,
        yf_cache_dir=Path(cache).expanduser()
        if (cache := values.get("ARGENTA_YF_CACHE_DIR"))
        else None,
        weights=_parse_weights(values.get("ARGENTA_WEIGHTS")),
        buy_threshold=buy,
        sell_threshold=sell,
    )
