"""The icon on StatusNotifier (AppIndicator) tray hosts: status-notifier-watcher with
gtk-sni-tray-standalone, and xfce4-panel's systray, all from Debian. The item must be
registered and `Active` on every start, and its menu operable through its
`com.canonical.dbusmenu` object, as any StatusNotifier host (KDE, GNOME's extension, Wayland
panels) drives it."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool, wait_for
from tests.desktop.conftest import Desktop, _artifacts, desktop_session
from tests.desktop.hosts import SNI_HOSTS
from tests.desktop.test_tray_e2e import setting

pytestmark = pytest.mark.desktop

STARTS = 5
OWN_ITEM = "traycourier.agent.tray.snitem"
"""traycourier's own StatusNotifier item, the icon wherever a watcher runs."""


def gdbus(session: Desktop, *args: str) -> str:
    done = subprocess.run(
        ["gdbus", "call", "--session", *args],
        env=session.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout


@pytest.fixture(params=sorted(SNI_HOSTS))
def sni_desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    require_tool("gdbus")
    logdir = tmp_path / "desktop"
    with desktop_session(logdir, tray=False) as session:
        session.env.pop("PYSTRAY_BACKEND", None)  # the agent chooses, as on a user's desktop
        session.env["TRAYCOURIER_MENU_DUMP"] = str(logdir / "menu.json")
        with SNI_HOSTS[request.param](session):
            yield session
            session.screenshot(logdir / f"{request.param}.png")
    _artifacts(request, logdir)


def registered_item(session: Desktop) -> tuple[str, str] | None:
    """(bus name, object path) of traycourier's StatusNotifier item, once registered.
    Watchers list an item as its bus name (the path is then /StatusNotifierItem) or as
    bus name + path."""
    listed = gdbus(
        session,
        "--dest", "org.kde.StatusNotifierWatcher", "--object-path", "/StatusNotifierWatcher",
        "--method", "org.freedesktop.DBus.Properties.Get",
        "org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems",
    )  # fmt: skip
    for entry in re.findall(r"'([^']+)'", listed):
        name, slash, path = entry.partition("/")
        path = slash + path if slash else "/StatusNotifierItem"
        if "org.kde.StatusNotifierItem" in gdbus(
            session,
            "--dest", name, "--object-path", path,
            "--method", "org.freedesktop.DBus.Introspectable.Introspect",
        ):  # fmt: skip
            return name, path
    return None


def item_property(session: Desktop, item: tuple[str, str], name: str) -> str:
    return gdbus(
        session,
        "--dest", item[0], "--object-path", item[1],
        "--method", "org.freedesktop.DBus.Properties.Get", "org.kde.StatusNotifierItem", name,
    )  # fmt: skip


def test_the_item_is_active_on_every_start(sni_desktop: Desktop, tmp_path: Path) -> None:
    session, db = sni_desktop, tmp_path / "tc.db"
    for start in range(STARTS):
        agent = session.start_agent(db)
        try:
            wait_for(lambda: registered_item(session) is not None, f"start {start}: registered")
            item = registered_item(session)
            assert item is not None
            wait_for(
                lambda item=item: "'Active'" in item_property(session, item, "Status"),
                f"start {start}: the item Active (not Passive, not hidden)",
                30,
            )
            assert "traycourier — on" in item_property(session, item, "Title")
            if start == STARTS - 1:
                time.sleep(0.5)  # the host draws the icon after the item turns Active
                session.screenshot(session.logdir / "icon-active.png")
        finally:
            agent.send_signal(signal.SIGTERM)
            _out, err = agent.communicate(timeout=60)
        assert agent.returncode == 0, err
    log = (session.logdir / "state" / "traycourier" / "log" / "traycourier.log").read_text()
    assert log.count(f"tray icon up ({OWN_ITEM})") == STARTS


def test_the_menu_is_operated_through_dbusmenu(sni_desktop: Desktop, tmp_path: Path) -> None:
    session, db = sni_desktop, tmp_path / "tc.db"
    agent = session.start_agent(db)
    try:
        wait_for(lambda: registered_item(session) is not None, "the item registered")
        item = registered_item(session)
        assert item is not None
        menu_path = re.search(r"objectpath '([^']+)'", item_property(session, item, "Menu"))
        assert menu_path is not None

        def layout() -> str:
            return gdbus(
                session,
                "--dest", item[0], "--object-path", menu_path[1],
                "--method", "com.canonical.dbusmenu.GetLayout", "--", "0", "-1", "[]",
            )  # fmt: skip

        wait_for(lambda: "Notifications enabled" in layout(), "the real menu on the bus")
        # ids change whenever the menu is rebuilt: read them right before the click
        found = re.search(r"\((\d+), \{[^{}]*'label': <'Notifications enabled'>", layout())
        assert found is not None, layout()
        gdbus(
            session,
            "--dest", item[0], "--object-path", menu_path[1],
            "--method", "com.canonical.dbusmenu.Event", "--",
            found[1], "clicked", "<int32 0>", "0",
        )  # fmt: skip
        wait_for(
            lambda: setting(db, "enable_notifications") == "false",
            "the switch to flip in the database",
        )
    finally:
        agent.send_signal(signal.SIGTERM)
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
