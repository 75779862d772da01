"""A Wayland session (GNOME's and KDE Plasma's default) has no XEmbed tray: the icon exists
only through a StatusNotifier watcher. Without one, the agent must say so (not "tray icon
up"), `doctor` and `self-test` must say so, notifications must still be shown, and the icon
must appear once a watcher and its panel start. The session is a headless sway."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_tool, wait_for
from tests.desktop.conftest import Desktop, _artifacts, desktop_session
from tests.desktop.hosts import sway, wayland_sni_tray
from tests.desktop.test_statusnotifier import OWN_ITEM, item_property, registered_item

pytestmark = pytest.mark.desktop


@pytest.fixture
def wayland_desktop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desktop]:
    require_tool("gdbus")
    logdir = tmp_path / "desktop"
    with desktop_session(logdir, tray=False) as session, sway(session):
        session.env.pop("PYSTRAY_BACKEND", None)
        yield session
    _artifacts(request, logdir)


def shown(session: Desktop) -> set[str]:
    return {call.summary for call in session.notify_calls()}


def test_without_a_watcher_it_says_so_delivers_and_docks_when_a_panel_starts(
    wayland_desktop: Desktop, tmp_path: Path
) -> None:
    session, db = wayland_desktop, tmp_path / "tc.db"
    doctor = session.cli("doctor", db=db)
    tray_line = next(line for line in doctor.stdout.splitlines() if " tray " in f" {line} ")
    assert tray_line.startswith("WARN") and "no tray host" in tray_line, doctor.stdout
    self_test = json.loads(session.cli("self-test", db=tmp_path / "st.db").stdout)
    assert self_test["tray"].startswith("unavailable: no tray host"), self_test

    agent = session.start_agent(db)
    try:
        assert session.cli("send", "no panel yet", "--priority", "urgent", db=db).returncode == 0
        wait_for(lambda: "no panel yet" in shown(session), "delivery without an icon")
        assert registered_item(session) is None
        with wayland_sni_tray(session):
            wait_for(lambda: registered_item(session) is not None, "the item registered")
            item = registered_item(session)
            assert item is not None
            wait_for(
                lambda: "'Active'" in item_property(session, item, "Status"),
                "the item Active once the panel is there",
                30,
            )
            session.screenshot(session.logdir / "docked-late-wayland.png")
            sent = session.cli("send", "with a panel", "--priority", "urgent", db=db)
            assert sent.returncode == 0, sent.stderr
            wait_for(lambda: "with a panel" in shown(session), "delivery with the icon")
            assert agent.poll() is None
    finally:
        agent.send_signal(signal.SIGTERM)
        _out, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err
    assert err.splitlines()[0] == (
        "traycourier: no tray host yet; delivering without an icon until one appears"
    )
    log = (session.logdir / "state" / "traycourier" / "log" / "traycourier.log").read_text()
    assert log.index("a tray host appeared") < log.index(f"tray icon up ({OWN_ITEM})")
