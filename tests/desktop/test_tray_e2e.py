"""The tray on a real tray host (trayer, XEMBED) with pystray's GTK backend: it docks, its
menu opens on a right-click and its items change the database; Quit leaves nothing behind.
Screenshots of the open menu and of each icon state go to the test's artefacts."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import require, require_tool, wait_for
from tests.desktop import hosts
from tests.desktop.conftest import Desktop, _artifacts, assert_left_cleanly, desktop_session

pytestmark = pytest.mark.desktop


def xdo(session: Desktop, *args: str) -> str:
    return subprocess.run(
        ["xdotool", *args], env=session.env, capture_output=True, text=True, timeout=30
    ).stdout


def app_windows(session: Desktop) -> list[tuple[int, int, int, int]]:
    """(x, y, width, height) of the agent's visible windows: the icon, and while shown its
    menu and its tooltip."""
    found = []
    for window in xdo(session, "search", "--onlyvisible", "--classname", "traycourier").split():
        shell = xdo(session, "getwindowgeometry", "--shell", window).split()
        geometry = dict(line.split("=") for line in shell)
        found.append(
            (
                int(geometry["X"]),
                int(geometry["Y"]),
                int(geometry["WIDTH"]),
                int(geometry["HEIGHT"]),
            )
        )
    return found


def icon_window(session: Desktop) -> tuple[int, int]:
    """The docked icon's centre (not its tooltip's, which GTK shows while the pointer
    rests on the icon, in the same window class)."""
    icons = [(x, y, w, h) for x, y, w, h in app_windows(session) if w <= 64 and h <= 64]
    assert icons, "the tray icon did not dock"
    x, y, w, h = min(icons, key=lambda g: g[2] * g[3])
    return x + w // 2, y + h // 2


def menu_is_open(session: Desktop) -> bool:
    return any(h >= 100 for _x, _y, _w, h in app_windows(session))


def menu(session: Desktop) -> dict:
    return json.loads((session.logdir / "menu.json").read_text())


def open_menu(session: Desktop) -> None:
    """Right click on the icon, the pointer arriving from elsewhere as a user's does (GTK
    ignores clicks on a status icon the pointer rested on while it was redrawn)."""
    for _ in range(3):
        x, y = icon_window(session)
        xdo(session, "mousemove", "0", "400")
        time.sleep(0.2)
        xdo(session, "mousemove", str(x), str(y), "click", "3")
        deadline = time.monotonic() + 5
        while not menu_is_open(session) and time.monotonic() < deadline:
            time.sleep(0.1)
        if menu_is_open(session):
            break
    assert menu_is_open(session), "the menu did not open"
    time.sleep(0.3)  # let GTK draw it before a screenshot or a key


def setting(db: Path, key: str) -> str | None:
    row = sqlite3.connect(db).execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def test_the_tray_docks_and_its_menu_drives_the_agent(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    session, db = tray_desktop, tmp_path / "tc.db"
    shots = session.logdir
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray to come up", 60)
        wait_for(
            lambda: bool(
                xdo(session, "search", "--onlyvisible", "--classname", "traycourier").split()
            ),
            "the icon to dock",
            60,
        )
        assert menu(session)["icon"] == "on"
        session.screenshot(shots / "icon-on.png")

        # a second tray agent on the same database is refused; the first keeps running
        second = session.cli("run", db=db, timeout=60)
        assert second.returncode == 1
        assert "already runs" in second.stderr and len(second.stderr.splitlines()) == 1
        assert agent.poll() is None

        open_menu(session)
        session.screenshot(shots / "menu-open.png")
        # the status line (left click's default), Show all notifications…, then the switch
        xdo(session, "key", "Down", "Down", "Down", "Return")
        wait_for(lambda: setting(db, "enable_notifications") == "false", "the switch to flip")
        wait_for(lambda: menu(session)["icon"] == "off", "the off icon")
        session.screenshot(shots / "icon-off.png")

        # a notification sent now is not shown
        assert session.cli("send", "while off", "--priority", "urgent", db=db).returncode == 0
        wait_for(
            lambda: (
                sqlite3.connect(db).execute("SELECT status FROM notification_deliveries").fetchall()
                == [("skipped",)]
            ),
            "the notification to be skipped",
        )
        assert all(r["summary"] != "while off" for r in session.received())

        # a change from another process shows in the menu
        assert session.cli("settings", "set", "enable_notifications", "true", db=db).returncode == 0
        assert session.cli("settings", "set", "min_priority", "urgent", db=db).returncode == 0
        wait_for(
            lambda: (
                [
                    c["text"]
                    for m in menu(session)["menu"]
                    if m.get("text") == "Minimum priority"
                    for c in m["children"]
                    if c.get("checked")
                ]
                == ["Urgent"]
            ),
            "the radio item to follow the CLI",
        )
        assert session.cli("settings", "set", "paused_until", "30m", db=db).returncode == 0
        wait_for(lambda: menu(session)["icon"] == "paused", "the paused icon")
        assert menu(session)["title"].startswith("traycourier — paused until ")
        session.screenshot(shots / "icon-paused.png")
        with sqlite3.connect(db) as conn:  # a failed delivery asks for attention
            conn.execute("UPDATE notification_deliveries SET status = 'failed'")
        assert session.cli("settings", "set", "paused_until", "off", db=db).returncode == 0
        wait_for(lambda: menu(session)["icon"] == "attention", "the attention icon")
        session.screenshot(shots / "icon-attention.png")

        # a left click shows the status as a notification (a click GTK takes for the start
        # of a double click is repeated, as a user would)
        def status_shown() -> bool:
            return any(
                r["summary"].startswith("traycourier — ") and "pending" in r["body"]
                for r in session.received()
            )

        x, y = icon_window(session)
        for _ in range(3):
            # the pointer arrives from elsewhere, as a user's does: GTK ignores clicks on
            # a status icon the pointer rested on while it was redrawn (seen under Xvfb)
            xdo(session, "mousemove", "0", "400")
            time.sleep(0.2)
            xdo(session, "mousemove", str(x), str(y), "click", "1")
            deadline = time.monotonic() + 3
            while not status_shown() and time.monotonic() < deadline:
                time.sleep(0.1)
            if status_shown():
                break
        assert status_shown(), "no status notification after a left click"

        # Quit from the menu: last item
        open_menu(session)
        xdo(session, "key", "Up", "Return")
        agent.wait(timeout=60)
    finally:
        if agent.poll() is None:
            agent.kill()
        _out, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err
    assert_left_cleanly(db)


def test_an_open_menu_follows_a_change_and_a_click_does_what_it_shows(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    """Open the menu, switch notifications off from the CLI: the open menu unchecks the
    switch, and clicking it then switches notifications back on, as its check mark said."""
    session, db = tray_desktop, tmp_path / "tc.db"
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray to come up", 60)
        open_menu(session)
        off = session.cli("settings", "set", "enable_notifications", "false", db=db)
        assert off.returncode == 0, off.stderr
        wait_for(lambda: menu(session)["icon"] == "off", "the tray to see the change")
        time.sleep(0.5)  # the open menu is updated on GTK's main loop, when it is idle
        session.screenshot(session.logdir / "open-menu-followed.png")
        xdo(session, "key", "Down", "Down", "Down", "Return")
        wait_for(
            lambda: setting(db, "enable_notifications") == "true",
            "the unchecked switch to switch notifications on",
        )
        assert agent.poll() is None
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err


def test_without_a_tray_host_it_runs_headless_and_says_why(
    desktop: Desktop, tmp_path: Path
) -> None:
    db = tmp_path / "tc.db"
    agent = desktop.start_agent(db, "--once")
    _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    assert "running headless: no tray host" in err.splitlines()[0]


def test_without_a_notification_daemon_the_icon_asks_for_attention_at_once(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Before any delivery has failed: the tray checks the bus after every tick."""
    require_tool("xdotool")
    logdir, db = tmp_path / "desktop", tmp_path / "tc.db"
    with desktop_session(logdir, notifyd=False, tray=True) as session:
        session.env["PYSTRAY_BACKEND"] = "gtk"
        session.env["TRAYCOURIER_MENU_DUMP"] = str(logdir / "menu.json")
        agent = session.start_agent(db)
        try:
            wait_for(lambda: (logdir / "menu.json").exists(), "the tray to come up", 60)
            wait_for(lambda: menu(session)["icon"] == "attention", "the attention icon")
            assert "the notifier is not working" in menu(session)["title"]
            assert sqlite3.connect(db).execute(
                "SELECT count(*) FROM notification_delivery_attempts"
            ).fetchone() == (0,)
        finally:
            agent.terminate()
            agent.communicate(timeout=60)
    _artifacts(request, logdir)


def test_a_tray_host_that_starts_after_the_agent_gets_the_icon(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """At login the agent often starts before the panel: it delivers without an icon, and
    docks as soon as a tray host appears (here trayer, 4 s later)."""
    require_tool("xdotool")
    require_tool("trayer")
    logdir, db = tmp_path / "desktop", tmp_path / "tc.db"
    with desktop_session(logdir, tray=False) as session:
        session.env["PYSTRAY_BACKEND"] = "gtk"
        session.env["TRAYCOURIER_MENU_DUMP"] = str(logdir / "menu.json")
        agent = session.start_agent(db)
        panel = contextlib.ExitStack()
        try:
            assert (
                session.cli("send", "before the panel", "--priority", "urgent", db=db).returncode
                == 0
            )
            wait_for(
                lambda: "before the panel" in {r["summary"] for r in session.received()},
                "delivery without an icon",
            )
            time.sleep(4)
            panel.enter_context(hosts.trayer(session))
            wait_for(lambda: (logdir / "menu.json").exists(), "the tray to come up", 60)
            wait_for(
                lambda: bool(
                    xdo(session, "search", "--onlyvisible", "--classname", "traycourier").split()
                ),
                "the icon to dock",
                60,
            )
            session.screenshot(logdir / "docked-late.png")
            assert (
                session.cli("send", "after the panel", "--priority", "urgent", db=db).returncode
                == 0
            )
            wait_for(
                lambda: "after the panel" in {r["summary"] for r in session.received()},
                "delivery with the icon",
            )
            assert agent.poll() is None
        finally:
            agent.terminate()
            _out, err = agent.communicate(timeout=60)
            panel.close()
    _artifacts(request, logdir)
    assert agent.returncode == 0, err
    assert err.splitlines()[0] == (
        "traycourier: no tray host yet; delivering without an icon until one appears"
    )


def test_the_xorg_backend_runs_with_the_titles_it_can_encode(
    tray_desktop: Desktop, tmp_path: Path
) -> None:
    """`PYSTRAY_BACKEND=xorg` (no PyGObject needed) writes titles as Latin-1 window names."""
    session, db = tray_desktop, tmp_path / "tc.db"
    session.env["PYSTRAY_BACKEND"] = "xorg"
    agent = session.start_agent(db)
    try:
        wait_for(lambda: (session.logdir / "menu.json").exists(), "the tray to come up", 60)
        assert session.cli("send", "via xorg", "--priority", "urgent", db=db).returncode == 0
        wait_for(lambda: "via xorg" in {r["summary"] for r in session.received()}, "delivery")
        assert menu(session)["title"] == "traycourier — on"  # the model keeps its words
        assert agent.poll() is None, "the agent died"
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    assert "UnicodeEncodeError" not in err


def test_doctor_says_a_statusnotifier_host_gets_traycourier_s_own_item(
    desktop: Desktop, tmp_path: Path
) -> None:
    """A StatusNotifier host (a watcher on the bus) and no XEmbed tray: the icon is the
    agent's own item, which needs neither GTK nor the AppIndicator library."""
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import dbus, dbus.service, time; bus = dbus.SessionBus(); "
            "name = dbus.service.BusName('org.kde.StatusNotifierWatcher', bus); "
            "print('up', flush=True); time.sleep(120)",
        ],
        env=desktop.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None and watcher.stdout.readline().strip() == "up"
        env_backend = dict(desktop.env)
        env_backend.pop("PYSTRAY_BACKEND", None)
        desktop.env.clear()
        desktop.env.update(env_backend)
        result = desktop.cli("doctor", db=tmp_path / "tc.db")
    finally:
        watcher.kill()
    tray_line = next(line for line in result.stdout.splitlines() if " tray " in f" {line} ")
    assert tray_line.startswith("OK") and "traycourier's own" in tray_line, result.stdout


@pytest.mark.parametrize("host", ["trayer", "tint2"])
def test_an_xembed_tray_gets_the_gtk_icon_even_with_appindicator_installed(
    tmp_path: Path, host: str
) -> None:
    """Issue 26: with the AppIndicator library installed (as `make setup-run` does) the agent
    picked it on an XEmbed tray, with no tooltip and a left click opening the menu. Without
    a StatusNotifier watcher it is pystray's GTK icon, and a left click shows the status."""
    from tests.desktop.hosts import XEMBED_HOSTS

    typelibs = list(Path("/usr/lib").glob("*/girepository-1.0/AyatanaAppIndicator3-0.1.typelib"))
    require(bool(typelibs), "gir1.2-ayatanaappindicator3-0.1 is not installed")
    logdir = tmp_path / "desktop"
    with desktop_session(logdir, tray=False) as session, XEMBED_HOSTS[host](session):
        session.env.pop("PYSTRAY_BACKEND", None)  # the agent chooses, as on a user's desktop
        db = tmp_path / "tc.db"
        agent = session.start_agent(db)
        log = logdir / "state" / "traycourier" / "log" / "traycourier.log"
        try:
            wait_for(lambda: log.exists() and "tray icon up" in log.read_text(), "the icon", 60)
            wait_for(lambda: bool(app_windows(session)), "the icon docked", 60)
            x, y = icon_window(session)
            xdo(session, "mousemove", "0", "400")
            time.sleep(0.2)
            xdo(session, "mousemove", str(x), str(y), "click", "1")
            wait_for(
                lambda: any(c.summary == "traycourier — on" for c in session.notify_calls()),
                "the status shown by a left click",
            )
            (status,) = [c for c in session.notify_calls() if c.summary == "traycourier — on"]
            assert status.body == "0 pending · last shown never"
            assert not menu_is_open(session)  # a left click is not the menu
        finally:
            agent.send_signal(signal.SIGINT)  # Ctrl-C, as `make run` is ended
            out, err = agent.communicate(timeout=30)
    assert "tray icon up (pystray._gtk)" in log.read_text()
    # the Gdk-CRITICAL a user saw on `make run` came from AppIndicator's own XEmbed fallback
    running = f"traycourier: running in your tray (database {db}, log {log}); Ctrl-C to quit"
    assert (agent.returncode, out, err.splitlines()) == (0, "", [running, "traycourier: stopped"])
