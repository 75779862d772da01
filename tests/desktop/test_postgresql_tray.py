"""The tray agent on a PostgreSQL server, on the real desktop (dunst, trayer): a plain INSERT
from another connection reaches the daemon, woken by NOTIFY, and the tray's own menu writes
the user's setting on the server. The password shows nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.desktop.conftest import Desktop
from tests.desktop.test_tray_e2e import menu, open_menu, xdo
from tests.pgserver import PASSWORD, psycopg

pytestmark = pytest.mark.desktop

ENABLED = 3  # keyboard position: the status line, Show all notifications…, the switch


def server_setting(url: str, key: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = %s", [key]).fetchone()
    return row[0] if row else None


def test_the_tray_on_a_server_shows_a_plain_insert_and_its_menu_writes_there(
    tray_desktop: Desktop, pg_url: str, tmp_path: Path
) -> None:
    session = tray_desktop
    session.env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # this machine's device
    agent = session.start_agent(pg_url)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray", 60)
        with psycopg.connect(pg_url) as conn:
            conn.execute(
                "INSERT INTO notifications (title, priority) VALUES ('from the build box', "
                "'urgent')"
            )
        wait_for(
            lambda: any(c.summary == "from the build box" for c in session.notify_calls()),
            "the daemon to receive it",
        )
        wait_for(lambda: "0 pending" in menu(session)["menu"][0]["text"], "the tray to follow")
        open_menu(session)
        xdo(session, "key", *(["Down"] * ENABLED), "Return")
        wait_for(
            lambda: server_setting(pg_url, "enable_notifications") == "false",
            "the menu's switch written on the server",
        )
        assert (tmp_path / "config" / "traycourier" / "device.json").exists()
        assert agent.poll() is None
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    assert PASSWORD not in err
    logs = list((session.logdir).rglob("*.log"))
    assert all(PASSWORD not in log.read_text(errors="replace") for log in logs)
