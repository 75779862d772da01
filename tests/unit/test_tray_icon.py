"""The tray app's rule for its icon: one thread at a time changes it, nothing reaches it
after its stop, and the stop runs once, by whichever of `quit` and the icon's loop comes
second. pystray's xorg backend needs all three (a shared reply queue, a loop that answers
nothing once stopped); the desktop proof is `test_signals.py` on a real X server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import wait_for
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.notifiers.backends import NullNotifier
from traycourier.agent.tray.app import TrayApp
from traycourier.store import Database


class RoundTripIcon:
    """Stands for pystray's xorg icon: each change is a round trip to its loop (a short
    pause here). It records what it was asked, in order, and any change that came while
    another was in progress or after the stop: what that backend cannot take."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.overlapping: list[str] = []
        self.after_stop: list[str] = []
        self._busy = threading.Lock()
        self._stopped = False
        self._title = ""

    def _change(self, what: str) -> None:
        mine = self._busy.acquire(blocking=False)
        if not mine:
            self.overlapping.append(what)
        try:
            if self._stopped:
                self.after_stop.append(what)
            time.sleep(0.001)
            self.calls.append(what)
        finally:
            if mine:
                self._busy.release()

    def _set_icon(self, _image: object) -> None:
        self._change("icon")

    def _set_title(self, value: str) -> None:
        self._title = value
        self._change("title")

    def _set_menu(self, _menu: object) -> None:
        self._change("menu")

    def _set_visible(self, _value: bool) -> None:
        self._change("visible")

    icon = property(None, _set_icon)
    title = property(lambda self: self._title, _set_title)
    menu = property(None, _set_menu)
    visible = property(None, _set_visible)

    def stop(self) -> None:
        self._change("stop")
        self._stopped = True


@pytest.fixture
def app(db: Database) -> Iterator[TrayApp]:
    waker = db.listen()
    tray = TrayApp(db, AgentLoop(Runtime(db, NullNotifier(), RuntimeConfig(owner="t")), waker))
    tray._own_item = True  # menus as plain `Built` values: no pystray loaded here
    yield tray
    tray.quit()
    tray._finish()
    waker.close()


def test_one_thread_at_a_time_changes_the_icon_and_none_after_its_stop(app: TrayApp) -> None:
    icon = RoundTripIcon()
    app._icon = icon
    app._setup(icon)
    done = threading.Event()

    def redraw() -> None:
        while not done.is_set():
            app.refresh(force=True)

    redrawers = [threading.Thread(target=redraw) for _ in range(4)]
    for thread in redrawers:
        thread.start()
    try:
        wait_for(lambda: len(icon.calls) > 60, "the icon to be redrawn from four threads")
        app.quit()
    finally:
        done.set()
        for thread in redrawers:
            thread.join()
    assert icon.overlapping == []
    assert icon.after_stop == []
    assert icon.calls.count("stop") == 1 and icon.calls[-1] == "stop"


def test_a_quit_before_the_icons_loop_runs_is_its_stop_once_it_runs(app: TrayApp) -> None:
    """A signal while the icon is being made: the loop's start stops it, and nothing is
    shown or started."""
    icon = RoundTripIcon()
    app._icon = icon
    app.quit()
    assert icon.calls == []  # no loop yet: a stop now would be lost
    app._setup(icon)
    app.quit()
    assert icon.calls == ["stop"]
    assert app._worker is None


def test_a_quit_once_the_loop_runs_stops_the_icon_once(app: TrayApp) -> None:
    icon = RoundTripIcon()
    app._icon = icon
    app._setup(icon)
    assert icon.calls[-1] == "visible"
    app.quit()
    app.quit()
    assert icon.calls.count("stop") == 1 and icon.calls[-1] == "stop"
    assert app._worker is not None
    app._worker.join(timeout=30)
    assert not app._worker.is_alive()
