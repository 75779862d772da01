"""The DBus session bus, spoken to with jeepney (pure Python; no GLib main loop): where it is,
a connection, one method call. The notification server's notifier and the tray host check
both use it, so a tray agent loads one DBus library, not two."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CALL_TIMEOUT_S = 5.0


class NoSessionBus(Exception):
    """There is no DBus session bus to talk to (no desktop session)."""


def session_address() -> str:
    """Where the session bus is: `DBUS_SESSION_BUS_ADDRESS`, or the systemd user bus at
    `$XDG_RUNTIME_DIR/bus` (what libdbus itself falls back to)."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime, "bus").exists():
        return f"unix:path={Path(runtime, 'bus')}"
    raise NoSessionBus("no DBus session bus (no desktop session)")


def connect() -> Any:
    from jeepney.io.blocking import open_dbus_connection

    try:
        return open_dbus_connection(bus=session_address())
    except NoSessionBus:
        raise
    except (OSError, RuntimeError, ValueError) as err:  # a dead address, an odd transport
        raise NoSessionBus(f"cannot reach the DBus session bus ({err})") from err


def call(
    conn: Any,
    method: str,
    signature: str,
    body: tuple[Any, ...],
    *,
    path: str,
    bus_name: str,
    interface: str,
    timeout_s: float = CALL_TIMEOUT_S,
) -> Any:
    """One method call and its reply's body; a DBus error reply raises DBusErrorResponse."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.wrappers import unwrap_msg

    address = DBusAddress(path, bus_name=bus_name, interface=interface)
    message = new_method_call(address, method, signature or None, body)
    return unwrap_msg(conn.send_and_get_reply(message, timeout=timeout_s))


def bus_call(
    conn: Any,
    method: str,
    signature: str = "",
    body: tuple[Any, ...] = (),
    timeout_s: float = CALL_TIMEOUT_S,
) -> Any:
    """A call to the bus itself (NameHasOwner, GetNameOwner, ListActivatableNames)."""
    return call(
        conn, method, signature, body,
        path="/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
        interface="org.freedesktop.DBus", timeout_s=timeout_s,
    )  # fmt: skip


def name_has_owner(name: str, timeout_s: float = 2.0) -> bool:
    """Whether some program owns `name` on the session bus now; False when there is no bus."""
    try:
        conn = connect()
    except NoSessionBus:
        return False
    try:
        return bool(bus_call(conn, "NameHasOwner", "s", (name,), timeout_s)[0])
    finally:
        conn.close()
