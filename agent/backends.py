"""The notifier backends, one class per mechanism, and the one chooser.

- `PlyerNotifier`: plyer's notification facade (DBus on Linux, balloons on Windows).
- `OsascriptNotifier`: macOS, where plyer's path gives nothing in a frozen or unsigned app.
- `RecordingNotifier` and `NullNotifier`: for tests and benchmarks (`--notifier record:PATH`,
  `--notifier null`); the recording one appends a JSON line per notification, so several
  processes can be checked.

`choose_backend` is pure (capabilities in, a name out); `default_notifier` applies it here.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from traycourier.agent import APP_NAME, ostype, textfit
from traycourier.agent.notifier import Notifier, OsNotification, TextOnly

log = logging.getLogger(__name__)

URGENCY = {"urgent": 2, "action": 1, "warning": 1, "info": 0}
"""freedesktop urgency levels: 0 low, 1 normal, 2 critical (stays until dismissed)."""
NOTIFY_SEND_URGENCY = {"urgent": "critical", "action": "normal", "warning": "normal", "info": "low"}


NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"


@dataclass(frozen=True)
class DaemonInfo:
    """A freedesktop notification server, as it describes itself."""

    owner: str
    name: str
    vendor: str
    version: str
    capabilities: frozenset[str]

    @property
    def rules(self) -> textfit.Rules:
        return textfit.daemon_rules(self.name, self.capabilities)


class ServerDefault(int):
    """plyer multiplies the timeout it is given by 1000; this one is already the spec's -1
    ("the server's default expiry"), and stays so."""

    def __mul__(self, _other: object) -> int:
        return int(self)


class PlyerNotifier(TextOnly):
    """`plyer.notification`, with what plyer leaves out: knowing which implementation it
    picked (it decides once per process and silently falls back to a stub that only raises),
    knowing the daemon it talks to (what it parses, read once per daemon and again when
    another takes the bus name), the urgency hint as the DBus type the spec names, and the
    arguments its notify-send path really reads."""

    may_block = True

    def __init__(self) -> None:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            from plyer import notification

            self.implementation = notification.__class__.__name__  # resolves plyer's Proxy
        self._notification = notification
        self.platform = ostype.current()
        self.name = f"plyer:{self.implementation}"
        self.degraded = self.implementation in ("NotifySendNotification", "NotifyDesktopPortals")
        self.available = self.implementation != "Notification"
        self.needs_session_bus = self.implementation in ("NotifyDbus", "NotifySendNotification")
        self._daemon: DaemonInfo | None = None
        self._balloons: Any = None

    def describe(self) -> str:
        if not self.available:
            return "no notification backend (plyer found no implementation for this platform)"
        if self.degraded:
            return f"{self.name} (degraded: it cannot report failures; install dbus-python)"
        return self.name

    def problem(self) -> str | None:
        if not self.available:
            return self.describe()
        if not self.needs_session_bus:
            return None
        try:
            import dbus

            bus = dbus.SessionBus()
        except ImportError:
            return None  # notify-send without dbus-python: nothing to ask (degraded)
        except Exception:
            return "no notification daemon reachable (no desktop session: no DBus session bus)"

        def ask(method: str, signature: str = "", *args: str) -> Any:
            return bus.call_blocking(
                "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                method, signature, args, timeout=2,
            )  # fmt: skip

        try:
            # a daemon the bus starts on the first call (dunst, xfce4-notifyd) is there too
            if ask("NameHasOwner", "s", NOTIFICATIONS) or NOTIFICATIONS in ask(
                "ListActivatableNames"
            ):
                return None
        except Exception as err:
            return f"no notification daemon reachable (the session bus did not answer: {err})"
        return "no notification daemon reachable (none on the DBus session bus)"

    def daemon(self) -> DaemonInfo:
        """The server that owns the notifications name now (DBus errors propagate: the
        caller classifies them; none owning it is `daemon_unreachable`)."""
        import dbus

        bus = dbus.SessionBus()
        owner = str(bus.get_name_owner(NOTIFICATIONS))
        if self._daemon is None or self._daemon.owner != owner:
            proxy = bus.get_object(NOTIFICATIONS, NOTIFICATIONS_PATH)
            capabilities = proxy.GetCapabilities(dbus_interface=NOTIFICATIONS, timeout=5)
            name, vendor, version, _spec = proxy.GetServerInformation(
                dbus_interface=NOTIFICATIONS, timeout=5
            )
            self._daemon = DaemonInfo(
                owner, str(name), str(vendor), str(version), frozenset(map(str, capabilities))
            )
            log.info("notification daemon %s %s: %s", name, version, ", ".join(capabilities))
        return self._daemon

    def show(self, notification: OsNotification) -> str | None:
        text = textfit.FittedText(notification.title, notification.body)
        if self.implementation == "NotifyDbus":
            return self._show_dbus(notification, textfit.render(text, self.daemon().rules))
        if self.implementation == "NotifySendNotification":
            # no dbus-python: nothing can ask the daemon, so assume the common case (body
            # markup) and keep every text off the command line's options. plyer's facade
            # passes `app_icon` and `timeout`, but this implementation reads `icon`,
            # `urgency` and `expire_time`: call it with those.
            rules = textfit.Rules(body_markup=True, command_line=True)
            safe = textfit.render(text, rules)
            seconds = notification.display_s
            self._notification._notify(
                title=safe.title,
                message=safe.body,
                app_name=notification.app_name,
                icon=notification.icon,
                urgency=NOTIFY_SEND_URGENCY.get(notification.priority, "normal"),
                expire_time=str(-1 if seconds is None else seconds * 1000),
                hint="string:desktop-entry:" + APP_NAME,
            )
            return None
        if self.implementation == "WindowsNotification":
            return self._show_windows(notification, text)
        self._notification.notify(
            title=text.title,
            message=text.body,
            app_name=notification.app_name,
            app_icon=notification.icon,
            timeout=10 if notification.display_s is None else notification.display_s,
        )
        return None

    def _show_windows(self, notification: OsNotification, text: textfit.FittedText) -> None:
        """plyer's balloon on this thread (see agent/winballoon.py), with an .ico."""
        from traycourier.agent import icons, paths, winballoon

        if self._balloons is None:
            self._balloons = winballoon.Balloons()
        ico = ""  # plyer's default: the application's icon
        if notification.icon:
            ico = str(icons.windows_icon(Path(notification.icon), paths.cache_dir()))
        seconds = notification.display_s
        keep_s = winballoon.URGENT_KEEP_S if seconds is None else float(seconds)
        self._balloons.show(text.title, text.body, notification.app_name, ico, keep_s)
        return None

    def _show_dbus(self, notification: OsNotification, text: textfit.FittedText) -> None:
        import dbus

        seconds = notification.display_s
        self._notification.notify(
            title=text.title,
            message=text.body,
            app_name=notification.app_name,
            app_icon=notification.icon,
            timeout=ServerDefault(-1) if seconds is None else seconds,
            hints={
                "urgency": dbus.Byte(URGENCY.get(notification.priority, 1)),
                "desktop-entry": dbus.String(APP_NAME),
            },
        )


class OsascriptNotifier(TextOnly):
    """macOS: `display notification` through osascript. plyer's macOS path uses the deprecated
    NSUserNotificationCenter, which gives nothing in a frozen or unsigned app; osascript works
    there. The text travels as arguments of `on run argv`, never inside the script."""

    name = "osascript"
    available = True
    degraded = False
    needs_session_bus = False
    may_block = True
    platform = "darwin"

    SCRIPT = (
        "on run argv",
        "display notification (item 2 of argv) with title (item 1 of argv)",
        "end run",
    )

    def describe(self) -> str:
        return self.name

    def problem(self) -> str | None:
        return None

    def command(self, notification: OsNotification) -> list[str]:
        args = ["osascript"]
        for line in self.SCRIPT:
            args += ["-e", line]
        text = textfit.FittedText(notification.title, notification.body)
        safe = textfit.render(text, textfit.Rules(command_line=True))
        return [*args, safe.title, safe.body]

    def show(self, notification: OsNotification) -> str | None:
        done = subprocess.run(
            self.command(notification), capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"osascript exited {done.returncode}: {done.stderr.strip()}")
        return None


class RecordingNotifier(TextOnly):
    """Appends each notification as a JSON line to a file; for tests and benchmarks."""

    name = "record"
    available = True
    degraded = False
    needs_session_bus = False

    def __init__(self, path: Path, delay_s: float = 0.0) -> None:
        self.path = path
        self.delay_s = delay_s
        self.may_block = delay_s > 0
        self.platform = ostype.current()
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"{self.name} ({self.path})"

    def problem(self) -> str | None:
        return None

    def show(self, notification: OsNotification) -> str | None:
        if self.delay_s:
            time.sleep(self.delay_s)  # stands in for a slow desktop round trip
        line = json.dumps({**asdict(notification), "shown_at": time.time()}, sort_keys=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return None


class NullNotifier(TextOnly):
    """Shows nothing and always succeeds: measures the database path alone."""

    name = "null"
    available = True
    may_block = False
    degraded = False
    needs_session_bus = False
    platform = "linux"

    def describe(self) -> str:
        return self.name

    def problem(self) -> str | None:
        return None

    def show(self, notification: OsNotification) -> str | None:
        return None


def choose_backend(platform: str, plyer_available: bool, plyer_shows_on_macos: bool) -> str:
    """Which notifier to use, by capability (pure): plyer wherever it can really show
    something; osascript on macOS when plyer cannot (frozen, unsigned, no pyobjus)."""
    if platform == "darwin" and not (plyer_available and plyer_shows_on_macos):
        return "osascript"
    return "plyer"


def _plyer_shows_on_macos() -> bool:
    try:
        from pyobjus import autoclass

        center = autoclass("NSUserNotificationCenter").defaultUserNotificationCenter()
    except Exception:  # pyobjus missing or broken: plyer cannot show anything
        return False
    return center is not None


def default_notifier() -> Notifier:
    """The notifier this OS gets; `run`, `doctor` and `self-test` all use this one. On Linux
    the freedesktop server is spoken to directly (`agent.freedesktop`: buttons, clicks,
    updates in place); plyer stays the path on Windows and macOS."""
    if ostype.current() == "linux":
        try:
            import jeepney  # noqa: F401 -- a dependency on Linux; without it, plyer's path

            from traycourier.agent.freedesktop import FreedesktopNotifier
        except ImportError:
            pass
        else:
            return FreedesktopNotifier()
    plyer = PlyerNotifier()
    macos = plyer.platform == "darwin" and _plyer_shows_on_macos()
    if choose_backend(plyer.platform, plyer.available, macos) == "osascript":
        return OsascriptNotifier()
    return plyer


SPEC_HELP = "plyer, null or record:PATH[,delay=S]"


def from_spec(spec: str) -> Notifier:
    """`--notifier`: `plyer` (the default notifier for this OS), `null` or `record:PATH`.
    Raises ValueError with the accepted forms."""
    if spec == "plyer":
        return default_notifier()
    if spec == "null":
        return NullNotifier()
    if spec.startswith("record:") and len(spec) > len("record:"):
        target, _, delay = spec.removeprefix("record:").partition(",delay=")
        try:
            return RecordingNotifier(Path(target), delay_s=float(delay or 0))
        except ValueError:
            pass
    raise ValueError(f"--notifier takes {SPEC_HELP}, not {spec!r}")
