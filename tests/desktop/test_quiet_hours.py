"""Quiet hours on the real desktop (dunst, trayer): an `info` notification is held and an
`urgent` one shown at once; the icon and tooltip say quiet; switching quiet hours off from the
tray's own menu (keyboard) shows the held one."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.desktop.conftest import Desktop
from tests.desktop.test_tray_e2e import menu, open_menu, setting, xdo

pytestmark = pytest.mark.desktop

QUIET_HOURS = 4  # keyboard position: status line, switch, Pause, Quiet hours


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


MUTED_SOURCES = 7  # keyboard position of "Muted sources"


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
        wait_for(lambda: "ci red" in shown(session), "the other source's notification")
        assert "backup ran" not in shown(session)
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
        wait_for(lambda: "backup ran again" in shown(session), "shown once unmuted")
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
