"""The environment, validated once at the entry point and passed down as one object.

Each setting is declared once, as a field of `Settings`: its variable, parser (which holds the
bounds and the accepted values), default and help. The parser below, the README's
configuration table and `deploy/argenta.env.example` are all made from these declarations
(`python -m pipeline.ops.settings_docs` writes the last two; tests check they are current).
"""

from __future__ import annotations

import copy
import dataclasses
import errno
import math
import os
import re
import shlex
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from pipeline.errors import BadInput
from pipeline.textsafe import redact

SOURCES = ("sample", "files", "yfinance")
# Weights of the stock components in the total, re-normalised over the components a stock has.
# Macro is a market view (one per date) and not part of any stock's total.
DEFAULT_WEIGHTS = {"technical": 0.40, "fundamental": 0.20, "sentiment": 0.15}
# Settings of the first model that no longer exist, and what replaced them.
RETIRED = {
    "ARGENTA_BUY_THRESHOLD": "calls are now in fixed proportions: use ARGENTA_BUY_SHARE (0.2)",
    "ARGENTA_SELL_THRESHOLD": "calls are now in fixed proportions: use ARGENTA_SELL_SHARE (0.2)",
}
# Tickers as Yahoo spells them: BYMA symbols carry ".BA"; ADRs have none.
TICKER_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=^]{0,9}$")
# Plain decimal numbers only: no nan, inf, "1_000" or non-ASCII digits.
DATABASE_URL_FORMS = "duckdb:///PATH (e.g. duckdb:///./argenta_ia.duckdb) or a plain file path"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")

T = TypeVar("T")


class ConfigError(BadInput):
    """A setting has a value we cannot use; the message names it and what is accepted."""

    def __init__(
        self,
        variable: str,
        value: object,
        accepted: str,
        code: str = "",
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.variable = variable
        self.value = redact(repr(value))
        # What was wrong as a code and its parameters, so a front end can word it in its own
        # language (the dashboard: ui/format.py SETTING_ERRORS_ES); the message is English.
        self.code = code
        self.params = dict(params or {})
        super().__init__(f"{variable}={self.value} is invalid: {accepted}")


# --- parsers: text -> value, with what they accept and how a value is written back ---------


class Parser(Generic[T]):
    """Turns a variable's text into a value; `accepted` says what it takes (messages, docs)."""

    accepted = ""  # e.g. "a whole number between 0 and 23"
    code = ""  # what it accepts, as a code for front ends (ConfigError.code)

    def parse(self, text: str, variable: str) -> T:
        """The value of `text` (stripped, not empty), or ConfigError naming `variable`."""
        raise NotImplementedError

    def format(self, value: T) -> str:
        """The text that parses back to `value` ("" for an unset value)."""
        return str(value)

    def reject(self, variable: str, text: str) -> ConfigError:
        """The error for a value this parser does not accept."""
        return ConfigError(variable, text, f"use {self.accepted}", self.code, self.params())

    def params(self) -> dict[str, object]:
        """The parameters of what it accepts (bounds, choices), for ConfigError.params."""
        return {}


class Flag(Parser[bool]):
    """true/false (also 1/0, yes/no, on/off, in any case): every spelling is documented."""

    TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
    accepted = "true or false (also 1/0, yes/no, on/off; any case)"
    code = "flag"

    def parse(self, text: str, variable: str) -> bool:
        """True or False."""
        low = text.lower()
        if low in self.TRUE:
            return True
        if low in self.FALSE:
            return False
        raise self.reject(variable, text)

    def format(self, value: bool) -> str:
        """`true` or `false`."""
        return "true" if value else "false"


class Integer(Parser[int]):
    """A whole number in [lo, hi], in plain decimal digits."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.accepted = f"a whole number between {lo} and {hi}"
        self.code = "integer"

    def params(self) -> dict[str, object]:
        """The bounds."""
        return {"lo": self.lo, "hi": self.hi}

    def parse(self, text: str, variable: str) -> int:
        """The number, if it is written plainly and within bounds."""
        if not _INTEGER.fullmatch(text) or not self.lo <= int(text) <= self.hi:
            raise self.reject(variable, text)
        return int(text)


class Number(Parser[float]):
    """A finite decimal number in [lo, hi] (nan and infinity are refused)."""

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi
        self.accepted = f"a number between {lo:g} and {hi:g}"
        self.code = "number"

    def params(self) -> dict[str, object]:
        """The bounds."""
        return {"lo": self.lo, "hi": self.hi}

    def parse(self, text: str, variable: str) -> float:
        """The number, if it is written plainly, finite and within bounds."""
        number = float(text) if _DECIMAL.fullmatch(text) else math.nan
        if not (math.isfinite(number) and self.lo <= number <= self.hi):
            raise self.reject(variable, text)
        return number

    def format(self, value: float) -> str:
        """The shortest text of the number (`60`, `0.25`)."""
        return f"{value:g}"


class Choice(Parser[str]):
    """One of a fixed set of words (case-insensitive)."""

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices
        self.accepted = "one of " + ", ".join(choices)
        self.code = "choice"

    def params(self) -> dict[str, object]:
        """The choices."""
        return {"choices": ", ".join(self.choices)}

    def parse(self, text: str, variable: str) -> str:
        """The word, lower-cased."""
        if text.lower() not in self.choices:
            raise self.reject(variable, text)
        return text.lower()


class TimeZone(Parser[str]):
    """An IANA time zone name."""

    accepted = "an IANA zone such as America/Argentina/Buenos_Aires"
    code = "time_zone"

    def parse(self, text: str, variable: str) -> str:
        """The zone name, if the zone database knows it."""
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.reject(variable, text) from None
        return text


class DatabaseUrl(Parser[Path]):
    """`duckdb:///PATH` or a plain path (see parse_database_url)."""

    accepted = DATABASE_URL_FORMS
    code = "database_url"

    def parse(self, text: str, variable: str) -> Path:
        """The database file's path."""
        return parse_database_url(text, variable)

    def format(self, value: Path) -> str:
        """`duckdb:///./relative` or `duckdb:////absolute`."""
        return "duckdb:///" + ("" if value.is_absolute() else "./") + str(value)


class Folder(Parser["Path | None"]):
    """A folder path (`~` expanded); unset is None."""

    accepted = "a folder path"

    def parse(self, text: str, variable: str) -> Path | None:
        """The path, `~` expanded."""
        return Path(text).expanduser()

    def format(self, value: Path | None) -> str:
        """The path, or "" when unset."""
        return "" if value is None else str(value)


class WebUrl(Parser["str | None"]):
    """An http(s) URL with a host; unset is None."""

    accepted = "an http:// or https:// URL, e.g. https://hooks.example.com/services/T0/B0/x"
    code = "web_url"

    def parse(self, text: str, variable: str) -> str | None:
        """The URL as given."""
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
            raise self.reject(variable, text)
        return text

    def format(self, value: str | None) -> str:
        """The URL, or "" when unset."""
        return value or ""


class Command(Parser[tuple[str, ...]]):
    """A command line split into words as a POSIX shell would (no shell runs it)."""

    accepted = "a command line: words and quotes as in a shell (no shell runs it)"
    code = "command"

    def parse(self, text: str, variable: str) -> tuple[str, ...]:
        """The command's words."""
        try:
            return tuple(shlex.split(text))
        except ValueError:
            raise self.reject(variable, text) from None

    def format(self, value: tuple[str, ...]) -> str:
        """The words joined and quoted for a shell ("" when unset)."""
        return shlex.join(value)


class Tickers(Parser[tuple[str, ...]]):
    """A comma or space separated ticker list (see parse_tickers)."""

    accepted = "tickers as Yahoo spells them, comma separated (GGAL,YPF,TGSU2.BA)"
    code = "tickers"

    def parse(self, text: str, variable: str) -> tuple[str, ...]:
        """The tickers, upper-cased, each once."""
        return parse_tickers(text, variable)

    def format(self, value: tuple[str, ...]) -> str:
        """The tickers joined by commas."""
        return ",".join(value)


class Weights(Parser[dict[str, float]]):
    """`component=weight` pairs; each weight a finite number in [0, 100], their sum above 0."""

    accepted = (
        "component=weight pairs, e.g. technical=0.5,fundamental=0.5 (components: "
        + ", ".join(DEFAULT_WEIGHTS)
        + "; each weight a number between 0 and 100, their sum above 0; one left out weighs 0)"
    )
    code = "weights"
    each = Number(0.0, 100.0)

    def params(self) -> dict[str, object]:
        """The components that take a weight."""
        return {"components": ", ".join(DEFAULT_WEIGHTS)}

    def parse(self, text: str, variable: str) -> dict[str, float]:
        """Every component's weight (0 for those not named)."""
        weights = dict.fromkeys(DEFAULT_WEIGHTS, 0.0)
        named: set[str] = set()
        for part in text.split(","):
            key, sep, value = (x.strip() for x in part.partition("="))
            if key.lower() == "macro":
                raise ConfigError(
                    variable,
                    text,
                    "macro is a market view, not in the total: drop it",
                    "macro_weight",
                )
            if not sep or key.lower() not in weights or key.lower() in named:
                raise self.reject(variable, text)
            named.add(key.lower())
            try:
                weights[key.lower()] = self.each.parse(value, variable)
            except ConfigError:
                raise self.reject(variable, text) from None
        if sum(weights.values()) <= 0:
            raise self.reject(variable, text)
        return weights

    def format(self, value: dict[str, float]) -> str:
        """`technical=0.4,...` in component order."""
        return ",".join(f"{k}={v:g}" for k, v in value.items())


# --- the declarations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting: the Settings field, its variable, parser, default and help text."""

    variable: str
    parser: Parser[T]
    default: T
    help: str
    shown: str = ""  # how the README shows the default, when not as the variable's text
    example: str = ""  # a value for the example environment file when the default is unset
    name: str = ""  # the Settings field; filled in from the class

    @property
    def default_text(self) -> str:
        """The default as the variable's text ("" when the default is "unset")."""
        return self.parser.format(self.default)


def setting(
    variable: str, parser: Parser[T], default: T, help: str, *, shown: str = "", example: str = ""
) -> T:
    """Declare a Settings field read from `variable` (a dataclass field carrying the Setting)."""
    declared = Setting(variable, parser, default, help, shown, example)
    metadata = {"setting": declared}
    if isinstance(default, dict):  # each Settings gets its own copy
        return field(default_factory=lambda: copy.copy(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """Every setting of the product; each field's declaration is its only definition."""

    database_path: Path = setting(
        "DATABASE_URL",
        DatabaseUrl(),
        Path("argenta_ia.duckdb"),
        "the published database file (`duckdb:////abs/path` for an absolute path). Other "
        "databases (`sqlite://`, `postgresql://`) are rejected",
    )
    scheduler_enabled: bool = setting(
        "SCHEDULER_ENABLED", Flag(), True, "`false`: `argenta daemon` says so and exits 0"
    )
    daily_analysis_hour: int = setting(
        "DAILY_ANALYSIS_HOUR", Integer(0, 23), 6, "hour of the daily run"
    )
    daily_analysis_minute: int = setting(
        "DAILY_ANALYSIS_MINUTE", Integer(0, 59), 0, "minute of the daily run"
    )
    daily_analysis_timezone: str = setting(
        "DAILY_ANALYSIS_TIMEZONE",
        TimeZone(),
        "America/Argentina/Buenos_Aires",
        "zone of that hour (daylight saving handled)",
    )
    job_timeout_minutes: float = setting(
        "JOB_TIMEOUT_MINUTES",
        Number(0.01, 10080.0),  # up to a week
        60.0,
        "a run past this is stopped and recorded as failed (`timeout`)",
    )
    max_retries: int = setting(
        "MAX_RETRIES",
        Integer(0, 20),
        3,
        "retries of a failed run (exponential backoff) and of each yfinance call",
    )
    retry_backoff_seconds: float = setting(
        "ARGENTA_RETRY_BACKOFF_SECONDS",
        Number(0.0, 86400.0),  # up to a day
        60.0,
        "first retry delay; doubles each retry",
    )
    source: str = setting(
        "ARGENTA_SOURCE", Choice(SOURCES), "yfinance", "default source of market data"
    )
    data_dir: Path | None = setting(
        "ARGENTA_DATA_DIR",
        Folder(),
        None,
        "folder for `--source files`",
        shown="unset (needed by `--source files`)",
        example="/srv/argenta/data",
    )
    yf_cache_dir: Path | None = setting(
        "ARGENTA_YF_CACHE_DIR",
        Folder(),
        None,
        "yfinance's cache (the home directory is hidden under systemd)",
        shown="`.yf-cache` next to the database",
        example="/var/cache/argenta",
    )
    tickers: tuple[str, ...] = setting(
        "ARGENTA_TICKERS",
        Tickers(),
        (),
        "the ticker universe",
        shown="all the source has",
        example="GGAL,YPF,PAM,GGAL.BA,YPFD.BA",
    )
    weekdays_only: bool = setting(
        "ARGENTA_WEEKDAYS_ONLY", Flag(), True, "schedule the daily run Monday to Friday only"
    )
    catchup_days: int = setting(
        "ARGENTA_CATCHUP_DAYS",
        Integer(0, 3660),
        10,
        "look-back (calendar days) in which missing trading days are filled",
    )
    history_retention_days: int = setting(
        "ARGENTA_RETENTION_DAYS",
        Integer(0, 36600),  # a century
        0,
        "delete partitions older than this many days after each run; the file is then"
        " rewritten compactly (see Retention)",
        shown="`0` (keep all)",
    )
    publish_command: tuple[str, ...] = setting(
        "ARGENTA_PUBLISH_COMMAND",
        Command(),
        (),
        "run after each publish with the published file's path (in place of `{path}`, else"
        " as the last argument); a failure is logged, never fatal",
        shown="unset",
        example="rsync -a {path} replica:/srv/argenta/argenta_ia.duckdb",
    )
    alert_webhook: str | None = setting(
        "ARGENTA_ALERT_WEBHOOK",
        WebUrl(),
        None,
        "POST each alert as JSON here when it starts and when it clears (the body's `text` suits"
        " Slack/Mattermost incoming webhooks)",
        shown="unset",
        example="https://hooks.slack.com/services/T000/B000/XXXX",
    )
    alert_command: tuple[str, ...] = setting(
        "ARGENTA_ALERT_COMMAND",
        Command(),
        (),
        "run with each alert as JSON on stdin when it starts and when it clears",
        shown="unset",
        example="/usr/local/bin/page-oncall",
    )
    low_disk_threshold_mb: int = setting(
        "ARGENTA_LOW_DISK_MB",
        Integer(0, 1_000_000_000),  # a petabyte
        1024,
        "free-disk threshold of the low-disk alert",
    )
    stale_sessions: int = setting(
        "ARGENTA_STALE_SESSIONS",
        Integer(0, 250),  # about a trading year
        1,
        "stale-data alert: an exchange's latest analysed session is this many sessions of its"
        " calendar behind the one the daily run should have stored by now (`0` turns it off)",
    )
    volume_share: float = setting(
        "ARGENTA_VOLUME_SHARE",
        Number(0.0, 1.0),
        0.8,
        "low-volume alert: the latest completed daily run processed fewer tickers than this"
        " share of the usual (the median of the 10 before it); no ticker at all always alerts",
    )
    weights: dict[str, float] = setting(
        "ARGENTA_WEIGHTS", Weights(), DEFAULT_WEIGHTS, "component weights of the total"
    )
    buy_share: float = setting(
        "ARGENTA_BUY_SHARE",
        Number(0.01, 0.5),
        0.2,
        "share of each listing group called COMPRAR on the first session of each month (the"
        " highest total scores), held all month",
    )
    sell_share: float = setting(
        "ARGENTA_SELL_SHARE",
        Number(0.01, 0.5),
        0.2,
        "share of each listing group called VENDER (the lowest total scores); the rest MANTENER",
    )

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
            values.update(_env_file(Path(env_file)))
        values.update(os.environ if environ is None else environ)
        return _parse(values)


# Every declaration, in the order of the Settings fields (the README's and the example's order).
SETTINGS: tuple[Setting[Any], ...] = tuple(
    dataclasses.replace(f.metadata["setting"], name=f.name) for f in dataclasses.fields(Settings)
)


def _env_file(path: Path) -> dict[str, str]:
    """The NAME=value lines of a .env file; one that is not UTF-8 text is a ConfigError."""
    try:
        return {k: v for k, v in dotenv_values(path).items() if v is not None}
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(
            str(path),
            f"<{type(exc).__name__}>",
            "it is not a UTF-8 text file of NAME=value lines: fix or remove it",
            "env_file",
        ) from None


def path_problem(path: Path, folder: bool) -> str | None:
    """Why `path` cannot be used as a file (or a `folder`) as things are on disk now, or None."""
    try:
        is_dir = path.is_dir()
        if path.exists() or path.is_symlink():
            path.stat()  # a symlink loop or a dangling link raises here
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "it is a symbolic link loop"
        if exc.errno == errno.ENOENT and path.is_symlink():
            return "it is a symbolic link to a missing path"
        if exc.errno != errno.ENOTDIR:
            return f"it cannot be used ({exc.strerror})"
        is_dir = False
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a folder"
    if path.exists() and is_dir != folder:
        return "it is a folder, not a file" if is_dir else "it is a file, not a folder"
    return None


def _check_paths(settings: Settings, values: Mapping[str, str]) -> None:
    """The database must be a file (or not exist yet) in a folder; the cache dir a folder."""
    db = settings.database_path
    if problem := path_problem(db, folder=False):
        example = f"duckdb:///{db / 'argenta_ia.duckdb'}" if db.is_dir() else "a file in a folder"
        raise ConfigError(
            "DATABASE_URL",
            values.get("DATABASE_URL") or str(db),
            f"{problem}; point it at {example}",
            "database_path",
            {"path": str(db)},
        )
    cache = settings.yf_cache_dir
    if cache is not None and (problem := path_problem(cache, folder=True)):
        raise ConfigError(
            "ARGENTA_YF_CACHE_DIR",
            str(cache),
            f"{problem}; point it at a folder (created if missing)",
            "cache_path",
            {"path": str(cache)},
        )


def parse_database_url(value: str, variable: str = "DATABASE_URL") -> Path:
    """Turn `duckdb:///PATH` or a plain path into a Path; reject other databases."""
    accepted = f"use {DATABASE_URL_FORMS}"
    text = value.strip()
    if not text:
        raise ConfigError(variable, value, accepted, "database_url")
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme.lower() != "duckdb" or not rest.startswith("/") or rest == "/":
            raise ConfigError(variable, value, accepted, "database_url")
        text = rest[1:]  # duckdb:///./x -> ./x ; duckdb:////abs/x -> /abs/x
    if text in (":memory:",) or text.endswith("/"):
        raise ConfigError(variable, value, accepted + " naming a file", "database_url_file")
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
                variable,
                raw,
                "tickers are 1-10 characters of A-Z, 0-9, '.', '-', e.g. GGAL,YPF",
                "tickers",
            )
        if t not in out:
            out.append(t)
    return tuple(out)


def _parse(values: Mapping[str, str]) -> Settings:
    """Settings from variable texts: each declared parser on its variable, blanks as defaults."""
    parsed: dict[str, Any] = {}
    for declared in SETTINGS:
        text = (values.get(declared.variable) or "").strip()
        if text:
            parsed[declared.name] = declared.parser.parse(text, declared.variable)
    for variable, replacement in RETIRED.items():
        if (values.get(variable) or "").strip():
            raise ConfigError(
                variable,
                values[variable],
                f"no longer used; {replacement}",
                "retired",
                {"use": variable.replace("_THRESHOLD", "_SHARE")},
            )
    settings = Settings(**parsed)
    _check_paths(settings, values)
    return settings
