"""Push alerts to a person: a webhook (JSON POST) and/or a command (JSON on stdin).

Each channel is told once when an alert starts and once when it clears, never on every
check. What each channel was told is kept next to the database
(`.<database>.alerts.json`), so a restart neither repeats nor forgets. A delivery that
fails is logged and left pending: the next check tries it again. Nothing here raises.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store import safefile

log = logging.getLogger("argenta.alerts")
WEBHOOK_TIMEOUT_SECONDS = 10.0
COMMAND_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Channel:
    """One way to reach a person: `webhook` (a URL) or `command` (argv)."""

    name: str
    webhook: str | None = None
    command: tuple[str, ...] = ()


def channels(webhook: str | None, command: Sequence[str]) -> list[Channel]:
    """The configured channels (ARGENTA_ALERT_WEBHOOK, ARGENTA_ALERT_COMMAND)."""
    found = []
    if webhook:
        found.append(Channel("webhook", webhook=webhook))
    if command:
        found.append(Channel("command", command=tuple(command)))
    return found


def state_path(database: Path) -> Path:
    """Where what each channel was told is kept."""
    return database.with_name(f".{database.name}.alerts.json")


def payload(kind: str, alert: Mapping[str, Any], database: Path, now: dt.datetime) -> dict:
    """The JSON body: the alert, `state` started|cleared, and a `text` line for chat webhooks."""
    verb = "ALERT" if kind == "started" else "CLEARED"
    text = f"[Argenta IA] {verb} {alert['severity']} {alert['code']}: {alert['message']}"
    return {
        "state": kind,
        "code": alert["code"],
        "severity": alert["severity"],
        "message": alert["message"],
        "alert": dict(alert),
        "database": str(database),
        "host": socket.gethostname(),
        "at": now.isoformat(timespec="seconds"),
        "text": text,
    }


def _post(url: str, body: dict) -> None:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def _run(command: tuple[str, ...], body: dict) -> None:
    done = subprocess.run(
        command,
        input=json.dumps(body),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
    )
    if done.returncode != 0:
        raise OSError(f"exit code {done.returncode}: {(done.stderr or '').strip()[-200:]}")


def send(channel: Channel, body: dict) -> str | None:
    """Deliver `body` on `channel`; None when done, else why not (never raises)."""
    try:
        if channel.webhook:
            _post(channel.webhook, body)
        else:
            _run(channel.command, body)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return str(getattr(exc, "reason", None) or exc)
    return None


def _load(path: Path) -> dict[str, dict[str, dict]]:
    try:
        saved = json.loads(safefile.read_text(path) or "{}")
    except ValueError:
        return {}
    return saved if isinstance(saved, dict) else {}


def push(
    active: Sequence[Mapping[str, Any]],
    database: Path,
    targets: Sequence[Channel],
    now: dt.datetime | None = None,
    clear: bool = True,
) -> list[tuple[str, str, str]]:
    """Tell each channel about alerts that started or cleared since it was last told.

    `active` holds the current alerts (dicts with code, severity, message); with
    `clear=False` it is a partial list (one new alert) and nothing is cleared. Returns the
    (channel, started|cleared, code) deliveries made; failed ones stay pending.
    """
    if not targets:
        return []
    now = now or dt.datetime.now(dt.UTC)
    path = state_path(database)
    told = _load(path)
    current = {a["code"]: dict(a) for a in active}
    done = []
    for channel in targets:
        sent = told.setdefault(channel.name, {})
        changes = [("started", a) for code, a in current.items() if code not in sent]
        if clear:
            changes += [("cleared", a) for code, a in sent.items() if code not in current]
        for kind, alert in changes:
            problem = send(channel, payload(kind, alert, database, now))
            if problem is not None:
                log.warning(
                    "event=alert_push_failed channel=%s state=%s code=%s reason=%r",
                    channel.name,
                    kind,
                    alert["code"],
                    problem,
                )
                continue
            log.info(
                "event=alert_pushed channel=%s state=%s code=%s", channel.name, kind, alert["code"]
            )
            if kind == "started":
                sent[alert["code"]] = alert
            else:
                del sent[alert["code"]]
            done.append((channel.name, kind, alert["code"]))
    if done:
        try:
            safefile.write_atomic(path, json.dumps(told, default=str))
        except OSError as exc:
            log.warning("event=alert_state_not_saved path=%s reason=%r", path, str(exc))
    return done


def alert_dicts(alerts: Sequence[Any]) -> list[dict[str, Any]]:
    """Monitoring's alerts as the dicts `push` sends (code, severity, message, ...)."""
    out = []
    for alert in alerts:
        as_dict = alert.to_dict() if hasattr(alert, "to_dict") else dict(vars(alert))
        out.append(as_dict)
    return out


def failed_unit_alert(unit: str) -> dict[str, Any]:
    """The alert for a systemd unit that failed (argenta-alert@.service)."""
    return {
        "code": "service_failed",
        "severity": "critical",
        "message": f"systemd unit {unit} failed: see `journalctl -u {unit}`",
        "unit": unit,
    }
