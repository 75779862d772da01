"""The Windows program, built and used for real on this Linux machine under Wine: the frozen
build from the project's spec (packaging/windows/build.sh), its self-test, the tray icon in
Wine's system tray, a notification shown as a balloon and recorded `sent`, one Windows cannot
show recorded as an error (never `sent`), and Quit from the icon's menu."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool, wait_for
from tests.desktop.conftest import Desktop, _artifacts, assert_left_cleanly, desktop_session
from tests.packaging.conftest import windows_path, wine, wine_env

pytestmark = pytest.mark.packaging


def test_the_frozen_program_runs_and_proves_itself(
    frozen: Path, tmp_path: Path, pg_url: str
) -> None:
    env = wine_env(dict(os.environ))
    exe = frozen / "traycourier.exe"
    assert wine(env, exe, "--version").strip().splitlines()[-1] == "traycourier 0.1.0"
    report_file = tmp_path / "self-test.json"
    db = windows_path(tmp_path / "st.db")
    wine(env, exe, "--db", db, "self-test", "--out", windows_path(report_file))
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["ok"] is True, report
    assert report["history_window_ok"] is True  # served and fetched on loopback, under Wine
    assert report["frozen"] is True and report["platform"] == "windows"
    assert report["notifier"] == "windows-balloon"
    assert report["tray"] == "pystray._win32"
    # and serves a PostgreSQL server: psycopg, its Windows libpq and SQLAlchemy's dialect
    wine(env, exe, "--db", pg_url, "send", "from Windows", "--priority", "urgent")
    wine(env, exe, "--db", pg_url, "run", "--headless", "--once", "--notifier", "null")
    status = json.loads(wine(env, exe, "--db", pg_url, "status", "--json"))
    assert status["deliveries"]["sent"] == 1, status


@pytest.fixture
def wine_desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    for tool in ("xdotool", "xwininfo"):
        require_tool(tool)
    logdir = tmp_path / "desktop"
    with desktop_session(logdir, notifyd=False, tray=False) as session:
        session.env.pop("PYSTRAY_BACKEND", None)  # Wine hands Linux's environment to Windows
        session.env.update(wine_env(session.env))
        try:
            yield session
        finally:
            subprocess.run(["wineserver", "-k"], env=session.env, check=False, timeout=60)
    _artifacts(request, logdir)


def top_windows(session: Desktop) -> list[tuple[str, str, int, int]]:
    """(name, program, width, height) of every viewable window."""
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], env=session.env, capture_output=True, text=True
    ).stdout
    found = []
    for line in tree.splitlines():
        parts = line.split('("', 1)
        if len(parts) != 2 or "x" not in parts[1]:
            continue
        program = parts[1].split('"', 1)[0]
        size = parts[1].split(")", 1)[1].split()[0]
        width, height = (int(v) for v in size.split("+", 1)[0].split("x"))
        found.append((parts[0].split('"')[1] if '"' in parts[0] else "", program, width, height))
    return found


def tray_window(session: Desktop) -> str | None:
    """Wine's "Wine System Tray" window, mapped: Wine shows it while it holds an icon."""
    ids = subprocess.run(
        ["xdotool", "search", "--name", "Wine System Tray"],
        env=session.env, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    for window in ids:
        info = subprocess.run(
            ["xwininfo", "-id", window], env=session.env, capture_output=True, text=True
        ).stdout
        if "IsViewable" in info:
            return window
    return None


def balloon_shown(session: Desktop) -> bool:
    """Wine draws a balloon as a window of its shell (explorer.exe) below the tray."""
    return any(
        program == "explorer.exe" and name != "Wine System Tray" and w > 40 and h > 40
        for name, program, w, h in top_windows(session)
    )


def menu_open(session: Desktop) -> bool:
    return any(
        program == "traycourier.exe" and w > 100 and h > 100
        for _name, program, w, h in top_windows(session)
    )


def deliveries(db: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status, last_error FROM notification_deliveries").fetchall()


def test_the_agent_shows_a_balloon_records_it_sent_and_quits_from_its_menu(
    frozen: Path, wine_desktop: Desktop, tmp_path: Path
) -> None:
    session, db = wine_desktop, tmp_path / "tc.db"
    exe = frozen / "traycourier.exe"
    agent = subprocess.Popen(
        ["wine", str(exe), "--db", windows_path(db), "run"], env=session.env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: tray_window(session) is not None, "the icon in Wine's tray", 120)
        session.screenshot(session.logdir / "tray-icon.png")
        doctor = wine(session.env, exe, "--db", windows_path(db), "doctor")
        for check in ("notification icon", "shell tray", "tray"):
            line = next(x for x in doctor.splitlines() if f" {check} " in f" {x} ")
            assert line.startswith("OK"), doctor
        wine(session.env, exe, "--db", windows_path(db), "send", "--priority", "urgent",
             "Hello from traycourier", "shown by Windows' shell")  # fmt: skip
        wait_for(lambda: deliveries(db) == [("sent", None)], "the delivery recorded sent")
        wait_for(lambda: balloon_shown(session), "the balloon on screen", 30)
        session.screenshot(session.logdir / "balloon.png")

        tray = tray_window(session)
        assert tray is not None
        geometry = dict(
            line.split("=")
            for line in subprocess.run(
                ["xdotool", "getwindowgeometry", "--shell", tray],
                env=session.env, capture_output=True, text=True,
            ).stdout.split()
        )  # fmt: skip
        x, y = int(geometry["X"]) + 9, int(geometry["Y"]) + 9  # the first icon: ours
        subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "3"], env=session.env)
        wait_for(lambda: menu_open(session), "the menu to open", 30)
        time.sleep(0.5)
        session.screenshot(session.logdir / "menu.png")
        subprocess.run(["xdotool", "key", "Up", "Return"], env=session.env)  # Up: the last, Quit
        output, _ = agent.communicate(timeout=60)
    finally:
        if agent.poll() is None:
            agent.kill()
    assert agent.returncode == 0, output
    assert_left_cleanly(db)


def test_a_notification_windows_cannot_show_is_an_error_never_sent(
    frozen: Path, wine_desktop: Desktop, tmp_path: Path
) -> None:
    """The bundle's icon made unreadable: the balloon cannot be built, and the delivery says
    so (plyer's own notify would have returned normally and been recorded `sent`)."""
    session, db = wine_desktop, tmp_path / "tc.db"
    broken = tmp_path / "traycourier"
    shutil.copytree(frozen, broken)
    (broken / "_internal" / "traycourier" / "assets" / "traycourier.png").write_bytes(b"\x89PNG?")
    exe = broken / "traycourier.exe"
    wine(session.env, exe, "--db", windows_path(db), "send", "--priority", "urgent", "unseen")
    wine(session.env, exe, "--db", windows_path(db), "run", "--headless", "--once")
    [(status, error)] = deliveries(db)
    assert status in ("retry_wait", "failed")
    assert error is not None and "is not an image" in error
    assert not balloon_shown(session)


# The shell's messages about a balloon, posted to the agent's icon window as Windows' shell
# posts them (pystray's callback message, WM_USER + 11, with NIN_* in lParam). Wine's shell
# never sends them: its balloon is a tooltip window with no click or timeout message back.
POST_TO_ICON = r"""
import ctypes, sys
from ctypes import wintypes
user32 = ctypes.windll.user32
found = []
@ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)
def each(hwnd, _):
    name = ctypes.create_unicode_buffer(256)
    user32.GetClassNameW(hwnd, name, 256)
    if name.value.startswith("traycourier") and name.value.endswith("SystemTrayIcon"):
        found.append(hwnd)
    return True
user32.EnumWindows(each, 0)
for hwnd in found:
    user32.PostMessageW(hwnd, 0x400 + 11, 0, int(sys.argv[1], 0))
print(len(found))
"""
NIN_BALLOONTIMEOUT, NIN_BALLOONUSERCLICK = "0x404", "0x405"


def shell_says(session: Desktop, tmp_path: Path, message: str) -> None:
    """Run by the Windows Python the build uses, in the same prefix (a stand-in for Windows'
    shell): pystray makes two windows of its class, and one is the icon's."""
    script = tmp_path / "shell.py"
    script.write_text(POST_TO_ICON, encoding="utf-8")
    posted = wine(session.env, r"C:\py311\python.exe", windows_path(script), message)
    assert int(posted.strip().splitlines()[-1]) >= 1, posted


def icons_in_tray(session: Desktop) -> int:
    """How many icons Wine's stand-alone tray shows: it draws each in a slot of its own, left
    to right, on white; counted as runs of columns with any non-white pixel."""
    from PIL import Image

    tray = tray_window(session)
    assert tray is not None
    geometry = dict(
        line.split("=") for line in subprocess.run(
            ["xdotool", "getwindowgeometry", "--shell", tray],
            env=session.env, capture_output=True, text=True,
        ).stdout.split()
    )  # fmt: skip
    x, y, w, h = (int(geometry[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
    shot = session.logdir / "tray-count.png"
    session.screenshot(shot)
    with Image.open(shot) as image:
        pixels = image.convert("RGB")
        drawn = [
            any(pixels.getpixel((x + i, y + j)) != (255, 255, 255) for j in range(h))
            for i in range(w)
        ]
    return sum(1 for i, on in enumerate(drawn) if on and (i == 0 or not drawn[i - 1]))


def notification_state(db: Path, notification: str) -> tuple[str | None, str | None, str | None]:
    """(delivery status, read_at, closed_reason) of one notification."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT d.status, n.read_at, d.closed_reason FROM notifications AS n "
            "JOIN notification_deliveries AS d ON d.notification_id = n.id WHERE n.id = ?",
            (notification,),
        ).fetchone()
    return (None, None, None) if row is None else row


def test_balloons_come_from_the_one_icon_and_a_click_opens_the_link(
    frozen: Path, wine_desktop: Desktop, tmp_path: Path
) -> None:
    """Twenty notifications from the frozen program leave one icon in Wine's tray (plyer's
    balloons added one each); a click on a balloon opens its link in the browser, byte for
    byte, and marks it read; a balloon's end is recorded like `NotificationClosed`."""
    session, db = wine_desktop, tmp_path / "tc.db"
    exe = frozen / "traycourier.exe"
    opened, browser = tmp_path / "opened", tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {opened}\n', encoding="utf-8")
    browser.chmod(0o755)
    browsers = r"HKCU\Software\Wine\WineBrowser"  # winebrowser, Wine's handler of http(s)
    wine(session.env, "reg", "add", browsers, "/v", "Browsers", "/d", str(browser), "/f")
    agent = subprocess.Popen(
        ["wine", str(exe), "--db", windows_path(db), "run"], env=session.env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    headless = None
    try:
        wait_for(lambda: tray_window(session) is not None, "the icon in Wine's tray", 120)
        assert icons_in_tray(session) == 1
        for n in range(20):  # twenty sources: no burst folds them, twenty balloons
            wine(session.env, exe, "--db", windows_path(db), "send", "--source", f"job{n}",
                 f"build {n} done")  # fmt: skip
        wait_for(lambda: deliveries(db) == [("sent", None)] * 20, "twenty balloons sent", 60)
        session.screenshot(session.logdir / "twenty.png")
        assert icons_in_tray(session) == 1

        url = "https://example.test/log?id=7&x=%20y#end"
        ntf = wine(session.env, exe, "--db", windows_path(db), "send", "--source", "ci",
                   "--priority", "urgent", "--action", f"Open the log={url}", "Build failed",
                   "click to see the log").strip().splitlines()[-1]  # fmt: skip
        wait_for(lambda: notification_state(db, ntf)[0] == "sent", "the link's balloon")
        shell_says(session, tmp_path, NIN_BALLOONUSERCLICK)
        wait_for(lambda: opened.exists() and opened.read_text() == url + "\n", "the browser")
        wait_for(lambda: notification_state(db, ntf)[1:] != (None, None), "marked read")
        _status, read_at, closed = notification_state(db, ntf)
        assert read_at is not None and closed == "clicked"

        ntf = wine(session.env, exe, "--db", windows_path(db), "send", "timed out").strip()
        ntf = ntf.splitlines()[-1]
        wait_for(lambda: notification_state(db, ntf)[0] == "sent", "the next balloon")
        shell_says(session, tmp_path, NIN_BALLOONTIMEOUT)
        wait_for(lambda: notification_state(db, ntf)[2] == "undefined", "its end recorded")
        assert notification_state(db, ntf)[1] is None  # not read: nobody clicked it
        assert opened.read_text() == url + "\n"  # and nothing else opened

        # the count sees a second icon: a headless agent's own, made once for its balloons
        other = tmp_path / "headless.db"
        headless = subprocess.Popen(
            ["wine", str(exe), "--db", windows_path(other), "run", "--headless"],
            env=session.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        for n in range(3):
            wine(session.env, exe, "--db", windows_path(other), "send", f"headless {n}")
        wait_for(lambda: deliveries(other) == [("sent", None)] * 3, "the headless balloons", 60)
        wait_for(lambda: icons_in_tray(session) == 2, "the headless agent's one icon")
        time.sleep(2)
        assert icons_in_tray(session) == 2
    finally:
        for process in (headless, agent):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        wine(session.env, "reg", "delete", browsers, "/v", "Browsers", "/f")
