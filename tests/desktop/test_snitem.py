"""traycourier's own StatusNotifier item, as a real host (gtk-sni-tray-standalone with
status-notifier-watcher) and the programs around it see it: no GTK in the agent, a menu that
follows the database, a click that does what the menu showed when it was drawn, and
another program's titles drawn as written."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import mapped_libraries, require_tool, wait_for
from tests.desktop.conftest import Desktop, _artifacts, desktop_session
from tests.desktop.hosts import gtk_sni_tray
from tests.desktop.test_statusnotifier import gdbus, item_property, registered_item
from tests.desktop.test_tray_e2e import setting

pytestmark = pytest.mark.desktop


@pytest.fixture
def agent_on_sni(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple]:
    require_tool("gdbus")
    logdir, db = tmp_path / "desktop", tmp_path / "tc.db"
    with desktop_session(logdir, tray=False) as session, gtk_sni_tray(session):
        session.env.pop("PYSTRAY_BACKEND", None)  # the agent chooses, as on a user's desktop
        agent = session.start_agent(db)
        try:
            wait_for(lambda: registered_item(session) is not None, "the item registered")
            item = registered_item(session)
            assert item is not None
            yield session, db, agent, item
        finally:
            agent.send_signal(signal.SIGTERM)
            _out, err = agent.communicate(timeout=60)
        assert agent.returncode == 0, err
    _artifacts(request, logdir)


def menu_path(session: Desktop, item: tuple[str, str]) -> str:
    found = re.search(r"objectpath '([^']+)'", item_property(session, item, "Menu"))
    assert found is not None
    return found[1]


def layout(session: Desktop, item: tuple[str, str]) -> str:
    return gdbus(
        session,
        "--dest", item[0], "--object-path", menu_path(session, item),
        "--method", "com.canonical.dbusmenu.GetLayout", "--", "0", "-1", "[]",
    )  # fmt: skip


def switch(session: Desktop, item: tuple[str, str]) -> tuple[int, int] | None:
    """(id, toggle-state) of "Notifications enabled" in the layout the host reads now."""
    found = re.search(
        r"\((\d+), \{'label': <'Notifications enabled'>[^{}]*'toggle-state': <(\d)>",
        layout(session, item),
    )
    return (int(found[1]), int(found[2])) if found else None


def click(session: Desktop, item: tuple[str, str], item_id: int) -> None:
    gdbus(
        session,
        "--dest", item[0], "--object-path", menu_path(session, item),
        "--method", "com.canonical.dbusmenu.Event", "--",
        str(item_id), "clicked", "<int32 0>", "0",
    )  # fmt: skip


def test_no_gtk_no_appindicator_and_no_openssl_are_loaded(agent_on_sni: tuple) -> None:
    _session, _db, agent, _item = agent_on_sni
    libraries = " ".join(sorted(mapped_libraries(agent.pid)))
    assert "libsqlite3" in libraries  # these are the agent's maps: it has the file open
    for absent in ("libgtk-3", "libgdk", "appindicator", "libssl", "libcrypto"):
        assert absent not in libraries  # OpenSSL: agent/system/loading.py


def test_the_menu_follows_the_database_and_a_click_does_what_was_shown(
    agent_on_sni: tuple,
) -> None:
    session, db, agent, item = agent_on_sni
    wait_for(lambda: switch(session, item) is not None, "the switch in the layout")
    shown = switch(session, item)
    assert shown is not None and shown[1] == 1  # on, and clicking it switches off
    off = session.cli("settings", "set", "enable_notifications", "false", db=db)
    assert off.returncode == 0, off.stderr  # another program, meanwhile
    wait_for(lambda: (switch(session, item) or (0, 1))[1] == 0, "the switch shown off")
    wait_for(lambda: "off" in item_property(session, item, "Title"), "the title says off")
    now = switch(session, item)
    assert now is not None and now[0] != shown[0]  # a new menu has new ids
    # the host still drew the first menu when the user clicked "Notifications enabled ✓":
    # that click switches off (what it showed), not on (what is at its place now)
    log = session.logdir / "state" / "traycourier" / "log" / "traycourier.log"
    click(session, item, shown[0])
    wait_for(lambda: "menu: SetEnabled(enabled=False)" in log.read_text(), "the click run")
    assert setting(db, "enable_notifications") == "false"
    click(session, item, now[0])
    wait_for(lambda: setting(db, "enable_notifications") == "true", "switched on")
    assert agent.poll() is None


def test_another_program_s_title_is_drawn_as_written(agent_on_sni: tuple) -> None:
    session, db, _agent, item = agent_on_sni
    title = "build_42 <b>failed</b> & 'quoted'"
    sent = session.cli("send", title, "--priority", "urgent", db=db)
    assert sent.returncode == 0, sent.stderr
    # a mnemonic underscore is doubled in dbusmenu, so the host draws one; gdbus quotes a
    # string that holds a ' with "
    drawn = "build__42 <b>failed</b> & 'quoted' · just now"
    wait_for(lambda: drawn in layout(session, item), "the title in Recent")
    cli = subprocess.run(
        ["gdbus", "call", "--session", "--dest", item[0], "--object-path", item[1],
         "--method", "org.freedesktop.DBus.Properties.Get", "org.kde.StatusNotifierItem",
         "IconPixmap"],
        env=session.env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    sizes = re.findall(r"\((\d+), (\d+), \[byte", cli.stdout)
    assert sizes and all(w == h for w, h in sizes), cli.stdout[:200]


def icon_centre(session: Desktop, shot: Path) -> tuple[int, int] | None:
    """Where the panel drew the item, found by its colour (the "on" icon's blue) in the top
    strip of a screenshot: the item has no window of its own to ask for."""
    session.screenshot(shot)
    image = Image.open(shot).convert("RGB")
    found = [
        (x, y)
        for y in range(min(48, image.height))
        for x in range(image.width)
        if _blue(image.getpixel((x, y)))
    ]
    if len(found) < 50:
        return None
    xs, ys = [x for x, _ in found], [y for _, y in found]
    return (min(xs) + max(xs)) // 2, (min(ys) + max(ys)) // 2


def _blue(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r < 70 and 40 < g < 120 and b > 180


@pytest.mark.parametrize("host", ["xfce4-panel", "gtk-sni-tray"])
def test_the_panel_draws_the_menu_and_a_choice_made_in_it_reaches_the_agent(
    host: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A real pointer and keyboard on the menu the panel drew from the item's dbusmenu: a
    right click on the icon, Down to the first item (the status line), Return; the agent
    shows the status as a notification."""
    from tests.desktop.hosts import SNI_HOSTS
    from tests.desktop.test_tray_e2e import xdo

    for tool in ("gdbus", "xdotool"):
        require_tool(tool)
    logdir, db = tmp_path / "desktop", tmp_path / "tc.db"
    with desktop_session(logdir, tray=False) as session, SNI_HOSTS[host](session):
        session.env.pop("PYSTRAY_BACKEND", None)
        agent = session.start_agent(db)
        try:
            wait_for(lambda: registered_item(session) is not None, "the item registered")
            wait_for(lambda: icon_centre(session, logdir / "icon.png") is not None, "drawn")
            x, y = icon_centre(session, logdir / "icon.png") or (0, 0)
            for _attempt in range(3):
                xdo(session, "mousemove", "0", "400")
                xdo(session, "mousemove", str(x), str(y), "click", "3")
                time.sleep(1.0)  # the panel asks for the layout, then maps the menu
                session.screenshot(logdir / "menu-open.png")  # the menu as the panel drew it
                xdo(session, "key", "Down", "Return")
                try:
                    wait_for(
                        lambda: any(
                            c.summary == "traycourier — on" for c in session.notify_calls()
                        ),
                        "the status, chosen in the panel's menu",
                        10,
                    )
                    break
                except AssertionError:
                    session.screenshot(logdir / f"menu-attempt-{_attempt}.png")
            else:
                raise AssertionError("the menu drawn by the panel never reached the agent")
            log = (logdir / "state" / "traycourier" / "log" / "traycourier.log").read_text()
            assert "menu: ShowStatus()" in log
        finally:
            agent.send_signal(signal.SIGTERM)
            _out, err = agent.communicate(timeout=60)
    _artifacts(request, logdir)
    assert agent.returncode == 0, err
