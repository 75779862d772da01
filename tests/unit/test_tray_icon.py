"""The tray app's rule for its icon: one thread at a time changes it, nothing reaches it
after its stop, and the stop runs once, by whichever of `quit` and the icon's loop comes
second. pystray's xorg backend needs all three (a shared reply queue, a loop that answers
nothing once stopped); the desktop proof is `test_signals.py` on a real X server."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import wait_for
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.engine.runtime import Runtime, RuntimeConfig
from traycourier.agent.notifiers.backends import NullNotifier
from traycourier.agent.policy.menu_actions import SetEnabled
from traycourier.agent.tray.app import TrayApp
from traycourier.store import Database, read_settings


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


class LoopIcon(RoundTripIcon):
    """As pystray's xorg icon: a change from another thread waits until the icon's loop
    thread has made it; the loop also delivers the menu's clicks, on the same thread."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = threading.Thread(target=self._run, daemon=True)
        self.unanswered: list[str] = []
        self._work: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()

    def _change(self, what: str) -> None:
        if threading.current_thread() is self.loop:
            super()._change(what)
            return
        made = threading.Event()
        self._work.put(lambda: (super(LoopIcon, self)._change(what), made.set()))
        if not made.wait(timeout=10):  # pystray would wait for good: the agent would hang
            self.unanswered.append(what)

    def click(self, fire: Callable[[], None]) -> None:
        self._work.put(fire)

    def _run(self) -> None:
        while (job := self._work.get()) is not None:
            job()

    def end(self) -> None:
        self._work.put(None)
        self.loop.join(timeout=30)


def test_a_click_while_another_thread_redraws_never_holds_up_the_icons_loop(
    app: TrayApp, db: Database
) -> None:
    """The loop delivers a click while the worker, holding the icon lock, waits for the loop
    to make its change: the click's action still runs, and the redraw finishes."""
    icon = LoopIcon()
    app._icon = icon
    icon.loop.start()
    app._setup(icon)
    clicked = 0
    try:
        for _ in range(20):
            redraw = threading.Thread(target=app.refresh, kwargs={"force": True})
            held = threading.Event()
            icon.click(held.wait)  # the loop is busy until the redraw has taken the lock
            redraw.start()
            wait_for(app._icon_lock.locked, "the redraw to hold the icon lock")
            assert app._shown is not None
            fire = app._shown.fire
            icon.click(lambda fire=fire, on=clicked % 2 == 0: fire(SetEnabled(on)))  # last: off
            held.set()
            clicked += 1
            redraw.join()
            assert icon.unanswered == [], "the redraw waited for a loop that waited for it"
        wait_for(lambda: read_settings(db).enable_notifications is False, "the clicks to run")
    finally:
        app.quit()
        icon.end()
    assert icon.overlapping == []
