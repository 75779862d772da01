"""The tray icon: pystray on the main thread, the runtime in a worker thread.

Every change the worker makes to the icon goes through pystray's own setters (`icon.icon`,
`icon.title`, `icon.menu`), which each backend hands to its loop: one caller at a time. The menu is
rebuilt from `agent.policy.tray_model` after each tick (a tick follows every database change, so a
setting changed by another process shows within a moment) and after each click.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traycourier.agent import APP_NAME, __version__
from traycourier.agent.engine import controls, doing
from traycourier.agent.engine.loop import AgentLoop
from traycourier.agent.engine.runtime import TickReport
from traycourier.agent.notifiers.notifier import OsNotification, show_within
from traycourier.agent.policy import tray_model
from traycourier.agent.policy.menu_actions import (
    About,
    MenuAction,
    OpenDataFolder,
    OpenLog,
    Quit,
    SetAutostart,
    ShowHistory,
    ShowStatus,
)
from traycourier.agent.system import ostype, paths, trayhost
from traycourier.agent.tray import menu as traymenu
from traycourier.agent.tray import quirks as trayquirks
from traycourier.agent.tray import sni
from traycourier.agent.tray import state as traystate
from traycourier.agent.tray.clicks import Clicks
from traycourier.agent.web.demand import WindowOnDemand
from traycourier.store import Database, StoreError, private, timestamps

if TYPE_CHECKING:
    from traycourier.agent.web.window import Window

log = logging.getLogger(__name__)

DUMP_ENV = "TRAYCOURIER_MENU_DUMP"
"""When set, the menu is also written there as JSON after each refresh (tests, support)."""


class TrayApp:
    def __init__(self, db: Database, loop: AgentLoop) -> None:
        self.db = db
        self.loop = loop
        self.runtime = loop.runtime
        self.waker = loop.waker
        self.exit_status = 0
        """Non-zero when the tray ends because of an error rather than Quit or a signal."""
        self._state: tray_model.TrayState | None = None
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._icon: Any = None
        self._icon_lock = threading.Lock()
        """Held while a thread changes the icon: pystray's xorg backend answers all callers
        through one queue, and its stopped loop answers nothing (`docs/decisions.md`, Tray)."""
        self._icon_closed = self._loop_running = False
        """No change after the stop; `_setup` was called (the loop runs: a stop ends it)."""
        self._shown: traymenu.Built | None = None
        """The menu the user sees (or would see on opening it)."""
        self.history = WindowOnDemand(self._make_window)
        self._clicks = Clicks(self._fire)
        self._own_item = False
        """traycourier's own StatusNotifier item (`agent.tray.snitem`) rather than pystray."""

    # -- state ----------------------------------------------------------------------------

    def load_state(self) -> tray_model.TrayState:
        return traystate.load(self.db, self.loop)

    def refresh(self, force: bool = False) -> None:
        """Redraw from the database. Never raises: it runs after every tick and every click,
        and what it reads is another program's data; while it cannot read, the icon shows
        the attention state."""
        try:
            state = self.load_state()
        except Exception as err:
            if isinstance(err, StoreError):
                log.error("cannot read the database for the tray: %s", err)
            else:
                log.exception("cannot build the tray's state")
            if self._state is None:
                return
            state = replace(self._state, agent_failing=True)
        with self._lock:
            if state == self._state and not force:
                return
            self._state = state
        if ostype.current() == "darwin":
            # AppKit must only be touched from the main thread; pystray does not marshal there.
            from PyObjCTools import AppHelper

            AppHelper.callAfter(self._apply, state)
        else:
            self._apply(state)

    def _apply(self, state: tray_model.TrayState) -> None:
        with self._icon_lock:
            if self._icon_closed:
                return
            try:
                self._draw(state)
            except Exception:
                log.exception("cannot draw the tray icon and menu")

    def _draw(self, state: tray_model.TrayState) -> None:
        now = timestamps.utcnow()
        entries = tray_model.build_menu(state, now)
        icon = self._icon
        if icon is None:
            return
        look, shows = state.settings.tray_icon, tray_model.icon_state(state, now)
        icon.icon = trayquirks.picture(type(icon).__module__, shows, look)
        icon.title = trayquirks.title_for(icon, tray_model.tooltip(state, now))
        built = traymenu.build(entries, self._clicks.fire, pystray_menu=not self._own_item)
        if type(icon).__module__ == "pystray._gtk":
            from gi.repository import GLib

            GLib.idle_add(self._show_gtk_menu, icon, built)
        else:
            self._shown = built
            icon.menu = built if self._own_item else built.menu
        trayquirks.gtk_tooltip(icon, icon.title)
        dump = os.environ.get(DUMP_ENV)
        if dump:
            title = tray_model.tooltip(state, now)
            payload = {"icon": shows, "title": title, "menu": tray_model.as_plain(entries)}
            # whole or not at all for its reader, and private: it holds titles
            private.write_file(Path(dump), json.dumps(payload, indent=1).encode("utf-8"))

    # -- pystray --------------------------------------------------------------------------

    def _show_gtk_menu(self, icon: Any, built: traymenu.Built) -> bool:
        """On the GTK main loop: an open menu is updated in place when it can be."""
        handle = traymenu.open_gtk_menu(icon)
        if handle is not None and self._shown is not None:
            try:
                shown = traymenu.update_in_place(handle, self._shown, built)
            except Exception:
                log.exception("cannot update the open menu; it changes when opened again")
                shown = None
            if shown is not None:
                self._shown = shown
                return False
        self._shown = built
        icon.menu = built.menu
        return False  # a one-shot idle callback

    def _fire(self, action: MenuAction) -> None:
        try:
            self.perform(action)
        except Exception as err:  # a menu click must never take the agent down
            if isinstance(err, StoreError | OSError):
                log.error("%s failed: %s", action, err)
            else:
                log.exception("menu action %s failed", action)
            self._complain(f"That did not work: {err}")

    def perform(self, action: MenuAction) -> None:
        """Run one menu action; the same `controls` functions the CLI uses."""
        log.info("menu: %s", action)
        now = timestamps.utcnow()
        if isinstance(action, Quit):
            self.quit()
            return
        config = self.runtime.config
        if not doing.do(self.db, config, action, now, self._icon_notify, self._complain):
            self._tray_action(action, now)
        self.waker.poke()
        self.refresh(force=True)

    def _tray_action(self, action: MenuAction, now: datetime) -> None:
        """What only the tray does: its folders, start at login, About, the history
        window, the status."""
        match action:
            case OpenDataFolder():
                folder = self.db.path.parent if self.db.path else paths.log_dir()
                controls.open_path(folder, self._complain)
            case OpenLog():
                controls.open_path(paths.log_file(), self._complain)
            case SetAutostart(enabled):
                controls.set_autostart(enabled, self.db.path or self.db.url)
            case About():
                self._icon_notify(f"{APP_NAME} {__version__}", f"Database: {self.db.location}")
            case ShowHistory():
                controls.open_url(self.history.open(), self._complain)
            case ShowStatus():
                if self._state is not None:
                    self._icon_notify(
                        tray_model.tooltip(self._state, now),
                        tray_model.status_line(self._state, now),
                    )

    def _make_window(self) -> Window:
        from traycourier.agent.web.window import Window

        config, notify = self.runtime.config, self._icon_notify
        return Window(self.db, config, self.waker.poke, notify, self._complain)

    def ticked(self, report: TickReport) -> None:
        """After each tick (each change of the database): the icon, the menu, open pages."""
        self.refresh()
        self.history.ticked(report)

    def _icon_notify(self, title: str, body: str) -> None:
        """The tray's own messages (About, status, a click that failed), as any other."""
        message = OsNotification(title, body, "info", icon=self.runtime.config.icon)
        try:
            show_within(self.runtime.notifier, message, 5)
        except Exception as err:
            log.warning("cannot show %r: %s", title, err)

    def _complain(self, what: str) -> None:
        self._icon_notify(APP_NAME, what)

    # -- lifecycle ------------------------------------------------------------------------

    def run(self) -> int:
        """Blocks on the main thread until Quit, a signal, or the session ends; returns the
        exit status."""
        self._own_item = trayhost.own_item()
        if self._own_item:
            from traycourier.agent.tray import snitem

            backend = snitem.__name__
        else:
            backend = self._load_pystray()
        # before the icon exists: GTK may dock it before the main loop runs, and a SIGTERM
        # then (a quick logout) must still quit cleanly
        trayhost.quit_on_signals(backend, self.quit)
        self.loop.on_tick = self.ticked
        # the real menu exists before the icon is shown: a StatusNotifier host that sees the
        # item with an empty menu can leave it hidden (xfce4-panel, sway: pystray's first
        # menu update raises inside its loop and the item stays Passive)
        now = timestamps.utcnow()
        try:
            state = self._state = self.load_state()
            look, shows = state.settings.tray_icon, tray_model.icon_state(state, now)
            image = trayquirks.picture(backend, shows, look)
            title = tray_model.tooltip(state, now)
            entries = tray_model.build_menu(state, now)
        except Exception:
            log.exception("cannot read the first state; starting with an empty menu")
            image, title, entries = trayquirks.picture(backend, "attention"), APP_NAME, ()
        self._shown = traymenu.build(entries, self._clicks.fire, pystray_menu=not self._own_item)
        if self._own_item:
            self._icon = snitem.StatusNotifierIcon(APP_NAME, image, title, self._shown)
        elif ostype.current() == "windows":  # its balloons are the notifications (winballoon)
            from traycourier.agent.notifiers import winshell

            self._icon = winshell.host.tray_icon(APP_NAME, image, None, self._shown.menu)
        else:
            import pystray

            self._icon = pystray.Icon(APP_NAME, image, None, self._shown.menu)
        self._icon.title = trayquirks.title_for(self._icon, title)
        if type(self._icon).__module__ == "pystray._appindicator":
            sni.keep_registered(self._icon.update_menu)
        self._icon.run(setup=self._setup)
        self._finish()
        return self.exit_status

    @staticmethod
    def _load_pystray() -> str:
        """pystray's backend, loaded; its module's name."""
        trayhost.prepare_gtk()
        try:
            from gi.repository import GLib

            GLib.set_prgname(APP_NAME)  # the window class docks and WMs see
        except ImportError:
            pass
        import pystray

        return str(pystray.Icon.__module__)

    def _setup(self, icon: Any) -> None:
        reclaimed = trayhost.reclaim_sigint(type(icon).__module__, self.quit)
        if reclaimed is not None:
            reclaimed.wait(5.0)  # before the icon shows and the terminal says "Ctrl-C to quit"
        with self._icon_lock:
            self._loop_running = True
            closed = self._icon_closed
        if closed:  # a signal came while the icon was being made: the stop is ours to do
            trayquirks.stop(icon)
            return
        # deliveries never wait for the icon: a backend's show can block (pystray's xorg
        # backend, seen waiting for a tray that never embeds it)
        self._worker = threading.Thread(target=self._run_runtime, name="runtime", daemon=True)
        self._worker.start()
        self.refresh(force=True)
        with self._icon_lock:
            if self._icon_closed:
                return
            icon.visible = True
        log.info("tray icon up (%s)", type(icon).__module__)
        print(  # `make run` in a terminal: say where it is, and how it ends
            f"{APP_NAME}: running in your tray (database {self.db.location}, log "
            f"{paths.log_file()}); Ctrl-C to quit",
            file=sys.stderr,
            flush=True,
        )

    def _run_runtime(self) -> None:
        try:
            self.loop.run()  # survives every error of a tick; this is for what it cannot
        except BaseException:
            self.exit_status = 1
            log.exception("the delivery thread stopped; the tray quits")
        finally:
            if not self.runtime.stop.is_set():
                self._close_icon()

    def quit(self) -> None:
        self.runtime.stop.set()
        self.waker.poke()
        self._close_icon()

    def _close_icon(self) -> None:
        """The icon's stop, once, after any change in progress; by this or `_setup`, second."""
        with self._icon_lock:
            if self._icon_closed:
                return
            self._icon_closed = True
            running = self._loop_running
        if running:
            trayquirks.stop(self._icon)

    def _finish(self) -> None:
        self.runtime.stop.set()
        self.waker.poke()
        self.history.stop()
        self._clicks.stop()
        if self._worker is not None:
            self._worker.join(timeout=30)
            if self._worker.is_alive():  # its tick ended or not, its leases expire in time
                log.error("the delivery thread did not stop within 30 s; quitting without it")
