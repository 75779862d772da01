"""The icon on XEmbed tray hosts users run: trayer, tint2 under openbox, and xfce4-panel's
systray. On five consecutive starts it docks (a mapped, tray-sized window); its
menu opens with a real pointer and one item changes the database."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool, wait_for
from tests.desktop.conftest import Desktop, _artifacts, desktop_session
from tests.desktop.hosts import XEMBED_HOSTS
from tests.desktop.test_tray_e2e import icon_window, open_menu, setting, xdo

pytestmark = pytest.mark.desktop

STARTS = 5


@pytest.fixture(params=sorted(XEMBED_HOSTS))
def xembed_desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    for tool in ("xdotool", "xwininfo"):
        require_tool(tool)
    logdir = tmp_path / "desktop"
    with desktop_session(logdir, tray=False) as session:
        session.env["PYSTRAY_BACKEND"] = "gtk"  # XEmbed even where a StatusNotifier host exists
        session.env["TRAYCOURIER_MENU_DUMP"] = str(logdir / "menu.json")
        with XEMBED_HOSTS[request.param](session):
            yield session
            session.screenshot(logdir / f"{request.param}.png")
    _artifacts(request, logdir)


def docked_size(session: Desktop) -> tuple[int, int] | None:
    windows = xdo(session, "search", "--onlyvisible", "--classname", "traycourier").split()
    if not windows:
        return None
    info = subprocess.run(
        ["xwininfo", "-id", windows[0]], env=session.env, capture_output=True, text=True
    ).stdout
    if "IsViewable" not in info:
        return None
    width = int(info.split("Width:")[1].split()[0])
    height = int(info.split("Height:")[1].split()[0])
    return width, height


def tray_sized(size: tuple[int, int] | None) -> bool:
    return size is not None and min(size) >= 16


def test_the_host_docks_the_icon_on_every_start_and_its_menu_works(
    xembed_desktop: Desktop, tmp_path: Path
) -> None:
    session, db = xembed_desktop, tmp_path / "tc.db"
    for start in range(STARTS):
        agent = session.start_agent(db)
        try:
            # mapped first, then sized by the host (trayer maps it 1 px wide for a moment)
            wait_for(lambda: tray_sized(docked_size(session)), f"start {start}: docked", 60)
            if start == STARTS - 1:
                icon_window(session)
                open_menu(session)
                session.screenshot(session.logdir / "menu-open.png")
                xdo(session, "key", "Down", "Down", "Down", "Return")
                wait_for(
                    lambda: setting(db, "enable_notifications") == "false",
                    "the switch to flip from the host's menu",
                )
        finally:
            agent.send_signal(signal.SIGTERM)
            _out, err = agent.communicate(timeout=60)
        assert agent.returncode == 0, err
        wait_for(lambda: docked_size(session) is None, f"start {start}: the icon gone", 30)
