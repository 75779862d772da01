"""Menu items a newcomer uses, operated on the real tray (trayer, GTK) with the keyboard:
a Recent entry is marked read when clicked and, without a link, says so; "Open data folder"
where nothing can open folders says that too; About comes with the app's icon."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.conftest import fetch_window, wait_for
from tests.desktop.conftest import Desktop
from tests.desktop.test_tray_e2e import menu, open_menu, xdo

pytestmark = pytest.mark.desktop

# keyboard positions: Down from nothing highlights the status line; the disabled
# "Retry failed (0)" is skipped
SHOW_ALL, RECENT, OPEN_DATA_FOLDER, ABOUT = 2, 7, 9, 13


def press_item(session: Desktop, downs: int, *then: str) -> None:
    open_menu(session)
    xdo(session, "key", *(["Down"] * downs), *then)


def shown(session: Desktop) -> list[tuple[str, str, str]]:
    return [(c.summary, c.body, c.icon) for c in session.notify_calls()]


def test_recent_about_and_a_folder_nothing_can_open(tray_desktop: Desktop, tmp_path: Path) -> None:
    session, db = tray_desktop, tmp_path / "tc.db"
    session.env["PATH"] = f"{tmp_path / 'bin'}:{session.env['PATH']}"
    fake = tmp_path / "bin" / "xdg-open"  # a desktop with no file manager: xdg-open exits 3
    fake.parent.mkdir()
    handed = tmp_path / "handed"  # what the opener was given, byte for byte
    fake.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$1" >> {handed}\n'
        "echo 'xdg-open: no method available for opening' >&2\nexit 3\n"
    )
    fake.chmod(0o755)
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray", 60)
        link = "https://example.com/build/42?a=1&b=%20"
        sent = session.cli(
            "send", "Disk almost full", "--priority", "urgent", "--action", f"Open log={link}",
            db=db,
        )  # fmt: skip
        assert sent.returncode == 0
        wait_for(lambda: any(s == "Disk almost full" for s, _, _ in shown(session)), "shown")
        wait_for(
            lambda: any(
                c.get("text", "").startswith("● Disk almost full")
                for m in menu(session)["menu"]
                for c in m.get("children", [])
            ),
            "the unread entry in Recent",
        )
        press_item(session, RECENT, "Right", "Right", "Return")  # the entry: "Open log"
        wait_for(
            lambda: (
                sqlite3.connect(db).execute("SELECT read_at FROM notifications").fetchone()[0]
                is not None
            ),
            "the entry marked read",
        )
        wait_for(
            # the body as dunst parses it: markup escaped ("&" is "&amp;")
            lambda: any(
                "No application is set to open https://example.com/build/42?a=1&amp;b=%20. "
                "Details are in the log." in body
                for _, body, _ in shown(session)
            ),
            "the user told the link cannot be opened",
        )
        assert handed.read_text() == f"{link}\n"  # the address as the producer wrote it

        time.sleep(0.5)
        press_item(session, OPEN_DATA_FOLDER, "Return")
        wait_for(
            lambda: any(  # short and readable: xdg-open's own words are in the log
                b.startswith("No application is set to open /") for _, b, _ in shown(session)
            ),
            "the user told the folder cannot be opened",
        )

        time.sleep(0.5)
        press_item(session, ABOUT, "Return")
        wait_for(lambda: any(s.startswith("traycourier 0.") for s, _, _ in shown(session)), "About")
        (about_icon,) = [icon for s, _, icon in shown(session) if s.startswith("traycourier 0.")]
        assert about_icon.endswith("traycourier.png")
        session.screenshot(session.logdir / "after-about.png")

        # Show all notifications…: the browser is handed the window's address, which serves
        # the page listing what was sent
        time.sleep(0.5)
        press_item(session, SHOW_ALL, "Return")
        # the opener has had the link and the data folder; now the window's address
        wait_for(lambda: len(handed.read_text().splitlines()) == 3, "the window's address")
        address = handed.read_text().splitlines()[2]
        assert address.startswith("http://127.0.0.1:") and "/?key=" in address
        status, page = fetch_window(address)
        assert status == 200 and "Disk almost full" in page
        assert agent.poll() is None
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    log = (session.logdir / "state" / "traycourier" / "log" / "traycourier.log").read_text()
    assert "cannot open" in log and "no method available" in log
