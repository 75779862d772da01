"""The tray icon: pystray on the main thread, the runtime in a worker thread.

Every change the worker makes to the icon goes through pystray's own setters (`icon.icon`,
`icon.title`, `icon.menu`), which the GTK backend marshals onto its main loop. The menu is
rebuilt from `agent.tray_model` after each tick (a tick follows every database change, so a
setting changed by another process shows within a moment) and after each click.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent import APP_NAME, __version__, autostart, controls, icons, paths, tray_model
from agent.notifier import PlyerNotifier
from agent.runtime import Runtime
from agent.wakeup import Waker
from store import Database, StoreError, queries, read_settings, timestamps

log = logging.getLogger(__name__)

DUMP_ENV = "TRAYCOURIER_MENU_DUMP"
"""When set, the menu is also written there as JSON after each refresh (tests, support)."""


def _prepare_gtk() -> None:
    """A tray icon draws no OpenGL: without this GDK opens GL at start-up, which loads Mesa
    (under Xvfb llvmpipe's libLLVM, ~55 MiB of resident memory) for nothing."""
    os.environ.setdefault("GDK_GL", "disable")


def unavailable_reason() -> str | None:
    """Why a tray icon cannot be shown here, or None. Checked before pystray is imported,
    because pystray's import itself fails (or its icon waits forever) without a display."""
    if not sys.platform.startswith("linux"):
        return None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (DISPLAY and WAYLAND_DISPLAY are unset)"
    backend = os.environ.get("PYSTRAY_BACKEND", "")
    if backend in ("", "gtk", "appindicator"):
        _prepare_gtk()
        try:
            import gi

            gi.require_version("Gtk", "3.0")
            from gi.repository import Gtk  # noqa: F401
        except (ImportError, ValueError) as err:
            return f"no GTK for the tray ({err})"
    if os.environ.get("DISPLAY") and not _tray_host_present():
        return "no tray host on the display (no system tray or status notifier)"
    if not backend:
        _prefer_a_working_backend()
    try:
        import pystray  # noqa: F401 - the import picks and loads the backend
    except Exception as err:
        return f"the tray backend does not load ({type(err).__name__}: {err})"
    return None


def _prefer_a_working_backend() -> None:
    """pystray tries AppIndicator first and falls back only on ImportError, but a missing
    AppIndicator typelib raises ValueError -- seen on a fresh Debian, where it would end the
    agent. Pick GTK (XEmbed) ourselves when no AppIndicator library is installed."""
    import gi

    for namespace in ("AyatanaAppIndicator3", "AppIndicator3"):
        try:
            gi.require_version(namespace, "0.1")
            return
        except ValueError:
            continue
    os.environ["PYSTRAY_BACKEND"] = "gtk"


def _tray_host_present() -> bool:
    """An XEMBED tray owns _NET_SYSTEM_TRAY_S<n>, or a StatusNotifierWatcher is on the bus."""
    try:
        from Xlib import display as xdisplay

        disp = xdisplay.Display()
        try:
            atom = disp.intern_atom(f"_NET_SYSTEM_TRAY_S{disp.get_default_screen()}")
            if disp.get_selection_owner(atom) != 0:
                return True
        finally:
            disp.close()
    except Exception as err:
        log.debug("XEMBED tray check failed: %s", err)
    try:
        import dbus

        return bool(dbus.SessionBus().name_has_owner("org.kde.StatusNotifierWatcher"))
    except Exception:
        return False


class TrayApp:
    def __init__(self, db: Database, runtime: Runtime, waker: Waker) -> None:
        self.db = db
        self.runtime = runtime
        self.waker = waker
        self._state: tray_model.TrayState | None = None
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._icon: Any = None

    # -- state ----------------------------------------------------------------------------

    def load_state(self) -> tray_model.TrayState:
        current = read_settings(self.db)
        summary = queries.tray_summary(self.db)
        recent = queries.recent_notifications(self.db, tray_model.RECENT)
        notifier = self.runtime.notifier
        return tray_model.TrayState(
            enabled=current.enable_notifications,
            paused_until=timestamps.parse(current.paused_until) if current.paused_until else None,
            min_priority=current.min_priority,
            pending=summary.pending,
            failed=summary.failed,
            last_delivered=(
                timestamps.parse(summary.last_delivered_at) if summary.last_delivered_at else None
            ),
            recent=tuple(
                tray_model.RecentItem(
                    r.id,
                    r.title,
                    r.priority,
                    tray_model.first_url(r.actions_json),
                    r.read_at is not None,
                )
                for r in recent
            ),
            autostart=autostart.is_enabled(),
            notifier_broken=isinstance(notifier, PlyerNotifier) and not notifier.available,
            version=__version__,
            db_path=str(self.db.path),
        )

    def refresh(self, force: bool = False) -> None:
        try:
            state = self.load_state()
        except StoreError as err:
            log.error("cannot read the database for the tray: %s", err)
            return
        with self._lock:
            if state == self._state and not force:
                return
            self._state = state
        if sys.platform == "darwin":
            # AppKit must only be touched from the main thread; pystray does not marshal there.
            from PyObjCTools import AppHelper

            AppHelper.callAfter(self._apply, state)
        else:
            self._apply(state)

    def _apply(self, state: tray_model.TrayState) -> None:
        now = timestamps.utcnow()
        entries = tray_model.build_menu(state, now)
        icon = self._icon
        if icon is None:
            return
        icon.icon = icons.render(tray_model.icon_state(state, now))
        icon.title = tray_model.tooltip(state, now)
        icon.menu = self._to_pystray(entries)
        dump = os.environ.get(DUMP_ENV)
        if dump:
            payload = {
                "icon": tray_model.icon_state(state, now),
                "title": tray_model.tooltip(state, now),
                "menu": tray_model.as_plain(entries),
            }
            Path(dump).write_text(json.dumps(payload, indent=1), encoding="utf-8")

    # -- pystray --------------------------------------------------------------------------

    def _to_pystray(self, entries: tuple[tray_model.Entry, ...]) -> Any:
        import pystray

        items = []
        for e in entries:
            if e.separator:
                items.append(pystray.Menu.SEPARATOR)
                continue
            if e.children:
                items.append(pystray.MenuItem(e.text, self._to_pystray(e.children)))
                continue
            checked = None if e.checked is None else (lambda _item, value=e.checked: value)
            items.append(
                pystray.MenuItem(
                    e.text,
                    self._handler(e.action),
                    checked=checked,
                    radio=e.radio,
                    enabled=e.enabled,
                )
            )
        return pystray.Menu(*items)

    def _handler(self, action: str | None) -> Callable[..., None]:
        def handle(_icon: Any = None, _item: Any = None) -> None:
            if action is None:
                return
            try:
                self.perform(action)
            except StoreError as err:
                log.error("%s failed: %s", action, err)
            except Exception:  # a menu click must never take the agent down
                log.exception("menu action %s failed", action)

        return handle

    def perform(self, action: str) -> None:
        """Run one menu action; the same `controls` functions the CLI uses."""
        log.info("menu: %s", action)
        now = timestamps.utcnow()
        state = self._state
        if action == "quit":
            self.quit()
            return
        if action == "toggle_enabled":
            controls.set_enabled(self.db, not (state.enabled if state else True), now)
        elif action.startswith("pause:"):
            arg = action.split(":", 1)[1]
            if arg == "tomorrow":
                controls.pause_until_tomorrow(self.db, now)
            else:
                controls.pause_for(self.db, int(arg), now)
        elif action == "resume":
            controls.resume(self.db, now)
        elif action.startswith("min:"):
            controls.set_min_priority(self.db, action.split(":", 1)[1], now)
        elif action.startswith("open:"):
            ntf_id = action.split(":", 1)[1]
            item = next((r for r in (state.recent if state else ()) if r.id == ntf_id), None)
            if item and item.url:
                controls.open_url(item.url)
        elif action == "mark_all_read":
            controls.mark_all_read(self.db, now)
        elif action == "retry_failed":
            controls.retry_failed(self.db, now)
        elif action == "open_data":
            controls.open_path(self.db.path.parent)
        elif action == "open_log":
            controls.open_path(paths.log_file())
        elif action == "toggle_autostart":
            if autostart.is_enabled():
                autostart.disable()
            else:
                autostart.enable()
        elif action == "about":
            self._icon_notify(f"{APP_NAME} {__version__}", f"Database: {self.db.path}")
        self.waker.poke()
        self.refresh(force=True)

    def _icon_notify(self, title: str, body: str) -> None:
        from agent.notifier import OsNotification, show_within

        try:
            show_within(self.runtime.notifier, OsNotification(title, body, "info"), 5)
        except Exception as err:
            log.warning("about: %s", err)

    # -- lifecycle ------------------------------------------------------------------------

    def run(self) -> None:
        """Blocks on the main thread until Quit, a signal, or the session ends."""
        _prepare_gtk()
        try:
            from gi.repository import GLib

            GLib.set_prgname(APP_NAME)  # the window class docks and WMs see
        except ImportError:
            pass
        import pystray

        self.runtime.on_tick = lambda _report: self.refresh()
        self._icon = pystray.Icon(
            APP_NAME, icons.render("on"), f"{APP_NAME} — starting", pystray.Menu()
        )
        self._install_signals()
        self._icon.run(setup=self._setup)
        self._finish()

    def _setup(self, icon: Any) -> None:
        icon.visible = True
        self.refresh(force=True)
        self._worker = threading.Thread(target=self._run_runtime, name="runtime", daemon=True)
        self._worker.start()
        log.info("tray icon up (%s)", type(icon).__module__)

    def _run_runtime(self) -> None:
        try:
            self.runtime.run(self.waker)
        except Exception:
            log.exception("the runtime stopped unexpectedly")
        finally:
            if self._icon is not None and not self.runtime.stop.is_set():
                self._icon.stop()

    def quit(self) -> None:
        self.runtime.stop.set()
        self.waker.poke()
        if self._icon is not None:
            self._icon.stop()

    def _finish(self) -> None:
        self.runtime.stop.set()
        self.waker.poke()
        if self._worker is not None:
            self._worker.join(timeout=30)

    def _install_signals(self) -> None:
        """SIGTERM/SIGINT/SIGHUP (logout) quit cleanly. GTK's main loop does not run Python
        signal handlers, so under GLib the signals are routed through it."""
        signals = [signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)]
        try:
            from gi.repository import GLib

            for sig in signals:
                if sig is not None:
                    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, self._on_glib_signal, sig)
            return
        except (ImportError, AttributeError):
            pass
        for sig in signals:
            if sig is not None:
                signal.signal(sig, lambda signum, _frame: self.quit())

    def _on_glib_signal(self, sig: int) -> bool:
        log.info("signal %d: quitting", sig)
        self.quit()
        return False
