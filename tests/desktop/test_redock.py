"""A panel that restarts (a crash, a theme change, `xfce4-panel -r`) must get the icon back
without the user restarting the agent: on an XEmbed tray (tint2) and on a StatusNotifier
host whose watcher restarts with it (status-notifier-watcher with gtk-sni-tray-standalone)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.conftest import require, require_tool, wait_for
from tests.desktop.conftest import _artifacts, desktop_session
from tests.desktop.hosts import gtk_sni_tray, tint2
from tests.desktop.test_statusnotifier import item_property, registered_item
from tests.desktop.test_xembed_hosts import docked_size

pytestmark = pytest.mark.desktop


def test_the_icon_docks_again_after_an_xembed_panel_restarts(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for tool in ("xdotool", "xwininfo"):
        require_tool(tool)
    logdir, db = tmp_path / "desktop", tmp_path / "tc.db"
    with desktop_session(logdir, tray=False) as session:
        session.env["PYSTRAY_BACKEND"] = "gtk"
        with tint2(session):
            agent = session.start_agent(db)
            try:
                wait_for(lambda: docked_size(session) is not None, "docked the first time", 60)
            except AssertionError:
                agent.kill()
                raise
        try:
            wait_for(lambda: docked_size(session) is None, "the icon gone with the panel", 30)
            with tint2(session):
                wait_for(lambda: docked_size(session) is not None, "docked again", 60)
                session.screenshot(logdir / "redocked.png")
                assert agent.poll() is None
        finally:
            agent.send_signal(signal.SIGTERM)
            _out, err = agent.communicate(timeout=60)
    _artifacts(request, logdir)
    assert agent.returncode == 0, err


def _active(session) -> bool:  # type: ignore[no-untyped-def]
    item = registered_item(session)
    return item is not None and "'Active'" in item_property(session, item, "Status")


def test_the_item_registers_again_after_the_watcher_and_host_restart(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    require_tool("gdbus")
    typelibs = list(Path("/usr/lib").glob("*/girepository-1.0/AyatanaAppIndicator3-0.1.typelib"))
    require(bool(typelibs), "gir1.2-ayatanaappindicator3-0.1 is not installed")
    logdir, db = tmp_path / "desktop", tmp_path / "tc.db"
    with desktop_session(logdir, tray=False) as session:
        session.env.pop("PYSTRAY_BACKEND", None)
        with gtk_sni_tray(session):
            agent = session.start_agent(db)
            try:
                wait_for(lambda: _active(session), "registered and Active the first time", 60)
            except AssertionError:
                agent.kill()
                raise
        try:
            with gtk_sni_tray(session):
                wait_for(lambda: _active(session), "registered and Active again", 60)
                session.screenshot(logdir / "registered-again.png")
                assert agent.poll() is None
        finally:
            agent.send_signal(signal.SIGTERM)
            _out, err = agent.communicate(timeout=60)
    _artifacts(request, logdir)
    assert agent.returncode == 0, err
