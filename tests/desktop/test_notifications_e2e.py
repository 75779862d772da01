"""End to end on a real desktop: `traycourier send` -> the agent -> plyer -> DBus -> dunst."""

from __future__ import annotations

import glob
import html
import itertools
import json
import shutil
import signal
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import mapped_libraries, require, wait_for
from tests.desktop.conftest import Desktop

pytestmark = pytest.mark.desktop

ICON = str(Path(__file__).resolve().parents[2] / "assets" / "traycourier.png")


def stop(agent) -> str:  # type: ignore[no-untyped-def]
    agent.send_signal(signal.SIGTERM)
    _out, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err
    assert "Traceback" not in err
    return err


def test_sent_notifications_arrive_with_title_body_icon_and_urgency(
    desktop: Desktop, tmp_path: Path
) -> None:
    db = tmp_path / "tc.db"
    assert desktop.cli("settings", "set", "min_priority", "info", db=db).returncode == 0
    agent = desktop.start_agent(db, "--headless")
    try:
        sent = [
            ("Deploy failed", "prod is down", "urgent", "CRITICAL"),
            ("Review requested", "PR #12", "action", "NORMAL"),
            ("Backup done", "42 GB", "info", "LOW"),
        ]
        for title, body, priority, _ in sent:
            result = desktop.cli("send", title, body, "--priority", priority, db=db)
            assert result.returncode == 0, result.stderr
            wait_for(lambda t=title: any(r["summary"] == t for r in desktop.received()), title)
    finally:
        stop(agent)
    received = {r["summary"]: r for r in desktop.received()}
    for title, body, _priority, urgency in sent:
        got = received[title]
        assert got["body"] == body
        assert got["urgency"] == urgency
        assert got["icon_path"] == ICON
        assert got["app_name"] == "traycourier"
    statuses = (
        sqlite3.connect(db)
        .execute("SELECT status, count(*) FROM notification_deliveries GROUP BY status")
        .fetchall()
    )
    assert statuses == [("sent", 3)]


def test_a_headless_agent_shows_notifications_holding_no_openssl(
    desktop: Desktop, tmp_path: Path
) -> None:
    """`agent/system/loading.py`: the running agent (SQLAlchemy, the file's waker, the single
    instance lock, the notifier) maps neither libssl nor libcrypto, and shows as before."""
    db = tmp_path / "tc.db"
    agent = desktop.start_agent(db, "--headless")
    try:
        sent = desktop.cli("send", "Built without OpenSSL", "#42", "--priority", "urgent", db=db)
        assert sent.returncode == 0, sent.stderr
        wait_for(
            lambda: any(r["summary"] == "Built without OpenSSL" for r in desktop.received()),
            "the popup",
        )
        libraries = " ".join(sorted(mapped_libraries(agent.pid)))
    finally:
        stop(agent)
    assert "libsqlite3" in libraries  # these are the agent's maps: it has the file open
    assert "libssl" not in libraries and "libcrypto" not in libraries


HOSTILE = [
    ("--wait", "a < b and c > d"),
    ("-u critical", "<b>x</b>"),
    ("Tom & Jerry", "Tom & Jerry"),
    ("-ucritical", "--help"),
]


def test_hostile_text_arrives_as_the_producer_wrote_it(desktop: Desktop, tmp_path: Path) -> None:
    db = tmp_path / "tc.db"
    desktop.cli("settings", "set", "burst_limit", "0", db=db)
    for title, body in HOSTILE:
        result = desktop.cli("send", "--priority", "urgent", "--", title, body, db=db)
        assert result.returncode == 0, result.stderr
    result = desktop.cli("run", "--headless", "--once", db=db)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: len(desktop.received()) == len(HOSTILE), "all hostile notifications")
    # this dunst parses markup in the summary too (markup = full): it gets it escaped
    received = {html.unescape(r["summary"]): r["body"] for r in desktop.received()}
    for title, body in HOSTILE:
        assert title in received, f"title {title!r} was not delivered as written"
        # the body travels escaped; what a markup renderer shows is exactly the producer's text
        assert html.unescape(received[title]) == body
        assert received[title] == html.escape(body, quote=False)
    dunst_log = (desktop.logdir / "dunst.log").read_text()
    assert "Unable to parse markup" not in dunst_log


def test_without_a_notification_daemon_it_retries_with_backoff_then_fails(
    desktop_without_daemon: Desktop, tmp_path: Path
) -> None:
    session = desktop_without_daemon
    db = tmp_path / "tc.db"
    assert session.cli("send", "nobody listens", "--priority", "urgent", db=db).returncode == 0
    agent = session.start_agent(db, "--headless")
    try:
        wait_for(
            lambda: (
                sqlite3.connect(db)
                .execute("SELECT count(*) FROM notification_deliveries WHERE status = 'failed'")
                .fetchone()[0]
                == 1
            ),
            "the delivery to fail",
        )
    finally:
        err = stop(agent)
    rows = (
        sqlite3.connect(db)
        .execute(
            "SELECT attempt_no, outcome, error_code, started_at "
            "FROM notification_delivery_attempts ORDER BY attempt_no"
        )
        .fetchall()
    )
    assert [r[:3] for r in rows] == [
        (1, "retryable_failed", "daemon_unreachable"),
        (2, "retryable_failed", "daemon_unreachable"),
        (3, "retryable_failed", "daemon_unreachable"),
        (4, "retryable_failed", "daemon_unreachable"),
        (5, "failed", "daemon_unreachable"),
    ]
    starts = [datetime.fromisoformat(r[3]) for r in rows]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    for n, gap in enumerate(gaps, start=1):
        assert gap >= 0.8 * 2 ** (n - 1), gaps  # growing delays: 1, 2, 4, 8 s (jittered)
    assert "NameHasNoOwner" in err  # nobody owns org.freedesktop.Notifications
    status = json.loads(session.cli("status", "--json", db=db).stdout)
    assert status["deliveries"]["failed"] == 1
    assert status["last_errors"][0]["last_error_code"] == "daemon_unreachable"
    doctor = session.cli("doctor", db=db)
    assert doctor.returncode == 1
    assert "nothing owns org.freedesktop.Notifications" in doctor.stdout


LATE_DAEMONS = {
    "dunst": "dunst",
    "xfce4-notifyd": "/usr/lib/*/xfce4/notifyd/xfce4-notifyd",
    "notification-daemon": "/usr/lib/notification-daemon/notification-daemon",
}


@pytest.mark.parametrize("daemon", list(LATE_DAEMONS))
def test_when_the_daemon_comes_back_what_failed_for_its_absence_is_shown_unasked(
    desktop_without_daemon: Desktop, tmp_path: Path, daemon: str
) -> None:
    """Issue 26: a daemon outage ended in `failed` and needed a manual Retry. Once the bus
    name has an owner again, a failed-because-unreachable notification gets one more
    attempt by itself: the daemon, started late, receives it."""
    program = sorted(glob.glob(LATE_DAEMONS[daemon])) or [shutil.which(LATE_DAEMONS[daemon])]
    require(program[0] is not None and Path(program[0]).exists(), f"{daemon} is not installed")
    session = desktop_without_daemon
    db = tmp_path / "tc.db"
    assert session.cli("send", "while you were out", "--priority", "urgent", db=db).returncode == 0
    agent = session.start_agent(db, "--headless")
    late = None
    try:
        wait_for(lambda: status_of(db) == "failed", "the delivery to fail", 60)
        before = [c for c in session.notify_calls() if c.summary == "while you were out"]
        late = subprocess.Popen(
            [str(program[0])], env=session.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: status_of(db) == "sent", "the delivery to be retried and shown", 30)
        calls = [c for c in session.notify_calls() if c.summary == "while you were out"]
    finally:
        err = stop(agent)
        if late is not None:
            late.terminate()
            late.wait(timeout=10)
    assert len(calls) == len(before) + 1  # the one more attempt, to the daemon now there
    assert "the notification daemon is back: 1 failed notification(s) retried" in err
    attempts = (
        sqlite3.connect(db)
        .execute("SELECT outcome FROM notification_delivery_attempts ORDER BY attempt_no")
        .fetchall()
    )
    assert [a for (a,) in attempts] == ["retryable_failed"] * 4 + ["failed", "sent"]


def status_of(db: Path) -> str | None:
    row = sqlite3.connect(db).execute("SELECT status FROM notification_deliveries").fetchone()
    return None if row is None else str(row[0])


def test_a_hung_daemon_costs_one_timeout_not_a_stuck_agent(
    desktop: Desktop, tmp_path: Path
) -> None:
    import os

    db = tmp_path / "tc.db"
    assert desktop.dunst_pid is not None
    desktop.cli("settings", "set", "burst_limit", "0", db=db)
    os.kill(desktop.dunst_pid, signal.SIGSTOP)
    agent = desktop.start_agent(db, "--headless", "--notify-timeout", "2")
    try:
        for title in ("first", "second"):
            assert desktop.cli("send", title, "--priority", "urgent", db=db).returncode == 0

        def attempts() -> list[tuple]:
            return (
                sqlite3.connect(db)
                .execute(
                    "SELECT n.title, a.error_code FROM notification_delivery_attempts a "
                    "JOIN notification_deliveries d ON d.id = a.delivery_id "
                    "JOIN notifications n ON n.id = d.notification_id ORDER BY a.id"
                )
                .fetchall()
            )

        wait_for(lambda: len(attempts()) >= 1, "the first timeout")
        # the agent is not stuck: it answers and the second notification waits uncounted
        assert attempts()[0] == ("first", "timeout")
        assert all(title == "first" for title, _ in attempts())
        assert agent.poll() is None
        status = json.loads(desktop.cli("status", "--json", db=db).stdout)
        assert len(status["agents"]) == 1
        os.kill(desktop.dunst_pid, signal.SIGCONT)
        wait_for(
            lambda: {"first", "second"} <= {r["summary"] for r in desktop.received()},
            "both notifications after the daemon resumed",
        )
        wait_for(
            lambda: (
                sqlite3.connect(db)
                .execute("SELECT count(*) FROM notification_deliveries WHERE status = 'sent'")
                .fetchone()[0]
                == 2
            ),
            "both marked sent",
        )
    finally:
        os.kill(desktop.dunst_pid, signal.SIGCONT)
        stop(agent)


def test_the_notify_send_path_is_degraded_and_its_option_trap_is_closed(
    desktop: Desktop, tmp_path: Path
) -> None:
    """Without its DBus library the agent falls back to plyer's notify-send, which reads a
    leading '-' as an option ('--wait' would hang it forever). The agent must say it is
    degraded and still deliver the producer's text."""
    import subprocess
    import sys

    from tests.conftest import ROOT, require_tool

    require_tool("notify-send")
    db = tmp_path / "tc.db"
    for title, body in [("--wait", "-u critical"), ("plain", "text")]:
        assert desktop.cli("send", "--priority", "urgent", "--", title, body, db=db).returncode == 0
    no_dbus = (
        "import sys; sys.modules['dbus'] = sys.modules['jeepney'] = None; "
        "from traycourier.agent.cli.main import main; "
        f"sys.exit(main(['--db', {str(db)!r}, 'run', '--headless', '--once']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", no_dbus],
        cwd=ROOT,
        env=desktop.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    wait_for(lambda: len(desktop.received()) == 2, "both notifications via notify-send")
    received = {
        r["summary"].lstrip("\u200b"): r["body"].lstrip("\u200b") for r in desktop.received()
    }
    assert received == {"--wait": "-u critical", "plain": "text"}
    # the arguments plyer's notify-send path reads: urgency, icon, expiry
    calls = {c.summary.lstrip("\u200b"): c for c in desktop.notify_calls()}
    assert calls["--wait"].urgency == 2 and calls["--wait"].timeout_ms == -1
    assert calls["--wait"].icon.endswith("traycourier.png")
    (label,) = sqlite3.connect(db).execute("SELECT notifier FROM agents").fetchone()
    assert label == "notify-send (degraded: cannot report failures)"
