"""Error classes: which notifier failures are worth retrying. Pure, over plain values.

The notifier turns every exception into (type name, message); this table decides. Anything
unknown is retried: a spurious retry costs a few seconds, a wrong `failed` loses the
notification.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorClass:
    code: str
    transient: bool


TIMEOUT = ErrorClass("timeout", transient=True)
DAEMON_UNREACHABLE = ErrorClass("daemon_unreachable", transient=True)
NO_BACKEND = ErrorClass("no_backend", transient=False)
INVALID = ErrorClass("invalid", transient=False)
UNKNOWN = ErrorClass("error", transient=True)

# DBus error names (the message of a DBusException starts with one) that mean "nobody is
# there to show it right now": no daemon on the bus, no bus at all, or it stopped answering.
_UNREACHABLE_DBUS = (
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.NoReply",
    "org.freedesktop.DBus.Error.NotSupported",
    "org.freedesktop.DBus.Error.NoServer",
    "org.freedesktop.DBus.Error.Disconnected",
    "org.freedesktop.DBus.Error.FileNotFound",
    "org.freedesktop.DBus.Error.Spawn",
    "org.freedesktop.DBus.Error.TimedOut",
    "org.freedesktop.DBus.Error.Timeout",
)


def classify(type_name: str, message: str) -> ErrorClass:
    """Classify an exception by its class name and text."""
    if type_name in ("TimeoutError", "NotifierTimeout"):
        return TIMEOUT
    if type_name == "NotImplementedError":
        return NO_BACKEND  # plyer's facade: no implementation for this platform
    if type_name == "InvalidNotification":
        return INVALID
    if type_name in ("DBusException", "DBusErrorResponse"):  # dbus-python's, jeepney's
        if message.lstrip("[").startswith(_UNREACHABLE_DBUS):
            return DAEMON_UNREACHABLE
        return UNKNOWN
    if type_name == "NoSessionBus":
        return DAEMON_UNREACHABLE
    if type_name == "ValueError" and "guess signature" in message:
        # dbus-python after the daemon's Introspect timed out: the daemon hangs
        return DAEMON_UNREACHABLE
    if type_name in (
        "FileNotFoundError",
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "BrokenPipeError",
    ):
        return DAEMON_UNREACHABLE
    return UNKNOWN
