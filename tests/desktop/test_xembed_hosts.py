"""The icon on XEmbed tray hosts users run besides trayer: tint2 under openbox. On five
consecutive starts it docks (a mapped, tray-sized window); its menu opens with a real
pointer and one item changes the database."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool, wait_for
from tests.desktop.conftest import Desktop, _artifacts, desktop_session
from tests.desktop.test_tray_e2e import icon_window, open_menu, setting, xdo

pytestmark = pytest.mark.desktop

STARTS = 5


@pytest.fixture
def tint2_desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    for tool in ("openbox", "tint2", "xdotool", "xwininfo"):
        require_tool(tool)
    logdir = tmp_path / "desktop"
    with desktop_session(logdir, tray=False) as session:
        session.env["PYSTRAY_BACKEND"] = "gtk"
        session.env["TRAYCOURIER_MENU_DUMP"] = str(logdir / "menu.json")
        hosts = [
            subprocess.Popen(
                [program], env=session.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for program in ("openbox", "tint2")
        ]
        wait_for(lambda: bool(xdo(session, "search", "--classname", "tint2").split()), "tint2")
        time.sleep(0.5)  # tint2 takes the tray selection just after its panel maps
        try:
            yield session
            session.screenshot(logdir / "tint2.png")
        finally:
            for host in reversed(hosts):
                host.terminate()
                host.wait(timeout=10)
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


def test_tint2_docks_the_icon_on_every_start_and_its_menu_works(
    tint2_desktop: Desktop, tmp_path: Path
) -> None:
    session, db = tint2_desktop, tmp_path / "tc.db"
    for start in range(STARTS):
        agent = session.start_agent(db)
        try:
            wait_for(lambda: docked_size(session) is not None, f"start {start}: docked", 60)
            size = docked_size(session)
            assert size is not None and min(size) >= 16, size
            if start == STARTS - 1:
                icon_window(session)
                open_menu(session)
                session.screenshot(session.logdir / "tint2-menu.png")
                xdo(session, "key", "Down", "Down", "Return")
                wait_for(
                    lambda: setting(db, "enable_notifications") == "false",
                    "the switch to flip from tint2's menu",
                )
        finally:
            agent.send_signal(signal.SIGTERM)
            _out, err = agent.communicate(timeout=60)
        assert agent.returncode == 0, err
        wait_for(lambda: docked_size(session) is None, f"start {start}: the icon gone", 30)
