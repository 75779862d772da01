"""Linux: the freedesktop notification server, spoken to directly over the DBus session bus.

plyer's DBus path drops what makes a notification interactive: its facade never passes the
actions or `replaces_id`, and it throws away the id the server returns, so a click could not
be matched to anything. This notifier makes the `Notify` call itself (with jeepney: pure
Python, 2 MiB, no GLib main loop needed to hear signals, so the headless agent and the tray
listen the same way) and hears `ActionInvoked` and `NotificationClosed` on a thread of its
own, as a bus monitor, from the server's unique bus name only.

A popup is named `<server's unique name>/<its id>`: a restarted server starts counting again,
and its new popup 7 must not be taken for the old one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import Any

from traycourier.agent import APP_NAME
from traycourier.agent.notifiers.notifier import Capabilities, OsNotification, PopupEvents
from traycourier.agent.policy import textfit
from traycourier.agent.system import sessionbus
from traycourier.agent.system.sessionbus import NoSessionBus, bus_call, connect

log = logging.getLogger(__name__)

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
URGENCY = {"urgent": 2, "action": 1, "warning": 1, "info": 0}
"""freedesktop urgency levels: 0 low, 1 normal, 2 critical (stays until dismissed)."""
MAX_BUTTONS = 3
"""Buttons on one popup: GNOME Shell and KDE show three; more stay in the Recent menu."""
MAX_LABEL = 40
CLOSED = {1: "expired", 2: "dismissed", 3: "closed", 4: "undefined"}
"""`NotificationClosed` reasons, as the spec numbers them."""


def call(conn: Any, method: str, signature: str = "", body: tuple[Any, ...] = ()) -> Any:
    """One method call to the notification server and its reply's body."""
    return sessionbus.call(conn, method, signature, body, path=PATH, bus_name=NAME,
                           interface=NAME)  # fmt: skip


@dataclass(frozen=True)
class Server:
    """The notification server that owns the name now, as it describes itself."""

    owner: str
    name: str
    version: str
    capabilities: frozenset[str]

    @property
    def rules(self) -> textfit.Rules:
        return textfit.daemon_rules(self.name, self.capabilities)


class FreedesktopNotifier:
    name = "freedesktop"
    available = True
    degraded = False
    needs_session_bus = True
    may_block = True
    platform = "linux"

    def __init__(self) -> None:
        self._local = threading.local()  # a connection per calling thread
        self._server: Server | None = None
        self._listener: _Listener | None = None

    def describe(self) -> str:
        return f"{self.name} (the notification server over DBus)"

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect()
        return conn

    def _forget_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def problem(self) -> str | None:
        try:
            conn = self._conn()
            if bus_call(conn, "NameHasOwner", "s", (NAME,))[0]:
                return None
            # a server the bus starts on the first call (dunst, xfce4-notifyd) is there too
            if NAME in bus_call(conn, "ListActivatableNames")[0]:
                return None
        except NoSessionBus:
            return "no notification daemon reachable (no desktop session: no DBus session bus)"
        except Exception as err:  # a bus that does not answer as it should
            self._forget_connection()
            return f"no notification daemon reachable (the session bus did not answer: {err})"
        return "no notification daemon reachable (none on the DBus session bus)"

    def server(self) -> Server:
        """The server owning the name now (read again when another one took the name)."""
        conn = self._conn()
        owner = str(bus_call(conn, "GetNameOwner", "s", (NAME,))[0])
        if self._server is None or self._server.owner != owner:
            capabilities = frozenset(map(str, call(conn, "GetCapabilities")[0]))
            name, vendor, version, _spec = call(conn, "GetServerInformation")
            self._server = Server(owner, str(name), str(version), capabilities)
            log.info("notification daemon %s %s (%s): %s", name, version, vendor,
                     ", ".join(sorted(capabilities)))  # fmt: skip
        return self._server

    def capabilities(self) -> Capabilities:
        try:
            offered = self.server().capabilities
        except Exception:  # no server now: what it will offer is not known
            return Capabilities(replace=True)
        actions = "actions" in offered
        return Capabilities(actions=actions, click=actions, replace=True, progress=True)

    def show(self, notification: OsNotification) -> str | None:
        try:
            return self._notify(notification)
        except Exception:
            self._forget_connection()  # the next call starts on a fresh connection
            raise

    def _notify(self, n: OsNotification) -> str:
        """The spec's `Notify(app_name, replaces_id, app_icon, summary, body, actions,
        hints, expire_timeout) -> id`, with what the server parses made safe."""
        server = self.server()
        text = textfit.render(textfit.FittedText(n.title, n.body), server.rules)
        buttons: list[str] = []
        if "actions" in server.capabilities:
            for key, label in n.buttons[: MAX_BUTTONS + 1]:  # the click, and the buttons
                shown = textfit.cut(textfit.strip_controls(label, single_line=True), MAX_LABEL)
                buttons += [key, shown or key]
        hints: dict[str, tuple[str, Any]] = {
            "urgency": ("y", URGENCY.get(n.priority, 1)),
            "desktop-entry": ("s", APP_NAME),
        }
        if n.progress is not None:
            hints["value"] = ("i", n.progress)
        if n.tag is not None and "x-dunst-stack-tag" in server.capabilities:
            hints["x-dunst-stack-tag"] = ("s", n.tag)
        expire = -1 if n.display_s is None else n.display_s * 1000
        body = (n.app_name, _same_server(n.replaces, server.owner), n.icon, text.title,
                text.body, buttons, hints, expire)  # fmt: skip
        (popup_id,) = call(self._conn(), "Notify", "susssasa{sv}i", body)
        return f"{server.owner}/{popup_id}"

    def close(self, popup: str) -> None:
        owner, _, number = popup.rpartition("/")
        try:
            if owner and owner == self.server().owner and number.isdigit():
                call(self._conn(), "CloseNotification", "u", (int(number),))
        except Exception as err:  # gone already, or the server with it: nothing to close
            self._forget_connection()
            log.debug("could not close popup %s: %s", popup, err)

    def listen(self, events: PopupEvents) -> None:
        if self._listener is None:
            self._listener = _Listener(self, events)
            self._listener.start()

    def stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None


def _same_server(popup: str | None, owner: str) -> int:
    """The id to update in place: only a popup of the server that owns the name now."""
    if popup is None:
        return 0
    was, _, number = popup.rpartition("/")
    return int(number) if was == owner and number.isdigit() else 0


RECONNECT_S = (0.5, 1, 2, 4, 8, 15, 30)
BUS = "org.freedesktop.DBus"


def _server_returned(fields: Any, body: Any, names: Any) -> bool:
    """The bus itself says the notification server's name got an owner (a daemon started,
    or came back after a crash or an update)."""
    return (
        fields.get(names.sender) == BUS
        and fields.get(names.interface) == BUS
        and fields.get(names.member) == "NameOwnerChanged"
        and len(body) == 3
        and body[0] == NAME
        and bool(body[2])
    )


class _Listener(threading.Thread):
    """Hears `ActionInvoked(id, key)` and `NotificationClosed(id, reason)` as a bus monitor.

    A server may send these to the connection that asked for the popup only (dunst does),
    not to everyone: an agent restarted after its popup was shown, or a second agent, would
    never hear them. A monitor sees them whoever they are addressed to, so every agent hears
    every popup's signals and the database decides which one acts (`agent.engine.popups`). One sent
    by anyone but the notification server's unique name is ignored (a forged click opens
    nothing). A monitor cannot send: the server's name is asked on the notifier's
    connection."""

    def __init__(self, notifier: FreedesktopNotifier, events: PopupEvents) -> None:
        super().__init__(name="popup-events", daemon=True)
        self._notifier = notifier
        self._events = events
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except Exception as err:  # the bus went away (logout, a restart): listen again
                if failures == 0:
                    log.warning("stopped hearing popup clicks (%s); listening again", err)
                self._stop.wait(RECONNECT_S[min(failures, len(RECONNECT_S) - 1)])
                failures += 1

    def _listen(self) -> None:
        from jeepney.bus_messages import Monitoring
        from jeepney.wrappers import unwrap_msg

        conn = connect()
        try:
            rules = [
                f"type='signal',interface='{NAME}',path='{PATH}',member='{member}'"
                for member in ("ActionInvoked", "NotificationClosed")
            ] + [
                f"type='signal',sender='{BUS}',interface='{BUS}',member='NameOwnerChanged',"
                f"arg0='{NAME}'"
            ]
            unwrap_msg(conn.send_and_get_reply(Monitoring().BecomeMonitor(rules), timeout=5))
            while not self._stop.is_set():
                try:
                    message = conn.receive(timeout=1.0)
                except TimeoutError:
                    continue
                self._heard(message)
        finally:
            conn.close()

    def _heard(self, message: Any) -> None:
        from jeepney import HeaderFields, MessageType

        fields = message.header.fields
        if message.header.message_type != MessageType.signal:
            return
        if _server_returned(fields, message.body, HeaderFields):
            self._events.server_returned()
            return
        if fields.get(HeaderFields.interface) != NAME:
            return  # the bus's own word to a new monitor (NameLost)
        sender = fields.get(HeaderFields.sender)
        try:
            owner = self._notifier.server().owner
        except Exception:  # no server now: nobody could have sent a true signal
            owner = None
        if sender is None or sender != owner:
            log.warning("ignored a popup signal from %s, not the notification server", sender)
            return
        member, body = fields.get(HeaderFields.member), message.body
        try:
            if member == "ActionInvoked":
                self._events.action(f"{owner}/{int(body[0])}", str(body[1]))
            elif member == "NotificationClosed":
                closed = CLOSED.get(int(body[1]), "undefined")
                self._events.closed(f"{owner}/{int(body[0])}", closed)
        except Exception:  # the database, the browser: never the end of listening
            log.exception("could not handle %s %r", member, tuple(body))
