"""Hostile values that reach the tray (its Recent menu, its tooltip) on a real tray host: the
tray keeps running and delivering, and shows what it can."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.desktop.conftest import Desktop
from tests.desktop.test_tray_e2e import menu

pytestmark = pytest.mark.desktop

GOOD = ("good one", "good two", "good three")


def _recent_texts(session: Desktop) -> list[str]:
    for entry in menu(session)["menu"]:
        if entry.get("text") == "Recent notifications":
            return [c.get("text", "") for c in entry["children"]]
    return []


def _run_with(session: Desktop, db: Path, hostile_sql: list[str], tz: str | None = None) -> None:
    """Start a tray agent on `db` after `hostile_sql` ran, send three good notifications,
    and check they reach the daemon while the tray stays up; then quit cleanly."""
    # every one on its own: in a storm the third of a source would be folded into a summary
    assert session.cli("settings", "set", "burst_limit", "0", db=db).returncode == 0
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA ignore_check_constraints = 1")
    for statement in hostile_sql:
        conn.execute(statement)
    if tz is not None:
        session.env["TZ"] = tz
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray to come up", 60)
        for title in GOOD:
            assert session.cli("send", title, "--priority", "urgent", db=db).returncode == 0
        wait_for(
            lambda: set(GOOD) <= {r["summary"] for r in session.received()},
            "the good notifications on the daemon",
        )
        wait_for(lambda: "good three" in " ".join(_recent_texts(session)), "Recent to follow")
        assert agent.poll() is None, "the tray agent died"
    finally:
        if agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    assert "Traceback" not in err


def test_a_blob_title_among_the_recent_ones(tray_desktop: Desktop, tmp_path: Path) -> None:
    db = tmp_path / "tc.db"
    assert tray_desktop.cli("send", "before", db=db).returncode == 0  # creates the schema
    _run_with(
        tray_desktop,
        db,
        ["INSERT INTO notifications(title, priority) VALUES (x'00ff6869', 'urgent')"],
    )
    assert "x'00ff6869'" in " ".join(_recent_texts(tray_desktop))  # shown as what it is
    row = sqlite3.connect(db).execute(
        "SELECT d.status, d.last_error_code FROM notification_deliveries d "
        "JOIN notifications n ON n.id = d.notification_id WHERE typeof(n.title) = 'blob'"
    )
    assert row.fetchone() == ("failed", "invalid_row")


def test_a_pause_past_what_a_setting_may_hold_is_ignored_in_tokyo(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    """9999-12-31 23:59:59 UTC is 10000-01-01 in Tokyo: past what a setting may hold, so it
    is ignored (with a warning) and the default, not paused, applies."""
    db = tmp_path / "tc.db"
    assert tray_desktop.cli("send", "before", db=db).returncode == 0
    _run_with(
        tray_desktop,
        db,
        ["INSERT INTO settings(key, value) VALUES ('paused_until', '\"9999-12-31T23:59:59Z\"')"],
        tz="Asia/Tokyo",
    )
    assert menu(tray_desktop)["icon"] == "on"


def test_a_pause_near_the_end_of_time_is_shown_in_tokyo_time(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    db = tmp_path / "tc.db"
    assert tray_desktop.cli("send", "before", db=db).returncode == 0
    _paused_until_the_end(tray_desktop, db, "9999-12-29 23:00:00")


def _paused_until_the_end(session: Desktop, db: Path, stored: str) -> None:
    sqlite3.connect(db, isolation_level=None).execute(
        f"INSERT INTO settings(key, value) VALUES ('paused_until', '\"{stored}\"')"
    )
    session.env["TZ"] = "Asia/Tokyo"
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray to come up", 60)
        wait_for(lambda: menu(session)["icon"] == "paused", "the paused icon")
        assert "paused until" in menu(session)["title"]
        assert session.cli("send", "held", "--priority", "urgent", db=db).returncode == 0
        wait_for(
            lambda: (
                sqlite3.connect(db)
                .execute(
                    "SELECT d.status FROM notification_deliveries d JOIN notifications n "
                    "ON n.id = d.notification_id WHERE n.title = 'held'"
                )
                .fetchall()
                == [("queued",)]
            ),
            "the notification to be held",
        )
        assert agent.poll() is None
    finally:
        if agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
