"""Alerts pushed to a real local webhook and a real command: once on start, once on clear."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.analysis import calendar
from pipeline.ops import alert_push
from pipeline.ops.alert_push import Channel, channels, push
from store import writes
from store.connection import open_writer
from tests.cli_support import run_argenta
from tests.daemon_support import SOURCE, TODAY
from tests.factories import partition

FAILURES = {"code": "consecutive_failures", "severity": "critical", "message": "4 failed runs"}
DISK = {"code": "low_disk", "severity": "warning", "message": "512 MB free"}


class Hook:
    """A webhook receiver on 127.0.0.1 that records each JSON body; can be told to fail."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                if hook.status == 200:
                    hook.bodies.append(body)
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/argenta"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def states(self) -> list[tuple[str, str]]:
        return [(b["state"], b["code"]) for b in self.bodies]


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook()
    yield receiver
    receiver.server.shutdown()


def test_each_alert_is_sent_once_when_it_starts_and_once_when_it_clears(hook, db_path):
    targets = channels(hook.url, ())
    assert push([FAILURES], db_path, targets) == [("webhook", "started", "consecutive_failures")]
    assert push([FAILURES], db_path, targets) == []  # still active: not repeated
    push([FAILURES, DISK], db_path, targets)
    push([DISK], db_path, targets)
    push([], db_path, targets)
    push([], db_path, targets)
    assert hook.states() == [
        ("started", "consecutive_failures"),
        ("started", "low_disk"),
        ("cleared", "consecutive_failures"),
        ("cleared", "low_disk"),
    ]
    first = hook.bodies[0]
    assert first["severity"] == "critical" and first["database"] == str(db_path)
    assert first["text"] == "[Argenta IA] ALERT critical consecutive_failures: 4 failed runs"
    assert hook.bodies[2]["text"].startswith("[Argenta IA] CLEARED critical consecutive_failures")


def test_a_failed_delivery_is_logged_and_retried_at_the_next_check(hook, db_path, caplog):
    targets = channels(hook.url, ())
    hook.status = 500
    assert push([FAILURES], db_path, targets) == []
    assert "event=alert_push_failed" in caplog.text and "HTTP 500" in caplog.text
    hook.status = 200
    assert push([FAILURES], db_path, targets) == [("webhook", "started", "consecutive_failures")]
    assert hook.states() == [("started", "consecutive_failures")]


def test_an_unreachable_webhook_never_raises(db_path, caplog):
    down = [Channel("webhook", webhook="http://127.0.0.1:9/nobody")]  # discard port: refused
    assert push([FAILURES], db_path, down) == []
    assert "event=alert_push_failed" in caplog.text


def test_a_command_gets_the_alert_on_stdin_and_channels_keep_their_own_state(
    hook, db_path, tmp_path: Path
):
    inbox = tmp_path / "inbox.jsonl"
    targets = channels(hook.url, ("sh", "-c", f"cat >> '{inbox}'; echo >> '{inbox}'"))
    push([DISK], db_path, targets)
    push([DISK], db_path, targets)
    push([], db_path, targets)
    got = [json.loads(line) for line in inbox.read_text().splitlines() if line.strip()]
    assert [(b["state"], b["code"]) for b in got] == [
        ("started", "low_disk"),
        ("cleared", "low_disk"),
    ]
    assert hook.states() == [("started", "low_disk"), ("cleared", "low_disk")]
    failing = channels(None, ("sh", "-c", "exit 7"))
    assert push([FAILURES], tmp_path / "other.duckdb", failing) == []


def test_what_was_sent_survives_a_restart(hook, db_path):
    targets = channels(hook.url, ())
    push([FAILURES], db_path, targets)
    assert alert_push.state_path(db_path).exists()
    assert push([FAILURES], db_path, channels(hook.url, ())) == []  # a new process: same state


def test_status_notify_and_a_failed_unit_reach_the_webhook(hook, small_db, tmp_path):
    env = {"ARGENTA_ALERT_WEBHOOK": hook.url, "ARGENTA_LOW_DISK_MB": "0"}
    env["SCHEDULER_ENABLED"] = "false"  # no daemon in this test: no daemon_down alert
    env["ARGENTA_STALE_SESSIONS"] = "0"  # small_db's 2024 rows are not expected current
    failed = run_argenta(
        small_db, "notify-failed", "argenta-pipeline.service", cwd=tmp_path, env=env
    )
    assert failed.returncode == 0, failed.stderr
    assert hook.states() == [("started", "service_failed")]
    assert "journalctl -u argenta-pipeline.service" in hook.bodies[0]["message"]
    healthy = run_argenta(small_db, "status", "--notify", cwd=tmp_path, env=env)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert hook.states() == [("started", "service_failed"), ("cleared", "service_failed")]
    run_argenta(small_db, "status", "--notify", cwd=tmp_path, env=env)
    assert len(hook.bodies) == 2  # nothing new to say


def test_the_daemon_pushes_a_failure_streak_once_tells_systemd_and_clears_it(
    hook, start, env, slow_env, db_path, tmp_path
):
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(2)
    pushed = {"ARGENTA_ALERT_WEBHOOK": hook.url, "SCHEDULER_ENABLED": "false"}
    failing = slow_env | pushed | {"MAX_RETRIES": "3", "TEST_RUN_FAIL": "1"}
    failing["NOTIFY_SOCKET"] = notify.getsockname()
    down = start(failing, "--once", *SOURCE, "--pretend-date", TODAY)
    assert down.wait() == 1  # four failed runs: more than the streak limit of three
    assert hook.states() == [("started", "consecutive_failures")]
    statuses = []
    with contextlib.suppress(TimeoutError):
        while True:
            statuses += [m for m in notify.recv(4096).decode().split("\n") if "STATUS=" in m]
    notify.close()
    assert any("GAVE UP after 4 attempts" in m for m in statuses), statuses
    fixed = start(env | pushed, "--once", *SOURCE, "--pretend-date", TODAY)
    assert fixed.wait() == 0
    assert hook.states() == [
        ("started", "consecutive_failures"),
        ("cleared", "consecutive_failures"),
    ]


def test_stale_data_is_pushed_once_with_its_text(hook, db_path, tmp_path):
    """With the real clock: the only session stored is 10 sessions old."""
    today = dt.date.today()
    old = calendar.trading_days("XNYS", today - dt.timedelta(days=40), today)[-11]
    with open_writer(db_path) as con:
        writes.replace_partitions(con, [old], [partition(old, ["GGAL", "YPF"])])
    env = {"ARGENTA_ALERT_WEBHOOK": hook.url, "ARGENTA_LOW_DISK_MB": "0"}
    env["SCHEDULER_ENABLED"] = "false"
    for _ in range(2):
        done = run_argenta(db_path, "status", "--notify", cwd=tmp_path, env=env)
        assert done.returncode == 4, done.stdout + done.stderr
    assert hook.states() == [("started", "stale_data")]  # once, not on every check
    body = hook.bodies[0]
    assert body["severity"] == "critical" and "NYSE data is" in body["text"]
    assert f"the latest analysed session is {old:%Y-%m-%d}" in body["message"]
