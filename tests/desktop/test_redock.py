"""A panel that restarts (a crash, a theme change, `xfce4-panel -r`) must get the icon back
without the user restarting the agent: on an XEmbed tray (tint2) and on a StatusNotifier
host whose watcher restarts with it (status-notifier-watcher with gtk-sni-tray-standalone)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.conftest import require_tool, wait_for
from tests.desktop.conftest import Desktop, _artifacts, desktop_session
from tests.desktop.hosts import gtk_sni_tray, tint2
from tests.desktop.test_statusnotifier import item_property, registered_item
from tests.desktop.test_xembed_hosts import docked_size

pytestmark = pytest.mark.desktop


def _docked(session: Desktop) -> bool:
    return docked_size(session) is not None


def _active(session: Desktop) -> bool:
    item = registered_item(session)
    return item is not None and "'Active'" in item_property(session, item, "Status")


# host, what "visible" means there, and the pystray backend (None: the agent chooses)
HOSTS = {
    "tint2 (XEmbed)": (tint2, _docked, "gtk"),
    "gtk-sni-tray and its watcher (StatusNotifier)": (gtk_sni_tray, _active, None),
}


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_the_icon_comes_back_when_the_panel_restarts(
    host: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    start_host, visible, backend = HOSTS[host]
    for tool in ("xdotool", "xwininfo", "gdbus"):
        require_tool(tool)
    logdir, db = tmp_path / "desktop", tmp_path / "tc.db"
    with desktop_session(logdir, tray=False) as session:
        session.env.pop("PYSTRAY_BACKEND", None)
        if backend:
            session.env["PYSTRAY_BACKEND"] = backend
        with start_host(session):
            agent = session.start_agent(db)
            try:
                wait_for(lambda: visible(session), "visible the first time", 60)
            except AssertionError:
                agent.kill()
                raise
        try:
            with start_host(session):
                wait_for(lambda: visible(session), "visible again", 60)
                session.screenshot(logdir / "back.png")
                assert agent.poll() is None
        finally:
            agent.send_signal(signal.SIGTERM)
            _out, err = agent.communicate(timeout=60)
    _artifacts(request, logdir)
    assert agent.returncode == 0, err
