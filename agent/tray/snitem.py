"""traycourier's own StatusNotifier item and its dbusmenu, spoken with jeepney: the tray
icon wherever a StatusNotifier watcher runs (KDE, GNOME with the AppIndicator extension,
xfce4-panel, waybar, swaybar), without GTK or the AppIndicator library. The panel draws the
icon and the menu; the agent only answers on the session bus. GTK is 19 MiB to load and
about 10 to run, half the tray agent's memory for a menu the panel draws anyway.

`StatusNotifierIcon` has the part of pystray's `Icon` that `agent.tray.app` uses (`icon`,
`title`, `menu`, `visible`, `run`, `stop`), so the app drives either the same way. The bus
is served on the thread that calls `run` (the main one); other threads post their changes
to it. Registration never waits on the watcher, which may call us back before it answers:
its answer is read like any other message, and a refusal (a watcher that owns its name
before it serves its object, as at login) is retried a few times with growing pauses, and
again whenever a watcher takes the name (a panel restarting).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PIL import Image

from traycourier.agent.tray import dbusmenu, snibus
from traycourier.agent.tray import menu as traymenu
from traycourier.agent.tray.sni import RECHECKS_MS, WATCHER, WATCHER_PATH
from traycourier.agent.tray.snibus import ITEM_IFACE, ITEM_PATH, MENU_IFACE, MENU_PATH

log = logging.getLogger(__name__)

PIXMAP_SIZES = (22, 32)
"""Besides the image's own size: hosts pick the nearest and scale it."""


def pixmaps(image: Image.Image) -> list[tuple[int, int, bytes]]:
    """The spec's `a(iiay)`: ARGB32 in network byte order, a few sizes."""
    out = []
    rgba = image.convert("RGBA")
    for size in sorted({*PIXMAP_SIZES, image.width}):
        img = rgba
        if img.size != (size, size):
            img = img.resize((size, size), Image.Resampling.LANCZOS)
        r, g, b, a = img.split()
        out.append((size, size, Image.merge("RGBA", (a, r, g, b)).tobytes()))
    return out


class StatusNotifierIcon:
    def __init__(self, name: str, image: Image.Image, title: str, menu: traymenu.Built) -> None:
        self.name = name
        self._pixmaps = pixmaps(image)
        self._title = dbusmenu.text(title)
        self._built = menu
        self._tree = dbusmenu.tree(menu.entries, 1, 1)
        self._current: dict[int, traymenu.Slot] = {}
        self._before: dict[int, traymenu.Slot] = {}
        self._fire = menu.fire
        self._remember(self._tree, menu)
        self._visible = False
        self._jobs: deque[Callable[[], None]] = deque()
        self._inbox: deque[Any] = deque()
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._timers: list[tuple[float, Callable[[], None]]] = []
        self._conn: Any = None
        self._register_serial: int | None = None
        self._attempt = 0
        self.bus_name = f"org.kde.StatusNotifierItem-{os.getpid()}-1"

    # -- pystray's Icon, as agent.tray.app uses it (any thread) ----------------------------

    @property
    def icon(self) -> list[tuple[int, int, bytes]]:
        return self._pixmaps

    @icon.setter
    def icon(self, image: Image.Image) -> None:
        made = pixmaps(image)
        self._post(lambda: self._new_icon(made))

    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, value: str) -> None:
        cleaned = dbusmenu.text(value)
        self._post(lambda: self._new_title(cleaned))

    @property
    def menu(self) -> traymenu.Built:
        return self._built

    @menu.setter
    def menu(self, built: traymenu.Built) -> None:
        self._post(lambda: self._new_menu(built))

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._post(lambda: self._show(value))

    def stop(self) -> None:
        self._stopping.set()
        self._wake()

    def run(self, setup: Callable[[StatusNotifierIcon], None]) -> None:
        """Serve the item until `stop`. `setup` runs in its own thread once the item is on
        the bus, as pystray runs it."""
        from jeepney import MatchRule

        from traycourier.agent.system import sessionbus

        self._conn = sessionbus.connect()
        try:
            sessionbus.bus_call(self._conn, "RequestName", "su", (self.bus_name, 4))
            owner_changes = MatchRule(
                type="signal", sender="org.freedesktop.DBus", member="NameOwnerChanged"
            )
            owner_changes.add_arg_condition(0, WATCHER)
            sessionbus.bus_call(self._conn, "AddMatch", "s", (owner_changes.serialise(),))
            with self._conn.filter(MatchRule(), queue=self._inbox):
                threading.Thread(target=setup, args=(self,), name="tray-setup").start()
                self._serve()
        finally:
            self._conn.close()
            self._wake_r.close()
            self._wake_w.close()

    # -- the loop (the thread in `run`) ---------------------------------------------------

    def _post(self, job: Callable[[], None]) -> None:
        self._jobs.append(job)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # the loop has ended and closed it
            self._wake_w.send(b"\0")

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._conn.sock, selectors.EVENT_READ, "bus")
        selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._wake_r.setblocking(False)
        while not self._stopping.is_set():
            while self._jobs:
                self._safely(self._jobs.popleft())
            while self._inbox and not self._stopping.is_set():
                self._safely(functools.partial(snibus.handle, self, self._inbox.popleft()))
            if self._run_timers() or self._jobs or self._inbox:
                continue
            for key, _ in selector.select(self._next_timer()):
                if key.data == "wake":
                    self._wake_r.recv(4096)
                else:
                    self._read_bus()
        selector.close()

    def _safely(self, job: Callable[[], None]) -> None:
        """One change or message: its failure is logged, and the item goes on serving."""
        try:
            job()
        except OSError as err:  # the bus connection itself (ConnectionError included)
            log.error("the session bus went away (%s); the tray icon ends", err)
            self._stopping.set()
        except Exception:
            log.exception("the tray item could not carry out a change or a call")

    def _read_bus(self) -> None:
        while True:
            try:
                self._conn.recv_messages(timeout=0)
            except TimeoutError:
                return
            except OSError as err:  # ConnectionError included
                log.error("the session bus went away (%s); the tray icon ends", err)
                self._stopping.set()
                return

    def _next_timer(self) -> float | None:
        if not self._timers:
            return None
        return max(0.0, min(at for at, _ in self._timers) - time.monotonic())

    def _run_timers(self) -> bool:
        now = time.monotonic()
        due = [job for at, job in self._timers if at <= now]
        self._timers = [(at, job) for at, job in self._timers if at > now]
        for job in due:
            self._safely(job)
        return bool(due)

    def after(self, delay_s: float, job: Callable[[], None]) -> None:
        self._timers.append((time.monotonic() + delay_s, job))

    # -- changes, on the loop ---------------------------------------------------------------

    def _new_icon(self, made: list[tuple[int, int, bytes]]) -> None:
        if made == self._pixmaps:
            return
        self._pixmaps = made
        self.emit(ITEM_PATH, ITEM_IFACE, "NewIcon")

    def _new_title(self, value: str) -> None:
        if value == self._title:
            return
        self._title = value
        self.emit(ITEM_PATH, ITEM_IFACE, "NewTitle")
        self.emit(ITEM_PATH, ITEM_IFACE, "NewToolTip")

    def _new_menu(self, built: traymenu.Built) -> None:
        if built.entries == self._built.entries:
            self._built = built
            self._remember(self._tree, built)  # the same items; their slots are the new ones
            return
        self._built = built
        self._tree = dbusmenu.tree(built.entries, self._tree.revision + 1, self._tree.last_id + 1)
        self._remember(self._tree, built)
        self.emit(MENU_PATH, MENU_IFACE, "LayoutUpdated", "ui", (self._tree.revision, 0))

    def _remember(self, tree: dbusmenu.Tree, built: traymenu.Built) -> None:
        """Ids stay clickable for two menus: a host may still show the one before."""
        slots = {i.id: built.slots[i.leaf] for i in tree.by_id.values() if i.leaf is not None}
        if self._current and min(slots, default=0) > max(self._current, default=0):
            self._before = self._current
        self._current = slots
        self._fire = built.fire

    def _show(self, value: bool) -> None:
        was, self._visible = self._visible, value
        if value and not was:
            self.register()
        elif was != value:
            self.emit(ITEM_PATH, ITEM_IFACE, "NewStatus", "s", (self.status,))

    @property
    def status(self) -> str:
        return "Active" if self._visible else "Passive"

    # -- the bus, on the loop ---------------------------------------------------------------

    def send(self, message: Any) -> None:
        self._conn.send(message)

    def emit(self, path: str, iface: str, member: str, sig: str = "", body: tuple = ()) -> None:
        from jeepney import DBusAddress, new_signal

        if self._conn is None:
            return
        message = new_signal(DBusAddress(path, interface=iface), member, sig or None, body)
        self._conn.send(message)

    def register(self, attempt: int = 0) -> None:
        """Ask the watcher to list the item; its answer arrives as `registered`."""
        from jeepney import DBusAddress, new_method_call

        if not self._visible or self._conn is None:
            return
        self._attempt = attempt
        watcher = DBusAddress(WATCHER_PATH, bus_name=WATCHER, interface=WATCHER)
        message = new_method_call(watcher, "RegisterStatusNotifierItem", "s", (self.bus_name,))
        self._register_serial = next(self._conn.outgoing_serial)
        self._conn.send(message, serial=self._register_serial)

    def registered(self, error: str | None) -> None:
        self._register_serial = None
        if error is None:
            log.info("registered with the StatusNotifier watcher as %s", self.bus_name)
            return
        attempt = self._attempt + 1
        if attempt < len(RECHECKS_MS):
            log.info("the StatusNotifier watcher refused the item (%s); again", error)
            self.after(RECHECKS_MS[attempt] / 1000, lambda: self.register(attempt))
        else:
            log.warning("the StatusNotifier watcher keeps refusing the item: %s", error)

    def click(self, item_id: int) -> Callable[[], None] | None:
        """What an `Event` "clicked" on `item_id` does: the action its slot holds now."""
        slot = self._current.get(item_id) or self._before.get(item_id)
        return None if slot is None else self._firing(slot)

    def activate(self) -> Callable[[], None] | None:
        """A left click where the host does not open the menu: the menu's default entry."""
        leaf = dbusmenu.default_leaf(self._built.entries)
        return None if leaf is None else self._firing(self._built.slots[leaf])

    def _firing(self, slot: traymenu.Slot) -> Callable[[], None]:
        fire = self._fire

        def run() -> None:
            if slot.action is not None:
                fire(slot.action)

        return run

    @property
    def tree(self) -> dbusmenu.Tree:
        return self._tree

    @property
    def register_serial(self) -> int | None:
        return self._register_serial
