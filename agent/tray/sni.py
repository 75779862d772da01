"""Keeping the StatusNotifier item registered while panels come and go.

libayatana-appindicator registers the item once when the watcher's bus name appears. A
watcher that takes its name before it exports its object (status-notifier-watcher does, and a
panel restarting at login races the same way) fails that one call, and the library never asks
again: the icon stays on its invisible XEmbed fallback until the agent restarts. Setting the
menu makes the library register again (and drop the fallback once that works), so after the
watcher appears we check, a few times with growing pauses, that the watcher lists our item,
and re-set the menu when it does not. Runs on the GTK main loop; GTK-only imports stay inside.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
RECHECKS_MS = (500, 1000, 2000, 4000, 8000)
CALL_TIMEOUT_MS = 1000


def is_listed(items: list[str], unique_name: str) -> bool:
    """Watchers list an item as its bus name, or as bus name + object path (KDE)."""
    return any(item == unique_name or item.startswith(unique_name + "/") for item in items)


def keep_registered(register_again: Callable[[], None]) -> Any:
    """Watch the watcher's name on the session bus for the life of the process; returns the
    watch id. `register_again` must make the item register (pystray's `update_menu`)."""
    from gi.repository import Gio, GLib

    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)

    def listed() -> bool:
        try:
            reply = bus.call_sync(
                WATCHER,
                WATCHER_PATH,
                "org.freedesktop.DBus.Properties",
                "Get",
                GLib.Variant("(ss)", (WATCHER, "RegisteredStatusNotifierItems")),
                GLib.VariantType("(v)"),
                Gio.DBusCallFlags.NONE,
                CALL_TIMEOUT_MS,
                None,
            )
        except GLib.Error as err:
            log.debug("the StatusNotifier watcher did not answer: %s", err.message)
            return False
        return is_listed(list(reply.unpack()[0]), bus.get_unique_name() or "")

    def check(attempt: int) -> bool:
        if listed():
            return False
        if attempt + 1 < len(RECHECKS_MS):
            log.info("the tray item is not registered with the StatusNotifier watcher; again")
            register_again()
            GLib.timeout_add(RECHECKS_MS[attempt + 1], check, attempt + 1)
        else:
            log.warning("the StatusNotifier watcher does not list the tray item; giving up")
        return False  # one-shot timeout

    def appeared(_bus: Any, _name: str, _owner: str) -> None:
        GLib.timeout_add(RECHECKS_MS[0], check, 0)

    return Gio.bus_watch_name_on_connection(
        bus, WATCHER, Gio.BusNameWatcherFlags.NONE, appeared, None
    )
