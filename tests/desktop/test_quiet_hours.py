"""Quiet hours, mutes and snoozes on the real desktop (dunst, trayer), operated through the
tray's own menu with the keyboard: an `info` notification is held and an `urgent` one shown
at once, the icon and tooltip say quiet, and switching quiet hours off shows the held one; a
muted source never reaches the daemon; a Recent entry snoozes (the snoozed one reaches the
daemon twice) and mutes its source."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.desktop.conftest import Desktop
from tests.desktop.test_tray_e2e import menu, open_menu, setting, xdo

pytestmark = pytest.mark.desktop

QUIET_HOURS = 5  # keyboard position: status line, Show all…, switch, Pause, Quiet hours


def window_around_now() -> str:
    now = datetime.now().astimezone()
    start, end = now - timedelta(hours=1), now + timedelta(hours=2)
    return f"{start:%H}:00-{end:%H}:00"


def shown(session: Desktop) -> set[str]:
    return {call.summary for call in session.notify_calls()}


def test_quiet_hours_hold_the_quiet_ones_and_the_menu_lets_them_out(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    session, db = tray_desktop, tmp_path / "tc.db"
    for key, value in (("min_priority", "info"), ("quiet_hours", window_around_now())):
        assert session.cli("settings", "set", key, value, db=db).returncode == 0
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray", 60)
        held = session.cli("send", "nightly report", db=db)
        assert "held: quiet hours until" in held.stderr
        assert session.cli("send", "server down", "--priority", "urgent", db=db).returncode == 0
        wait_for(lambda: "server down" in shown(session), "the urgent one at once")
        assert "nightly report" not in shown(session)
        status = sqlite3.connect(db).execute(
            "SELECT d.status FROM notification_deliveries d JOIN notifications n "
            "ON n.id = d.notification_id WHERE n.title = 'nightly report'"
        )
        assert status.fetchall() == [("queued",)]
        wait_for(lambda: menu(session)["icon"] == "quiet", "the quiet icon")
        assert menu(session)["title"].startswith("traycourier — quiet until ")
        session.screenshot(session.logdir / "quiet.png")

        open_menu(session)
        xdo(session, "key", *(["Down"] * QUIET_HOURS), "Right", "Return")  # "Off"
        wait_for(lambda: setting(db, "quiet_hours") == '""', "quiet hours switched off")
        wait_for(lambda: "nightly report" in shown(session), "the held one shown")
        assert agent.poll() is None
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err


MUTED_SOURCES = 8  # keyboard position of "Muted sources"


def test_a_muted_source_never_reaches_the_daemon_and_the_menu_unmutes_it(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    session, db = tray_desktop, tmp_path / "tc.db"
    assert session.cli("mute", "backup", "--for", "2h", db=db).returncode == 0
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray", 60)
        muted = session.cli(
            "send", "backup ran", "--source", "backup", "--priority", "urgent", db=db
        )
        assert "not shown: backup is muted" in muted.stderr
        assert (
            session.cli(
                "send", "ci red", "--source", "ci", "--priority", "urgent", db=db
            ).returncode
            == 0
        )
        wait_for(lambda: "ci: ci red" in shown(session), "the other source's notification")
        assert "backup: backup ran" not in shown(session)
        codes = sqlite3.connect(db).execute(
            "SELECT d.status, d.last_error_code FROM notification_deliveries d "
            "JOIN notifications n ON n.id = d.notification_id WHERE n.source = 'backup'"
        )
        assert codes.fetchall() == [("skipped", "muted")]

        open_menu(session)
        xdo(session, "key", *(["Down"] * MUTED_SOURCES), "Right", "Return")  # "Unmute backup"
        wait_for(
            lambda: sqlite3.connect(db).execute("SELECT count(*) FROM mutes").fetchone() == (0,),
            "the mute removed from the tray's menu",
        )
        again = session.cli(
            "send", "backup ran again", "--source", "backup", "--priority", "urgent", db=db
        )
        assert again.stderr == ""
        wait_for(lambda: "backup: backup ran again" in shown(session), "shown once unmuted")
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err


RECENT = 7  # keyboard position of "Recent notifications"
SNOOZE_10, MUTE_1H = 1, 3  # in an entry's submenu, after "Mark read" (separators skipped)


def recent_texts(session: Desktop) -> list[str]:
    (recent,) = [m for m in menu(session)["menu"] if m.get("text") == "Recent notifications"]
    return [c.get("text", "") for c in recent["children"]]


def delivery(db: Path) -> tuple:
    return (
        sqlite3.connect(db)
        .execute(
            "SELECT status, last_error_code, attempts, "
            "round((julianday(next_attempt_at) - julianday('now')) * 1440) "
            "FROM notification_deliveries ORDER BY id LIMIT 1"
        )
        .fetchone()
    )


def test_a_recent_entry_snoozes_and_mutes_and_a_snoozed_one_reaches_the_daemon_twice(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    session, db = tray_desktop, tmp_path / "tc.db"
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray", 60)
        sent = session.cli("send", "disk full", "--source", "backup", "--priority", "urgent", db=db)
        ntf = sent.stdout.strip()
        wait_for(lambda: "shown" in " ".join(recent_texts(session)), "shown, in Recent")

        open_menu(session)
        xdo(session, "key", *(["Down"] * RECENT), "Right", "Right", *(["Down"] * SNOOZE_10))
        xdo(session, "key", "Return")  # "Show again in 10 minutes"
        wait_for(lambda: delivery(db)[:3] == ("queued", "snoozed", 1), "snoozed from the menu")
        assert delivery(db)[3] in (9, 10)  # due in ten minutes
        wait_for(lambda: "snoozed until" in " ".join(recent_texts(session)), "Recent says so")
        # the ten minutes pass sooner: the same snooze, moved by the CLI to 2 s from now
        assert session.cli("snooze", ntf, "--for", "2s", db=db).returncode == 0
        wait_for(
            lambda: [c.summary for c in session.notify_calls()].count("backup: disk full") == 2,
            "the snoozed one shown again",
        )
        wait_for(lambda: delivery(db)[:3] == ("sent", None, 2), "recorded as attempt 2")
        outcomes = sqlite3.connect(db).execute(
            "SELECT attempt_no, outcome FROM notification_delivery_attempts ORDER BY id"
        )
        assert outcomes.fetchall() == [(1, "sent"), (2, "sent")]
        wait_for(lambda: "shown again" in " ".join(recent_texts(session)), "Recent says so")

        open_menu(session)
        xdo(session, "key", *(["Down"] * RECENT), "Right", "Right", *(["Down"] * MUTE_1H))
        xdo(session, "key", "Return")  # "Mute backup for 1 hour (urgent ones too)"
        wait_for(lambda: session.cli("mutes", db=db).stdout.startswith("muted backup"), "muted")
        assert "(urgent ones too)" in session.cli("mutes", db=db).stdout
        args = ("send", "disk fuller", "--source", "backup", "--priority", "urgent")
        muted = session.cli(*args, db=db)
        assert "not shown: backup is muted" in muted.stderr
        assert agent.poll() is None
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    assert "backup: disk fuller" not in shown(session)
