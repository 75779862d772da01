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
